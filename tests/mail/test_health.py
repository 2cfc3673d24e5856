"""Mail on the health page: quarantined and held mail counted, failed sends, unreadable
mailboxes, webhooks that gave up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.mail.factories import mail, mailbox
from tierline.mail import health, services
from tierline.mail.models import ImapAccount, Inbound, Outbox

pytestmark = pytest.mark.django_db


def test_nothing_quarantined_is_ok():
    assert health.quarantine().state == "ok"


def test_quarantined_mail_is_counted_with_a_link_to_it(client, admin_user, employee):
    mailbox()
    for n in range(3):
        services.receive(mail(subject=f"Broken {n}", message_id=f"<q{n}@example.org>"))
    Inbound.objects.update(outcome=Inbound.Outcome.QUARANTINED, reason="unreadable")
    finding = health.quarantine()
    assert finding.state == "warning"
    assert finding.count == 3
    assert "3 messages are quarantined" in finding.summary
    assert "outcome__exact=quarantined" in finding.url
    client.force_login(admin_user)
    page = client.get(reverse("health")).content.decode()
    assert "3 messages are quarantined." in page


def test_a_mailbox_that_cannot_be_read_is_an_error_until_it_reads_again():
    account = ImapAccount.objects.create(
        mailbox=mailbox(),
        host="imap.example.org",
        username="helpdesk",
        last_error="sign-in refused",
        last_error_at=timezone.now(),
    )
    finding = health.mailboxes()
    assert finding.state == "error" and "helpdesk@imap.example.org" in finding.summary
    ImapAccount.objects.filter(pk=account.pk).update(last_success_at=timezone.now())
    assert health.mailboxes().state == "ok"


def test_mail_that_could_not_be_sent_is_a_warning():
    Outbox.objects.create(
        to="a@example.org",
        subject="Hi",
        text="Hi",
        message_id="<o1@example.org>",
        status=Outbox.Status.FAILED,
        last_error="550 no such user",
    )
    finding = health.outbox()
    assert finding.state == "warning" and finding.count == 1


# --- the IMAP IDLE watchers: their heartbeats, written by another process -------------------


def idle_account(**fields) -> ImapAccount:
    return ImapAccount.objects.create(
        mailbox=mailbox(), host="imap.example.org", username="helpdesk", **fields
    )


def test_idle_off_and_no_watcher_is_ok_and_says_mail_is_polled(monkeypatch):
    monkeypatch.delenv("TIERLINE_MAIL_IDLE", raising=False)
    idle_account()
    finding = health.idle_watchers()
    assert finding.state == "ok"
    assert finding.summary == (
        "IMAP IDLE is off (TIERLINE_MAIL_IDLE): mailboxes are read at each poll."
    )


def test_a_watcher_with_a_fresh_heartbeat_is_shown_with_its_last_error(monkeypatch):
    monkeypatch.setenv("TIERLINE_MAIL_IDLE", "1")
    now = timezone.now()
    idle_account(
        idle_state=ImapAccount.IdleState.WATCHING,
        idle_heartbeat_at=now - timedelta(seconds=20),
        idle_error="IDLE: the server closed the connection",
        idle_error_at=now - timedelta(minutes=30),
    )
    finding = health.idle_watchers(now)
    assert finding.state == "ok"
    assert finding.summary == (
        "Watched by IDLE: Help desk (heartbeat 20 s ago; last error 30 min ago: "
        "IDLE: the server closed the connection)."
    )


def test_idle_on_without_a_recent_heartbeat_is_not_running(monkeypatch, client, admin_user):
    # given TIERLINE_MAIL_IDLE on, and a watcher whose last heartbeat is twelve minutes old
    monkeypatch.setenv("TIERLINE_MAIL_IDLE", "1")
    now = timezone.now()
    idle_account(
        idle_state=ImapAccount.IdleState.WATCHING, idle_heartbeat_at=now - timedelta(minutes=12)
    )
    # then the health page says no watcher runs for that mailbox
    finding = health.idle_watchers(now)
    assert finding.state == "warning" and finding.count == 1
    assert "no watcher has reported for 5 minutes for 1 mailbox: Help desk (last heartbeat " in (
        finding.summary
    )
    client.force_login(admin_user)
    page = client.get(reverse("health")).content.decode()
    assert "Mailbox watchers (IMAP IDLE)" in page
    assert "no watcher has reported for 5 minutes" in page


def test_idle_on_and_never_started_or_stopped_is_not_running(monkeypatch):
    monkeypatch.setenv("TIERLINE_MAIL_IDLE", "1")
    idle_account()
    assert "(last heartbeat never)" in health.idle_watchers().summary
    ImapAccount.objects.update(
        idle_state=ImapAccount.IdleState.STOPPED, idle_heartbeat_at=timezone.now()
    )
    assert health.idle_watchers().state == "warning"


def test_a_reconnecting_watcher_is_a_warning_with_its_error(monkeypatch):
    monkeypatch.setenv("TIERLINE_MAIL_IDLE", "1")
    now = timezone.now()
    idle_account(
        idle_state=ImapAccount.IdleState.RECONNECTING,
        idle_heartbeat_at=now,
        idle_error="IDLE: could not connect to imap.example.org:993: refused",
        idle_error_at=now,
    )
    finding = health.idle_watchers(now)
    assert finding.state == "warning"
    assert "reconnecting: Help desk (heartbeat 0 s ago; last error 0 s ago: IDLE: could not" in (
        finding.summary
    )


def test_a_server_without_idle_is_polled_not_a_missing_watcher(monkeypatch):
    monkeypatch.setenv("TIERLINE_MAIL_IDLE", "1")
    idle_account(
        idle_state=ImapAccount.IdleState.UNSUPPORTED,
        idle_heartbeat_at=timezone.now() - timedelta(days=2),
    )
    finding = health.idle_watchers()
    assert finding.state == "ok"
    assert finding.summary == "No IDLE watcher: 1 mailbox offers no IDLE; read at each poll."
