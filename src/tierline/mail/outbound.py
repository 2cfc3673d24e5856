"""Outgoing mail: queued as one `Outbox` row per message, sent by the worker through SMTP.

    queue_mail(to=, template=, context=, ticket=)   render a template (`outbound_templates`)
                   and queue the message: Message-ID made and stored (a reply to it threads
                   to the ticket), In-Reply-To and References from the ticket's earlier mail,
                   `[TL-000123]` in the subject. Anyone may call it (the notify helper's
                   notices too); with `key`, a message is queued once however often asked.
    send_due()     the worker (`mail-send` job every minute, `tierline mail send`): each due
                   message claimed by one conditional UPDATE (never sent twice at once), sent
                   as plain text plus HTML; a refusal or a server that is down is tried again
                   after 1, 2, 4... minutes; a permanent refusal or the last attempt fails it,
                   recorded on the ticket's history and listed in the admin's outbox.

Mail to the requester on the desk's events is queued by after-commit handlers that only
enqueue a task with ids (`tasks.mail_for_desk_event`): an acknowledgement of a new ticket (not
for one opened by an automatic message), each public reply by the desk, the resolution notice.
System mail carries `Auto-Submitted`, `X-Auto-Response-Suppress: All`, `Precedence: bulk` and
our loop header; no CR, LF or other control character from user data reaches a header.

Outbound mail is off until TIERLINE_SMTP_HOST is set (`settings.MAIL_OUT`): nothing is queued.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.utils import format_datetime, make_msgid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from tierline.core import delivery
from tierline.desk.models import Attachment, Ticket
from tierline.mail import outbound_templates as templates
from tierline.mail.loops import LOOP_HEADER
from tierline.mail.models import Inbound, MailTemplate, Outbox
from tierline.mail.parsing import ParsedMail, raw_header_values

logger = logging.getLogger(__name__)

AUTO_REPLIED = "auto-replied"  # an automatic answer to a message (RFC 3834)
AUTO_GENERATED = "auto-generated"  # automatic, in answer to no message
# A claimed message is someone's for this long; a sender that died leaves it to the next.
CLAIM = timedelta(minutes=5)
MAX_REFERENCES = 10
# "starttls" upgrades when the server offers it (required when a password is sent).
TLS_MODES = ("starttls", "ssl", "none")
# The files a reply carries, in all; a larger one stays on the portal.
ATTACHMENTS_MAX_BYTES = 15 * 2**20


def conf_out() -> dict[str, Any]:
    return settings.MAIL_OUT


def enabled() -> bool:
    """Whether outgoing mail is configured (TIERLINE_SMTP_HOST set)."""
    return bool(conf_out()["SMTP_HOST"])


# --- header values --------------------------------------------------------------------------


def header_text(value: object, *, limit: int = 300) -> str:
    """A header value from any text: control characters (CR, LF, NUL...), line and paragraph
    separators and runs of spaces become one space. Nothing from user data breaks a header."""
    text = "".join(
        " " if unicodedata.category(ch) in {"Cc", "Zl", "Zp"} else ch for ch in str(value or "")
    )
    return " ".join(text.split())[:limit]


def address(value: str) -> str:
    """`value` as a bare address, or ValueError: exactly one addr-spec, no control characters."""
    raw = str(value or "").strip()
    if not raw or header_text(raw, limit=400) != raw or " " in raw or len(raw) > 320:
        raise ValueError(f"Not an email address: {raw[:80]!r}.")
    try:
        parsed = Address(addr_spec=raw)
    except Exception as exc:  # noqa: BLE001 - the email package's many parse errors
        raise ValueError(f"Not an email address: {raw[:80]!r}.") from exc
    if not parsed.username or "." not in parsed.domain and parsed.domain != "localhost":
        raise ValueError(f"Not an email address: {raw[:80]!r}.")
    return parsed.addr_spec


def _domain() -> str:
    return address(conf_out()["FROM"]).rpartition("@")[2]


def _system_headers(automatic: str | None) -> dict[str, str]:
    """What marks our mail: every message carries our loop header and asks Exchange for no
    automatic answers; system mail (`automatic`) also says it is automatic and bulk."""
    headers = {LOOP_HEADER: _domain(), "X-Auto-Response-Suppress": "All"}
    if automatic:
        headers["Auto-Submitted"] = automatic
        headers["Precedence"] = "bulk"
    return headers


# --- queueing -------------------------------------------------------------------------------


def _words(key: str) -> tuple[str, str, str] | None:
    """(subject, text, html) of `key`: the admin's row, else the default; None when the admin
    switched this mail off."""
    row = MailTemplate.objects.filter(key=key).first()
    if row is not None:
        return (row.subject, row.text, row.html) if row.is_active else None
    kind = templates.KINDS[key]
    return kind.subject, kind.text, kind.html


def _thread_of(ticket_id: int) -> list[str]:
    """The Message-IDs of a ticket's mail, in and out, oldest first."""
    found: list[tuple[Any, str]] = [
        (created, mid)
        for created, mid in Inbound.objects.filter(ticket_id=ticket_id)
        .exclude(raw__message_id="")
        .values_list("created_at", "raw__message_id")
    ]
    found += list(
        Outbox.objects.filter(ticket_id=ticket_id).values_list("created_at", "message_id")
    )
    seen: list[str] = []
    for _when, mid in sorted(found, key=lambda pair: pair[0]):
        mid = header_text(mid, limit=250)
        if mid and mid not in seen:
            seen.append(mid)
    return seen


def _with_number(subject: str, number: str | None) -> str:
    if number and number.lower() not in subject.lower():
        subject = f"{subject} [{number}]"
    return subject


def queue_mail(
    *,
    to: str,
    template: str,
    context: Mapping[str, object],
    ticket: Ticket | None = None,
    automatic: str | None = AUTO_GENERATED,
    in_reply_to: str = "",
    key: str | None = None,
    attachments: Iterable[int] = (),
) -> Outbox | None:
    """Render `template` with `context` (plain values; the help desk's name is added) and queue
    one message to `to`; the row, or None when outbound mail is off or the template is
    switched off. With `key`, an earlier row of that key is returned instead of a second.

    `automatic` is the Auto-Submitted value (None for a person's reply). With a ticket, the
    message threads with its earlier mail and its subject carries the ticket's number.
    Raises ValueError for an address that is not one, KeyError for an unknown template."""
    if template not in templates.KINDS:
        raise KeyError(f"Unknown mail template {template!r}.")
    recipient = address(to)
    if not enabled():
        return None
    if key:
        existing = Outbox.objects.filter(key=key).first()
        if existing is not None:
            return existing
    words = _words(template)
    if words is None:
        return None
    values = {"help_desk": conf_out()["FROM_NAME"], **context}
    rendered = templates.render(template, values, subject=words[0], text=words[1], html=words[2])
    thread = _thread_of(ticket.pk) if ticket is not None else []
    parent = header_text(in_reply_to, limit=250) or (thread[-1] if thread else "")
    references = ([thread[0]] if thread else []) + thread[-(MAX_REFERENCES - 1) :]
    if parent and parent not in references:
        references.append(parent)
    references = list(dict.fromkeys(references))
    subject = _with_number(header_text(rendered.subject, limit=400), ticket and ticket.number)
    try:
        with transaction.atomic():
            return Outbox.objects.create(
                to=recipient,
                subject=subject or "(no subject)",
                text=rendered.text,
                html=rendered.html,
                headers=_system_headers(automatic),
                message_id=make_msgid(domain=_domain()),
                in_reply_to=parent,
                references=" ".join(references),
                template=template,
                ticket=ticket,
                key=key or None,
                attachments=[int(pk) for pk in attachments],
            )
    except IntegrityError:  # the same key queued a moment ago by another worker
        if key and (existing := Outbox.objects.filter(key=key).first()) is not None:
            return existing
        raise


# --- sending --------------------------------------------------------------------------------


def build(outbox: Outbox) -> EmailMessage:
    """The message as sent: plain text with an HTML alternative and our headers."""
    out = conf_out()
    msg = EmailMessage()
    msg["From"] = Address(
        display_name=header_text(out["FROM_NAME"]), addr_spec=address(out["FROM"])
    )
    msg["To"] = address(outbox.to)
    msg["Subject"] = header_text(outbox.subject, limit=500)
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = header_text(outbox.message_id, limit=250)
    if outbox.in_reply_to:
        msg["In-Reply-To"] = header_text(outbox.in_reply_to, limit=250)
    if outbox.references:
        msg["References"] = header_text(outbox.references, limit=3000)
    for name, value in (outbox.headers or {}).items():
        msg[header_text(name, limit=60).replace(" ", "-")] = header_text(value)
    msg.set_content(outbox.text or "")
    if outbox.html:
        msg.add_alternative(outbox.html, subtype="html")
    _attach(msg, outbox)
    return msg


def _attach(msg: EmailMessage, outbox: Outbox) -> None:
    """The ticket's public files named by the row, up to ATTACHMENTS_MAX_BYTES in all; a file
    past it, gone or internal is left out (the portal has it)."""
    if not outbox.attachments or outbox.ticket_id is None:
        return
    room = ATTACHMENTS_MAX_BYTES
    files = Attachment.objects.filter(
        pk__in=outbox.attachments, ticket_id=outbox.ticket_id, internal=False
    ).order_by("pk")
    for attachment in files:
        if attachment.size > room:
            continue
        try:
            with attachment.file.open("rb") as handle:
                data = handle.read()
        except OSError:
            logger.warning("mail: attachment %s of outbox %s is gone", attachment.pk, outbox.pk)
            continue
        maintype, _, subtype = (attachment.content_type or "").partition("/")
        if not maintype or not subtype:
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(
            data,
            maintype=maintype,
            subtype=subtype,
            filename=header_text(attachment.name, limit=200) or "file",
        )
        room -= len(data)


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        return f"sent {len(self.sent)}, to retry {len(self.retrying)}, failed {len(self.failed)}"


class _Retry(Exception):
    """A temporary failure: try again later. `down`: the server can't be reached (stop the
    batch, the rest waits for the next run)."""

    def __init__(self, reason: str, *, down: bool = False) -> None:
        super().__init__(reason)
        self.down = down


class _Permanent(Exception):
    """The server refused this message for good (a 5xx)."""


def _connect() -> smtplib.SMTP:
    out = conf_out()
    host, port, timeout = out["SMTP_HOST"], int(out["SMTP_PORT"]), float(out["SMTP_TIMEOUT"])
    tls = out["SMTP_TLS"]
    if tls not in TLS_MODES:
        raise _Retry(
            f"TIERLINE_SMTP_TLS is {tls!r}: it must be one of {', '.join(TLS_MODES)}", down=True
        )
    if tls == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
        if tls == "starttls":
            client.ehlo()
            if client.has_extn("starttls"):
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            elif out["SMTP_USER"]:
                client.quit()
                raise _Retry(
                    "the server offers no STARTTLS: not sending the password in clear", down=True
                )
    if out.get("SMTP_OAUTH_GRANT"):
        _sign_in_with_oauth(client, out["SMTP_USER"], out["SMTP_OAUTH_GRANT"])
    elif out["SMTP_USER"]:
        client.login(out["SMTP_USER"], out["SMTP_PASSWORD"])
    return client


def _sign_in_with_oauth(client: smtplib.SMTP, user: str, grant_name: str) -> None:
    """AUTH XOAUTH2 as `user` with the named grant's token (Microsoft 365, Google). A grant that
    can't give a token keeps the mail queued, as a server that is down does."""
    from tierline.mail import oauth
    from tierline.mail.models import OAuthGrant

    grant = OAuthGrant.objects.filter(name=grant_name).first()
    if grant is None:
        client.quit()
        raise _Retry(f"TIERLINE_SMTP_OAUTH_GRANT names no OAuth2 grant: {grant_name!r}", down=True)
    try:
        token = oauth.access_token(grant)
    except oauth.OAuthFailure as exc:
        client.quit()
        raise _Retry(f"OAuth2 sign-in ({grant.name}): {exc}", down=True) from None
    initial = oauth.xoauth2(user, token).decode()
    client.ehlo_or_helo_if_needed()  # smtplib's auth() does not, and takes a 503 for success
    try:
        # The server's answer to a bad token is a 334 with an error: the empty reply ends it.
        client.auth(
            "XOAUTH2",
            lambda challenge=None: initial if challenge is None else "",
            initial_response_ok=True,
        )
    except smtplib.SMTPAuthenticationError:
        OAuthGrant.objects.filter(pk=grant.pk).update(expires_at=None)  # ask for a new one
        client.quit()
        raise


def _response(exc: smtplib.SMTPResponseException) -> str:
    message = exc.smtp_error
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return header_text(f"{exc.smtp_code} {message}", limit=500)


def _send_one(client: smtplib.SMTP, outbox: Outbox) -> None:
    try:
        msg = build(outbox)
    except (ValueError, TypeError) as exc:  # a row no server would take (a bad address)
        raise _Permanent(f"could not be written: {exc}") from None
    try:
        client.send_message(msg, from_addr=address(conf_out()["FROM"]), to_addrs=[outbox.to])
    except smtplib.SMTPRecipientsRefused as exc:
        code, message = next(iter(exc.recipients.values()), (450, b"refused"))
        reason = header_text(
            f"{code} {message.decode('utf-8', 'replace') if isinstance(message, bytes) else message}"
        )
        if code >= 500:
            raise _Permanent(f"recipient refused: {reason}") from None
        raise _Retry(f"recipient deferred: {reason}") from None
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code >= 500:
            raise _Permanent(f"refused: {_response(exc)}") from None
        raise _Retry(f"deferred: {_response(exc)}") from None
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        raise _Retry(f"connection lost: {exc.__class__.__name__}: {exc}", down=True) from None


def _claim(pk: int, now: Any) -> bool:
    return bool(
        Outbox.objects.filter(pk=pk, status=Outbox.Status.QUEUED, next_attempt_at__lte=now).update(
            next_attempt_at=now + CLAIM, attempts=F("attempts") + 1
        )
    )


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: 1, 2, 4... minutes, capped."""
    return delivery.backoff(attempts, cap_minutes=conf_out()["MAX_DELAY_MINUTES"])


def _record_failure(outbox: Outbox, reason: str) -> None:
    """A message given up on: on the ticket's history (as the mail system user)."""
    if outbox.ticket_id is None:
        return
    from tierline.desk import services as desk
    from tierline.people import services as people_services

    try:
        desk.record_on_ticket(
            ticket_id=outbox.ticket_id,
            by=people_services.system_user("mail"),
            action="email not sent",
            summary=f"to {outbox.to}: {outbox.subject} ({reason})",
        )
    except Exception:  # the ticket is gone: the outbox row still says it
        logger.exception("mail: could not record the failed send %s on its ticket", outbox.pk)


def _after_failure(outbox: Outbox, reason: str, *, permanent: bool) -> str:
    attempts = Outbox.objects.filter(pk=outbox.pk).values_list("attempts", flat=True).first() or 1
    if permanent or attempts >= conf_out()["MAX_ATTEMPTS"]:
        why = reason if permanent else f"gave up after {attempts} attempts: {reason}"
        Outbox.objects.filter(pk=outbox.pk).update(
            status=Outbox.Status.FAILED, last_error=why[:1000]
        )
        logger.warning("mail: message %s to %s failed: %s", outbox.pk, outbox.to, why)
        _record_failure(outbox, why)
        return "failed"
    Outbox.objects.filter(pk=outbox.pk).update(
        last_error=reason[:1000], next_attempt_at=timezone.now() + retry_delay(attempts)
    )
    return "retrying"


def due_ids(limit: int = 200) -> list[int]:
    return list(
        Outbox.objects.filter(status=Outbox.Status.QUEUED, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def send_due(*, limit: int = 200) -> SendReport:
    """Send the queued messages that are due, over one SMTP connection; what became of each.
    A server that is down or refuses for now is tried again later; the batch stops at the
    first connection failure."""
    report = SendReport()
    if not enabled():
        return report
    client: smtplib.SMTP | None = None
    try:
        for pk in due_ids(limit):
            if not _claim(pk, timezone.now()):
                continue  # another sender has it
            outbox = Outbox.objects.get(pk=pk)
            try:
                if client is None:
                    try:
                        client = _connect()
                    except smtplib.SMTPResponseException as exc:
                        raise _Retry(f"server refused: {_response(exc)}", down=True) from None
                    except (smtplib.SMTPException, OSError) as exc:
                        raise _Retry(
                            f"server unreachable: {exc.__class__.__name__}: {exc}", down=True
                        ) from None
                _send_one(client, outbox)
            except _Permanent as exc:
                _after_failure(outbox, str(exc), permanent=True)
                report.failed.append(pk)
                _reset(client)
            except _Retry as exc:
                outcome = _after_failure(outbox, str(exc), permanent=False)
                (report.failed if outcome == "failed" else report.retrying).append(pk)
                if exc.down:
                    break
                _reset(client)
            except Exception as exc:  # never out of the sender: this one waits, the rest go
                logger.exception("mail: sending message %s failed", pk)
                outcome = _after_failure(
                    outbox, f"{exc.__class__.__name__}: {exc}", permanent=False
                )
                (report.failed if outcome == "failed" else report.retrying).append(pk)
                _reset(client)
            else:
                Outbox.objects.filter(pk=pk).update(
                    status=Outbox.Status.SENT, sent_at=timezone.now(), last_error=""
                )
                report.sent.append(pk)
    finally:
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
    return report


def _reset(client: smtplib.SMTP | None) -> None:
    if client is None:
        return
    with contextlib.suppress(smtplib.SMTPException, OSError):
        client.rset()


def requeue(ids: Iterable[int]) -> int:
    """Failed messages queued again (the admin's action), from their first attempt."""
    return Outbox.objects.filter(pk__in=list(ids), status=Outbox.Status.FAILED).update(
        status=Outbox.Status.QUEUED, attempts=0, next_attempt_at=timezone.now(), last_error=""
    )


# --- bounces of our mail --------------------------------------------------------------------


def _returned_message_ids(msg: Message) -> list[str]:
    """The Message-IDs of the message a delivery report returns (its message/rfc822 or
    text/rfc822-headers part)."""
    found: list[str] = []
    try:
        for part in msg.walk():
            ctype = part.get_content_type()
            if ctype == "message/rfc822":
                inner = part.get_payload()
                inner = inner[0] if isinstance(inner, list) and inner else inner
                if isinstance(inner, Message):
                    found += raw_header_values(inner, "message-id")
            elif ctype == "text/rfc822-headers":
                text = part.get_payload(decode=True) or b""
                headers = HeaderParser().parsestr(text.decode("utf-8", "replace"))
                found += raw_header_values(headers, "message-id")
    except Exception:  # noqa: BLE001 - a broken report names no message
        logger.info("mail: a delivery report could not be read for its message", exc_info=True)
    return [header_text(mid, limit=250) for mid in found if mid.strip()]


def record_bounce(msg: Message, parsed: ParsedMail) -> Outbox | None:
    """A delivery report about mail we sent: its outbox row marked failed with the bounced
    address, and "email not sent" on the ticket. None when it returns none of ours."""
    ids = _returned_message_ids(msg) + list(parsed.in_reply_to)
    if not ids:
        return None
    row = Outbox.objects.filter(message_id__in=ids[:50]).exclude(status=Outbox.Status.FAILED)
    row = row.order_by("-pk").first()
    if row is None:
        return None
    reason = f"bounced: {parsed.bounced_address or row.to} reported undeliverable"
    Outbox.objects.filter(pk=row.pk).update(status=Outbox.Status.FAILED, last_error=reason)
    _record_failure(row, reason)
    return row
