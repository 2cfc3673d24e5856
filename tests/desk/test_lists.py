"""The desk's list specs: every order they allow is served by an index, for every kind of user
and scope the pages use, and the lists built from them page, filter and count their queries."""

from __future__ import annotations

import dataclasses
from unittest import mock

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.core.lists import Window
from tierline.desk import lists, queries, services
from tierline.desk.lists import perms  # the visibility module the list specs ask
from tierline.desk.models import Call, WorkOrder

pytestmark = pytest.mark.django_db

SPECS = {"tickets": lists.TICKETS, "work_orders": lists.WORK_ORDERS, "calls": lists.CALLS}


def _plan(queryset) -> str:
    """PostgreSQL's plan for a page's ids, with sorting priced out: a Sort in it means no index
    can give the rows in this order."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_incremental_sort = off")
    ids = queryset.values_list("pk", flat=True)[:26]
    sql, params = ids.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _scopes(spec_name, employee, tier1, lead):
    """(who, scope) pairs as the pages and the API use them."""
    if spec_name == "tickets":
        yield from (
            (employee, None),
            (tier1, None),
            (lead, None),
            (tier1, queries.queue_for(tier1, "team")),
            (tier1, queries.queue_for(tier1, "mine")),
            (tier1, queries.queue_for(tier1, "unassigned")),
            (lead, queries.queue_for(lead, "all")),
        )
    elif spec_name == "work_orders":
        yield from (
            (tier1, None),
            (lead, None),
            (tier1, WorkOrder.objects.filter(technician=tier1)),
        )
    else:
        yield from ((tier1, None), (lead, None), (lead, Call.objects.filter(technician=tier1)))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="asks PostgreSQL for its plans")
@pytest.mark.parametrize("spec_name", SPECS)
def test_every_allowed_order_is_served_by_an_index(spec_name, employee, tier1, lead):
    # given: a few rows of each kind, and the statistics a live database has
    ticket = desk_factories.ticket(employee)
    desk_factories.work_order(
        desk_factories.ticket(employee, team=people_factories.team(2)), by=lead
    )
    services.log_call(
        by=tier1, outcome=Call.Outcome.EXISTING_TICKET, ticket=ticket, caller=employee
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    spec = SPECS[spec_name]
    sorted_plans = []
    for user, scope in _scopes(spec_name, employee, tier1, lead):
        for name in spec.orderings:
            # when
            queryset, _ = spec.filter(user, QueryDict(f"sort={name}"), scope=scope, strict=True)
            plan = _plan(queryset)
            # then
            if "Sort" in plan:
                sorted_plans.append(f"{spec_name} sort={name} as {user.username}:\n{plan}")
    assert not sorted_plans, "\n\n".join(sorted_plans)
    # and the check does see a sort where no index serves the order (a subject, say)
    unindexed = spec.model._default_manager.order_by(
        "ticket__subject" if spec_name != "tickets" else "subject", "pk"
    )
    assert "Sort" in _plan(unindexed)


def test_an_uncounted_page_knows_only_whether_another_follows(employee, tier1):
    # given: five tickets, two a page
    made = [desk_factories.ticket(employee, subject=f"Ticket {n}") for n in range(5)]
    params = {"sort": "number"}
    # when
    pages = [
        lists.TICKETS.paginate(lists.TICKETS.filter(tier1, params)[0], str(n), page_size=2)
        for n in (1, 2, 3, 4)
    ]
    # then
    assert all(isinstance(p, Window) and p.paginator is None for p in pages)
    assert [[t.pk for t in p.object_list] for p in pages] == [
        [made[0].pk, made[1].pk],
        [made[2].pk, made[3].pk],
        [made[4].pk],
        [],
    ]
    assert [p.has_next() for p in pages] == [True, True, False, False]
    assert (pages[2].start_index(), pages[2].end_index()) == (5, 5)


@pytest.mark.parametrize("junk", ["", "0", "-1", "abc", "²", "99999999999999999999", "10001"])
def test_a_page_number_that_is_no_page_is_the_first(employee, tier1, junk):
    # given
    desk_factories.ticket(employee)
    queryset, _ = lists.TICKETS.filter(tier1, {})
    # when
    page = lists.TICKETS.paginate(queryset, junk)
    # then
    assert page.number == 1 and len(page.object_list) == 1


def test_lists_are_what_the_permissions_module_lets_one_see(employee, employee2, tier1, lead):
    # given: calls taken by tier1 and by the lead, tickets of two requesters
    services.log_call(by=tier1, outcome=Call.Outcome.SOLVED, caller=employee)
    services.log_call(by=lead, outcome=Call.Outcome.SOLVED, caller=employee2)
    theirs = desk_factories.ticket(employee2)
    own = desk_factories.ticket(employee)
    # when
    calls_of_tier1 = list(lists.CALLS.filter(tier1, {})[0])
    calls_of_lead = list(lists.CALLS.filter(lead, {})[0])
    tickets_of_employee = list(lists.TICKETS.filter(employee, {})[0])
    # then: the lists add their order, never their own rule
    assert calls_of_tier1 == list(perms.visible_calls(tier1).order_by("-started_at", "-pk"))
    assert len(calls_of_lead) == 2
    assert tickets_of_employee == [own] and theirs not in tickets_of_employee


def test_an_invalid_filter_is_ignored_on_a_page_and_refused_by_the_api(employee, tier1):
    # given
    desk_factories.ticket(employee)
    params = {"status": "bogus", "sort": "subject"}
    # when
    queryset, ticket_filter = lists.TICKETS.filter(tier1, params)
    # then: the page shows everything in the default order, and the form says why
    assert queryset.count() == 1
    assert set(ticket_filter.errors) == {"status", "sort"}
    with pytest.raises(ValueError, match="status"):
        lists.TICKETS.filter(tier1, params, strict=True)


def test_a_counted_list_counts_up_to_its_cap_and_still_offers_the_next_page(employee, lead):
    # given: five open tickets in a lead's whole queue, a spec that counts two rows at most
    made = [desk_factories.ticket(employee, subject=f"Ticket {n}") for n in range(5)]
    spec = dataclasses.replace(lists.QUEUE, count_cap=2)
    queryset, _ = spec.filter(lead, {"sort": "number"}, scope=queries.queue_for(lead, "all"))
    # when
    pages = [spec.paginate(queryset, str(n), page_size=2) for n in (1, 2, 3)]
    # then: the first page counts "2+" and offers a next page; a deeper page counts as far as
    # it needs; the last page knows the exact total
    assert [(p.paginator.count, p.paginator.capped, p.paginator.num_pages) for p in pages] == [
        (2, True, 2),
        (4, True, 3),
        (5, False, 3),
    ]
    assert [p.has_next() for p in pages] == [True, True, False]
    assert [[t.pk for t in p.object_list] for p in pages] == [
        [made[0].pk, made[1].pk],
        [made[2].pk, made[3].pk],
        [made[4].pk],
    ]
    # and the real spec counts them exactly (under its cap)
    exact = lists.QUEUE.paginate(queryset, "1", page_size=2)
    assert (exact.paginator.count, exact.paginator.capped) == (5, False)


def test_the_capped_count_asks_no_order(employee, lead):
    """A count needs no order; with the list's ORDER BY the database walked the order index or
    sorted every candidate before it could stop at the cap (most of a lead's counted queue at
    1,000,000 tickets)."""
    for n in range(3):
        desk_factories.ticket(employee, subject=f"Ticket {n}")
    queryset, _ = lists.QUEUE.filter(lead, {"sort": "number"}, scope=queries.queue_for(lead, "all"))
    with CaptureQueriesContext(connection) as ctx:
        page = lists.QUEUE.paginate(queryset, "1", page_size=2)
        assert (page.paginator.count, page.paginator.capped) == (3, False)
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1, ctx.captured_queries
    assert "ORDER BY" not in counts[0].upper() and "LIMIT" in counts[0].upper()
    # the page itself keeps its order
    assert [t.number for t in page.object_list] == sorted(t.number for t in page.object_list)


def test_a_capped_count_reads_as_a_lower_bound(client, employee, lead):
    # given: three open tickets, and a queue page that counts one at most
    for n in range(3):
        desk_factories.ticket(employee, subject=f"Ticket {n}")
    client.force_login(lead)
    capped = dataclasses.replace(lists.QUEUE, count_cap=1, page_size=1)
    # when
    with mock.patch.object(lists, "QUEUE", capped):
        html = client.get("/desk/?queue=all").content.decode()
    # then
    assert "1–1 of 1+" in html
