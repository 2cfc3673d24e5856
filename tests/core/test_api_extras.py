"""core.api_extras: fields one app adds to another's API objects, asked once per answer."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from tierline.core import api_extras


@pytest.fixture
def target():
    name = "test.thing"
    yield name
    for app in list(api_extras._registry.get(name, {})):
        api_extras.unregister_extra_fields(name, app)


def test_values_come_formatted_by_their_field_in_one_call_per_app(target):
    calls = []

    def values(ids):
        calls.append(list(ids))
        return {pk: {"score": pk * 1.5} for pk in ids if pk != 3}

    api_extras.register_extra_fields(
        target,
        "scores",
        fields=lambda: {"score": serializers.DecimalField(max_digits=5, decimal_places=1)},
        values=values,
    )
    # when
    found = api_extras.extra_values(target, [1, 2, 3])
    # then: one call for all, null where the app has nothing
    assert calls == [[1, 2, 3]]
    assert found == {1: {"score": "1.5"}, 2: {"score": "3.0"}, 3: {"score": None}}


def test_two_apps_adding_one_name_is_refused(target):
    api_extras.register_extra_fields(
        target, "a", fields=lambda: {"x": serializers.CharField()}, values=lambda ids: {}
    )
    with pytest.raises(ValueError, match="Two apps add the field 'x'"):
        api_extras.register_extra_fields(
            target, "b", fields=lambda: {"x": serializers.CharField()}, values=lambda ids: {}
        )


def test_a_failing_app_answers_null_and_is_logged(target, caplog):
    def broken(ids):
        raise RuntimeError("down")

    api_extras.register_extra_fields(
        target, "broken", fields=lambda: {"x": serializers.CharField()}, values=broken
    )
    assert api_extras.extra_values(target, [7]) == {7: {"x": None}}
    assert "Extra API fields broken of test.thing failed" in caplog.text


def test_no_registrations_no_fields():
    assert api_extras.extra_values("nobody.registers.this", [1]) == {1: {}}
    assert api_extras.extra_fields("nobody.registers.this") == {}
