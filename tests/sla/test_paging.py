"""Paging who is on call, against a real HTTP receiver on loopback (http.server in a thread):
an urgent ticket out of hours pages by email and signed webhook, sent by the job and never in
the desk's request; a slow or unreachable receiver is retried with back-off; the sweep's
"page on-call" action; each page written on the ticket."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.mail.test_notify_webhooks import Receiver
from tests.people import factories as people_factories
from tests.sla import factories
from tests.sla.oncall_factories import closed_now, rota, shift, technicians
from tierline.core.history import history_of
from tierline.desk.choices import Level
from tierline.people.services import system_user
from tierline.sla import paging, services
from tierline.sla.models import Action, Page

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "page-secret"


def urgent(requester):
    """A P1 ticket (high impact, high urgency), opened through the desk; its after-commit
    handlers run (the test's transaction is real)."""
    return desk_factories.ticket(requester, impact=Level.HIGH, urgency=Level.HIGH)


@pytest.fixture
def on_call():
    team = people_factories.team(1)
    [person] = technicians(1, 1, prefix="oncall")
    shift(team, person)
    return team, person


def test_an_urgent_ticket_out_of_hours_pages_by_email_and_signed_webhook(employee, on_call):
    team, person = on_call
    with Receiver() as receiver:
        rota(
            team,
            calendar=closed_now(),
            page_webhook_url=receiver.url,
            page_webhook_secret=SECRET,
        )
        # when an urgent ticket comes in
        ticket = urgent(employee)
        # then nothing went out in the desk's request: two pages wait for the job
        assert receiver.received == []
        assert mail.outbox == []
        assert Page.objects.filter(state="pending").count() == 2
        [entry] = history_of(ticket).filter(action="paged on-call")
        assert entry.actor == system_user("sla")
        assert f"{person} (night shift) by email and webhook" in entry.summary
        # when the job runs
        assert paging.deliver_due() == (2, 0)
    # then the receiver got signed JSON naming the ticket and who is on call
    [(headers, body)] = receiver.received
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Tierline-Signature"] == expected
    assert headers["Content-Type"] == "application/json"
    sent = json.loads(body)
    assert sent["ticket"]["number"] == ticket.number
    assert sent["on_call"]["username"] == person.username
    assert sent["reason"] == "P1 ticket out of hours"
    # and the email went to the on-call technician
    [email] = mail.outbox
    assert email.to == [person.email]
    assert ticket.number in email.subject
    assert set(Page.objects.values_list("state", flat=True)) == {"sent"}
    # running the job again sends nothing twice
    assert paging.deliver_due() == (0, 0)


def test_in_business_hours_or_not_urgent_nobody_is_paged(employee, on_call):
    team, _ = on_call
    settings_row = rota(team, calendar=factories.always_open())
    urgent(employee)
    assert not Page.objects.exists()
    settings_row.calendar = closed_now()
    settings_row.save()
    desk_factories.ticket(employee)  # P3
    assert not Page.objects.exists()
    settings_row.page_priority = None  # never page
    settings_row.save()
    urgent(employee)
    assert not Page.objects.exists()


def test_nobody_on_call_is_written_on_the_ticket(employee):
    rota(people_factories.team(1), calendar=closed_now())
    ticket = urgent(employee)
    assert not Page.objects.exists()
    [entry] = history_of(ticket).filter(action="page skipped")
    assert "Nobody is on call" in entry.summary


def test_a_slow_receiver_never_slows_the_desk_and_times_out_in_the_job(settings, employee, on_call):
    settings.TIERLINE_PAGE_TIMEOUT = 0.5
    team, _ = on_call
    with Receiver(delay=3.0) as slow:
        rota(team, calendar=closed_now(), page_email=False, page_webhook_url=slow.url)
        # the ticket is saved and paged without a single request to the receiver
        ticket = urgent(employee)
        assert ticket.pk and slow.received == []
        # the job gives the POST the short timeout and tries again later
        before = timezone.now()
        assert paging.deliver_due() == (0, 1)
        page = Page.objects.get()
        assert page.state == "pending" and page.attempts == 1
        assert "timed out" in page.last_error.lower()
        assert page.next_attempt_at >= before + timedelta(seconds=59)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_receiver_is_retried_with_back_off_then_given_up(employee, on_call):
    team, _ = on_call
    url = f"http://127.0.0.1:{closed_port()}/page"
    rota(team, calendar=closed_now(), page_email=False, page_webhook_url=url)
    ticket = urgent(employee)
    assert ticket.pk  # the desk worked on
    waits = []
    for attempt in range(1, paging.MAX_ATTEMPTS + 1):
        page = Page.objects.get()
        at = page.next_attempt_at
        assert paging.deliver_due(now=at) == (0, 1)
        page.refresh_from_db()
        assert page.attempts == attempt
        assert "Connection refused" in page.last_error or "URLError" in page.last_error
        waits.append(round((page.next_attempt_at - at).total_seconds() / 60))
    assert page.state == "failed"
    assert waits[:4] == [1, 2, 4, 8]


def test_a_receiver_that_comes_back_gets_the_page(employee, on_call):
    team, _ = on_call
    with Receiver(status=503) as flaky:
        rota(team, calendar=closed_now(), page_email=False, page_webhook_url=flaky.url)
        urgent(employee)
        assert paging.deliver_due() == (0, 1)
        flaky.status = 200
        page = Page.objects.get()
        assert paging.deliver_due(now=page.next_attempt_at) == (1, 0)
    assert len(flaky.received) == 2
    assert Page.objects.get().state == "sent"


def test_the_sweep_pages_on_call_when_a_policy_says_so(employee, on_call):
    team, person = on_call
    rota(team)  # email only; no calendar: the creation itself pages nobody
    policy = factories.policy(
        on=factories.always_open(), targets={1: (30, None, 240)}, breach_action=Action.PAGE_ON_CALL
    )
    assert policy.breach_action == "page_on_call"
    ticket = urgent(employee)
    assert not Page.objects.exists()
    # when the sweep runs after the first response target is missed
    services.sweep(at=timezone.now() + timedelta(minutes=31))
    # then who is on call is paged, and the page is on the ticket
    [page] = Page.objects.all()
    assert page.person == person and page.channel == "email"
    assert "first response breached" in page.reason
    assert history_of(ticket).filter(action="paged on-call").count() == 1


def test_a_page_that_could_not_be_sent_is_an_error_on_the_health_page(client, admin_user):
    from tests.desk import factories as desk_factories
    from tierline.people.models import Team
    from tierline.sla import health
    from tierline.sla.models import Page

    assert health.pages().state == "ok"
    ticket = desk_factories.ticket()
    Page.objects.create(
        ticket=ticket,
        team=Team.objects.first(),
        reason="P1 out of hours",
        channel=Page.Channel.WEBHOOK,
        address="http://127.0.0.1:9/",
        state=Page.State.FAILED,
        last_error="connection refused",
    )
    finding = health.pages()
    assert finding.state == "error" and finding.count == 1
    client.force_login(admin_user)
    assert "On-call pages" in client.get("/health/").content.decode()


def test_without_an_outgoing_mail_server_no_email_page_is_queued_and_the_ticket_says_so(
    settings, employee, on_call
):
    """The demo paged by email with no SMTP server set: every page was retried against port 25 and
    logged 'Connection refused'. Without TIERLINE_SMTP_HOST no email page is made; the ticket says
    why, and a webhook page still goes."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.MAIL_OUT = {**settings.MAIL_OUT, "SMTP_HOST": ""}
    team, person = on_call
    rota_row = rota(team, calendar=closed_now())
    ticket = urgent(employee)
    assert not Page.objects.exists()
    [entry] = history_of(ticket).filter(action="paged on-call")
    assert "by no channel (outgoing mail is not set up, no webhook)" in entry.summary
    with Receiver() as receiver:
        rota_row.page_webhook_url = receiver.url
        rota_row.save()
        urgent(employee)
        assert list(Page.objects.values_list("channel", flat=True)) == [Page.Channel.WEBHOOK]
