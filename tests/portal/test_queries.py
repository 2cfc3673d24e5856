"""What the portal reads: my requests, the public conversation, the category tree."""

from __future__ import annotations

import pytest

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.desk import services
from tierline.desk.models import Category
from tierline.portal import queries

pytestmark = pytest.mark.django_db


def test_my_requests_are_mine_and_shared_ones_once_each(employee, employee2):
    # given
    mine = desk_factories.ticket(employee)
    shared = desk_factories.ticket(employee2)
    shared.shared_with.add(employee, employee2)
    desk_factories.ticket(employee2)
    # when
    found = list(queries.my_requests(employee))
    # then
    assert sorted(t.pk for t in found) == sorted([mine.pk, shared.pk])


def test_my_requests_of_a_technician_leave_out_team_work(employee, tier1):
    # given
    desk_factories.ticket(employee)
    own = desk_factories.ticket(tier1)
    # when / then
    assert list(queries.my_requests(tier1)) == [own]


def test_request_list_and_counts_split_open_and_closed(employee, tier1):
    # given: one open, one resolved (awaiting "Did this fix it?"), one closed
    still_open = desk_factories.ticket(employee)
    fixed = desk_factories.ticket(employee)
    services.resolve(ticket=fixed, by=tier1, resolution_code="fixed", body="Done.")
    done = desk_factories.ticket(employee)
    services.resolve(ticket=done, by=tier1, resolution_code="fixed", body="Done.")
    services.confirm_resolution(ticket=done, by=employee)
    # when / then: the resolved one leads the open tab, only the closed one is under Closed
    assert list(queries.request_list(employee)) == [fixed, still_open]
    assert list(queries.request_list(employee, closed=True)) == [done]
    assert queries.request_counts(employee) == {"open": 2, "closed": 1}


def test_public_timeline_drops_notes_and_desk_moves_even_for_staff(tier1):
    # given: a technician's own request, worked by a colleague
    colleague = people_factories.technician(1, username="colleague")
    ticket = desk_factories.ticket(tier1)
    services.add_message(ticket=ticket, by=colleague, body="note", internal=True)
    services.add_message(ticket=ticket, by=colleague, body="reply")
    services.escalate(ticket=ticket, by=colleague, summary="tried things")
    # when
    entries = queries.public_timeline(ticket, tier1)
    # then
    kinds = [e.kind for e in entries]
    assert "note" not in kinds and "escalation" not in kinds
    assert [e.obj.body for e in entries if e.kind == "reply"] == ["reply"]
    assert all(e.obj.field == "status" for e in entries if e.kind == "event")


def test_category_tree_groups_active_categories_under_their_top(db):
    # given
    hardware = Category.objects.get(name="Hardware", parent=None)
    Category.objects.filter(name="Monitor").update(is_active=False)
    network = Category.objects.get(name="Network", parent=None)
    network.is_active = False
    network.save()
    # when
    tree = dict(queries.category_tree())
    # then
    names = [c.name for c in tree[hardware]]
    assert "Printer & scanner" in names and "Monitor" not in names
    assert network not in tree
    assert all(c.name != "VPN" for children in tree.values() for c in children)
