"""IMAP intake: each mailbox's folder polled with the standard library's `imaplib`, every new UID
stored and committed before anything changes on the server.

    1. SELECT the folder; its UIDVALIDITY. Changed since the last poll: the UIDs we know mean
       nothing now, so the folder is read again from its first message (the gateway knows the
       ones it already has by their bytes or Message-ID: no second ticket) and a note says so.
    2. Finish what an earlier run left (a crash, a server that went away): UIDs stored but not
       processed are processed; UIDs processed but not moved or flagged are settled.
    3. `UID SEARCH UID <last+1>:*`, then the sizes of the first `BATCH` new UIDs (one
       `UID FETCH (RFC822.SIZE)`), cut into batches of up to `FETCH_BATCH` messages and
       `FETCH_BYTES` bytes. For each batch, oldest first:
         one `UID FETCH <set> (BODY.PEEK[])` (PEEK: fetching sets no \\Seen)
         per message, one transaction: raw on disk (fsync), RawMessage + Inbound (pending) +
             ImapMessage (UIDVALIDITY, UID, sha256, Message-ID) + the folder's last UID;
             then it is processed (`services.process`: the ticket and the outcome commit
             together)
         then the whole batch, by UID set, in one command: UID MOVE to a folder (COPY +
             STORE \\Deleted + UID EXPUNGE without MOVE), or +FLAGS \\Seen, or +FLAGS
             \\Deleted and UID EXPUNGE; then its rows are marked done in one UPDATE
    A crash anywhere leaves a state the next poll finishes: nothing lost, nothing doubled.
    Without MOVE, a crash between the COPY and the expunge leaves rows processed whose copy
    may already be in the move-to folder: the next poll looks there (EXAMINE, UID SEARCH by
    Message-ID or size, the same sha256) and copies only the ones not found, never twice.

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
from collections.abc import Iterable, Iterator
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
# Messages fetched by one UID FETCH, and settled (moved, flagged) by one command: at most this
# many, and at most this many bytes held in memory (a message larger than that comes alone).
FETCH_BATCH = 50
FETCH_BYTES = 20 * 1024 * 1024
LEASE = timedelta(minutes=15)
State = ImapMessage.State
After = ImapAccount.After
_UNSAFE_IN_NAME = re.compile(r"[\x00-\x1f\x7f]")
_UID = re.compile(rb"\bUID (\d+)", re.IGNORECASE)
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)", re.IGNORECASE)


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


def uid_set(uids: Iterable[int]) -> str:
    """UIDs as one IMAP sequence set, runs written as ranges: 1, 2, 3, 7 is `1:3,7`."""
    ordered = sorted(set(uids))
    if not ordered:
        raise ValueError("an empty UID set")
    runs: list[str] = []
    start = end = ordered[0]
    for uid in ordered[1:]:
        if uid == end + 1:
            end = uid
            continue
        runs.append(str(start) if start == end else f"{start}:{end}")
        start = end = uid
    runs.append(str(start) if start == end else f"{start}:{end}")
    return ",".join(runs)


def _sizes(conn: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
    """Each UID's size in bytes (one UID FETCH), to cut the batches; a UID gone is absent."""
    data = _ok(conn.uid("FETCH", uid_set(uids), "(RFC822.SIZE)"), "reading message sizes")
    sizes: dict[int, int] = {}
    for item in data:
        head = item[0] if isinstance(item, tuple) else item
        if not isinstance(head, bytes):
            continue
        uid, size = _UID.search(head), _SIZE.search(head)
        if uid and size:
            sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def batches(uids: list[int], sizes: dict[int, int]) -> Iterator[list[int]]:
    """`uids` in order, cut into runs of at most FETCH_BATCH messages and FETCH_BYTES bytes."""
    batch: list[int] = []
    held = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if batch and (len(batch) >= FETCH_BATCH or held + size > FETCH_BYTES):
            yield batch
            batch, held = [], 0
        batch.append(uid)
        held += size
    if batch:
        yield batch


def _fetch_raws(conn: imaplib.IMAP4, uids: list[int]) -> dict[int, bytes]:
    """The messages' bytes as the server holds them, by UID, in one UID FETCH, without setting
    \\Seen; a UID expunged meanwhile is absent. The UID may come before the literal or after
    it (`* 3 FETCH (BODY[] {n}...  UID 7)`): both are read."""
    wanted = set(uids)
    data = _ok(conn.uid("FETCH", uid_set(uids), "(BODY.PEEK[])"), f"fetching UIDs {uid_set(uids)}")
    found: dict[int, bytes] = {}
    waiting: bytes | None = None  # a body whose UID follows its literal
    for item in data:
        if isinstance(item, tuple):
            head, body = item[0], item[1]
            waiting = None
            if b"BODY[]" not in head.upper():
                continue
            uid = _UID.search(head)
            if uid is None:
                waiting = body
            elif int(uid.group(1)) in wanted:
                found[int(uid.group(1))] = body
        elif isinstance(item, bytes) and waiting is not None:
            uid = _UID.search(item)
            if uid is not None and int(uid.group(1)) in wanted:
                found[int(uid.group(1))] = waiting
            waiting = None
    return found


# --- one poll -------------------------------------------------------------------------------


@dataclass
class Poll:
    """What one poll of one mailbox did: a line per message and the error, if any."""

    mailbox: str
    lines: list[str] = field(default_factory=list)
    error: str = ""
    busy: bool = False


def fetch(account: ImapAccount, *, conn: imaplib.IMAP4 | None = None) -> Poll:
    """Poll one account now (its lease taken and given back); what it did. Never raises for
    an IMAP or network failure: that is recorded on the account. `conn`: a signed-in
    connection to use (the IDLE watcher's), left open; else one is opened and closed."""
    poll = Poll(mailbox=account.mailbox.name)
    now = timezone.now()
    if not _claim(account, now, due_only=False):
        poll.busy = True
        return poll
    try:
        if conn is None:
            _poll(account, poll)
        else:
            _poll_on(conn, account, poll)
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
        _poll_on(conn, account, poll)


def _poll_on(conn: imaplib.IMAP4, account: ImapAccount, poll: Poll) -> None:
    capabilities = _capabilities(conn)
    _ok(conn.select(quoted_folder(account.folder)), f"opening the folder {account.folder}")
    uidvalidity = _uidvalidity(conn)
    if account.uidvalidity != uidvalidity:
        _new_uidvalidity(account, uidvalidity)
    if account.after == After.MOVE:
        _ensure_folder(conn, account.move_to)
    unfinished = _unfinished(account)
    for start in range(0, len(unfinished), FETCH_BATCH):
        rows = unfinished[start : start + FETCH_BATCH]
        # Processed before this poll: an earlier run may have copied them already.
        maybe_copied = [row for row in rows if row.state == State.PROCESSED]
        poll.lines.extend(_process_batch(rows))
        copied: set[int] = set()
        if maybe_copied and account.after == After.MOVE and "MOVE" not in capabilities:
            copied = _already_copied(conn, account, maybe_copied, uidvalidity)
        _settle_batch(conn, account, rows, capabilities, copied=copied)
    data = _ok(conn.uid("SEARCH", None, "UID", f"{account.last_uid + 1}:*"), "searching new mail")
    # `n:*` always names the highest UID, even below n: only those above the last count.
    uids = sorted({int(word) for word in b" ".join(data).split() if int(word) > account.last_uid})
    uids = uids[:BATCH]
    if not uids:
        return
    for batch in batches(uids, _sizes(conn, uids)):
        raws = _fetch_raws(conn, batch)
        rows: list[ImapMessage] = []
        for uid in batch:
            raw = raws.pop(uid, None)
            if raw is None:  # expunged by someone else between the search and the fetch
                poll.lines.append(f"UID {uid}: gone from the server before it was read")
                continue
            rows.append(_store(account, uidvalidity, uid, raw))
            poll.lines.extend(_process_batch(rows[-1:]))
        if rows:
            _settle_batch(conn, account, rows, capabilities)


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


def _process_batch(rows: list[ImapMessage]) -> list[str]:
    """Process stored UIDs (each once: `services.process` commits the ticket with the
    outcome) and mark them processed in one UPDATE; a line each."""
    lines = []
    for row in rows:
        inbound = _process(row)
        line = inbound.line
        if (
            row.sha256 != inbound.raw.sha256
            or inbound.raw.imap_messages.exclude(pk=row.pk).exists()
        ):
            line = f"ignored: duplicate of {inbound.raw.message_id or inbound.raw.sha256[:12]}"
        lines.append(f"UID {row.uid}: {line}")
    stored = [row.pk for row in rows if row.state == State.STORED]
    if stored:
        ImapMessage.objects.filter(pk__in=stored).update(state=State.PROCESSED)
        for row in rows:
            row.state = State.PROCESSED
    return lines


def _settle_batch(
    conn: imaplib.IMAP4,
    account: ImapAccount,
    rows: list[ImapMessage],
    capabilities: frozenset,
    *,
    copied: Iterable[int] = (),
) -> None:
    """Settle processed rows on the server in one command (by UID set), then mark them done."""
    settle(conn, account, [row.uid for row in rows], capabilities, copied=copied)
    ImapMessage.objects.filter(pk__in=[row.pk for row in rows]).update(
        state=State.DONE, done_at=timezone.now()
    )


def settle(
    conn: imaplib.IMAP4,
    account: ImapAccount,
    uids: list[int],
    capabilities: frozenset[str],
    *,
    copied: Iterable[int] = (),
) -> None:
    """What the account says to do with processed messages, by UID set, one command each step
    (a UID no longer there is no error: it was settled before a crash). `copied`: UIDs whose
    copy is already in the move-to folder (COPY without MOVE, a crash before the expunge):
    not copied again, only deleted."""
    numbers = uid_set(uids)
    what = f"UID {numbers}" if len(uids) == 1 else f"UIDs {numbers}"
    if account.after == After.SEEN:
        _ok(conn.uid("STORE", numbers, "+FLAGS.SILENT", r"(\Seen)"), f"flagging {what}")
        return
    if account.after == After.MOVE:
        target = quoted_folder(account.move_to)
        if "MOVE" in capabilities:
            _ok(conn.uid("MOVE", numbers, target), f"moving {what} to {account.move_to}")
            return
        to_copy = sorted(set(uids) - set(copied))
        if to_copy:
            _ok(
                conn.uid("COPY", uid_set(to_copy), target),
                f"copying UIDs {uid_set(to_copy)} to {account.move_to}",
            )
    _ok(conn.uid("STORE", numbers, "+FLAGS.SILENT", r"(\Deleted)"), f"deleting {what}")
    if "UIDPLUS" in capabilities:
        _ok(conn.uid("EXPUNGE", numbers), f"expunging {what}")
    # Without UIDPLUS the messages stay flagged \Deleted: a plain EXPUNGE would also remove
    # what someone else flagged, so the server's own expunge is left to do it.


def _search_key(row: ImapMessage) -> list[str]:
    """The UID SEARCH criteria that find a copy of `row` in another folder: its Message-ID
    header when it has one that can be written as an IMAP string, else its exact size."""
    message_id = row.message_id
    if message_id and message_id.isascii() and not _UNSAFE_IN_NAME.search(message_id):
        quoted = '"' + message_id.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return ["HEADER", "Message-ID", quoted]
    size = row.raw.size
    return ["LARGER", str(max(size - 1, 0)), "SMALLER", str(size + 1)]


def _already_copied(
    conn: imaplib.IMAP4, account: ImapAccount, rows: list[ImapMessage], uidvalidity: int
) -> set[int]:
    """The UIDs of `rows` (processed by an earlier run that may have died between its COPY and
    its expunge) whose copy is already in the move-to folder: found there by Message-ID (or
    size), then the same bytes (sha256). The folder is looked at read-only (EXAMINE), then
    the read folder selected again; its UIDVALIDITY changed meanwhile is a failure (the next
    poll rereads it). Byte-identical messages are counted: the copies of those bytes found
    there stand first for the account's rows already done with the same bytes (settled
    before: their copies), then for these rows by UID; a row left without a copy is copied."""
    found: set[int] = set()
    kind, _ = conn.select(quoted_folder(account.move_to), readonly=True)
    if kind == "OK":
        by_bytes: dict[str, list[ImapMessage]] = {}
        for row in rows:
            by_bytes.setdefault(row.sha256, []).append(row)
        for sha256, same in by_bytes.items():
            data = _ok(conn.uid("SEARCH", None, *_search_key(same[0])), "looking for a copy")
            candidates = sorted({int(word) for word in b" ".join(d or b"" for d in data).split()})
            if not candidates:
                continue
            bodies = _fetch_raws(conn, candidates)
            copies = sum(1 for body in bodies.values() if rawstore.digest(body) == sha256)
            settled_before = (
                ImapMessage.objects.filter(account=account, sha256=sha256, state=State.DONE)
                .exclude(pk__in=[row.pk for row in same])
                .count()
            )
            for row in sorted(same, key=lambda r: r.uid)[: max(copies - settled_before, 0)]:
                found.add(row.uid)
    _ok(conn.select(quoted_folder(account.folder)), f"opening the folder {account.folder}")
    if _uidvalidity(conn) != uidvalidity:
        raise ImapFailure(f"the folder {account.folder}'s UIDVALIDITY changed during the poll")
    return found


# --- for the command ------------------------------------------------------------------------


def accounts(name: str = "") -> list[ImapAccount]:
    """The active IMAP accounts (of the mailbox named `name`, if given)."""
    found = ImapAccount.objects.filter(is_active=True, mailbox__is_active=True)
    if name:
        found = found.filter(mailbox__name=name)
    return list(found.select_related("mailbox").order_by("mailbox__name"))
