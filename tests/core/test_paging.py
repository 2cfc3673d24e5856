"""Paging: ids first, then only the page's rows with their joins, in the list's order."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from tests.desk import factories as desk_factories
from tierline.core.paging import page_of
from tierline.desk.models import Ticket

pytestmark = pytest.mark.django_db


def _page(number: str, per_page: int = 2):
    request = RequestFactory().get("/", {"page": number})
    queryset = Ticket.objects.select_related("requester", "team").order_by("-pk")
    return page_of(request, queryset, per_page)


def test_a_deep_page_holds_its_rows_in_order_with_joins_loaded(employee, django_assert_num_queries):
    # given
    tickets = [desk_factories.ticket(employee, subject=f"Laptop {n}") for n in range(5)]
    # when
    with django_assert_num_queries(3):  # count, page ids, page rows
        page = _page("2")
        rows = list(page.object_list)
        names = [(t.requester.username, t.team.tier) for t in rows]
    # then
    assert [t.pk for t in rows] == [tickets[2].pk, tickets[1].pk]
    assert names == [("employee", 1), ("employee", 1)]
    assert page.paginator.count == 5 and page.has_next()


@pytest.mark.parametrize(("asked", "given"), [("0", 3), ("abc", 1), ("99", 3)])
def test_bad_page_numbers_give_the_first_or_last_page(employee, asked, given):
    for n in range(5):
        desk_factories.ticket(employee, subject=f"Printer {n}")
    assert _page(asked).number == given


def test_an_empty_list_has_one_empty_page(db):
    page = _page("1")
    assert list(page.object_list) == [] and page.paginator.count == 0
