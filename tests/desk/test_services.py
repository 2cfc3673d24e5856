"""The ticket workflow, told through the service functions the UI, API and jobs all call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.core.errors import ActionRefused, StaleEdit
from tierline.core.history import history_of
from tierline.desk import services
from tierline.desk.models import (
    Call,
    Category,
    Escalation,
    Level,
    Priority,
    PriorityRule,
    Status,
    Ticket,
)
from tierline.people.models import Team

pytestmark = pytest.mark.django_db


def test_open_ticket_numbers_routes_and_prioritises(employee):
    # given / when
    ticket = desk_factories.ticket(employee, impact=Level.HIGH, urgency=Level.HIGH)
    # then
    assert ticket.number == f"TL-{ticket.pk:06d}"
    assert Ticket.objects.get(pk=ticket.pk).number == ticket.number
    assert ticket.priority == Priority.CRITICAL
    assert ticket.tier == 1 and ticket.team == people_factories.team(1)
    assert ticket.status == Status.NEW and ticket.is_open
    assert [e.action for e in history_of(ticket)] == ["opened"]


def test_open_ticket_routes_by_category_and_the_configured_matrix(employee):
    # given: printers go to Tier 2; the matrix makes low x low urgent; medium x high is unset
    printers = Category.objects.create(name="Printers", default_team=people_factories.team(2))
    PriorityRule.objects.filter(impact=Level.LOW, urgency=Level.LOW).update(
        priority=Priority.CRITICAL
    )
    PriorityRule.objects.filter(impact=Level.MEDIUM, urgency=Level.HIGH).delete()
    # when
    routed = desk_factories.ticket(employee, category=printers, impact=Level.LOW, urgency=Level.LOW)
    fallback = desk_factories.ticket(employee, impact=Level.MEDIUM, urgency=Level.HIGH)
    given = desk_factories.ticket(employee, team=people_factories.team(3))
    # then
    assert (routed.team, routed.tier, routed.priority) == (
        people_factories.team(2),
        2,
        Priority.CRITICAL,
    )
    assert fallback.priority == services.DEFAULT_MATRIX[(Level.MEDIUM, Level.HIGH)]
    assert (given.team, given.tier) == (people_factories.team(3), 3)
    stored = Ticket.objects.filter(pk__in=[routed.pk, fallback.pk, given.pk]).order_by("pk")
    assert [t.number for t in stored] == [f"TL-{t.pk:06d}" for t in stored]


def test_open_ticket_without_a_tier1_team_is_refused(employee):
    ticket = desk_factories.ticket(employee)
    Team.objects.filter(tier=1).update(tier=4)  # no team is Tier 1 any more
    with pytest.raises(ActionRefused, match="no Tier 1 team"):
        desk_factories.ticket(employee)
    assert list(Ticket.objects.values_list("pk", flat=True)) == [ticket.pk]


def test_open_ticket_for_a_team_that_is_gone_is_refused(employee):
    gone = Team.objects.create(name="Print room", tier=2)
    Team.objects.filter(pk=gone.pk).delete()
    with pytest.raises(ActionRefused, match="no longer exists"):
        desk_factories.ticket(employee, team=gone)
    assert not Ticket.objects.exists()


def test_open_ticket_refuses_empty_and_overlong_fields(employee):
    with pytest.raises(ValidationError) as exc:
        services.open_ticket(requester=employee, subject="", description="x" * 20001)
    assert set(exc.value.message_dict) == {"subject", "description"}
    assert Ticket.objects.count() == 0


def test_open_ticket_stores_markup_as_the_text_that_was_typed(employee):
    # given a description that looks like HTML
    typed = "<p>hi</p><script>alert(1)</script><img src=x onerror=alert(2)>"
    # when
    ticket = desk_factories.ticket(employee, description=typed)
    # then it is stored as typed: it is text, escaped when shown (tests/core/test_render_text.py)
    ticket.refresh_from_db()
    assert ticket.description == typed


def test_escalate_moves_ticket_and_keeps_trail(employee, tier1, tier2):
    # given
    ticket = desk_factories.ticket(employee)
    services.take(ticket=ticket, by=tier1)
    # when
    services.escalate(ticket=ticket, by=tier1, summary="Reinstalled driver; still jams.")
    # then
    ticket.refresh_from_db()
    assert ticket.tier == 2 and ticket.team == people_factories.team(2)
    assert ticket.assignee is None and ticket.escalation_count == 1
    escalation = Escalation.objects.get(ticket=ticket)
    assert (escalation.by, escalation.from_tier, escalation.to_tier) == (tier1, 1, 2)
    assert escalation.from_assignee == tier1
    assert "escalated" in [e.action for e in history_of(ticket)]


def test_escalate_needs_summary_and_an_open_ticket(employee, tier1):
    ticket = desk_factories.ticket(employee)
    with pytest.raises(ValidationError) as exc:
        services.escalate(ticket=ticket, by=tier1, summary="  ")
    assert "summary" in exc.value.message_dict
    services.mark_spam(ticket=ticket, by=tier1)
    with pytest.raises(ActionRefused):
        services.escalate(ticket=ticket, by=tier1, summary="tried")


def test_requester_cannot_escalate_or_note(employee):
    ticket = desk_factories.ticket(employee)
    with pytest.raises(PermissionDenied):
        services.escalate(ticket=ticket, by=employee, summary="please")
    with pytest.raises(PermissionDenied):
        services.add_message(ticket=ticket, by=employee, body="x", internal=True)


def test_illegal_transition_is_refused_with_a_clear_message(employee, tier1):
    ticket = desk_factories.ticket(employee)
    with pytest.raises(ActionRefused) as exc:
        services.change_status(ticket=ticket, by=tier1, status=Status.RESOLVED)
    assert "Use Resolve" in exc.value.messages[0]


def test_resolve_confirm_and_reopen_window(employee, tier1, settings):
    ticket = desk_factories.ticket(employee)
    services.resolve(
        ticket=ticket,
        by=tier1,
        resolution_code="fixed",
        body="Cleaned the rollers.",
        time_spent_minutes=15,
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and ticket.time_spent_minutes == 15
    services.reopen(ticket=ticket, by=employee, reason="Jams again")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    services.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="New rollers.")
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=30))
    ticket.refresh_from_db()
    with pytest.raises(ActionRefused):
        services.reopen(ticket=ticket, by=employee, reason="Again")


def test_parent_waits_for_children(employee, tier1):
    parent = desk_factories.ticket(employee)
    child = services.create_child(
        parent=parent, by=tier1, subject="Order toner", description="Two cartridges"
    )
    with pytest.raises(ActionRefused):
        services.resolve(ticket=parent, by=tier1, resolution_code="fixed", body="done")
    services.resolve(ticket=child, by=tier1, resolution_code="fixed", body="ordered")
    services.resolve(
        ticket=parent.__class__.objects.get(pk=parent.pk),
        by=tier1,
        resolution_code="fixed",
        body="done",
    )


def test_stale_edit_is_refused_not_overwritten(employee, tier1):
    ticket = desk_factories.ticket(employee)
    first = Ticket.objects.get(pk=ticket.pk)
    second = Ticket.objects.get(pk=ticket.pk)
    services.change_fields(
        ticket=first, by=tier1, expected_version=first.version, impact=Level.HIGH
    )
    with pytest.raises(StaleEdit):
        services.change_fields(
            ticket=second, by=tier1, expected_version=second.version, urgency=Level.LOW
        )
    ticket.refresh_from_db()
    assert ticket.impact == Level.HIGH and ticket.urgency == Level.MEDIUM


def test_attachment_limits(employee, settings):
    settings.TIERLINE = {**settings.TIERLINE, "ATTACHMENT_MAX_BYTES": 10}
    big = SimpleUploadedFile("log.txt", b"x" * 11)
    with pytest.raises(ValidationError):
        desk_factories.ticket(employee, uploads=[big])
    with pytest.raises(ValidationError):
        desk_factories.ticket(employee, uploads=[SimpleUploadedFile("evil.html", b"<script>")])
    assert Ticket.objects.count() == 0


def test_work_order_needs_tier2(employee, tier1, tier2):
    ticket = desk_factories.ticket(employee)
    services.escalate(ticket=ticket, by=tier1, summary="needs a visit")
    start = timezone.now() + timedelta(hours=1)
    with pytest.raises(PermissionDenied):
        services.create_work_order(
            ticket=ticket, by=tier1, technician=tier2, scheduled_start=start, scheduled_end=start
        )
    wo = services.create_work_order(
        ticket=ticket,
        by=tier2,
        technician=tier2,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        checklist=["Swap dock"],
    )
    assert wo.number.startswith("WO-")
    services.complete_work_order(
        work_order=wo, by=tier2, outcome="Dock swapped", signoff_name="Erin", time_spent_minutes=30
    )
    ticket.refresh_from_db()
    assert ticket.time_spent_minutes == 30


def test_log_call_new_ticket_and_existing(employee, tier1):
    call = services.log_call(
        by=tier1,
        caller=employee,
        outcome=Call.Outcome.NEW_TICKET,
        subject="Outlook crashes",
        duration_seconds=125,
        notes="Crashes on start",
    )
    assert call.ticket.channel == "phone" and call.ticket.time_spent_minutes == 3
    again = services.log_call(
        by=tier1,
        caller=employee,
        outcome=Call.Outcome.EXISTING_TICKET,
        ticket=call.ticket,
        duration_seconds=60,
    )
    assert again.ticket == call.ticket
    with pytest.raises(ValidationError):
        services.log_call(by=tier1, outcome=Call.Outcome.SOLVED)


def test_close_resolved_tickets_after_n_days(employee, tier1):
    ticket = desk_factories.ticket(employee)
    services.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="ok")
    assert services.close_resolved_tickets() == 0
    assert services.close_resolved_tickets(now=timezone.now() + timedelta(days=8)) == 1
    assert services.close_resolved_tickets(now=timezone.now() + timedelta(days=8)) == 0
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
