"""Notices of targets at risk or breached (issue 10 points 4 and 8): the sweep tells the
assignee (and the team's leads when the policy says "notify the team lead", or nobody is
assigned) through `core.notifications`, which the mail app delivers by each person's channel
for the kind; without a deliverer, by email. A sweep run twice tells once. Also the policy's
"reassign" action. Transactional: the notices go out when the sweep's transaction commits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tests.sla import factories
from tests.sla.oncall_factories import closed_now, rota, shift, technicians
from tierline.core import notifications
from tierline.core.history import history_of
from tierline.desk import services as desk_services
from tierline.desk.choices import Level, Priority
from tierline.mail import notify
from tierline.mail.models import Notification, NotificationEmail
from tierline.people.models import User
from tierline.sla import services
from tierline.sla.models import Action, Page

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY_10 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SLA_KINDS = ("sla_at_risk", "sla_breached")


@pytest.fixture
def now(monkeypatch):
    moment = {"at": MONDAY_10}
    monkeypatch.setattr(services, "now", lambda: moment["at"])
    return moment


@pytest.fixture
def team_lead(db) -> User:
    return people_factories.UserFactory(
        username="lead1",
        role=User.Role.LEAD,
        first_name="Lena",
        last_name="Lead",
        teams=[people_factories.team(1)],
    )


def told(person) -> list[tuple[str, str]]:
    return [
        (n.kind, n.text)
        for n in Notification.objects.filter(recipient=person, kind__in=SLA_KINDS).order_by("pk")
    ]


def assigned_ticket(requester, technician):
    ticket = desk_factories.ticket(requester, created_at=MONDAY_10)
    desk_services.assign(ticket=ticket, by=technician, assignee=technician)
    ticket.refresh_from_db()
    return ticket


def test_the_assignee_hears_at_risk_then_breached_once_by_their_channels(
    now, employee, tier1, team_lead
):
    # given: a 60-minute first response target, no action; the ticket is tier1's
    factories.policy(on=factories.always_open(), targets={Priority.MEDIUM: (60, None, None)})
    ticket = assigned_ticket(employee, tier1)
    # when: swept at risk, twice, then breached, twice
    services.sweep(at=MONDAY_10 + timedelta(minutes=50))
    services.sweep(at=MONDAY_10 + timedelta(minutes=50))
    services.sweep(at=MONDAY_10 + timedelta(minutes=61))
    services.sweep(at=MONDAY_10 + timedelta(minutes=70))
    # then: one notice of each, naming the ticket; the lead is not bothered (no such action)
    notices = told(tier1)
    assert [kind for kind, _ in notices] == ["sla_at_risk", "sla_breached"]
    assert notices[0][1].startswith(f"{ticket.number} {ticket.subject}: First response at risk")
    assert "First response target missed" in notices[1][1]
    assert told(team_lead) == []
    # and by the defaults: at risk in the app only, breached by email too
    emails = NotificationEmail.objects.filter(notification__recipient=tier1)
    assert [e.notification.kind for e in emails if e.notification.kind in SLA_KINDS] == [
        "sla_breached"
    ]


def test_each_person_chooses_the_channel_per_kind(now, employee, tier1, team_lead):
    factories.policy(
        on=factories.always_open(),
        targets={Priority.MEDIUM: (60, None, None)},
        at_risk_action=Action.NOTIFY_LEAD,
        breach_action=Action.NOTIFY_LEAD,
    )
    notify.set_preferences(person=tier1, channels={"sla_at_risk": "email", "sla_breached": "none"})
    notify.set_preferences(person=team_lead, channels={"sla_at_risk": "none"})
    assigned_ticket(employee, tier1)
    services.sweep(at=MONDAY_10 + timedelta(minutes=50))
    services.sweep(at=MONDAY_10 + timedelta(minutes=61))
    # then: tier1 got the at-risk notice by email and nothing of the breach; the lead the
    # breach only (by email, the default)
    assert [kind for kind, _ in told(tier1)] == ["sla_at_risk"]
    assert NotificationEmail.objects.filter(notification__kind="sla_at_risk").count() == 1
    assert [kind for kind, _ in told(team_lead)] == ["sla_breached"]
    assert NotificationEmail.objects.filter(
        notification__recipient=team_lead, notification__kind="sla_breached"
    ).exists()


def test_the_notify_lead_action_tells_the_team_lead_and_is_written_on_the_ticket(
    now, employee, tier1, team_lead
):
    factories.policy(
        on=factories.always_open(),
        targets={Priority.MEDIUM: (60, None, None)},
        breach_action=Action.NOTIFY_LEAD,
    )
    ticket = assigned_ticket(employee, tier1)
    services.sweep(at=MONDAY_10 + timedelta(minutes=61))
    assert [kind for kind, _ in told(team_lead)] == ["sla_breached"]
    assert [kind for kind, _ in told(tier1)] == ["sla_breached"]
    [entry] = history_of(ticket).filter(action="notified team lead")
    assert entry.actor.username == "tierline-sla"
    assert "Lena Lead: first response breached" in entry.summary


def test_an_unassigned_ticket_tells_the_team_lead(now, employee, team_lead):
    factories.policy(on=factories.always_open(), targets={Priority.MEDIUM: (60, None, None)})
    desk_factories.ticket(employee, created_at=MONDAY_10)
    services.sweep(at=MONDAY_10 + timedelta(minutes=61))
    assert [kind for kind, _ in told(team_lead)] == ["sla_breached"]


def test_notify_lead_without_a_lead_is_written_as_skipped(now, employee, tier1):
    factories.policy(
        on=factories.always_open(),
        targets={Priority.MEDIUM: (60, None, None)},
        breach_action=Action.NOTIFY_LEAD,
    )
    ticket = assigned_ticket(employee, tier1)
    services.sweep(at=MONDAY_10 + timedelta(minutes=61))
    [skipped] = history_of(ticket).filter(action="escalation skipped")
    assert "has no team lead" in skipped.summary


def test_without_a_notification_service_the_notice_is_emailed(
    monkeypatch, now, employee, tier1, team_lead
):
    # given: no deliverer registered (as without the mail app)
    monkeypatch.setattr(notifications, "_deliverer", None)
    factories.policy(
        on=factories.always_open(),
        targets={Priority.MEDIUM: (60, None, None)},
        breach_action=Action.NOTIFY_LEAD,
    )
    ticket = assigned_ticket(employee, tier1)
    mail.outbox.clear()
    # when: swept twice after the breach
    services.sweep(at=MONDAY_10 + timedelta(minutes=61))
    services.sweep(at=MONDAY_10 + timedelta(minutes=62))
    # then: one email each to the assignee and the lead, and no in-app notice
    sent = sorted((tuple(m.to), m.subject) for m in mail.outbox)
    assert [to for to, _ in sent] == sorted([(tier1.email,), (team_lead.email,)])
    assert all(ticket.number in subject for _, subject in sent)
    assert told(tier1) == [] and told(team_lead) == []


def test_the_reassign_action_gives_the_ticket_to_someone_else_in_the_team(now, employee, tier1):
    # given: a second technician in Tier 1 and a policy that reassigns on breach
    other = people_factories.technician(1, username="tier1b", first_name="Toby")
    factories.policy(
        on=factories.always_open(),
        targets={Priority.MEDIUM: (60, None, None)},
        breach_action=Action.REASSIGN,
    )
    ticket = assigned_ticket(employee, tier1)
    # when
    services.sweep(at=MONDAY_10 + timedelta(minutes=61))
    # then: the other technician has it, written on the ticket, and hears of the breach
    ticket.refresh_from_db()
    assert ticket.assignee == other
    [entry] = history_of(ticket).filter(action="reassigned")
    assert "to Toby" in entry.summary and "first response breached" in entry.summary
    assert [kind for kind, _ in told(other)] == ["sla_breached"]
    assert told(tier1) == []


def test_the_preferences_page_offers_the_service_target_kinds(client, tier1):
    client.force_login(tier1)
    page = client.get(reverse("mail:preferences"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Service target at risk" in text and "Service target breached" in text
    answer = client.post(
        reverse("mail:preferences"),
        {**notify.channels_of(tier1), "sla_breached": "none"},
    )
    assert answer.status_code in (200, 302)
    assert notify.channels_of(tier1)["sla_breached"] == "none"


def test_who_is_paged_hears_of_it_in_the_app_and_the_page_sends_the_email(employee):
    # given: Tier 1 out of hours with someone on call, and an urgent ticket
    team = people_factories.team(1)
    [on_call] = technicians(1, 1, prefix="oncall")
    shift(team, on_call)
    rota(team, calendar=closed_now())
    # when
    ticket = desk_factories.ticket(employee, impact=Level.HIGH, urgency=Level.HIGH)
    # then: the page (by email) waits for its job, and an in-app notice names the ticket
    assert Page.objects.filter(person=on_call, channel="email").count() == 1
    [notice] = Notification.objects.filter(recipient=on_call, kind="sla_paged")
    assert notice.text.startswith(f"You are paged for {ticket.number}")
    assert not NotificationEmail.objects.filter(notification=notice).exists()
