"""Outgoing mail against a real SMTP server on loopback: the desk's events mail the requester
(acknowledgement, public replies, resolution), threaded and marked as ours; a refusal is
retried with back-off, a server that is down too; a permanent failure shows on the ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.mail.factories import mail, mailbox
from tests.mail.outbound_server import SmtpServer, free_port
from tierline import cli
from tierline.core.history import history_of
from tierline.core.scheduler import Scheduler, every, registered_jobs
from tierline.desk import services as desk
from tierline.desk.models import Channel
from tierline.mail import jobs, outbound, services
from tierline.mail.models import Inbound, Mailbox, Outbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_out(settings, smtp):
    settings.MAIL_OUT = {
        **settings.MAIL_OUT,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp.port,
        "SMTP_TLS": "none",
        "SMTP_USER": "",
        "FROM": "help@example.org",
        "FROM_NAME": "IT help desk",
        "SITE_URL": "https://desk.example.org",
        "SMTP_TIMEOUT": 5,
    }
    return smtp


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the after-commit handlers of what the block does, as a real commit would."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


def _due_now() -> None:
    Outbox.objects.update(next_attempt_at=timezone.now())


def test_a_new_ticket_is_acknowledged_to_its_requester_in_a_threadable_system_mail(
    mail_out, employee, committed
):
    # when an employee opens a ticket on the portal
    with committed():
        ticket = desk_factories.ticket(requester=employee, subject="VPN drops")
    # then one acknowledgement is queued, and the worker sends it
    [queued] = Outbox.objects.all()
    assert queued.template == "acknowledgement" and queued.ticket == ticket
    report = outbound.send_due()
    assert report.sent == [queued.pk]
    [captured] = mail_out.received
    assert captured.rcpt_tos == ["employee@example.com"]
    assert captured.mail_from == "help@example.org"
    msg = captured.message
    assert msg["To"] == "employee@example.com"
    assert msg["Subject"] == f"We received your request: VPN drops [{ticket.number}]"
    assert msg["Message-ID"] == queued.message_id
    assert msg["Message-ID"].endswith("@example.org>")
    # system mail: automatic, bulk, no automatic answers, our loop header
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["Precedence"] == "bulk"
    assert msg["X-Tierline-Loop"] == "example.org"
    # plain text with an HTML alternative, the portal's link in both
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    link = f"https://desk.example.org/portal/tickets/{ticket.number}/"
    assert ticket.number in text and link in text
    assert f'href="{link}"' in html
    queued.refresh_from_db()
    assert queued.status == Outbox.Status.SENT and queued.sent_at is not None


def test_an_emailed_ticket_s_acknowledgement_answers_the_email_and_a_reply_to_it_threads_back(
    mail_out, employee, committed
):
    mailbox()
    original = "<first@client.example>"
    with committed():
        received = services.receive(mail(subject="Laptop won't boot", message_id=original))
    ticket = received.inbound.ticket
    outbound.send_due()
    [captured] = mail_out.received
    ack = captured.message
    assert ack["In-Reply-To"] == original
    assert ack["References"] == original
    assert ack["Auto-Submitted"] == "auto-replied"
    # when the employee answers the acknowledgement with the number gone from the subject
    answer = mail(
        subject="Re: laptop",
        message_id="<second@client.example>",
        headers={"In-Reply-To": ack["Message-ID"], "References": f"{original} {ack['Message-ID']}"},
    )
    with committed():
        again = services.receive(answer)
    # then it is a reply on the same ticket, found by our Message-ID
    assert again.line == f"reply {ticket.number}"
    assert any("references" in note for note in again.inbound.notes)
    # and the requester's own reply mails nobody
    assert Outbox.objects.count() == 1


def test_our_own_mail_coming_back_is_ignored_by_the_loop_rules(mail_out, employee, committed):
    mailbox()
    with committed():
        desk_factories.ticket(requester=employee)
    outbound.send_due()
    [captured] = mail_out.received
    # when our acknowledgement arrives at the help desk (an auto-forward, a misconfigured alias)
    with committed():
        received = services.receive(captured.raw)
    # then it is recorded and ignored: no ticket, and no mail answers it
    assert received.inbound.outcome == Inbound.Outcome.IGNORED
    assert "loop header" in received.inbound.reason
    assert Outbox.objects.count() == 1


def test_each_public_reply_by_the_desk_is_mailed_but_notes_and_the_requester_s_own_are_not(
    mail_out, employee, tier1, committed
):
    with committed():
        ticket = desk_factories.ticket(requester=employee)
    with committed():
        desk.add_message(ticket=ticket, by=tier1, body="Please restart & try <again>.")
        desk.add_message(ticket=ticket, by=tier1, body="Checked the logs.", internal=True)
        desk.add_message(ticket=ticket, by=employee, body="Restarted, still broken.")
    assert list(Outbox.objects.order_by("pk").values_list("template", flat=True)) == [
        "acknowledgement",
        "reply",
    ]
    outbound.send_due()
    ack, reply = (c.message for c in mail_out.received)
    # a person's reply: not marked automatic, but ours, and threaded after the acknowledgement
    assert reply["Auto-Submitted"] is None and reply["Precedence"] is None
    assert reply["X-Tierline-Loop"] == "example.org"
    assert reply["In-Reply-To"] == ack["Message-ID"]
    assert ack["Message-ID"] in reply["References"]
    assert reply["Subject"] == f"{ticket.subject} [{ticket.number}]"
    # the text as typed in the plain part, escaped in the HTML part
    assert "Please restart & try <again>." in reply.get_body(("plain",)).get_content()
    assert "restart &amp; try &lt;again&gt;." in reply.get_body(("html",)).get_content()
    assert "Tess One" in reply.get_body(("plain",)).get_content()


def test_a_resolution_sends_one_notice_not_a_reply_as_well(mail_out, employee, tier1, committed):
    with committed():
        ticket = desk_factories.ticket(requester=employee)
    with committed():
        desk.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="Replaced the toner.")
    assert list(Outbox.objects.order_by("pk").values_list("template", flat=True)) == [
        "acknowledgement",
        "resolved",
    ]
    outbound.send_due()
    notice = mail_out.received[-1].message
    assert notice["Subject"] == f"Resolved: {ticket.subject} [{ticket.number}]"
    assert "Replaced the toner." in notice.get_body(("plain",)).get_content()
    assert notice["Auto-Submitted"] == "auto-generated"


def test_an_event_heard_twice_queues_one_mail(mail_out, employee, committed):
    from tierline.mail.outbound_events import mail_for_desk_event

    with committed():
        ticket = desk_factories.ticket(requester=employee)
    again = mail_for_desk_event(kind="acknowledgement", ticket_id=ticket.pk)
    assert Outbox.objects.count() == 1 and again == Outbox.objects.get()


def test_nothing_is_queued_while_outbound_mail_is_off(settings, employee, committed):
    settings.MAIL_OUT = {**settings.MAIL_OUT, "SMTP_HOST": ""}
    with committed():
        desk_factories.ticket(requester=employee)
    assert not Outbox.objects.exists()


def test_a_server_that_refuses_for_now_is_tried_again_with_back_off(mail_out, employee, committed):
    with committed():
        desk_factories.ticket(requester=employee)
    mail_out.handler.refuse = "451 4.3.0 Try again later"
    before = timezone.now()
    report = outbound.send_due()
    row = Outbox.objects.get()
    assert report.retrying == [row.pk] and mail_out.received == []
    assert row.status == Outbox.Status.QUEUED and row.attempts == 1
    assert "451" in row.last_error
    assert (
        before + timedelta(seconds=55)
        <= row.next_attempt_at
        <= timezone.now() + timedelta(minutes=1)
    )
    # not due yet: the next run leaves it alone
    assert outbound.send_due().retrying == [] and Outbox.objects.get().attempts == 1
    # the second refusal waits twice as long
    _due_now()
    outbound.send_due()
    row.refresh_from_db()
    assert row.attempts == 2
    assert row.next_attempt_at >= timezone.now() + timedelta(seconds=115)
    # when the server accepts again, it goes
    mail_out.handler.refuse = ""
    _due_now()
    assert outbound.send_due().sent == [row.pk]
    row.refresh_from_db()
    assert row.status == Outbox.Status.SENT and row.last_error == ""
    assert len(mail_out.received) == 1


def test_a_server_that_is_down_is_tried_again_then_given_up_and_shown_on_the_ticket(
    settings, mail_out, employee, tier1, committed, client
):
    with committed():
        ticket = desk_factories.ticket(requester=employee)
    settings.MAIL_OUT = {**settings.MAIL_OUT, "SMTP_PORT": free_port(), "MAX_ATTEMPTS": 3}
    for attempt in (1, 2):
        report = outbound.send_due()
        row = Outbox.objects.get()
        assert report.retrying == [row.pk]
        assert row.attempts == attempt and row.status == Outbox.Status.QUEUED
        assert "server unreachable" in row.last_error
        _due_now()
    # the last attempt fails it: in the admin's outbox and on the ticket's history
    assert outbound.send_due().failed == [row.pk]
    row.refresh_from_db()
    assert row.status == Outbox.Status.FAILED
    assert row.last_error.startswith("gave up after 3 attempts: server unreachable")
    entry = history_of(ticket).get(action="email not sent")
    assert entry.actor.username == "tierline-mail"
    assert "employee@example.com" in entry.summary
    # the ticket page shows it to the desk
    client.force_login(tier1)
    page = client.get(reverse("desk:ticket", args=[ticket.number]))
    assert page.status_code == 200
    assert "Mail sent" in page.content.decode() and "not sent" in page.content.decode()
    # an admin queues it again once the server is back
    settings.MAIL_OUT = {**settings.MAIL_OUT, "SMTP_PORT": mail_out.port}
    assert outbound.requeue([row.pk]) == 1
    assert outbound.send_due().sent == [row.pk]


def test_a_permanent_refusal_fails_at_once(mail_out, employee, committed):
    with committed():
        ticket = desk_factories.ticket(requester=employee)
    mail_out.handler.refuse = "550 5.1.1 No such user"
    report = outbound.send_due()
    row = Outbox.objects.get()
    assert report.failed == [row.pk]
    assert row.status == Outbox.Status.FAILED and row.attempts == 1
    assert "550" in row.last_error
    assert history_of(ticket).filter(action="email not sent").count() == 1


def test_the_reject_policy_answers_an_unknown_sender_politely_once_a_day(mail_out, committed):
    mailbox(policy=Mailbox.Policy.REJECT, allowed_domains="")
    with committed():
        first = services.receive(
            mail(sender="stranger@elsewhere.example", message_id="<s1@elsewhere.example>")
        )
        services.receive(
            mail(sender="stranger@elsewhere.example", message_id="<s2@elsewhere.example>")
        )
    assert first.inbound.outcome == Inbound.Outcome.IGNORED
    [row] = Outbox.objects.all()
    assert row.template == "rejected" and row.to == "stranger@elsewhere.example"
    outbound.send_due()
    [captured] = mail_out.received
    msg = captured.message
    assert msg["In-Reply-To"] == "<s1@elsewhere.example>"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Subject"] == "Not delivered to the help desk: Printer jammed"
    # an automatic message from an unknown sender gets no answer at all (no loop)
    with committed():
        services.receive(
            mail(
                sender="robot@elsewhere2.example",
                message_id="<ooo@elsewhere2.example>",
                headers={"Auto-Submitted": "auto-replied"},
            )
        )
    assert Outbox.objects.count() == 1


def test_the_mail_send_job_and_command_send_what_is_due(mail_out, employee, committed, capsys):
    assert jobs.SEND_OUTBOX in registered_jobs()
    assert jobs.SEND_OUTBOX.schedule == every(minutes=1)
    with committed():
        desk_factories.ticket(requester=employee)
    # the scheduler runs it (enqueued; the immediate backend sends right there)
    assert Scheduler([jobs.SEND_OUTBOX]).run_due() == ["mail-send"]
    assert len(mail_out.received) == 1
    with committed():
        desk_factories.ticket(requester=employee, channel=Channel.PORTAL)
    assert cli.main(["mail", "send"]) == 0
    assert "Outbox: sent 1, to retry 0, failed 0." in capsys.readouterr().out
    assert len(mail_out.received) == 2


def test_a_reply_carries_its_public_files_and_no_internal_ones(
    mail_out, employee, tier1, committed
):
    with committed():
        ticket = desk_factories.ticket(requester=employee)
    with committed():
        desk.add_message(
            ticket=ticket,
            by=tier1,
            body="The report is attached.",
            uploads=[desk_factories.upload("report.pdf"), desk_factories.upload("steps.txt")],
        )
        desk.add_message(
            ticket=ticket,
            by=tier1,
            body="Internal log.",
            internal=True,
            uploads=[desk_factories.upload("secret.txt")],
        )
    outbound.send_due()
    reply = mail_out.received[-1].message
    files = {part.get_filename(): part for part in reply.iter_attachments()}
    assert set(files) == {"report.pdf", "steps.txt"}
    assert files["report.pdf"].get_content_type() == "application/pdf"
    assert files["report.pdf"].get_content() == desk_factories.PDF_BYTES
    assert "secret" not in mail_out.received[-1].raw.decode("ascii", "replace")


def test_no_acknowledgement_answers_a_ticket_whose_email_the_loop_rules_call_automatic(
    mail_out, employee
):
    from tierline.mail import rawstore
    from tierline.mail.outbound_events import mail_for_desk_event

    mailbox()
    inbound = services.receive(mail(subject="Away")).inbound
    # the loop rules, asked again when the acknowledgement is due, find the mail automatic
    # (here: its stored bytes are an out-of-office's)
    automatic = mail(subject="Away", headers={"Auto-Submitted": "auto-replied"})
    (rawstore.root() / inbound.raw.path).write_bytes(automatic)
    assert mail_for_desk_event(kind="acknowledgement", ticket_id=inbound.ticket_id) is None
    assert not Outbox.objects.exists()


def test_a_row_no_server_would_take_fails_alone_and_the_rest_is_sent(mail_out, employee, committed):
    with committed():
        desk_factories.ticket(requester=employee)
        desk_factories.ticket(requester=employee)
    broken, good = Outbox.objects.order_by("pk")
    Outbox.objects.filter(pk=broken.pk).update(to="no address\r\nBcc: x@example.net")
    report = outbound.send_due()
    assert report.failed == [broken.pk] and report.sent == [good.pk]
    broken.refresh_from_db()
    assert broken.status == Outbox.Status.FAILED
    assert "could not be written: Not an email address" in broken.last_error
    assert [c.rcpt_tos for c in mail_out.received] == [["employee@example.com"]]


def test_a_wrong_tls_setting_sends_nothing_in_clear_and_says_why(settings, mail_out, employee):
    from tierline.mail.outbound_events import mail_for_desk_event

    ticket = desk_factories.ticket(requester=employee)
    mail_for_desk_event(kind="acknowledgement", ticket_id=ticket.pk)
    settings.MAIL_OUT = {**settings.MAIL_OUT, "SMTP_TLS": "yes"}
    assert outbound.send_due().retrying
    assert "TIERLINE_SMTP_TLS is 'yes'" in Outbox.objects.get().last_error
    assert mail_out.received == []


def test_mail_send_says_clearly_that_outbound_mail_is_off(settings, capsys):
    settings.MAIL_OUT = {**settings.MAIL_OUT, "SMTP_HOST": ""}
    assert cli.main(["mail", "send"]) == 1
    err = capsys.readouterr().err
    assert "Outbound mail is off: set TIERLINE_SMTP_HOST" in err
    assert "Traceback" not in err


def _delivery_report(returned: bytes) -> bytes:
    """A bounce as an MTA writes it (RFC 3464): text, delivery status, the returned headers."""
    headers = returned.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")
    return (
        b"From: MAILER-DAEMON@mx.example.com\n"
        b"To: help@example.org\n"
        b"Subject: Undelivered Mail Returned to Sender\n"
        b"Message-ID: <dsn-1@mx.example.com>\n"
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        b"--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n"
        b"--B\nContent-Type: message/delivery-status\n\n"
        b"Reporting-MTA: dns; mx.example.com\n\n"
        b"Final-Recipient: rfc822; employee@example.com\nAction: failed\nStatus: 5.1.1\n"
        b"--B\nContent-Type: text/rfc822-headers\n\n" + headers + b"\n--B--\n"
    )


def test_a_bounce_of_our_mail_marks_it_failed_on_the_ticket_and_answers_nothing(
    mail_out, employee, committed
):
    mailbox()
    with committed():
        ticket = desk_factories.ticket(requester=employee)
    outbound.send_due()
    [captured] = mail_out.received
    # when the recipient's server bounces it later
    with committed():
        received = services.receive(_delivery_report(captured.raw))
    # then the report is ignored as a bounce, and our message is marked failed, on the ticket too
    assert received.inbound.outcome == Inbound.Outcome.IGNORED
    assert received.inbound.reason.startswith("bounce")
    row = Outbox.objects.get()
    assert row.status == Outbox.Status.FAILED
    assert row.last_error == "bounced: employee@example.com reported undeliverable"
    assert history_of(ticket).filter(action="email not sent").count() == 1
    assert Outbox.objects.count() == 1  # nothing answers a bounce
