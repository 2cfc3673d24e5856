"""A notification by email goes out through the outbound sender (`mail.outbound.queue_mail`) to a
real SMTP server on loopback; the requester's mail about a reply or a resolution is sent once,
by the outbound handlers, not a second time as a notification."""

from __future__ import annotations

import pytest

from tests.desk import factories as desk_factories
from tests.mail.outbound_server import SmtpServer
from tierline.desk import services as desk
from tierline.mail import notify, outbound
from tierline.mail.models import NotificationEmail, NotificationKind, Outbox

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mail_out(settings):
    server = SmtpServer().start()
    settings.MAIL_OUT = {
        **settings.MAIL_OUT,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": server.port,
        "SMTP_TLS": "none",
        "SMTP_USER": "",
        "FROM": "help@example.org",
        "FROM_NAME": "IT help desk",
        "SITE_URL": "https://desk.example.org",
        "SMTP_TIMEOUT": 5,
    }
    yield server
    server.stop()


def test_a_technician_who_chose_email_gets_the_notice_by_smtp(mail_out, employee, tier1):
    # given tier 1 wants replies by email, and has taken the ticket
    notify.set_preferences(person=tier1, channels={NotificationKind.REPLY: "email"})
    ticket = desk_factories.ticket(employee, subject="Printer <2nd floor> & scanner")
    desk.take(ticket=ticket, by=tier1)
    # when the requester writes on it
    desk.add_message(ticket=ticket, by=employee, body="Any news?")
    # then one notification mail to tier 1 is queued and the worker sends it
    [queued] = Outbox.objects.filter(to=tier1.email)
    assert queued.template == "notification"
    assert queued.pk in outbound.send_due().sent  # (with the acknowledgement to the requester)
    [captured] = [m for m in mail_out.received if m.rcpt_tos == [tier1.email]]
    message = captured.message
    assert ticket.number in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert f"https://desk.example.org/desk/tickets/{ticket.number}/" in text
    assert "Printer <2nd floor> & scanner" in text  # plain text: as typed, not escaped
    assert message["Auto-Submitted"] == "auto-generated"
    # and it is queued once, under the notification's key, whatever asks again
    email = NotificationEmail.objects.get(notification__recipient=tier1)
    again = outbound.queue_mail(
        to=tier1.email,
        template="notification",
        context={"notification": "again"},
        key=f"notification:{email.notification.pk}",
    )
    assert again == queued and Outbox.objects.filter(to=tier1.email).count() == 1


def test_the_requester_gets_one_mail_for_a_reply_not_two(mail_out, employee, tier1):
    # given a requester who keeps the default (email for replies)
    ticket = desk_factories.ticket(employee)
    desk.take(ticket=ticket, by=tier1)
    # when the desk replies
    desk.add_message(ticket=ticket, by=tier1, body="On my way.")
    # then the notification is recorded, and the only mail is the outbound reply with its text
    assert NotificationEmail.objects.filter(to=employee.email).count() == 1
    replies = Outbox.objects.filter(to=employee.email).exclude(template="acknowledgement")
    assert [row.template for row in replies] == ["reply"]


def test_no_notification_mail_while_outbound_mail_is_off(employee, tier1, settings):
    settings.MAIL_OUT = {**settings.MAIL_OUT, "SMTP_HOST": ""}
    notify.set_preferences(person=tier1, channels={NotificationKind.REPLY: "email"})
    ticket = desk_factories.ticket(employee)
    desk.take(ticket=ticket, by=tier1)
    desk.add_message(ticket=ticket, by=employee, body="Any news?")
    assert NotificationEmail.objects.filter(to=tier1.email).count() == 1  # recorded
    assert not Outbox.objects.exists()  # nothing queued: no server to send it to
