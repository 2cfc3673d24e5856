"""Mail for the tests: mailboxes, and raw messages built with the standard library."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from tierline.mail.models import Mailbox


def mailbox(**kwargs) -> Mailbox:
    values = {
        "name": "Help desk",
        "addresses": "help@example.org\nsupport@example.org",
        "allowed_domains": "example.com",
        "policy": Mailbox.Policy.HOLD,
    }
    values.update(kwargs)
    return Mailbox.objects.create(**values)


def mail(
    *,
    sender: str = "employee@example.com",
    to: str = "help@example.org",
    subject: str = "Printer jammed",
    body: str | None = "The printer on floor 2 is jammed again.",
    html: str | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    files: Sequence[tuple[str, bytes, str]] = (),
) -> bytes:
    """A raw message as a mail client would send it."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate()
    msg["Message-ID"] = message_id or make_msgid(domain="client.example")
    for name, value in (headers or {}).items():
        msg[name] = value
    if body is not None:
        msg.set_content(body)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    elif html is not None:
        msg.set_content(html, subtype="html")
    for name, data, content_type in files:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()
