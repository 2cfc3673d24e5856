"""Work orders in the workspace: open, the day list, the visit page and its actions."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.core.history import history_of
from tierline.desk import services
from tierline.desk.models import WorkOrder
from tierline.people.models import Location

pytestmark = pytest.mark.django_db


def _at(days: int = 0, hour: int = 10) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return datetime.combine(
        day, datetime.min.time(), tzinfo=timezone.get_current_timezone()
    ).replace(hour=hour)


def _tier2_ticket(requester, tier1=None):
    ticket = desk_factories.ticket(requester)
    if tier1 is not None:
        services.take(ticket=ticket, by=tier1)
    services.escalate(
        ticket=ticket, by=tier1 or people_factories.technician(1), summary="Tried remote fix."
    )
    ticket.refresh_from_db()
    return ticket


def _work_order(ticket, by, technician=None, start=None, **kw):
    start = start or _at(hour=10)
    return services.create_work_order(
        ticket=ticket,
        by=by,
        technician=technician or by,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        checklist=kw.pop("checklist", ["Check cable", "Test print"]),
        **kw,
    )


def _form(**overrides):
    data = {
        "scheduled_start": _at(1, 9).strftime("%Y-%m-%dT%H:%M"),
        "scheduled_end": _at(1, 10).strftime("%Y-%m-%dT%H:%M"),
        "desk": "4.12",
        "device": "HP LaserJet",
        "instructions": "Bring a spare fuser.",
        "checklist": "Check cable\n\nTest print\n",
    }
    data.update(overrides)
    return data


# --- create ---------------------------------------------------------------------------------


def test_tier1_is_refused_with_a_clear_message(client, employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    client.force_login(tier1)
    url = reverse("desk:work_order_create", args=[ticket.number])
    # when
    get = client.get(url)
    post = client.post(url, _form(technician=tier1.pk))
    # then
    assert get.status_code == 403 and post.status_code == 403
    assert "Tier 2 or above" in get.content.decode()
    assert not WorkOrder.objects.exists()


def test_tier2_creates_a_work_order(client, employee, tier1, tier2):
    # given
    location = Location.objects.create(name="HQ")
    employee.location = location
    employee.save()
    ticket = _tier2_ticket(employee, tier1)
    client.force_login(tier2)
    url = reverse("desk:work_order_create", args=[ticket.number])
    # when the form opens, the requester's location is the default
    assert client.get(url).context["form"].initial["location"] == location
    response = client.post(url, _form(technician=tier2.pk, location=location.pk))
    # then
    wo = WorkOrder.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("desk:work_order", args=[wo.number])
    assert wo.technician == tier2 and wo.location == location and wo.desk == "4.12"
    assert [i["text"] for i in wo.checklist] == ["Check cable", "Test print"]
    assert timezone.localtime(wo.scheduled_start).hour == 9


def test_create_with_bad_window_is_a_form_error(client, employee, tier1, tier2):
    ticket = _tier2_ticket(employee, tier1)
    client.force_login(tier2)
    url = reverse("desk:work_order_create", args=[ticket.number])
    backwards = client.post(
        url,
        _form(
            technician=tier2.pk,
            scheduled_start=_at(1, 11).strftime("%Y-%m-%dT%H:%M"),
        ),
    )
    garbage = client.post(url, _form(technician=tier2.pk, scheduled_start="tomorrow-ish"))
    too_long = client.post(url, _form(technician=tier2.pk, desk="x" * 61))
    assert backwards.status_code == garbage.status_code == too_long.status_code == 400
    assert "scheduled_end" in backwards.context["form"].errors
    assert "scheduled_start" in garbage.context["form"].errors
    assert "desk" in too_long.context["form"].errors
    assert not WorkOrder.objects.exists()


def test_create_for_an_invisible_ticket_is_404(client, employee, tier2):
    ticket = desk_factories.ticket(employee, team=people_factories.restricted_team(tier=3))
    client.force_login(tier2)
    response = client.get(reverse("desk:work_order_create", args=[ticket.number]))
    assert response.status_code == 404


def test_create_for_a_ticket_read_but_not_worked_is_refused(client, employee, tier2):
    ticket = desk_factories.ticket(employee, team=people_factories.team(3))
    client.force_login(tier2)
    response = client.get(reverse("desk:work_order_create", args=[ticket.number]))
    assert response.status_code == 403
    assert not ticket.work_orders.exists()


# --- detail and actions ---------------------------------------------------------------------


def test_detail_shows_the_visit_and_history(client, employee, tier1, tier2):
    ticket = _tier2_ticket(employee, tier1)
    wo = _work_order(ticket, tier2, device="ThinkPad T14")
    client.force_login(tier2)
    response = client.get(reverse("desk:work_order", args=[wo.number]))
    body = response.content.decode()
    assert response.status_code == 200
    assert ticket.number in body and "ThinkPad T14" in body and "Check cable" in body
    assert response.context["history"]


def test_tier1_reads_another_teams_work_order_without_its_forms(client, employee, tier1, tier2):
    ticket = _tier2_ticket(employee, tier1)
    wo = _work_order(ticket, tier2)
    client.force_login(tier1)  # the ticket left tier 1, which still reads it
    response = client.get(reverse("desk:work_order", args=[wo.number]))
    assert response.status_code == 200
    assert response.context["can_change"] is False
    assert "Mark done" not in response.content.decode()
    assert client.get(reverse("desk:work_order", args=["WO-999999"])).status_code == 404


def test_work_order_of_a_restricted_team_is_404(client, employee, tier1, tier2, lead):
    ticket = desk_factories.ticket(employee, team=people_factories.restricted_team(members=[tier2]))
    wo = _work_order(ticket, tier2)
    client.force_login(tier1)
    assert client.get(reverse("desk:work_order", args=[wo.number])).status_code == 404


def test_start_then_complete_with_checklist_ticks(client, employee, tier1, tier2):
    # given
    ticket = _tier2_ticket(employee, tier1)
    wo = _work_order(ticket, tier2)
    client.force_login(tier2)
    act = lambda name: reverse("desk:work_order_action", args=[wo.number, name])  # noqa: E731
    # when
    client.post(act("start"), {"version": wo.version})
    wo.refresh_from_db()
    assert wo.status == WorkOrder.Status.IN_PROGRESS
    response = client.post(
        act("complete"),
        {
            "outcome": "Replaced the fuser.",
            "signoff_name": "Erin Employee",
            "time_spent_minutes": "45",
            "done": ["1"],
            "version": wo.version,
        },
    )
    # then
    assert response.status_code == 302
    wo.refresh_from_db()
    assert wo.status == WorkOrder.Status.DONE and wo.signoff_name == "Erin Employee"
    assert [i["done"] for i in wo.checklist] == [False, True]
    ticket.refresh_from_db()
    assert ticket.time_spent_minutes == 45
    assert "completed" in [h.action for h in history_of(wo)]


def test_complete_with_missing_fields_is_a_form_error(client, employee, tier1, tier2):
    ticket = _tier2_ticket(employee, tier1)
    wo = _work_order(ticket, tier2)
    client.force_login(tier2)
    response = client.post(
        reverse("desk:work_order_action", args=[wo.number, "complete"]),
        {"outcome": "", "signoff_name": "", "time_spent_minutes": "-5", "version": wo.version},
    )
    assert response.status_code == 400
    assert set(response.context["complete_form"].errors) >= {
        "outcome",
        "signoff_name",
        "time_spent_minutes",
    }
    wo.refresh_from_db()
    assert wo.status == WorkOrder.Status.SCHEDULED


def test_stale_update_is_refused(client, employee, tier1, tier2):
    # given two people load the same version
    ticket = _tier2_ticket(employee, tier1)
    wo = _work_order(ticket, tier2)
    loaded_version = wo.version
    services.update_work_order(work_order=wo, by=tier2, device="Someone else's change")
    client.force_login(tier2)
    # when the first saves the old version
    response = client.post(
        reverse("desk:work_order_action", args=[wo.number, "update"]),
        _form(technician=tier2.pk, device="My change", version=loaded_version),
    )
    # then
    assert response.status_code == 409
    assert "Someone else changed" in response.content.decode()
    wo.refresh_from_db()
    assert wo.device == "Someone else's change"


def test_update_keeps_ticks_of_unchanged_items(client, employee, tier1, tier2):
    ticket = _tier2_ticket(employee, tier1)
    wo = _work_order(ticket, tier2, checklist=[{"text": "Check cable", "done": True}])
    client.force_login(tier2)
    response = client.post(
        reverse("desk:work_order_action", args=[wo.number, "update"]),
        _form(technician=tier2.pk, checklist="Check cable\nSwap toner", version=wo.version),
    )
    assert response.status_code == 302
    wo.refresh_from_db()
    assert wo.checklist == [
        {"text": "Check cable", "done": True},
        {"text": "Swap toner", "done": False},
    ]


def test_cancel_needs_a_reason_and_finished_orders_refuse_actions(client, employee, tier1, tier2):
    ticket = _tier2_ticket(employee, tier1)
    wo = _work_order(ticket, tier2)
    client.force_login(tier2)
    cancel = reverse("desk:work_order_action", args=[wo.number, "cancel"])
    assert client.post(cancel, {"reason": ""}).status_code == 400
    assert client.post(cancel, {"reason": "Requester on leave"}).status_code == 302
    wo.refresh_from_db()
    assert wo.status == WorkOrder.Status.CANCELLED
    again = client.post(cancel, {"reason": "again"})
    assert again.status_code == 400
    assert "already cancelled" in again.content.decode()


def test_unknown_action_and_get_are_refused(client, employee, tier1, tier2):
    ticket = _tier2_ticket(employee, tier1)
    wo = _work_order(ticket, tier2)
    client.force_login(tier2)
    assert (
        client.post(reverse("desk:work_order_action", args=[wo.number, "explode"])).status_code
        == 404
    )
    assert (
        client.get(reverse("desk:work_order_action", args=[wo.number, "cancel"])).status_code == 405
    )


def test_requester_cannot_open_the_visit_page(client, employee, tier1, tier2):
    ticket = _tier2_ticket(employee, tier1)
    wo = _work_order(ticket, tier2)
    client.force_login(employee)
    response = client.get(reverse("desk:work_order", args=[wo.number]))
    assert response.status_code == 302 and response.url == reverse("portal:home")


# --- day list -------------------------------------------------------------------------------


def test_day_list_shows_my_visits_of_the_day(client, employee, tier1, tier2):
    # given
    ticket = _tier2_ticket(employee, tier1)
    today = _work_order(ticket, tier2, start=_at(0, 9))
    tomorrow = _work_order(ticket, tier2, start=_at(1, 9))
    client.force_login(tier2)
    url = reverse("desk:work_orders")
    # when
    now = client.get(url)
    later = client.get(url, {"date": (timezone.localdate() + timedelta(days=1)).isoformat()})
    # then
    assert now.context["visits"] == [today]
    assert later.context["visits"] == [tomorrow]
    assert client.get(url, {"date": "not-a-date"}).status_code == 200


def test_lead_may_pick_a_technician_others_may_not(client, employee, tier1, tier2, lead):
    ticket = _tier2_ticket(employee, tier1)
    wo = _work_order(ticket, tier2, start=_at(0, 9))
    url = reverse("desk:work_orders")
    client.force_login(lead)
    assert client.get(url, {"technician": tier2.pk}).context["visits"] == [wo]
    client.force_login(tier1)
    assert client.get(url, {"technician": tier2.pk}).context["visits"] == []


@pytest.mark.parametrize("rows", [3, 30])
def test_day_list_query_count_bounded(
    client, employee, tier1, tier2, django_assert_max_num_queries, rows
):
    ticket = _tier2_ticket(employee, tier1)
    for n in range(rows):
        _work_order(ticket, tier2, start=_at(0, 8) + timedelta(minutes=10 * n))
    client.force_login(tier2)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("desk:work_orders"))
    assert len(response.context["visits"]) == rows
