"""core.labels: an app names another app's objects by id without importing it."""

from __future__ import annotations

import pytest

from tierline.core import labels
from tierline.core.labels import Label


@pytest.fixture
def target():
    name = "tests.thing"
    yield name
    labels.unregister_labels(name)


def test_labels_come_from_one_call_for_all_ids_and_only_for_those_that_exist(target):
    calls = []

    def names(ids):
        calls.append(ids)
        return {pk: Label(f"Thing {pk}", f"/things/{pk}/") for pk in ids if pk != 3}

    labels.register_labels(target, names)
    assert labels.labels_for(target, [3, 1, 2, 1]) == {
        1: Label("Thing 1", "/things/1/"),
        2: Label("Thing 2", "/things/2/"),
    }
    assert calls == [[1, 2, 3]]
    assert labels.known(target)


def test_no_owner_or_a_failing_owner_answers_nothing_and_the_failure_is_logged(target, caplog):
    assert labels.labels_for(target, [1]) == {} and not labels.known(target)

    def broken(ids):
        raise RuntimeError("down")

    labels.register_labels(target, broken)
    assert labels.labels_for(target, [1]) == {}
    assert "labels for tests.thing failed" in caplog.text


def test_an_owner_answering_for_ids_not_asked_or_with_junk_is_filtered(target):
    labels.register_labels(target, lambda ids: {1: Label("one"), 9: Label("nine"), 2: "two"})
    assert labels.labels_for(target, [1, 2]) == {1: Label("one")}


@pytest.mark.parametrize("name", ["", " assets.asset", "assets"])
def test_a_target_is_named_app_dot_model(name):
    with pytest.raises(ValueError, match="app.model"):
        labels.register_labels(name, lambda ids: {})
