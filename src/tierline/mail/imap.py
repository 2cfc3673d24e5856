"""IMAP intake: each mailbox's folder polled with the standard library's `imaplib`, every new UID
stored and committed before anything changes on the server.

    1. SELECT the folder; its UIDVALIDITY. Changed since the last poll: the UIDs we know mean
       nothing now, so the folder is read again from its first message (the gateway knows the
       ones it already has by their bytes or Message-ID: no second ticket) and a note says so.
    2. Finish what an earlier run left (a crash, a server that went away): UIDs stored but not
       processed are processed; UIDs processed but not moved or flagged are settled.
    3. `UID SEARCH UID <last+1>:*`; for each new UID, oldest first:
         FETCH BODY.PEEK[] (PEEK: fetching sets no \\Seen)
         one transaction: raw on disk (fsync), RawMessage + Inbound (pending) + ImapMessage
             (UIDVALIDITY, UID, sha256, Message-ID) + the folder's last UID
         process it (`services.process`: the ticket and the outcome commit together)
         then, by UID: MOVE to a folder, or +FLAGS \\Seen, or +FLAGS \\Deleted and UID EXPUNGE
    A crash anywhere leaves a state the next poll finishes: nothing lost, nothing doubled.

One fetcher per mailbox at a time: a poll takes a lease on the account's row (`polling_until`,
one conditional UPDATE), as the scheduler does for its jobs. Errors (a refused login, a server
that does not answer, a certificate not trusted) are recorded on the account and shown on its
mailbox's admin page; the messages stay on the server.
"""

from __future__ import annotations

import base64
import imaplib
import logging
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from tierline.mail import oauth, rawstore, sealing, services
from tierline.mail.models import ImapAccount, ImapMessage, Inbound, OAuthGrant, RawMessage

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
# UIDs taken per poll: a poll stays well inside its lease; the rest come at the next one.
BATCH = 500
LEASE = timedelta(minutes=15)
State = ImapMessage.State
After = ImapAccount.After
_UNSAFE_IN_NAME = re.compile(r"[\x00-\x1f\x7f]")


class ImapFailure(Exception):
    """The server refused or failed something: the message says what, for the admin page."""


# --- folder names ---------------------------------------------------------------------------


def encode_folder(name: str) -> str:
    """A folder name as IMAP writes it (RFC 3501 modified UTF-7): `Traité` is `Trait&AOk-`."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).rstrip(b"=").replace(b"/", b",").decode() + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def quoted_folder(name: str) -> str:
    """The folder name as one IMAP quoted string (no CR, LF or NUL can reach the command)."""
    if not name or _UNSAFE_IN_NAME.search(name):
        raise ImapFailure(f"{name!r} is not a folder name.")
    encoded = encode_folder(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def validate_account(account: ImapAccount) -> None:
    """The checks of the admin form: a clear message per field, never a 500."""
    errors: dict[str, str] = {}
    for name in ("folder", "move_to"):
        value = getattr(account, name) or ""
        if value and _UNSAFE_IN_NAME.search(value):
            errors[name] = "A folder name cannot hold control characters (line breaks, tabs)."
    if account.after == After.MOVE:
        if not (account.move_to or "").strip():
            errors["move_to"] = "Name the folder processed mail is moved to."
        elif account.move_to.strip() == (account.folder or "").strip():
            errors["move_to"] = "Processed mail must go to another folder than the one read."
    if not 1 <= (account.port or 0) <= 65535:
        errors["port"] = "A port is a number from 1 to 65535."
    if not 1 <= (account.poll_minutes or 0) <= 24 * 60:
        errors["poll_minutes"] = "Poll every 1 to 1440 minutes."
    if _UNSAFE_IN_NAME.search(account.host or "") or " " in (account.host or "").strip():
        errors["host"] = "A server name has no spaces or control characters."
    if account.trusted_certificate.strip():
        try:
            ssl.create_default_context().load_verify_locations(
                cadata=account.trusted_certificate.strip()
            )
        except (ssl.SSLError, ValueError):
            errors["trusted_certificate"] = "This is not a PEM certificate."
    if errors:
        raise ValidationError(errors)


# --- the connection -------------------------------------------------------------------------


def _tls_context(account: ImapAccount) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if account.trusted_certificate.strip():
        context.load_verify_locations(cadata=account.trusted_certificate.strip())
    return context


def _ok(answer: tuple[str, list], what: str) -> list:
    kind, data = answer
    if kind != "OK":
        said = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise ImapFailure(f"{what}: the server answered {kind} {said}".strip())
    return data


@contextmanager
def connect(account: ImapAccount) -> Iterator[imaplib.IMAP4]:
    """A signed-in connection (TLS from the start, or STARTTLS), logged out afterwards."""
    where = f"{account.host}:{account.port}"
    context = _tls_context(account)
    try:
        if account.security == ImapAccount.Security.TLS:
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                account.host, account.port, ssl_context=context, timeout=TIMEOUT_SECONDS
            )
        else:
            conn = imaplib.IMAP4(account.host, account.port, timeout=TIMEOUT_SECONDS)
            try:
                conn.starttls(ssl_context=context)
            except BaseException:
                conn.shutdown()
                raise
    except ssl.SSLCertVerificationError as exc:
        raise ImapFailure(
            f"{where}: the server's certificate is not trusted ({exc.verify_message})"
        ) from None
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ImapFailure(f"could not connect to {where}: {_describe(exc)}") from None
    try:
        if account.oauth_id is not None:
            _sign_in_with_oauth(conn, account)
            yield conn
            return
        try:
            password = sealing.unseal(account.password)
        except sealing.Unreadable as exc:
            raise ImapFailure(str(exc)) from None
        try:
            conn.login(account.username, password)
        except imaplib.IMAP4.error as exc:
            raise ImapFailure(f"sign-in as {account.username} refused: {_describe(exc)}") from None
        except UnicodeEncodeError:
            raise ImapFailure("sign-in: the username and password must be ASCII.") from None
        yield conn
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            conn.logout()


def _sign_in_with_oauth(conn: imaplib.IMAP4, account: ImapAccount) -> None:
    """AUTHENTICATE XOAUTH2 with the grant's access token (refreshed when due). A refused token
    is forgotten, so the next poll asks the provider for a new one."""
    grant = account.oauth
    try:
        token = oauth.access_token(grant)
    except oauth.OAuthFailure as exc:
        raise ImapFailure(f"OAuth2 sign-in ({grant.name}): {exc}") from None
    try:
        conn.authenticate("XOAUTH2", lambda _challenge: oauth.xoauth2(account.username, token))
    except imaplib.IMAP4.error as exc:
        OAuthGrant.objects.filter(pk=grant.pk).update(expires_at=None)
        raise ImapFailure(
            f"XOAUTH2 sign-in as {account.username} refused: {_describe(exc)}"
        ) from None


def _describe(exc: BaseException) -> str:
    text = str(exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text or exc.__class__.__name__


def _capabilities(conn: imaplib.IMAP4) -> frozenset[str]:
    """What the server offers once signed in (imaplib keeps only the greeting's list)."""
    data = _ok(conn.capability(), "CAPABILITY")
    words = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace")
    return frozenset(word.upper() for word in words.split())


def _uidvalidity(conn: imaplib.IMAP4) -> int:
    _, values = conn.response("UIDVALIDITY")
    try:
        return int(values[-1])
    except (TypeError, ValueError, IndexError):
        raise ImapFailure("the server gave the folder no UIDVALIDITY") from None


def _ensure_folder(conn: imaplib.IMAP4, name: str) -> None:
    kind, data = conn.list('""', quoted_folder(name))
    if kind == "OK" and any(item for item in data if item):
        return
    _ok(conn.create(quoted_folder(name)), f"creating the folder {name}")


def _fetch_raw(conn: imaplib.IMAP4, uid: int) -> bytes | None:
    """The message's bytes as the server holds them, without setting \\Seen; None if it is gone."""
    data = _ok(conn.uid("FETCH", str(uid), "(BODY.PEEK[])"), f"fetching UID {uid}")
    for item in data:
        if isinstance(item, tuple) and b"BODY[]" in item[0].upper():
            return item[1]
    return None


# --- one poll -------------------------------------------------------------------------------


@dataclass
class Poll:
    """What one poll of one mailbox did: a line per message and the error, if any."""

    mailbox: str
    lines: list[str] = field(default_factory=list)
    error: str = ""
    busy: bool = False


def fetch(account: ImapAccount) -> Poll:
    """Poll one account now (its lease taken and given back); what it did. Never raises for
    an IMAP or network failure: that is recorded on the account."""
    poll = Poll(mailbox=account.mailbox.name)
    now = timezone.now()
    if not _claim(account, now, due_only=False):
        poll.busy = True
        return poll
    try:
        _poll(account, poll)
    except ImapFailure as exc:
        poll.error = str(exc)
    except Exception as exc:  # a bug or the database: logged, recorded, the mail stays there
        logger.exception("mail: IMAP fetch for %s failed", account.mailbox.name)
        poll.error = f"{exc.__class__.__name__}: {exc}"
    finally:
        _release(account, poll)
    return poll


def poll_due() -> int:
    """The scheduled job: poll every active account whose interval has passed; how many."""
    now = timezone.now()
    due = ImapAccount.objects.filter(
        is_active=True, mailbox__is_active=True, next_poll_at__lte=now
    ).select_related("mailbox")
    polled = 0
    for account in due:
        if not _claim(account, now, due_only=True):
            continue
        poll = Poll(mailbox=account.mailbox.name)
        try:
            _poll(account, poll)
        except ImapFailure as exc:
            poll.error = str(exc)
        except Exception as exc:
            logger.exception("mail: IMAP fetch for %s failed", account.mailbox.name)
            poll.error = f"{exc.__class__.__name__}: {exc}"
        finally:
            _release(account, poll)
        polled += 1
    return polled


def _claim(account: ImapAccount, now: datetime, *, due_only: bool) -> bool:
    """Take the account's lease: one conditional UPDATE, so of two pollers one polls."""
    free = ImapAccount.objects.filter(pk=account.pk).filter(
        Q(polling_until__isnull=True) | Q(polling_until__lte=now)
    )
    if due_only:
        free = free.filter(next_poll_at__lte=now)
    return bool(
        free.update(
            polling_until=now + LEASE,
            last_poll_at=now,
            next_poll_at=now + timedelta(minutes=max(account.poll_minutes, 1)),
        )
    )


def _release(account: ImapAccount, poll: Poll) -> None:
    now = timezone.now()
    if poll.error:
        logger.warning("mail: IMAP %s: %s", account.mailbox.name, poll.error)
        changes = {"last_error": poll.error[:5000], "last_error_at": now}
    else:
        changes = {"last_error": "", "last_success_at": now}
    try:
        ImapAccount.objects.filter(pk=account.pk).update(polling_until=None, **changes)
    except DatabaseError:  # the database is away: the lease runs out by itself
        logger.exception("mail: could not record the IMAP poll of %s", account.mailbox.name)


def _poll(account: ImapAccount, poll: Poll) -> None:
    with connect(account) as conn:
        capabilities = _capabilities(conn)
        _ok(conn.select(quoted_folder(account.folder)), f"opening the folder {account.folder}")
        uidvalidity = _uidvalidity(conn)
        if account.uidvalidity != uidvalidity:
            _new_uidvalidity(account, uidvalidity)
        if account.after == After.MOVE:
            _ensure_folder(conn, account.move_to)
        for row in _unfinished(account):
            poll.lines.append(_finish(conn, account, row, capabilities))
        data = _ok(
            conn.uid("SEARCH", None, "UID", f"{account.last_uid + 1}:*"), "searching new mail"
        )
        # `n:*` always names the highest UID, even below n: only those above the last count.
        uids = sorted(
            {int(word) for word in b" ".join(data).split() if int(word) > account.last_uid}
        )
        for uid in uids[:BATCH]:
            raw = _fetch_raw(conn, uid)
            if raw is None:  # expunged by someone else between the search and the fetch
                poll.lines.append(f"UID {uid}: gone from the server before it was read")
                continue
            row = _store(account, uidvalidity, uid, raw)
            poll.lines.append(_finish(conn, account, row, capabilities))


def _new_uidvalidity(account: ImapAccount, uidvalidity: int) -> None:
    """The folder was recreated or renumbered: read it again from the start."""
    note = ""
    if account.uidvalidity is not None:
        note = (
            f"{timezone.now():%Y-%m-%d %H:%M} UTC: the folder's UIDVALIDITY changed from "
            f"{account.uidvalidity} to {uidvalidity}; it was read again from its first "
            "message (mail already stored was recognised, not ticketed twice).\n"
        )
    ImapAccount.objects.filter(pk=account.pk).update(
        uidvalidity=uidvalidity, last_uid=0, notes=(note + account.notes)[:20000]
    )
    account.uidvalidity, account.last_uid = uidvalidity, 0


def _unfinished(account: ImapAccount) -> list[ImapMessage]:
    """UIDs of this folder stored but not yet settled, oldest first. Those under an older
    UIDVALIDITY cannot be found by UID any more: processed, and left to the re-read."""
    rows = ImapMessage.objects.filter(account=account).exclude(state=State.DONE).order_by("uid")
    current = []
    for row in rows:
        if row.uidvalidity == account.uidvalidity:
            current.append(row)
        else:
            _process(row)
            ImapMessage.objects.filter(pk=row.pk).update(state=State.DONE, done_at=timezone.now())
    return current


def _store(account: ImapAccount, uidvalidity: int, uid: int, raw: bytes) -> ImapMessage:
    """The raw message, its rows and its UID bookkeeping, in one commit, before any flag."""
    with transaction.atomic():
        stored = services.store(raw, source=RawMessage.Source.IMAP, mailbox=account.mailbox)
        first = stored.inbound.raw
        row, _ = ImapMessage.objects.get_or_create(
            account=account,
            uidvalidity=uidvalidity,
            uid=uid,
            defaults={"raw": first, "sha256": rawstore.digest(raw), "message_id": first.message_id},
        )
        ImapAccount.objects.filter(pk=account.pk, last_uid__lt=uid).update(last_uid=uid)
    account.last_uid = max(account.last_uid, uid)
    return row


def _process(row: ImapMessage) -> Inbound:
    inbound = Inbound.objects.select_related("ticket", "raw").get(raw_id=row.raw_id)
    if inbound.outcome == Inbound.Outcome.PENDING:
        inbound = services.process(inbound.pk)
    return inbound


def _finish(
    conn: imaplib.IMAP4, account: ImapAccount, row: ImapMessage, capabilities: frozenset[str]
) -> str:
    """Process a stored UID (once) and settle it on the server; its line."""
    inbound = _process(row)
    if row.state == State.STORED:
        ImapMessage.objects.filter(pk=row.pk).update(state=State.PROCESSED)
    line = inbound.line
    if row.sha256 != inbound.raw.sha256 or inbound.raw.imap_messages.exclude(pk=row.pk).exists():
        line = f"ignored: duplicate of {inbound.raw.message_id or inbound.raw.sha256[:12]}"
    settle(conn, account, row.uid, capabilities)
    ImapMessage.objects.filter(pk=row.pk).update(state=State.DONE, done_at=timezone.now())
    return f"UID {row.uid}: {line}"


def settle(
    conn: imaplib.IMAP4, account: ImapAccount, uid: int, capabilities: frozenset[str]
) -> None:
    """What the account says to do with a processed message, by UID (a UID no longer there is
    no error: it was settled before a crash)."""
    number = str(uid)
    if account.after == After.SEEN:
        _ok(conn.uid("STORE", number, "+FLAGS.SILENT", r"(\Seen)"), f"flagging UID {uid}")
        return
    if account.after == After.MOVE:
        target = quoted_folder(account.move_to)
        if "MOVE" in capabilities:
            _ok(conn.uid("MOVE", number, target), f"moving UID {uid} to {account.move_to}")
            return
        _ok(conn.uid("COPY", number, target), f"copying UID {uid} to {account.move_to}")
    _ok(conn.uid("STORE", number, "+FLAGS.SILENT", r"(\Deleted)"), f"deleting UID {uid}")
    if "UIDPLUS" in capabilities:
        _ok(conn.uid("EXPUNGE", number), f"expunging UID {uid}")
    # Without UIDPLUS the message stays flagged \Deleted: a plain EXPUNGE would also remove
    # what someone else flagged, so the server's own expunge is left to do it.


# --- for the command ------------------------------------------------------------------------


def accounts(name: str = "") -> list[ImapAccount]:
    """The active IMAP accounts (of the mailbox named `name`, if given)."""
    found = ImapAccount.objects.filter(is_active=True, mailbox__is_active=True)
    if name:
        found = found.filter(mailbox__name=name)
    return list(found.select_related("mailbox").order_by("mailbox__name"))
