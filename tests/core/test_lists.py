"""core.lists: a list spec refuses an order it does not allow, and page numbers are read safely."""

from __future__ import annotations

import django_filters
import pytest

from tierline.core.lists import MAX_PAGE, ListSpec, Ordering, Window, page_number
from tierline.people.models import Team


class _TeamFilter(django_filters.FilterSet):
    class Meta:
        model = Team
        fields: list[str] = []


def _everything(user, queryset):
    return queryset


def test_a_spec_whose_default_order_it_does_not_allow_is_refused():
    with pytest.raises(ValueError, match="name"):
        ListSpec(
            model=Team,
            visible=_everything,
            filterset=_TeamFilter,
            orderings={"id": Ordering(("pk",), "people_team_pkey")},
            default_ordering="name",
        )


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1", 1),
        (" 7 ", 7),
        (str(MAX_PAGE), MAX_PAGE),
        (str(MAX_PAGE + 1), None),
        ("0", None),
        ("-3", None),
        ("2.5", None),
        ("²", None),
        ("", None),
        (None, None),
        ("9" * 30, None),
    ],
)
def test_page_numbers_come_only_from_digits_in_range(text, number):
    assert page_number(text) == number


def test_a_window_says_where_it_is():
    # given: page 3 of 10 a page, 4 rows, nothing after
    window = Window(object_list=list("abcd"), number=3, page_size=10, more=False)
    # then
    assert (window.start_index(), window.end_index()) == (21, 24)
    assert window.has_previous() and not window.has_next() and window.has_other_pages()
    assert window.previous_page_number() == 2 and list(window) == list("abcd")
    assert Window(object_list=[], number=1, page_size=10, more=False).start_index() == 0
