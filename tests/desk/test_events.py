"""What the desk tells other apps: each service publishes exactly its events, with the right ids."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.core import events
from tierline.core.history import history_of
from tierline.desk import services
from tierline.desk.events import (
    CallLogged,
    CategoryChanged,
    Closed,
    DeEscalated,
    DeskEvent,
    Escalated,
    Merged,
    MessageAdded,
    PriorityChanged,
    Reopened,
    Resolved,
    StatusChanged,
    TicketAssigned,
    TicketChanged,
    TicketEvent,
    TicketOpened,
    WorkOrderCancelled,
    WorkOrderCompleted,
    WorkOrderOpened,
)
from tierline.desk.models import (
    Call,
    Category,
    Channel,
    Escalation,
    Level,
    Message,
    Status,
    Ticket,
)

pytestmark = pytest.mark.django_db


def published(action):
    """Run `action`; return what it returned and the events it published."""
    with events.capture_events() as captured:
        result = action()
    return result, captured


def changed(ticket, by, old: str, new: str) -> StatusChanged:
    return StatusChanged(ticket_id=ticket.pk, actor_id=by.pk, old_status=old, new_status=new)


def last_message(ticket) -> Message:
    return Message.objects.filter(ticket=ticket).latest("pk")


# --- tickets ------------------------------------------------------------------------------


def test_open_ticket_publishes_ticket_opened(employee, tier1):
    # given / when
    ticket, published_events = published(
        lambda: services.open_ticket(
            requester=employee,
            by=tier1,
            subject="VPN drops",
            description="Every ten minutes.",
            impact=Level.HIGH,
            urgency=Level.HIGH,
            channel=Channel.PHONE,
        )
    )
    # then
    assert published_events == [
        TicketOpened(
            ticket_id=ticket.pk,
            actor_id=tier1.pk,
            requester_id=employee.pk,
            team_id=people_factories.team(1).pk,
            tier=1,
            priority=ticket.priority,
            channel="phone",
            category_id=None,
            parent_id=None,
            created_at=ticket.created_at,
            status="new",
            requester_department_id=employee.department_id,
            requester_vip=employee.is_vip,
        )
    ]
    assert ticket.priority == 1


def test_taking_a_new_ticket_publishes_its_opening_then_the_assignment(employee, tier1):
    ticket = desk_factories.ticket(employee)
    _, published_events = published(lambda: services.take(ticket=ticket, by=tier1))
    assert published_events == [
        changed(ticket, tier1, "new", "open"),
        TicketAssigned(
            ticket_id=ticket.pk, actor_id=tier1.pk, old_assignee_id=None, new_assignee_id=tier1.pk
        ),
    ]


def test_reassigning_an_open_ticket_publishes_only_the_assignment(employee, tier1, lead):
    ticket = desk_factories.ticket(employee)
    services.take(ticket=ticket, by=tier1)
    _, published_events = published(lambda: services.assign(ticket=ticket, by=tier1, assignee=lead))
    assert published_events == [
        TicketAssigned(
            ticket_id=ticket.pk,
            actor_id=tier1.pk,
            old_assignee_id=tier1.pk,
            new_assignee_id=lead.pk,
        )
    ]
    # and assigning to whoever has it already publishes nothing
    assert published(lambda: services.assign(ticket=ticket, by=tier1, assignee=lead))[1] == []


def test_change_status_publishes_status_changed(employee, tier1):
    ticket = desk_factories.ticket(employee)
    _, published_events = published(
        lambda: services.change_status(ticket=ticket, by=tier1, status=Status.IN_PROGRESS)
    )
    assert published_events == [changed(ticket, tier1, "new", "in_progress")]


def test_change_fields_publishes_priority_changed_only_when_a_level_moves(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)  # medium x medium: P3
    # when
    _, published_events = published(
        lambda: services.change_fields(ticket=ticket, by=tier1, impact=Level.HIGH)
    )
    _, renamed_events = published(
        lambda: services.change_fields(ticket=ticket, by=tier1, subject="Printer on floor 3")
    )
    # then
    assert published_events == [
        PriorityChanged(
            ticket_id=ticket.pk,
            actor_id=tier1.pk,
            old_impact=Level.MEDIUM,
            new_impact=Level.HIGH,
            old_urgency=Level.MEDIUM,
            new_urgency=Level.MEDIUM,
            old_priority=3,
            new_priority=2,
        )
    ]
    # a subject change moves no level: no PriorityChanged, only the TicketChanged the search
    # index follows
    assert renamed_events == [
        TicketChanged(ticket_id=ticket.pk, actor_id=tier1.pk, fields=("subject",))
    ]


def test_a_category_change_publishes_category_changed_once_with_one_history_entry(employee, tier1):
    # given
    printers = Category.objects.create(name="Printers (events)")
    network = Category.objects.create(name="Network (events)")
    ticket = desk_factories.ticket(employee, category=printers)
    entries_before = history_of(ticket).count()
    # when: the category changes, then the subject and the category together
    _, moved = published(lambda: services.change_fields(ticket=ticket, by=tier1, category=network))
    _, both = published(
        lambda: services.change_fields(
            ticket=ticket, by=tier1, subject="No network on floor 2", category=None
        )
    )
    # then: one CategoryChanged each (a TicketChanged, so the search index hears it once)
    assert moved == [
        CategoryChanged(
            ticket_id=ticket.pk,
            actor_id=tier1.pk,
            fields=("category",),
            old_category_id=printers.pk,
            new_category_id=network.pk,
        )
    ]
    assert both == [
        CategoryChanged(
            ticket_id=ticket.pk,
            actor_id=tier1.pk,
            fields=("subject", "category"),
            old_category_id=network.pk,
            new_category_id=None,
        )
    ]
    assert isinstance(moved[0], TicketChanged)
    # and the history has one entry per changed field, as before
    assert history_of(ticket).count() == entries_before + 3
    # setting the same category again publishes nothing
    assert (
        published(lambda: services.change_fields(ticket=ticket, by=tier1, category=None))[1] == []
    )


# --- messages -----------------------------------------------------------------------------


def test_first_public_reply_is_marked_first_response_and_opens_the_ticket(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    # when
    _, first = published(lambda: services.add_message(ticket=ticket, by=tier1, body="On it."))
    _, second = published(lambda: services.add_message(ticket=ticket, by=tier1, body="Fixed?"))
    _, note = published(
        lambda: services.add_message(ticket=ticket, by=tier1, body="Driver 4.2", internal=True)
    )
    # then
    messages = list(Message.objects.filter(ticket=ticket).order_by("pk"))
    assert first == [
        changed(ticket, tier1, "new", "open"),
        MessageAdded(
            ticket_id=ticket.pk,
            actor_id=tier1.pk,
            message_id=messages[0].pk,
            internal=False,
            first_response=True,
        ),
    ]
    assert second == [
        MessageAdded(
            ticket_id=ticket.pk,
            actor_id=tier1.pk,
            message_id=messages[1].pk,
            internal=False,
            first_response=False,
        )
    ]
    assert note == [
        MessageAdded(
            ticket_id=ticket.pk,
            actor_id=tier1.pk,
            message_id=messages[2].pk,
            internal=True,
            first_response=False,
        )
    ]
    assert first[1].public and not note[0].public


def test_an_internal_note_is_not_a_first_response(employee, tier1):
    ticket = desk_factories.ticket(employee)
    _, note = published(
        lambda: services.add_message(ticket=ticket, by=tier1, body="Looking", internal=True)
    )
    assert [(type(e), getattr(e, "first_response", None)) for e in note] == [(MessageAdded, False)]
    ticket.refresh_from_db()
    assert ticket.first_response_at is None and ticket.status == Status.NEW


def test_requester_answer_reopens_a_ticket_waiting_on_them(employee, tier1):
    ticket = desk_factories.ticket(employee)
    services.change_status(ticket=ticket, by=tier1, status=Status.WAITING_REQUESTER)
    _, published_events = published(
        lambda: services.add_message(ticket=ticket, by=employee, body="Here is the log.")
    )
    assert published_events == [
        changed(ticket, employee, "waiting_requester", "open"),
        MessageAdded(
            ticket_id=ticket.pk,
            actor_id=employee.pk,
            message_id=last_message(ticket).pk,
            internal=False,
            first_response=False,
        ),
    ]


# --- tiers --------------------------------------------------------------------------------


def test_escalate_publishes_escalated_and_the_unassignment(employee, tier1):
    # given: taken (so open) by Tier 1
    ticket = desk_factories.ticket(employee)
    services.take(ticket=ticket, by=tier1)
    # when
    _, published_events = published(
        lambda: services.escalate(ticket=ticket, by=tier1, summary="Reinstalled the driver.")
    )
    # then
    escalation = Escalation.objects.get(ticket=ticket)
    assert published_events == [
        Escalated(
            ticket_id=ticket.pk,
            actor_id=tier1.pk,
            escalation_id=escalation.pk,
            from_team_id=people_factories.team(1).pk,
            to_team_id=people_factories.team(2).pk,
            from_tier=1,
            to_tier=2,
        ),
        TicketAssigned(
            ticket_id=ticket.pk, actor_id=tier1.pk, old_assignee_id=tier1.pk, new_assignee_id=None
        ),
    ]


def test_escalating_a_new_ticket_publishes_its_opening(employee, tier1):
    ticket = desk_factories.ticket(employee)
    _, published_events = published(
        lambda: services.escalate(ticket=ticket, by=tier1, summary="Needs Tier 2.")
    )
    assert [type(e) for e in published_events] == [StatusChanged, Escalated]
    assert published_events[0] == changed(ticket, tier1, "new", "open")


def test_de_escalate_publishes_de_escalated(employee, tier1, tier2):
    ticket = desk_factories.ticket(employee)
    services.escalate(ticket=ticket, by=tier1, summary="Needs Tier 2.")
    ticket.refresh_from_db()
    _, published_events = published(
        lambda: services.de_escalate(ticket=ticket, by=tier2, summary="A Tier 1 fix.")
    )
    back = Escalation.objects.get(ticket=ticket, direction=Escalation.Direction.DOWN)
    assert published_events == [
        DeEscalated(
            ticket_id=ticket.pk,
            actor_id=tier2.pk,
            escalation_id=back.pk,
            from_team_id=people_factories.team(2).pk,
            to_team_id=people_factories.team(1).pk,
            from_tier=2,
            to_tier=1,
        )
    ]


# --- finishing ----------------------------------------------------------------------------


def test_resolve_publishes_the_note_the_status_and_resolved(employee, tier1):
    ticket = desk_factories.ticket(employee)
    services.take(ticket=ticket, by=tier1)
    _, published_events = published(
        lambda: services.resolve(
            ticket=ticket, by=tier1, resolution_code="fixed", body="Cleaned the rollers."
        )
    )
    assert published_events == [
        MessageAdded(
            ticket_id=ticket.pk,
            actor_id=tier1.pk,
            message_id=last_message(ticket).pk,
            internal=False,
            first_response=True,
        ),
        changed(ticket, tier1, "open", "resolved"),
        Resolved(ticket_id=ticket.pk, actor_id=tier1.pk, resolution_code="fixed"),
    ]


def resolved_ticket(employee, tier1) -> Ticket:
    ticket = desk_factories.ticket(employee)
    services.take(ticket=ticket, by=tier1)
    services.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="Done.")
    ticket.refresh_from_db()
    return ticket


def test_confirm_publishes_closed_confirmed(employee, tier1):
    ticket = resolved_ticket(employee, tier1)
    _, published_events = published(lambda: services.confirm_resolution(ticket=ticket, by=employee))
    assert published_events == [
        changed(ticket, employee, "resolved", "closed"),
        Closed(ticket_id=ticket.pk, actor_id=employee.pk, how="confirmed"),
    ]


def test_reopen_publishes_reopened_and_the_reason(employee, tier1):
    ticket = resolved_ticket(employee, tier1)
    _, published_events = published(
        lambda: services.reopen(ticket=ticket, by=employee, reason="Jams again.")
    )
    assert published_events == [
        changed(ticket, employee, "resolved", "open"),
        Reopened(ticket_id=ticket.pk, actor_id=employee.pk, old_status="resolved"),
        MessageAdded(
            ticket_id=ticket.pk,
            actor_id=employee.pk,
            message_id=last_message(ticket).pk,
            internal=False,
            first_response=False,
        ),
    ]


def test_auto_close_publishes_closed_by_the_job(employee, tier1):
    # given
    ticket = resolved_ticket(employee, tier1)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=30))
    # when
    closed, published_events = published(services.close_resolved_tickets)
    # then: the events name the job's actor, whoever the history names (no person, or its
    # system user)
    job = history_of(ticket).get(action="closed").actor_id
    assert closed == 1 and job != tier1.pk
    assert published_events == [
        StatusChanged(
            ticket_id=ticket.pk, actor_id=job, old_status="resolved", new_status="closed"
        ),
        Closed(ticket_id=ticket.pk, actor_id=job, how="closed"),
    ]


def test_merge_publishes_closed_merged_and_the_notice(employee, employee2, tier1):
    duplicate, original = desk_factories.ticket(employee2), desk_factories.ticket(employee)
    _, published_events = published(
        lambda: services.merge(ticket=duplicate, into=original, by=tier1)
    )
    assert published_events == [
        changed(duplicate, tier1, "new", "closed"),
        Closed(ticket_id=duplicate.pk, actor_id=tier1.pk, how="merged"),
        Merged(ticket_id=duplicate.pk, actor_id=tier1.pk, into_ticket_id=original.pk),
        MessageAdded(
            ticket_id=duplicate.pk,
            actor_id=tier1.pk,
            message_id=last_message(duplicate).pk,
            internal=False,
            first_response=False,
        ),
    ]


def test_mark_spam_publishes_closed_spam(employee, tier1):
    ticket = desk_factories.ticket(employee)
    _, published_events = published(lambda: services.mark_spam(ticket=ticket, by=tier1))
    assert published_events == [
        changed(ticket, tier1, "new", "closed"),
        Closed(ticket_id=ticket.pk, actor_id=tier1.pk, how="spam"),
    ]


def test_create_child_publishes_the_child_opened_with_its_parent(employee, tier1):
    parent = desk_factories.ticket(employee)
    child, published_events = published(
        lambda: services.create_child(
            parent=parent, by=tier1, subject="Replace toner", description="Tray 2."
        )
    )
    assert [type(e) for e in published_events] == [TicketOpened]
    assert (published_events[0].ticket_id, published_events[0].parent_id) == (child.pk, parent.pk)


# --- work orders and calls ----------------------------------------------------------------


def test_work_order_opened_completed_and_cancelled(employee, tier2):
    # given
    ticket = desk_factories.ticket(employee, team=people_factories.team(2))
    # when
    visit, opened = published(lambda: desk_factories.work_order(ticket, by=tier2))
    _, completed = published(
        lambda: services.complete_work_order(
            work_order=visit,
            by=tier2,
            outcome="Swapped.",
            signoff_name="Erin",
            time_spent_minutes=30,
        )
    )
    second = desk_factories.work_order(ticket, by=tier2)
    _, cancelled = published(
        lambda: services.cancel_work_order(work_order=second, by=tier2, reason="Fixed remotely")
    )
    # then
    assert opened == [
        WorkOrderOpened(
            ticket_id=ticket.pk,
            actor_id=tier2.pk,
            work_order_id=visit.pk,
            technician_id=tier2.pk,
            scheduled_start=visit.scheduled_start,
            scheduled_end=visit.scheduled_end,
        )
    ]
    assert completed == [
        WorkOrderCompleted(
            ticket_id=ticket.pk, actor_id=tier2.pk, work_order_id=visit.pk, time_spent_minutes=30
        )
    ]
    assert cancelled == [
        WorkOrderCancelled(
            ticket_id=ticket.pk,
            actor_id=tier2.pk,
            work_order_id=second.pk,
            reason="Fixed remotely",
        )
    ]


def test_call_logged_solved_on_the_line_and_added_to_a_ticket(employee, tier1):
    ticket = desk_factories.ticket(employee)
    solved, on_the_line = published(
        lambda: services.log_call(
            by=tier1, outcome=Call.Outcome.SOLVED, caller=employee, duration_seconds=90
        )
    )
    added, to_ticket = published(
        lambda: services.log_call(
            by=tier1, outcome=Call.Outcome.EXISTING_TICKET, caller=employee, ticket=ticket
        )
    )
    assert on_the_line == [
        CallLogged(
            actor_id=tier1.pk,
            call_id=solved.pk,
            ticket_id=None,
            outcome="solved",
            duration_seconds=90,
        )
    ]
    assert to_ticket == [
        CallLogged(
            actor_id=tier1.pk,
            call_id=added.pk,
            ticket_id=ticket.pk,
            outcome="existing_ticket",
            duration_seconds=0,
        )
    ]


def test_a_call_that_opens_a_ticket_publishes_the_ticket_then_the_call(employee, tier1):
    call, published_events = published(
        lambda: services.log_call(
            by=tier1, outcome=Call.Outcome.NEW_TICKET, caller=employee, subject="No dial tone"
        )
    )
    assert [type(e) for e in published_events] == [
        TicketOpened,
        StatusChanged,
        TicketAssigned,
        CallLogged,
    ]
    assert {e.ticket_id for e in published_events} == {call.ticket_id}
    assert all(isinstance(e, DeskEvent) for e in published_events)


# --- the two kinds of handlers, on a real service -----------------------------------------


def test_an_in_transaction_handler_that_raises_rolls_the_escalation_back(employee, tier1):
    # given: an in-transaction handler that refuses (a service-level clock that can't start)
    ticket = desk_factories.ticket(employee)

    def clock(event):
        raise RuntimeError("no calendar for Tier 2")

    # when
    with (
        events.subscribed(Escalated, clock, when="transaction"),
        pytest.raises(RuntimeError, match="no calendar"),
    ):
        services.escalate(ticket=ticket, by=tier1, summary="Needs Tier 2.")
    # then: nothing of the escalation is left
    ticket.refresh_from_db()
    assert (ticket.tier, ticket.status, ticket.version) == (1, Status.NEW, 1)
    assert not Escalation.objects.exists()
    assert list(ticket_history_fields(ticket)) == [""]  # only "opened"


def ticket_history_fields(ticket):
    return history_of(ticket).values_list("field", flat=True)


def test_in_transaction_handlers_see_the_change_already_written(employee, tier1):
    ticket = desk_factories.ticket(employee)
    seen: list[tuple[str, int]] = []

    def clock(event: TicketEvent):
        row = Ticket.objects.get(pk=event.ticket_id)
        seen.append((row.status, row.tier))

    with events.subscribed(Escalated, clock, when="transaction"):
        services.escalate(ticket=ticket, by=tier1, summary="Needs Tier 2.")
    assert seen == [(Status.OPEN, 2)]


def test_an_after_commit_handler_that_raises_leaves_the_ticket_saved_logged_and_retried(
    employee, tier1, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    # given: a notifier that is down
    monkeypatch.setattr(events, "COMMIT_HANDLER_BACKOFF", 0)
    ticket = desk_factories.ticket(employee)
    tries: list[int] = []

    def notify(event):
        tries.append(event.ticket_id)
        raise ConnectionError("mail relay down")

    # when
    with (
        events.subscribed(StatusChanged, notify),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        services.change_status(ticket=ticket, by=tier1, status=Status.IN_PROGRESS)
    # then: saved, tried again, then logged as an error naming the event (the other callbacks
    # are the installed apps' own after-commit handlers: mail, sla, search, ...)
    assert len(callbacks) >= 1
    assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS
    assert tries == [ticket.pk] * events.COMMIT_HANDLER_ATTEMPTS
    (error,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert f"ticket_id={ticket.pk}" in error.getMessage()
    assert "new_status='in_progress'" in error.getMessage()


def test_nothing_reaches_after_commit_handlers_when_the_transaction_rolls_back(
    employee, tier1, django_capture_on_commit_callbacks
):
    # given
    ticket = desk_factories.ticket(employee)
    heard: list[events.Event] = []
    # when: the service succeeds but the transaction around it fails
    with (
        events.subscribed(TicketEvent, heard.append),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        with pytest.raises(RuntimeError), transaction.atomic():
            services.take(ticket=ticket, by=tier1)
            raise RuntimeError("the request failed later")
        ticket.refresh_from_db()
        # and a later, committed change is heard
        services.add_message(ticket=ticket, by=tier1, body="Looking at it.")
        # (one callback per after-commit handler of each event, other apps' included)
        expected = sum(
            s.when == "commit"
            for e in (StatusChanged, MessageAdded)
            for s in events.handlers_for(e)
        )
    # then
    ticket.refresh_from_db()
    assert ticket.assignee is None and ticket.status == Status.OPEN
    assert [type(e) for e in heard] == [StatusChanged, MessageAdded]
    assert len(callbacks) == expected


@pytest.mark.django_db(transaction=True)
def test_after_commit_handler_runs_on_a_real_commit_and_its_failure_undoes_nothing(
    employee, tier1, monkeypatch
):
    # given: a real commit (no test transaction around it)
    monkeypatch.setattr(events, "COMMIT_HANDLER_BACKOFF", 0)
    heard: list[events.Event] = []

    def broken(event):
        raise RuntimeError("search index down")

    with events.subscribed(TicketOpened, broken), events.subscribed(TicketOpened, heard.append):
        # when
        ticket = desk_factories.ticket(employee)
    # then
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    assert [e.ticket_id for e in heard] == [ticket.pk]
