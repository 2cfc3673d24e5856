"""Mail no person wrote is recorded and ignored: no ticket, no reply, no loop (issue 9 point 11)."""

from __future__ import annotations

import pytest

from tests.mail.factories import mail, mailbox
from tierline.desk.models import Ticket
from tierline.mail import services
from tierline.mail.models import Inbound

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _box(employee):
    mailbox()


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
        (
            {"Auto-Submitted": "auto-generated; type=oof"},
            "Auto-Submitted: auto-generated; type=oof",
        ),
        ({"Precedence": "bulk"}, "Precedence: bulk"),
        ({"Precedence": "Junk"}, "Precedence: junk"),
        ({"Precedence": "list"}, "Precedence: list"),
        ({"X-Precedence": "auto_reply"}, "X-Precedence: auto_reply"),
        ({"X-Autoreply": "yes"}, "automatic (X-Autoreply)"),
        ({"X-Autorespond": "Out of office"}, "automatic (X-Autorespond)"),
        ({"X-Loop": "helpdesk@partner.example"}, "automatic (X-Loop)"),
        ({"List-Id": "<staff.lists.example.com>"}, "a mailing list (List-Id)"),
        ({"X-Auto-Response-Suppress": "All"}, "X-Auto-Response-Suppress: all"),
        (
            {"X-Auto-Response-Suppress": "DR, RN, OOF, AutoReply"},
            "X-Auto-Response-Suppress: autoreply, oof",
        ),
        ({"X-Auto-Response-Suppress": "OOF"}, "X-Auto-Response-Suppress: oof"),
        ({"Return-Path": "<>"}, "empty envelope sender (a bounce or an automatic reply)"),
        ({"X-Failed-Recipients": "gone@example.com"}, "bounce (X-Failed-Recipients)"),
        ({"X-Tierline-Loop": "1"}, "our own loop header (X-Tierline-Loop)"),
    ],
)
def test_machine_mail_is_ignored_with_its_reason(headers, reason):
    received = services.receive(mail(headers=headers))
    assert received.line == f"ignored: {reason}"
    assert received.inbound.outcome == Inbound.Outcome.IGNORED
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "no"},
        {"Precedence": "first-class"},
        {"X-Auto-Response-Suppress": "DR, RN"},
        {"Return-Path": "<employee@example.com>"},
    ],
)
def test_a_person_s_mail_with_harmless_headers_opens_a_ticket(headers):
    assert services.receive(mail(headers=headers)).line.startswith("new TL-")


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.com", "postmaster@example.com"])
def test_mail_from_a_mail_system_is_ignored(sender):
    local = sender.split("@")[0].lower()
    line = services.receive(mail(sender=sender)).line
    assert line == f"ignored: from {local}@ (a mail system)"


def test_mail_from_our_own_address_is_ignored():
    line = services.receive(mail(sender="Support <support@example.org>")).line
    assert line == "ignored: from our own address support@example.org"


def test_the_smtp_envelope_sender_counts_over_the_headers():
    line = services.receive(mail(), envelope_sender="").line
    assert line == "ignored: empty envelope sender (a bounce or an automatic reply)"


DSN = b"""From: Mail Delivery System <bounces@mx.example.net>
To: help@example.org
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system: the message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; gone.person@example.com
Action: failed
Status: 5.1.1

--B--
"""


def test_a_delivery_status_report_is_recorded_as_a_bounce_against_the_address():
    received = services.receive(DSN)
    assert received.line == "ignored: bounce (delivery status report for gone.person@example.com)"
    assert received.inbound.bounced_address == "gone.person@example.com"


def test_two_help_desks_answering_each_other_stop_at_once():
    # given the partner desk's acknowledgement of our mail (automatic, as outbound mail is)
    ack = mail(
        sender="helpdesk@partner.example",
        subject="[PD-1234] Re: Printer jammed",
        headers={"Auto-Submitted": "auto-replied", "X-Loop": "helpdesk@partner.example"},
    )
    # when it arrives, then nothing is opened and nothing will be answered
    assert services.receive(ack).line == "ignored: Auto-Submitted: auto-replied"
    assert Ticket.objects.count() == 0
