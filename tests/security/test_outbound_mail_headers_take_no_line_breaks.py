"""Header injection in outgoing mail: no CR, LF (or other line break) from user data ever reaches
a header, so nobody adds a Bcc or a second body to the help desk's mail. Sent to a real SMTP
server on loopback and read back as it arrived."""

from __future__ import annotations

import pytest

from tests.mail.factories import mailbox
from tests.mail.outbound_server import SmtpServer
from tierline.mail import outbound, services
from tierline.mail.models import Mailbox, Outbox

pytestmark = pytest.mark.django_db

EVIL = "Hi\r\nBcc: evil@example.net\r\n\r\nInjected body"
BREAKS = ["\r\n", "\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x00"]


@pytest.fixture
def smtp(settings):
    server = SmtpServer().start()
    settings.MAIL_OUT = {
        **settings.MAIL_OUT,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": server.port,
        "SMTP_TLS": "none",
        "FROM": "help@example.org",
        "FROM_NAME": "Help\r\nBcc: evil@example.net",
    }
    yield server
    server.stop()


def _header_lines(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    return head.split("\r\n")


def _assert_clean(server: SmtpServer) -> None:
    for captured in server.received:
        assert captured.rcpt_tos == [captured.rcpt_tos[0]]
        lines = _header_lines(captured.raw)
        names = [line.split(":", 1)[0].lower() for line in lines if not line[:1].isspace()]
        assert "bcc" not in names and "cc" not in names
        message = captured.message
        for name, value in message.items():
            assert not any(ch in str(value) for ch in BREAKS), (name, value)


def test_a_recipient_address_with_a_line_break_is_refused():
    for brk in BREAKS:
        with pytest.raises(ValueError):
            outbound.address(f"employee@example.com{brk}Bcc: evil@example.net")


def test_line_breaks_in_every_value_that_reaches_a_header_become_spaces(smtp, settings, db):
    for brk in BREAKS:
        outbound.queue_mail(
            to="employee@example.com",
            template="reply",
            context={"ticket_subject": EVIL.replace("\r\n", brk), "message": EVIL},
            in_reply_to=f"<a@example.com>{brk}Bcc: evil@example.net",
        )
    # a row written by hand (an old version, a bug) is cleaned again when it is sent
    Outbox.objects.update(headers={"X-Tierline-Loop": "x\r\nBcc: evil@example.net"})
    report = outbound.send_due()
    assert len(report.sent) == len(BREAKS)
    _assert_clean(smtp)
    first = smtp.received[0].message
    assert first["Subject"].startswith("Hi Bcc: evil@example.net Injected body")
    # the body keeps the text as typed
    body = first.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Hi\nBcc: evil@example.net\n\nInjected body" in body


def test_an_encoded_line_break_in_a_refused_mail_s_subject_stays_out_of_the_rejection(smtp):
    mailbox(policy=Mailbox.Policy.REJECT, allowed_domains="")
    raw = (
        b"From: stranger@elsewhere.example\r\n"
        b"To: help@example.org\r\n"
        b"Subject: =?utf-8?q?Hello=0D=0ABcc=3A_evil=40example=2Enet?=\r\n"
        b"Message-ID: <evil@elsewhere.example>\r\n"
        b"\r\n"
        b"Let me in.\r\n"
    )
    services.receive(raw)
    assert outbound.send_due().sent
    _assert_clean(smtp)
    [captured] = smtp.received
    assert captured.rcpt_tos == ["stranger@elsewhere.example"]
