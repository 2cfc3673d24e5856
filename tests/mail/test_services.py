"""The inbound path: raw first, one entry per message, a ticket or a reply through the desk's
services, held or ignored by the mailbox's rules, quarantined with a reason, never lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.desk.factories import PDF_BYTES as PDF
from tests.desk.factories import image_bytes
from tests.mail.factories import mail, mailbox
from tierline.core.history import history_of
from tierline.desk import services as desk
from tierline.desk.models import Channel, Status, Ticket
from tierline.mail import rawstore, services
from tierline.mail.models import Inbound, Mailbox, RawMessage
from tierline.people.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def box() -> Mailbox:
    return mailbox()


def test_a_known_person_s_mail_opens_a_ticket_for_them_as_the_mail_system_user(box, employee):
    # when the employee writes to the help desk
    received = services.receive(mail(subject="Printer jammed"))
    # then a ticket is open for them, by email, opened by the mail system user
    inbound = received.inbound
    ticket = inbound.ticket
    assert received.line == f"new {ticket.number}"
    assert inbound.outcome == Inbound.Outcome.NEW_TICKET
    assert ticket.requester == employee
    assert ticket.channel == Channel.EMAIL
    assert ticket.subject == "Printer jammed"
    assert ticket.description == "The printer on floor 2 is jammed again."
    opened = history_of(ticket).get(action="opened")
    assert opened.actor.username == "tierline-mail"
    # and the raw message is on disk, byte for byte, under its digest
    raw = inbound.raw
    assert rawstore.digest(rawstore.read(raw.path)) == raw.sha256
    assert raw.message_id.startswith("<") and raw.size > 0


def test_the_raw_bytes_are_stored_as_they_came(box, employee):
    raw = mail(subject="Keep me")
    inbound = services.receive(raw).inbound
    assert rawstore.read(inbound.raw.path) == raw
    assert (rawstore.root() / inbound.raw.path).stat().st_mode & 0o077 == 0


def test_the_sender_is_matched_whatever_the_case_of_the_address(box, employee):
    inbound = services.receive(mail(sender="Erin <EMPLOYEE@Example.COM>")).inbound
    assert inbound.ticket.requester == employee


def test_the_same_message_twice_makes_one_entry(box, employee):
    raw = mail()
    first = services.receive(raw)
    again = services.receive(raw)
    assert again.duplicate and again.line.startswith("ignored: duplicate of <")
    assert again.inbound.pk == first.inbound.pk
    assert Ticket.objects.count() == 1
    assert RawMessage.objects.get().duplicates == 1


def test_the_same_mail_in_two_mailboxes_makes_one_entry(box, employee):
    # given one mail delivered to two mailboxes (different Delivered-To, same Message-ID)
    other = mailbox(name="IT", addresses="it@example.org")
    copy1 = mail(message_id="<same@client.example>", headers={"Delivered-To": "help@example.org"})
    copy2 = mail(message_id="<same@client.example>", headers={"Delivered-To": "it@example.org"})
    assert copy1 != copy2
    services.receive(copy1, mailbox=box)
    second = services.receive(copy2, mailbox=other)
    assert second.line == "ignored: duplicate of <same@client.example>"
    assert Ticket.objects.count() == 1 and RawMessage.objects.count() == 1


def test_an_unknown_sender_of_an_allowed_domain_becomes_a_requester(box):
    inbound = services.receive(mail(sender="New Person <new.person@example.com>")).inbound
    person = inbound.ticket.requester
    assert person.email == "new.person@example.com"
    assert (person.first_name, person.last_name) == ("New", "Person")
    assert person.role == User.Role.REQUESTER and not person.has_usable_password()


@pytest.mark.parametrize(
    ("policy", "line"),
    [
        (Mailbox.Policy.HOLD, "held: unknown sender stranger@elsewhere.net (mailbox Help desk)"),
        (
            Mailbox.Policy.REJECT,
            "ignored: unknown sender stranger@elsewhere.net: the mailbox rejects unknown senders",
        ),
    ],
)
def test_an_unknown_sender_elsewhere_follows_the_mailbox_policy(box, policy, line):
    box.policy = policy
    box.save()
    received = services.receive(mail(sender="stranger@elsewhere.net"))
    assert received.line == line
    assert Ticket.objects.count() == 0
    assert not User.objects.filter(email="stranger@elsewhere.net").exists()


def test_an_accepting_mailbox_takes_anyone(box):
    box.policy = Mailbox.Policy.ACCEPT
    box.save()
    line = services.receive(mail(sender="stranger@elsewhere.net")).line
    assert line.startswith("new TL-")


def test_a_held_message_is_released_by_the_help_desk(box, tier1):
    held = services.receive(mail(sender="stranger@elsewhere.net")).inbound
    assert held.outcome == Inbound.Outcome.HELD
    released = services.release(inbound=held, by=tier1)
    assert released.outcome == Inbound.Outcome.NEW_TICKET
    assert released.ticket.requester.email == "stranger@elsewhere.net"


def test_a_flood_from_one_sender_is_held(box, employee):
    box.rate_limit_per_hour = 3
    box.save()
    lines = [services.receive(mail(subject=f"Mail {n}")).line for n in range(5)]
    assert [line.split(" ")[0] for line in lines] == ["new", "new", "new", "held:", "held:"]
    assert "rate limit: 3 messages from employee@example.com in the last hour" in lines[3]


def test_a_deactivated_person_s_mail_is_held(box, employee):
    employee.is_active = False
    employee.save()
    assert services.receive(mail()).line == ("held: the sender's account (employee) is deactivated")


# --- threading --------------------------------------------------------------------------------


def test_the_ticket_number_in_the_subject_makes_a_reply_from_the_sender(box, employee, tier1):
    ticket = desk_factories.ticket(employee)
    body = "It works now, thanks!\n\nOn Mon, 3 Mar 2025 at 10:00, Help <help@example.org> wrote:\n> Try again"
    received = services.receive(mail(subject=f"Re: [{ticket.number}] Printer", body=body))
    assert received.line == f"reply {ticket.number}"
    message = ticket.messages.get()
    assert message.author == employee and not message.internal
    assert message.channel == Channel.EMAIL
    assert message.body == "It works now, thanks!"  # the quoted history is trimmed
    assert received.inbound.ticket_message == message
    assert "Try again" in received.inbound.text  # the whole text is kept on the email


def test_in_reply_to_a_stored_message_finds_the_ticket(box, employee):
    first = services.receive(mail(message_id="<first@client.example>", subject="VPN down"))
    reply = mail(
        subject="Re: VPN down",
        body="Still down.",
        headers={"In-Reply-To": "<first@client.example>", "References": "<first@client.example>"},
    )
    received = services.receive(reply)
    assert received.line == f"reply {first.inbound.ticket.number}"
    assert Ticket.objects.count() == 1


def test_references_find_the_ticket_when_in_reply_to_is_unknown(box, employee):
    first = services.receive(mail(message_id="<root@client.example>"))
    reply = mail(
        body="More.",
        headers={
            "In-Reply-To": "<unknown@elsewhere.example>",
            "References": "<root@client.example> <unknown@elsewhere.example>",
        },
    )
    assert services.receive(reply).line == f"reply {first.inbound.ticket.number}"


def test_a_technician_answering_by_email_replies_to_the_requester(box, employee, tier1):
    ticket = desk_factories.ticket(employee)
    raw = mail(
        sender="tier1@example.com", subject=f"RE: [{ticket.number}] Printer", body="On my way."
    )
    received = services.receive(raw)
    ticket.refresh_from_db()
    assert received.line == f"reply {ticket.number}"
    message = ticket.messages.get()
    assert (message.author, message.internal, message.body) == (tier1, False, "On my way.")
    assert ticket.first_response_at == message.created_at


def test_a_reply_on_a_merged_ticket_lands_on_the_one_it_went_into(box, employee, tier1):
    old, kept = desk_factories.ticket(employee), desk_factories.ticket(employee)
    desk.merge(ticket=old, into=kept, by=tier1)
    received = services.receive(mail(subject=f"Re: [{old.number}] Printer", body="Any news?"))
    assert received.line == f"reply {kept.number}"
    assert kept.messages.filter(body="Any news?").exists()


def test_someone_not_on_the_ticket_opens_their_own_instead(box, employee, employee2):
    ticket = desk_factories.ticket(employee)
    received = services.receive(
        mail(sender="employee2@example.com", subject=f"Re: [{ticket.number}] Printer")
    )
    assert received.line.startswith("new TL-")
    assert received.inbound.ticket.requester == employee2
    assert not ticket.messages.exists()


def test_a_reply_to_a_resolved_ticket_reopens_it_within_the_window(box, employee, tier1):
    ticket = desk_factories.ticket(employee)
    desk.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="Replaced the toner.")
    received = services.receive(mail(subject=f"Re: [{ticket.number}] x", body="Jammed again."))
    ticket.refresh_from_db()
    assert received.line == f"reply {ticket.number}"
    assert ticket.status == Status.OPEN
    assert ticket.messages.filter(author=employee, body="Jammed again.").exists()


def test_a_reply_after_the_reopen_window_opens_a_follow_up(box, employee, tier1):
    ticket = desk_factories.ticket(employee)
    desk.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="Replaced the toner.")
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=30))
    received = services.receive(mail(subject=f"Re: [{ticket.number}] x", body="Again."))
    assert received.line.startswith("new TL-") and received.line != f"new {ticket.number}"
    assert received.inbound.ticket.description.startswith(f"(A follow-up to {ticket.number}.)")
    assert received.inbound.reason == f"follow-up to {ticket.number}"


# --- bodies and files -------------------------------------------------------------------------


def test_files_go_through_the_desk_s_rules(box, employee):
    raw = mail(
        files=[
            ("screen.png", image_bytes(), "image/png"),
            ("report.pdf", PDF, "application/pdf"),
            ("setup.exe", b"MZ\x90\x00", "application/octet-stream"),
        ]
    )
    ticket = services.receive(raw).inbound.ticket
    assert sorted(ticket.attachments.values_list("name", flat=True)) == ["report.pdf", "screen.png"]
    assert "Not attached:\n- “setup.exe”: files of type .exe are not accepted" in ticket.description


def test_html_only_mail_gets_text_and_keeps_its_html(box, employee):
    html = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head>"
        "<body><p>Outlook <b>crashes</b> on start.</p><p>See <a href='https://x.example/k'>KB</a>"
        "</p></body></html>"
    )
    inbound = services.receive(mail(body=None, html=html)).inbound
    assert inbound.ticket.description == "Outlook crashes on start.\n\nSee KB <https://x.example/k>"
    assert "<script>" in inbound.html  # kept as it came; sanitised when shown


def test_a_wrong_charset_is_read_and_noted(box, employee):
    raw = (
        b"From: employee@example.com\r\nTo: help@example.org\r\nSubject: Caf\xe9\r\n"
        b"Message-ID: <cs@client.example>\r\nContent-Type: text/plain; charset=uft-8\r\n\r\n"
        b"Le caf\xc3\xa9 est froid.\r\n"
    )
    inbound = services.receive(raw).inbound
    assert inbound.ticket.description == "Le café est froid."
    assert inbound.notes[0] == "Unknown charset “uft-8”."
    assert inbound.ticket.subject == "Caf\ufffd"


def test_control_characters_never_reach_the_desk(box, employee):
    raw = mail(body="Error \x1b[31mred\x1b[0m and a form feed\x0c here")
    ticket = services.receive(raw).inbound.ticket
    assert ticket.description == "Error [31mred[0m and a form feed here"


def test_a_forwarded_message_is_in_the_text(box, employee):
    inner = mail(sender="vendor@supplier.example", subject="Licence expiring", body="Renew by May.")
    from email import message_from_bytes, policy
    from email.message import EmailMessage

    outer = EmailMessage()
    outer["From"], outer["To"], outer["Subject"] = "employee@example.com", "help@example.org", "Fwd"
    outer["Message-ID"] = "<fwd@client.example>"
    outer.set_content("Can you look at this?")
    outer.add_attachment(message_from_bytes(inner, policy=policy.default))
    ticket = services.receive(outer.as_bytes()).inbound.ticket
    assert "Can you look at this?" in ticket.description
    assert (
        "---------- Forwarded message ----------\nFrom: vendor@supplier.example"
        in ticket.description
    )
    assert "Renew by May." in ticket.description


# --- never lost, never doubled ----------------------------------------------------------------


def test_what_cannot_be_parsed_is_quarantined_with_the_reason(box):
    received = services.receive(b"\xd0\xcf\x11\xe0 not a mail at all")
    assert received.line == "quarantined: unparseable: no mail headers"
    assert rawstore.read(received.inbound.raw.path).startswith(b"\xd0\xcf")


def test_a_message_without_a_sender_is_quarantined(box):
    raw = b"To: help@example.org\r\nSubject: who?\r\nMessage-ID: <x@y>\r\n\r\nHello\r\n"
    assert services.receive(raw).line == "quarantined: no sender address (From)"


def test_a_desk_refusal_is_a_quarantine_not_a_crash(box, employee, monkeypatch):
    def refuse(**kwargs):
        raise ValidationError({"subject": "Subject is broken."})

    monkeypatch.setattr(desk, "open_ticket", refuse)
    received = services.receive(mail())
    assert received.line == "quarantined: the desk refused it: Subject is broken."
    assert Ticket.objects.count() == 0


def test_an_unexpected_failure_is_a_quarantine_and_reprocess_takes_it_again(
    box, employee, monkeypatch
):
    # given the desk failing once, in the middle of opening a ticket
    real = desk.open_ticket

    def broken(**kwargs):
        real(**kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(desk, "open_ticket", broken)
    received = services.receive(mail())
    # then nothing of the half-done ticket is kept, and the message is quarantined with why
    assert received.line == "quarantined: could not be processed: RuntimeError: disk full"
    assert Ticket.objects.count() == 0
    # when the fault is gone and the quarantine is processed again
    monkeypatch.setattr(desk, "open_ticket", real)
    [again] = services.reprocess()
    # then it becomes its ticket, once
    assert again.outcome == Inbound.Outcome.NEW_TICKET and again.attempts == 2
    assert Ticket.objects.count() == 1
    assert services.reprocess() == []


def test_a_message_left_pending_by_a_crash_is_processed_once(box, employee):
    # given a message whose rows were committed but never processed (the worker died)
    raw = mail()
    path = rawstore.store(raw)
    row = RawMessage.objects.create(
        sha256=rawstore.digest(raw), path=path, size=len(raw), source="spool"
    )
    pending = Inbound.objects.create(raw=row)
    # when it is processed twice (reprocess, then a second worker)
    services.reprocess()
    services.process(pending.pk)
    # then there is one ticket
    pending.refresh_from_db()
    assert pending.outcome == Inbound.Outcome.NEW_TICKET
    assert Ticket.objects.count() == 1
