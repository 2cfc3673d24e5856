"""The software list's fast path gives exactly what the field-by-field serializer gives, and
leaves every refusal to it (a hypothesis test over rows good and bad)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from tierline.assets.api.serializers import (
    SOFTWARE_SOURCES,
    ReportSerializer,
    SoftwareSerializer,
    _plain_software,
)

TEXT = st.one_of(
    st.text(max_size=210),
    st.sampled_from(["", " ", " bash ", "a\tb", "a\nb", "x" * 201, "\x00", "\ud800", "é", "\x85"]),
)
VALUE = st.one_of(TEXT, st.none(), st.integers(), st.booleans())
ROW = st.one_of(
    st.fixed_dictionaries(
        {"name": TEXT},
        optional={"version": VALUE, "source": st.one_of(st.sampled_from(SOFTWARE_SOURCES), VALUE)},
    ),
    st.dictionaries(st.sampled_from(["name", "version", "source", "other"]), VALUE, max_size=4),
    VALUE,
)


def _slow(data):
    """What the serializer gives field by field: rows, or its errors."""
    field = SoftwareSerializer(many=True)
    try:
        return [dict(row) for row in serializers.ListSerializer.to_internal_value(field, data)]
    except serializers.ValidationError as error:
        return ("refused", error.detail)


@settings(max_examples=400, deadline=None)
@given(st.lists(ROW, max_size=6))
def test_the_fast_path_gives_what_the_serializer_gives(rows):
    fast = _plain_software(rows)
    if fast is not None:
        assert fast == _slow(rows)


def test_plain_rows_take_the_fast_path_and_a_bad_one_gets_the_serializers_errors():
    good = [{"name": " bash ", "version": "5.2"}, {"name": "curl", "source": "dpkg"}]
    assert _plain_software(good) == [
        {"name": "bash", "version": "5.2", "source": "other"},
        {"name": "curl", "version": "", "source": "dpkg"},
    ]
    bad = [*good, {"name": "evil\x1b[31m", "version": "1"}]
    assert _plain_software(bad) is None
    body = ReportSerializer(
        data={"sequence": 1, "sent_at": "2026-01-01T00:00:00Z", "hostname": "h", "software": bad}
    )
    assert not body.is_valid()
    assert "control character" in str(body.errors["software"][2]["name"][0])
