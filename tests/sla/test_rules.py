"""Rules on created and updated tickets: each condition and operator, each action, order and
stop_processing, loop safety, firings recorded, a failing action recorded without breaking the
desk's request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tests.people.factories import UserFactory
from tierline.core.history import history_of
from tierline.desk import services as desk_services
from tierline.desk.choices import Channel, Level, Status
from tierline.desk.models import Category, Ticket
from tierline.people.models import Department
from tierline.people.services import system_user
from tierline.sla import rule_checks, rules, subscriptions
from tierline.sla.models import Rule, RuleEmail, RuleFiring, RuleTrigger

pytestmark = pytest.mark.django_db


def rule(name: str = "Rule", *, conditions=(), actions=None, **fields) -> Rule:
    """A rule as the admin saves it: validated first."""
    row = Rule(
        name=name,
        trigger=fields.pop("trigger", RuleTrigger.CREATED),
        conditions=list(conditions),
        actions=actions or [{"action": "add_note", "text": "Seen"}],
        **fields,
    )
    row.full_clean()
    row.save()
    return row


def note(text: str = "matched") -> list[dict]:
    return [{"action": "add_note", "text": text}]


def c(field: str, op: str, value) -> dict:
    return {"field": field, "op": op, "value": value}


@pytest.fixture
def ticket(employee) -> Ticket:
    return desk_factories.ticket(employee, subject="Printer jams", description="Floor 2 PRINTER")


def fires(conditions: list[dict], ticket: Ticket) -> bool:
    row = Rule(name="x", trigger=RuleTrigger.CREATED, conditions=conditions, actions=note())
    rule_checks.validate_rule(row)
    return rules.matches(
        row, Ticket.objects.select_related("requester").get(pk=ticket.pk), timezone.now()
    )


# --- conditions -----------------------------------------------------------------------------


def test_choice_fields_and_their_operators(ticket):
    assert fires([c("status", "is", "new")], ticket)
    assert not fires([c("status", "is_not", "new")], ticket)
    assert fires([c("channel", "in", ["portal", "email"])], ticket)
    assert not fires([c("channel", "not_in", ["portal"])], ticket)


def test_number_fields_and_their_operators(ticket):
    # a medium/medium ticket is P3 at tier 1
    assert fires([c("priority", "is", 3), c("impact", "is", 2), c("urgency", "is", 2)], ticket)
    assert fires([c("priority", "greater", 2), c("priority", "less", 4)], ticket)
    assert not fires([c("priority", "greater", 3)], ticket)
    assert fires([c("tier", "in", [1, 2])], ticket)
    assert not fires([c("tier", "is_not", 1)], ticket)


def test_ids_team_category_and_department(employee):
    department = Department.objects.create(name="Finance")
    employee.department = department
    employee.save()
    category = Category.objects.get(name="VPN")
    ticket = desk_factories.ticket(employee, category=category)
    team = people_factories.team(1)
    assert fires([c("team", "is", team.pk), c("category", "is", category.pk)], ticket)
    assert fires([c("requester_department", "in", [department.pk])], ticket)
    assert not fires([c("category", "is_not", category.pk)], ticket)


def test_assignee_set_or_unset_and_vip(ticket, tier1, employee):
    assert fires([c("assignee", "is_set", False), c("requester_vip", "is", False)], ticket)
    desk_services.assign(ticket=ticket, by=tier1, assignee=tier1)
    assert fires([c("assignee", "is_set", True)], ticket)
    employee.is_vip = True
    employee.save()
    assert fires([c("requester_vip", "is", True)], ticket)


def test_text_contains_any_case(ticket):
    assert fires([c("subject", "contains", "PRINTER")], ticket)
    assert fires([c("description", "contains", "printer")], ticket)
    assert not fires([c("subject", "not_contains", "jams")], ticket)


def test_hours_since_update(ticket):
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now() - timedelta(hours=5))
    assert fires([c("hours_since_update", "greater", 4)], ticket)
    assert not fires([c("hours_since_update", "less", 4)], ticket)


def test_no_conditions_hold_for_every_ticket(ticket):
    assert fires([], ticket)


# --- actions, through the events ------------------------------------------------------------


def opened(employee, commit, **kwargs) -> Ticket:
    with commit(execute=True):
        ticket = desk_factories.ticket(employee, **kwargs)
    ticket.refresh_from_db()
    return ticket


def test_set_priority_category_and_note_on_a_new_ticket(
    employee, django_capture_on_commit_callbacks
):
    vpn = Category.objects.get(name="VPN")
    rule(
        "VPN",
        conditions=[c("subject", "contains", "vpn")],
        actions=[
            {"action": "set_priority", "value": 1},
            {"action": "set_category", "value": vpn.pk},
            {"action": "add_note", "text": "Ticket {number} for {requester_first_name}"},
        ],
    )
    ticket = opened(employee, django_capture_on_commit_callbacks, subject="VPN down")
    assert ticket.priority == 1
    assert (ticket.impact, ticket.urgency) == (Level.HIGH, Level.HIGH)
    assert ticket.category == vpn
    note_ = ticket.messages.get(internal=True)
    assert note_.body == f"Ticket {ticket.number} for Erin"
    assert note_.author == system_user("sla")
    firing = RuleFiring.objects.get()
    assert firing.trigger == "created" and firing.error == ""
    assert firing.actions_taken == ["priority → P1", "category → Network › VPN", "internal note"]
    entry = next(e for e in history_of(ticket) if e.action == "rule fired")
    assert entry.summary.startswith("VPN: priority → P1")
    assert entry.actor == system_user("sla")


def test_set_team_tier_and_assignee(employee, tier2, django_capture_on_commit_callbacks):
    tier2_team = people_factories.team(2)
    rule("Tier", actions=[{"action": "set_tier", "value": 2}])
    rule("Who", order=200, actions=[{"action": "set_assignee", "value": tier2.pk}])
    ticket = opened(employee, django_capture_on_commit_callbacks)
    assert ticket.team == tier2_team and ticket.tier == 2
    assert ticket.assignee == tier2
    team1 = people_factories.team(1)
    rule(
        "Back",
        trigger=RuleTrigger.UPDATED,
        conditions=[c("tier", "is", 2), c("subject", "contains", "back")],
        actions=[{"action": "set_team", "value": team1.pk}],
    )
    with django_capture_on_commit_callbacks(execute=True):
        desk_services.change_fields(ticket=ticket, by=tier2, subject="Send it back")
    ticket.refresh_from_db()
    assert ticket.team == team1, list(RuleFiring.objects.values_list("rule__name", "error"))


def test_escalate_and_resolve_and_close(employee, django_capture_on_commit_callbacks):
    rule(
        "Up",
        conditions=[c("subject", "contains", "server")],
        actions=[{"action": "escalate", "summary": "Servers are tier 2 ({number})."}],
    )
    ticket = opened(employee, django_capture_on_commit_callbacks, subject="Server down")
    assert ticket.tier == 2
    assert ticket.escalations.get().summary == f"Servers are tier 2 ({ticket.number})."
    rule(
        "Spam-ish",
        conditions=[c("subject", "contains", "unsubscribe")],
        actions=[{"action": "close", "code": "no-fault", "note": "Closed: {subject}"}],
    )
    closed = opened(employee, django_capture_on_commit_callbacks, subject="Unsubscribe me")
    assert closed.status == Status.CLOSED
    assert closed.resolution_code.code == "no-fault"
    assert closed.resolution_note == "Closed: Unsubscribe me"


def test_resolve_only(employee, django_capture_on_commit_callbacks):
    rule(
        "Thanks",
        conditions=[c("subject", "contains", "thanks")],
        actions=[{"action": "resolve", "code": "advice", "note": "Glad it works."}],
    )
    ticket = opened(employee, django_capture_on_commit_callbacks, subject="Thanks!")
    assert ticket.status == Status.RESOLVED


def test_send_email_is_queued_then_sent_by_the_job(employee, django_capture_on_commit_callbacks):
    rule(
        "Ack",
        actions=[
            {
                "action": "send_email",
                "subject": "We got {number}",
                "body": "Hello {requester_first_name}, about {subject}.",
            }
        ],
    )
    ticket = opened(employee, django_capture_on_commit_callbacks, subject="<b>Hi</b>")
    email = RuleEmail.objects.get()
    assert email.address == employee.email and email.state == "pending"
    assert mail.outbox == []
    assert rules.deliver_emails() == (1, 0)
    [sent] = mail.outbox
    assert sent.subject == f"We got {ticket.number}"
    assert sent.body == "Hello Erin, about <b>Hi</b>."  # as typed: a plain-text email
    email.refresh_from_db()
    assert email.state == "sent"
    assert rules.deliver_emails() == (0, 0)


def test_a_failed_email_is_tried_again_later(employee, settings, monkeypatch):
    ticket = desk_factories.ticket(employee)
    row = rule("Ack", actions=[{"action": "send_email", "subject": "s", "body": "b"}])
    rules.fire(row, ticket, trigger="created", at=timezone.now())

    def broken(*args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr(rules, "send_mail", broken)
    assert rules.deliver_emails() == (0, 1)
    email = RuleEmail.objects.get()
    assert email.state == "pending" and email.attempts == 1 and "SMTP down" in email.last_error
    assert email.next_attempt_at > timezone.now()


# --- order, stop processing, loops ----------------------------------------------------------


def test_rules_run_in_order_and_stop_processing_stops(employee, django_capture_on_commit_callbacks):
    rule("Second", order=20, actions=note("second"))
    rule("First", order=10, actions=note("first"))
    rule("Stop", order=30, actions=note("third"), stop_processing=True)
    rule("Never", order=40, actions=note("never"))
    ticket = opened(employee, django_capture_on_commit_callbacks)
    bodies = list(
        ticket.messages.filter(internal=True).order_by("pk").values_list("body", flat=True)
    )
    assert bodies == ["first", "second", "third"]
    assert not RuleFiring.objects.filter(rule__name="Never").exists()


def test_a_rule_that_does_not_match_does_not_fire(employee, django_capture_on_commit_callbacks):
    rule("Email only", conditions=[c("channel", "is", Channel.EMAIL)])
    opened(employee, django_capture_on_commit_callbacks)
    assert not RuleFiring.objects.exists()


def test_inactive_rules_and_other_triggers_are_left_out(
    employee, django_capture_on_commit_callbacks
):
    rule("Off", is_active=False)
    rule("On update", trigger=RuleTrigger.UPDATED)
    opened(employee, django_capture_on_commit_callbacks)
    assert not RuleFiring.objects.exists()


def test_updated_rules_hear_a_person_but_not_the_engine(
    employee, tier1, django_capture_on_commit_callbacks
):
    ticket = opened(employee, django_capture_on_commit_callbacks)
    rule(
        "Noted",
        trigger=RuleTrigger.UPDATED,
        conditions=[c("assignee", "is_set", True)],
        actions=note("assigned"),
    )
    # one request publishes several events (assigned, status opened): one task, one firing
    with django_capture_on_commit_callbacks(execute=True):
        desk_services.assign(ticket=ticket, by=tier1, assignee=tier1)
    assert RuleFiring.objects.count() == 1, list(
        RuleFiring.objects.values("rule__name", "trigger", "actions_taken", "error")
    )
    # the rule's own note (by the sla user) is an update the engine does not hear
    assert ticket.messages.filter(internal=True).count() == 1


def test_two_rules_flipping_a_field_do_not_ping_pong(
    employee, tier1, django_capture_on_commit_callbacks
):
    # saved directly (the admin refuses the pair, see test_rules_admin): the engine still holds
    Rule.objects.create(
        name="Up",
        trigger="updated",
        conditions=[c("priority", "is", 3)],
        actions=[{"action": "set_priority", "value": 2}],
    )
    Rule.objects.create(
        name="Down",
        trigger="updated",
        conditions=[c("priority", "is", 2)],
        actions=[{"action": "set_priority", "value": 3}],
    )
    ticket = opened(employee, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        desk_services.change_fields(ticket=ticket, by=tier1, subject="Changed")
    ticket.refresh_from_db()
    # "Up" fired on the person's change; "Down" saw the new value in the same run, once
    assert list(RuleFiring.objects.order_by("pk").values_list("rule__name", flat=True)) == [
        "Up",
        "Down",
    ]
    assert ticket.priority == 3


def test_a_rule_fires_at_most_the_cap_an_hour_on_one_ticket(employee, tier1):
    ticket = desk_factories.ticket(employee)
    rule("Each time", trigger=RuleTrigger.UPDATED, actions=note("again"))
    for _ in range(rules.MAX_FIRINGS_PER_HOUR + 3):
        rules.run_rules(ticket_id=ticket.pk, trigger=RuleTrigger.UPDATED)
    assert RuleFiring.objects.count() == rules.MAX_FIRINGS_PER_HOUR
    later = timezone.now() + timedelta(hours=2)
    rules.run_rules(ticket_id=ticket.pk, trigger=RuleTrigger.UPDATED, at=later)
    assert RuleFiring.objects.count() == rules.MAX_FIRINGS_PER_HOUR + 1


# --- failures -------------------------------------------------------------------------------


def test_a_refused_action_is_recorded_and_rolls_back_the_rule_only(
    employee, django_capture_on_commit_callbacks
):
    rule(
        "Note then escalate",
        order=10,
        actions=[
            {"action": "add_note", "text": "before"},
            {"action": "set_tier", "value": 3},
            {"action": "escalate"},
        ],
    )
    rule("After", order=20, actions=note("after"))
    # the request that opens the ticket succeeds whatever the rules do
    ticket = opened(employee, django_capture_on_commit_callbacks)
    assert ticket.pk and ticket.tier == 1  # the failed rule's changes rolled back
    failed = RuleFiring.objects.get(rule__name="Note then escalate")
    assert "Tier 3" in failed.error and failed.actions_taken == []
    bodies = list(ticket.messages.filter(internal=True).values_list("body", flat=True))
    assert bodies == ["after"]
    entry = next(e for e in history_of(ticket) if e.action == "rule failed")
    assert entry.summary.startswith("Note then escalate: ")


def test_an_email_to_a_requester_without_address_is_a_recorded_failure(
    django_capture_on_commit_callbacks,
):
    nobody = UserFactory(username="noemail", email="")
    rule("Ack", actions=[{"action": "send_email", "subject": "s", "body": "b"}])
    opened(nobody, django_capture_on_commit_callbacks)
    assert "no email address" in RuleFiring.objects.get().error
    assert not RuleEmail.objects.exists()


def test_an_email_rule_without_an_outgoing_mail_server_is_a_recorded_failure(
    settings, employee, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.MAIL_OUT = {**settings.MAIL_OUT, "SMTP_HOST": ""}
    rule("Ack", actions=[{"action": "send_email", "subject": "s", "body": "b"}])
    opened(employee, django_capture_on_commit_callbacks)
    assert "Outgoing mail is not set up" in RuleFiring.objects.get().error
    assert not RuleEmail.objects.exists()


def test_an_unexpected_error_is_recorded_not_raised(employee, monkeypatch):
    ticket = desk_factories.ticket(employee)
    row = rule("Boom")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(rules, "apply_action", boom)
    firing = rules.fire(row, ticket, trigger="created", at=timezone.now())
    assert firing.error == "RuntimeError: disk full"


def test_a_deleted_ticket_is_nothing_to_do(employee):
    rule("Any")
    assert rules.run_rules(ticket_id=999999, trigger="created") == []


def test_placeholders_render_as_typed(employee):
    ticket = desk_factories.ticket(employee, subject="{number} <script>")
    assert (
        rules.render("{subject} / {requester_name}", ticket) == "{number} <script> / Erin Employee"
    )
    assert rules.render("{status} {priority} {team} [{assignee_name}]", ticket) == (
        f"New P3 {ticket.team} []"
    )


def test_a_rolled_back_change_queues_nothing_and_the_next_one_does(
    employee, tier1, django_capture_on_commit_callbacks
):
    from django.db import transaction

    ticket = opened(employee, django_capture_on_commit_callbacks)
    rule("Any update", trigger=RuleTrigger.UPDATED, actions=note("updated"))
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                desk_services.change_fields(ticket=ticket, by=tier1, subject="Rolled back")
                raise RuntimeError("the request failed")
        except RuntimeError:
            pass
    assert not RuleFiring.objects.exists()
    ticket.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        desk_services.change_fields(ticket=ticket, by=tier1, subject="Kept")
    assert RuleFiring.objects.count() == 1


def test_the_rule_form_shows_in_the_admin(admin_user):
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(admin_user)
    page = client.get(reverse("admin:sla_rule_add"))
    assert page.status_code == 200
    assert "Placeholders" in page.content.decode()


def test_a_rule_saved_around_the_admin_is_skipped_not_fatal(employee, caplog):
    Rule.objects.create(
        name="Broken", trigger="created", conditions=[{"field": "priority"}], actions=note()
    )
    rule("Fine", order=200, actions=note("fine"))
    ticket = desk_factories.ticket(employee)
    assert [f.rule.name for f in rules.run_rules(ticket_id=ticket.pk, trigger="created")] == [
        "Fine"
    ]
    # and the admin still checks a new rule against such rows without a 500
    Rule.objects.create(
        name="Broken too",
        trigger="updated",
        conditions=[{"field": "priority", "op": "is"}],
        actions=[{"action": "set_priority", "value": 2}],
    )
    rule_checks.validate_rule(
        Rule(
            name="New",
            trigger="updated",
            actions=[{"action": "set_priority", "value": 1}],
            conditions=[{"field": "priority", "op": "is", "value": 2}],
        )
    )


def test_no_task_is_queued_without_an_active_rule_for_the_trigger(
    employee, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(
        subscriptions, "_enqueue", lambda ticket_id, trigger: queued.append(trigger)
    )
    rule("Updates only", trigger=RuleTrigger.UPDATED)
    opened(employee, django_capture_on_commit_callbacks)
    assert queued == []
    rule("On create")
    opened(employee, django_capture_on_commit_callbacks)
    assert queued == ["created"]
