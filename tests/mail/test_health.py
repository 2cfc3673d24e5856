"""Mail on the health page: quarantined and held mail counted, failed sends, unreadable
mailboxes, webhooks that gave up."""

from __future__ import annotations

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
