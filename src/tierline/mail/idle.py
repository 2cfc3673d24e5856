"""IMAP IDLE (RFC 2177): mail fetched by IMAP reaches its ticket within seconds, not at the
next poll.

One watcher thread per active account whose server offers IDLE. Its own connection
(`imap.connect`, so the same TLS and sign-in, XOAUTH2 included) EXAMINEs the folder and IDLEs;
when the server says EXISTS or RECENT it ends the IDLE (DONE) and calls `imap.fetch(account)`,
which does all the bookkeeping under the account's lease, as the poller does. A busy lease
(a poll is running) is tried again every `BUSY_RETRY` seconds, so a message that arrived
during that poll does not wait for the next one. The IDLE is renewed every 25 minutes
(servers end it after 30); an error is recorded on the account like a poll error and the
watcher reconnects with back-off; a server without IDLE is left to the poller.

`imaplib` (Python 3.11) has no idle(). It is written here on imaplib's own connection, with
care for its buffered reader: a socket timeout inside `makefile()`'s reader poisons it, and
select() on the socket cannot see bytes the reader (or TLS) already holds. So before waiting,
the reader is asked for buffered bytes without blocking (socket timeout 0: "nothing" comes
back as BlockingIOError or SSLWantReadError, which leaves the reader intact), and only then
does select() wait on the socket, in slices short enough to notice a stop.
"""

from __future__ import annotations

import imaplib
import logging
import re
import select
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from tierline.mail import imap
from tierline.mail.models import ImapAccount

logger = logging.getLogger(__name__)

REIDLE_SECONDS = 25 * 60
BUSY_RETRY = 1.0
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 300.0
# How often a waiting watcher looks at its stop flag.
SLICE = 0.5
_NEW_MAIL = re.compile(rb"^\* \d+ (EXISTS|RECENT)\b", re.IGNORECASE)
_LITERAL = re.compile(rb"\{(\d+)\+?\}\r?\n$")

Say = Callable[[str], None]


class NoIdle(Exception):
    """The server does not offer IDLE: the account stays with the poller."""


class Gone(Exception):
    """The account was deleted or made inactive: its watcher ends."""


def _quiet(_line: str) -> None:
    return None


# --- IDLE on imaplib ------------------------------------------------------------------------


def _buffered(conn: imaplib.IMAP4) -> bool:
    """Whether bytes already wait in imaplib's reader (or TLS's), without blocking."""
    sock = conn.sock
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    previous = sock.gettimeout()
    sock.settimeout(0)
    try:
        return bool(conn.file.peek(1))
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    finally:
        sock.settimeout(previous)


def _readable(conn: imaplib.IMAP4, seconds: float) -> bool:
    if _buffered(conn):
        return True
    ready, _, _ = select.select([conn.sock], [], [], max(seconds, 0))
    return bool(ready)


def _response(conn: imaplib.IMAP4) -> bytes:
    """One whole response line (literals read and kept inline); the connection's end is an
    error."""
    line = conn.readline()
    if not line:
        raise imap.ImapFailure("the server closed the connection")
    whole = line
    while (literal := _LITERAL.search(line)) is not None:
        whole += conn.read(int(literal.group(1)))
        line = conn.readline()
        if not line:
            raise imap.ImapFailure("the server closed the connection")
        whole += line
    if whole.upper().startswith(b"* BYE"):
        said = whole.decode("utf-8", "replace").strip()
        raise imap.ImapFailure(f"the server ended the session: {said}")
    return whole


class _Tags:
    def __init__(self) -> None:
        self.n = 0

    def next(self) -> bytes:
        self.n += 1
        return b"TLI%d" % self.n


def idle(conn: imaplib.IMAP4, tags: _Tags, *, seconds: float, stop: threading.Event) -> bool:
    """One IDLE of at most `seconds`: True when the server announced new mail (EXISTS or
    RECENT), False when the time ran out or `stop` was set. The IDLE is ended (DONE, tagged
    OK read) before this returns, so the connection can be used again."""
    tag = tags.next()
    conn.send(tag + b" IDLE\r\n")
    new_mail = False
    while True:  # the continuation; untagged updates may come first
        line = _response(conn)
        if line.startswith(b"+"):
            break
        if line.startswith(tag):
            said = line.decode("utf-8", "replace").strip()
            raise imap.ImapFailure(f"IDLE refused: {said}")
        new_mail = new_mail or bool(_NEW_MAIL.match(line))
    deadline = time.monotonic() + seconds
    while not new_mail and not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            break
        if _readable(conn, min(left, SLICE)):
            new_mail = bool(_NEW_MAIL.match(_response(conn)))
    conn.send(b"DONE\r\n")
    while True:
        line = _response(conn)
        if line.startswith(tag + b" "):
            if not line[len(tag) + 1 :].upper().startswith(b"OK"):
                said = line.decode("utf-8", "replace").strip()
                raise imap.ImapFailure(f"ending IDLE: {said}")
            return new_mail
        new_mail = new_mail or bool(_NEW_MAIL.match(line))


# --- a watcher per account ------------------------------------------------------------------


@dataclass
class Watcher:
    """Watches one account's folder until `stop` is set; says what it does through `say`."""

    account_id: int
    stop: threading.Event
    say: Say = _quiet
    name: str = ""
    no_idle: bool = False

    def run(self) -> None:
        backoff = BACKOFF_FIRST
        try:
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    self._session()
                except (Gone, NoIdle):
                    return
                except (imap.ImapFailure, OSError, imaplib.IMAP4.error, EOFError) as exc:
                    self._failed(f"IDLE: {imap._describe(exc)}")
                except DatabaseError as exc:
                    self._failed(f"IDLE: database error: {exc}", record=False)
                except Exception as exc:  # a bug: logged, and the watcher carries on
                    logger.exception("mail: IDLE watcher for %s failed", self.name)
                    self._failed(f"IDLE: {exc.__class__.__name__}: {exc}")
                if time.monotonic() - started > 60:
                    backoff = BACKOFF_FIRST  # it had been working: the first retry is quick
                self.stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
        finally:
            connection.close()

    def _account(self) -> ImapAccount:
        close_old_connections()
        account = (
            ImapAccount.objects.select_related("mailbox", "oauth")
            .filter(pk=self.account_id, is_active=True, mailbox__is_active=True)
            .first()
        )
        if account is None:
            self.say(f"{self.name}: no longer active, not watched")
            raise Gone
        self.name = account.mailbox.name
        return account

    def _session(self) -> None:
        account = self._account()
        tags = _Tags()
        with imap.connect(account) as conn:
            if "IDLE" not in imap._capabilities(conn):
                self.no_idle = True
                self.say(f"{self.name}: the server offers no IDLE; left to polling")
                raise NoIdle
            imap._ok(
                conn.select(imap.quoted_folder(account.folder), readonly=True),
                f"opening the folder {account.folder}",
            )
            self._fetch()  # what came while nobody watched
            self.say(f"{self.name}: watching {account.folder} (IDLE)")
            while not self.stop.is_set():
                if idle(conn, tags, seconds=REIDLE_SECONDS, stop=self.stop):
                    self._fetch()
                elif not self.stop.is_set():
                    self._account()  # renewing: still active?

    def _fetch(self) -> None:
        """Fetch now; while another fetch holds the lease, try again shortly."""
        while not self.stop.is_set():
            poll = imap.fetch(self._account())
            if not poll.busy:
                for line in poll.lines:
                    self.say(f"{poll.mailbox} {line}")
                if poll.error:
                    self.say(f"{poll.mailbox}: not fetched: {poll.error}")
                return
            self.stop.wait(BUSY_RETRY)

    def _failed(self, error: str, *, record: bool = True) -> None:
        logger.warning("mail: %s: %s", self.name or self.account_id, error)
        self.say(f"{self.name or self.account_id}: {error}")
        if not record:
            return
        try:
            ImapAccount.objects.filter(pk=self.account_id).update(
                last_error=error[:5000], last_error_at=timezone.now()
            )
        except DatabaseError:
            logger.exception("mail: could not record the IDLE error of %s", self.name)


class Watchers:
    """The watcher threads of the active IMAP accounts (of one mailbox, if named); `sync()`
    starts one for an account that has none (call it now and then to pick up new ones)."""

    def __init__(self, mailbox: str = "", say: Say = _quiet) -> None:
        self.mailbox = mailbox
        self.say = say
        self.stop = threading.Event()
        self.threads: dict[int, tuple[Watcher, threading.Thread]] = {}
        self.keeper: threading.Thread | None = None

    def sync(self) -> int:
        """Start watchers for the accounts that have none (or whose watcher ended because the
        account was inactive); how many accounts are watched or being tried."""
        for account in imap.accounts(self.mailbox):
            current = self.threads.get(account.pk)
            if current is not None and (current[1].is_alive() or current[0].no_idle):
                continue
            watcher = Watcher(
                account_id=account.pk, stop=self.stop, say=self.say, name=account.mailbox.name
            )
            thread = threading.Thread(
                target=watcher.run, name=f"imap-idle-{account.pk}", daemon=True
            )
            self.threads[account.pk] = (watcher, thread)
            thread.start()
        return sum(1 for _, thread in self.threads.values() if thread.is_alive())

    def close(self, timeout: float = 10.0) -> None:
        """Stop every watcher and wait for them (each ends its IDLE and logs out)."""
        self.stop.set()
        deadline = time.monotonic() + timeout
        threads = [thread for _, thread in self.threads.values()]
        for thread in [*threads, *([self.keeper] if self.keeper else [])]:
            thread.join(timeout=max(deadline - time.monotonic(), 0.1))


def run_in_background(say: Say = _quiet, *, rescan: float = 60.0) -> Watchers:
    """The watchers for the worker (`TIERLINE_MAIL_IDLE=1`): started now, new accounts picked
    up every `rescan` seconds, all stopped by `close()`."""
    watchers = Watchers(say=say)

    def keep() -> None:
        try:
            while not watchers.stop.is_set():
                try:
                    watchers.sync()
                except DatabaseError as exc:
                    say(f"IMAP IDLE: accounts not read: database error: {exc}")
                watchers.stop.wait(rescan)
        finally:
            connection.close()

    watchers.keeper = threading.Thread(target=keep, name="imap-idle", daemon=True)
    watchers.keeper.start()
    return watchers
