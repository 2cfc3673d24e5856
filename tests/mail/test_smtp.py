"""`tierline mailserver`: SMTP and LMTP over a real loopback connection (smtplib). Each message is
on disk before the 250; a 4xx when it can't be stored; the spool drains through the gateway."""

from __future__ import annotations

import shutil
import smtplib
import socket

import pytest

from tests.mail.factories import mail, mailbox
from tierline import cli
from tierline.core.scheduler import Scheduler, every, registered_jobs
from tierline.desk.models import Ticket
from tierline.mail import jobs, smtp, spool

pytestmark = pytest.mark.django_db


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(autouse=True)
def _spool_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


@pytest.fixture
def server(request):
    lmtp = getattr(request, "param", False)
    port = _free_port()
    listener = smtp.listener(["help@example.org"], host="127.0.0.1", port=port, lmtp=lmtp)
    listener.start()
    yield port
    listener.stop()


def test_a_message_is_spooled_before_its_250_and_drained_into_a_ticket(server, employee):
    mailbox()
    raw = mail(subject="Monitor dead")
    with smtplib.SMTP("127.0.0.1", server) as client:
        refused = client.sendmail("employee@example.com", ["help@example.org"], raw)
    assert refused == {}
    # the 250 came after the message was on disk, with the envelope at its top
    [path] = spool.waiting()
    stored = path.read_bytes()
    assert stored.replace(b"\r\n", b"\n").rstrip() == (
        b"Return-Path: <employee@example.com>\nDelivered-To: help@example.org\n" + raw.rstrip()
    )
    # when the spool drains, then a ticket, and the file is gone
    [(_, received)] = spool.drain()
    assert received.line.startswith("new TL-")
    assert received.inbound.raw.source == "spool"
    assert spool.waiting() == []


def test_mail_for_another_address_is_refused(server):
    with (
        smtplib.SMTP("127.0.0.1", server) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
    ):
        client.sendmail("a@example.com", ["someone@else.example"], mail())
    assert refused.value.recipients["someone@else.example"][0] == 550
    assert spool.waiting() == []


def test_a_message_that_cannot_be_stored_gets_a_temporary_failure(server, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spool, "write", disk_full)
    with smtplib.SMTP("127.0.0.1", server) as client, pytest.raises(smtplib.SMTPDataError) as error:
        client.sendmail("a@example.com", ["help@example.org"], mail())
    assert error.value.smtp_code == 451  # the sending server keeps it and tries again
    assert spool.waiting() == []


def test_a_bounce_with_the_null_sender_is_ignored(server, employee):
    mailbox()
    with smtplib.SMTP("127.0.0.1", server) as client:
        client.sendmail("<>", ["help@example.org"], mail(subject="Delivery failed"))
    [(_, received)] = spool.drain()
    assert received.line == "ignored: empty envelope sender (a bounce or an automatic reply)"


@pytest.mark.parametrize("server", [True], indirect=True)
def test_lmtp_answers_each_recipient(server, employee):
    mailbox()
    with smtplib.LMTP("127.0.0.1", server) as client:
        refused = client.sendmail(
            "employee@example.com", ["help@example.org", "HELP@example.org"], mail()
        )
        # one answer per recipient (RFC 2033); smtplib reads only the first by itself
        assert client.getreply() == (250, b"2.0.0 Stored")
    assert refused == {}
    [(_, received)] = spool.drain()
    assert received.line.startswith("new TL-")


def test_a_crash_after_the_ticket_before_the_file_is_deleted_doubles_nothing(
    server, employee, tmp_path
):
    mailbox()
    with smtplib.SMTP("127.0.0.1", server) as client:
        client.sendmail("employee@example.com", ["help@example.org"], mail())
    [path] = spool.waiting()
    kept = tmp_path / "kept.eml"
    shutil.copy(path, kept)
    spool.drain()
    shutil.copy(kept, path)  # the file is back: the drainer died before deleting it
    [(_, again)] = spool.drain()
    assert again.line.startswith("ignored: duplicate of <")
    assert Ticket.objects.count() == 1


def test_no_line_break_from_the_envelope_reaches_a_header():
    top = spool.envelope_headers(
        "evil@example.com>\r\nX-Injected: yes", ["help@example.org\nBcc: x"]
    )
    assert top.count(b"\r\n") == 2 and b"\nX-Injected" not in top and b"\nBcc" not in top


def test_the_spool_is_drained_by_a_periodic_job_too(employee):
    mailbox()
    spool.write(mail(), mail_from="employee@example.com", recipients=["help@example.org"])
    assert jobs.DRAIN_SPOOL in registered_jobs()
    assert jobs.DRAIN_SPOOL.schedule == every(minutes=1)
    assert Scheduler([jobs.DRAIN_SPOOL]).run_due() == ["mail-spool"]
    assert Ticket.objects.count() == 1 and spool.waiting() == []


def test_mailserver_without_a_mailbox_says_what_to_do(capsys):
    assert cli.main(["mailserver", "--port", str(_free_port())]) == 1
    assert "No active mailbox has an address" in capsys.readouterr().err
