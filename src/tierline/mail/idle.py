"""IMAP IDLE (RFC 2177): mail fetched by IMAP reaches its ticket within seconds, not at the
next poll.

One watcher thread per active account whose server offers IDLE, on one connection of its own
(`imap.connect`, so the same TLS and sign-in, XOAUTH2 included) that it also fetches on: it
fetches what is already there (`imap.fetch(account, conn=...)`: SELECT, the bookkeeping under
the account's lease, as the poller does), IDLEs on the selected folder, and when the server
says EXISTS or RECENT it ends the IDLE (DONE), fetches on the same connection, and IDLEs
again; no sign-in per message. A fetch is repeated while it brought mail or the server
announced more during it (imaplib keeps those announcements, IDLE would not see them again).
A busy lease (a poll is running) is tried again every `BUSY_RETRY` seconds, so a message that
arrived during that poll does not wait for the next one. The IDLE is renewed every 25 minutes
(servers end it after 30); an error is recorded on the account like a poll error and the
watcher reconnects with back-off on a new connection; a server without IDLE is left to the
poller.

The heartbeat on the account (`idle_state`, `idle_heartbeat_at`, `idle_since`, `idle_by`,
`idle_error`) is also a lease: one watcher per account IDLEs, whatever the number of workers.
A watcher first claims the account (one conditional UPDATE: free when nobody holds it, when
the holder stopped or found no IDLE, or when its heartbeat is older than `STALE`), naming
itself in `idle_by` (host, pid and a watcher number, so two in one process differ; a holder
named by this host whose pid has ended is free too: a worker killed and restarted does not
wait for `STALE`). Only the
holder writes the heartbeat, and every write is conditional on `idle_by` still naming it:
when it starts watching, every `HEARTBEAT_SECONDS` while it idles, fetches or waits to
reconnect, after each fetch, on an error, and when it stops. A write that finds another name
there means its lease was taken (it had fallen silent for `STALE`): it ends its IDLE and stands
by. Another watcher for the same account (a second worker, `tierline mail idle` beside the
worker) stands by: it tries the claim every `STANDBY_SECONDS`, so it takes over within seconds
of a stop and within `STALE` of a crash, and it writes nothing of the lease; only its own name
and time in `idle_standby_by` / `idle_standby_at` at each round (cleared when it takes over or
stops), so the health page and the admin show the standby too (`standby_of`; with several
standing by, the last to write). Before this lease two watchers
wrote the same row: a standing-by or reconnecting watcher's bare heartbeat kept the state
another had written ("watching") fresh after that one died, and one stopping wrote "stopped"
over the other that still watched. The health page (`mail.idle` in mail/health.py) reads the
row from the database, since the watchers run in the worker or `tierline mail idle` and the
page in `tierline serve`: a heartbeat older than `STALE` while TIERLINE_MAIL_IDLE is on means
no watcher is running for that mailbox.

`imaplib` (Python 3.11) has no idle(). It is written here on imaplib's own connection, with
care for its buffered reader: a socket timeout inside `makefile()`'s reader poisons it, and
select() on the socket cannot see bytes the reader (or TLS) already holds. So before waiting,
the reader is asked for buffered bytes without blocking (socket timeout 0: "nothing" comes
back as BlockingIOError or SSLWantReadError, which leaves the reader intact), and only then
does select() wait on the socket, in slices short enough to notice a stop.
"""

from __future__ import annotations

import imaplib
import itertools
import logging
import os
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Q
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
# How often a watcher writes its heartbeat; older than STALE, the health page says it is not
# running.
HEARTBEAT_SECONDS = 60.0
STALE = timedelta(minutes=5)
# How often a watcher standing by (another holds the account) tries to take it over.
STANDBY_SECONDS = 15.0
IdleState = ImapAccount.IdleState


def _within_stale(moment: datetime | None, now: datetime | None) -> bool:
    return moment is not None and (now or timezone.now()) - moment <= STALE


def heard_lately(account: ImapAccount, now: datetime | None = None) -> bool:
    """Whether the account's watcher wrote its heartbeat within `STALE` (its lease holds):
    what the health page and the mailbox admin both read."""
    return _within_stale(account.idle_heartbeat_at, now)


def standby_of(account: ImapAccount, now: datetime | None = None) -> str:
    """The watcher standing by for the account (another holds the lease), if it said so within
    `STALE` (it writes at every round, `STANDBY_SECONDS`); "" when none is."""
    if account.idle_standby_by and _within_stale(account.idle_standby_at, now):
        return account.idle_standby_by
    return ""


_NEW_MAIL = re.compile(rb"^\* \d+ (EXISTS|RECENT)\b", re.IGNORECASE)
_LITERAL = re.compile(rb"\{(\d+)\+?\}\r?\n$")

Say = Callable[[str], None]


class NoIdle(Exception):
    """The server does not offer IDLE: the account stays with the poller."""


class Gone(Exception):
    """The account was deleted or made inactive: its watcher ends."""


class LostLease(Exception):
    """Another watcher holds the account now (this one fell silent for `STALE`): this one ends
    its session and stands by."""


class FetchFailed(Exception):
    """A fetch on the watcher's connection failed (recorded on the account by the fetch): the
    connection is dropped and a new one made after the back-off."""


def enabled() -> bool:
    """Whether the worker runs the watchers (TIERLINE_MAIL_IDLE=1)."""
    return os.environ.get("TIERLINE_MAIL_IDLE", "").strip().lower() in {"1", "true", "yes", "on"}


_serial = itertools.count(1)
_HOLDER = re.compile(r"^(?P<host>.+) pid (?P<pid>\d+) watcher \d+$")


def _identity() -> str:
    """Who a watcher is, for its lease and the admin: host, pid and its number in the process."""
    return f"{socket.gethostname()[:150]} pid {os.getpid()} watcher {next(_serial)}"


def _dead_here(holder: str) -> bool:
    """Whether `holder` names a watcher of another process on this host that has ended (a
    worker killed and restarted: its lease need not wait for `STALE`). A pid reused by
    another process counts as alive: the lease then waits for `STALE`."""
    found = _HOLDER.match(holder)
    if found is None or found["host"] != socket.gethostname()[:150]:
        return False
    pid = int(found["pid"])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, OSError):
        return False
    return False


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


def idle(
    conn: imaplib.IMAP4,
    tags: _Tags,
    *,
    seconds: float,
    stop: threading.Event,
    tick: Callable[[], bool] | None = None,
    every: float = HEARTBEAT_SECONDS,
) -> bool:
    """One IDLE of at most `seconds`: True when the server announced new mail (EXISTS or
    RECENT), False when the time ran out, `stop` was set or `tick` said False; `tick` is
    called every `every` seconds meanwhile (the heartbeat). The IDLE is ended (DONE, tagged
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
    next_tick = time.monotonic() + every
    while not new_mail and not stop.is_set():
        now = time.monotonic()
        left = deadline - now
        if left <= 0:
            break
        if tick is not None and now >= next_tick:
            if not tick():
                break
            next_tick = now + every
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
    """Watches one account's folder until `stop` is set, while it holds the account's lease
    (else it stands by); says what it does through `say`."""

    account_id: int
    stop: threading.Event
    say: Say = _quiet
    name: str = ""
    no_idle: bool = False
    me: str = field(default_factory=_identity)
    holding: bool = False
    standing_by: bool = False
    _last_beat: float = 0.0

    def run(self) -> None:
        backoff = BACKOFF_FIRST
        try:
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    if not self._claim():
                        self._stand_by()
                        continue
                    self._session()
                except (Gone, NoIdle):
                    return
                except LostLease:
                    self.say(f"{self.name}: another watcher took the mailbox over; standing by")
                    self.holding = False
                    continue
                except FetchFailed as exc:  # the fetch wrote it on the account already
                    self._failed(f"IDLE: fetch failed: {exc}", on_account=False)
                except (imap.ImapFailure, OSError, imaplib.IMAP4.error, EOFError) as exc:
                    self._failed(f"IDLE: {imap._describe(exc)}")
                except DatabaseError as exc:
                    self._failed(f"IDLE: database error: {exc}", on_account=False)
                except Exception as exc:  # a bug: logged, and the watcher carries on
                    logger.exception("mail: IDLE watcher for %s failed", self.name)
                    self._failed(f"IDLE: {exc.__class__.__name__}: {exc}")
                if time.monotonic() - started > 60:
                    backoff = BACKOFF_FIRST  # it had been working: the first retry is quick
                self._wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
        finally:
            if self.holding and not self.no_idle:
                self._beat(IdleState.STOPPED)
            if self.standing_by:
                self._not_standing_by()
            connection.close()

    # --- the lease ---------------------------------------------------------------------------

    def _claim(self) -> bool:
        """Hold the account's lease: kept if this watcher holds it (the heartbeat renewed),
        else taken when it is free (nobody, stopped, no IDLE, or silent for `STALE`)."""
        close_old_connections()
        now = timezone.now()
        mine = ImapAccount.objects.filter(pk=self.account_id, idle_by=self.me)
        if self.holding and mine.update(idle_heartbeat_at=now):
            self._last_beat = time.monotonic()
            return True
        free = (
            Q(idle_by="")
            | Q(idle_by=self.me)
            | Q(idle_heartbeat_at__isnull=True)
            | Q(idle_heartbeat_at__lt=now - STALE)
            | Q(idle_state__in=["", IdleState.STOPPED, IdleState.UNSUPPORTED])
        )
        holder = (
            ImapAccount.objects.filter(pk=self.account_id).values_list("idle_by", flat=True).first()
        )
        if holder and _dead_here(holder):
            free |= Q(idle_by=holder)
        taken = (
            ImapAccount.objects.filter(pk=self.account_id)
            .filter(free)
            .update(
                idle_by=self.me,
                idle_state=IdleState.CONNECTING,
                idle_heartbeat_at=now,
                idle_since=None,
            )
        )
        self.holding = bool(taken)
        if self.holding:
            self._last_beat = time.monotonic()
            if self.standing_by:
                self._not_standing_by()
        return self.holding

    def _not_standing_by(self) -> None:
        """Its standby note gone (it took over, or stops), unless another wrote its own."""
        self.standing_by = False
        try:
            ImapAccount.objects.filter(pk=self.account_id, idle_standby_by=self.me).update(
                idle_standby_by="", idle_standby_at=None
            )
        except DatabaseError:
            logger.warning("mail: could not clear the IDLE standby note of %s", self.name)

    def _stand_by(self) -> None:
        """Another watcher holds the account: wait, writing nothing, and try again."""
        self._account()  # still active? (Gone ends this watcher)
        if not self.standing_by:
            self.standing_by = True
            holder = (
                ImapAccount.objects.filter(pk=self.account_id)
                .values_list("idle_by", flat=True)
                .first()
            )
            self.say(f"{self.name}: watched by {holder or 'another watcher'}; standing by")
        try:  # its own note, never the lease's columns
            ImapAccount.objects.filter(pk=self.account_id).update(
                idle_standby_by=self.me, idle_standby_at=timezone.now()
            )
        except DatabaseError:
            logger.warning("mail: could not note the IDLE standby of %s", self.name)
        self.stop.wait(STANDBY_SECONDS)

    def _wait(self, seconds: float) -> None:
        """The back-off before reconnecting, the heartbeat kept meanwhile if this watcher
        holds the account (the lease found lost: back at once, to stand by)."""
        deadline = time.monotonic() + seconds
        while not self.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self.stop.wait(min(left, HEARTBEAT_SECONDS)):
                return
            if self.holding and deadline - time.monotonic() > 0 and not self._beat():
                return

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
                self._beat(IdleState.UNSUPPORTED, idle_since=None)
                self.say(f"{self.name}: the server offers no IDLE; left to polling")
                raise NoIdle
            self._fetch(conn)  # what came while nobody watched; the folder is selected after
            self._renew(IdleState.WATCHING, idle_since=timezone.now())
            self.say(f"{self.name}: watching {account.folder} (IDLE)")
            while not self.stop.is_set():
                if idle(
                    conn,
                    tags,
                    seconds=REIDLE_SECONDS,
                    stop=self.stop,
                    tick=self._beat,
                    every=HEARTBEAT_SECONDS,
                ):
                    self._fetch(conn)
                    self._renew()
                elif not self.holding:
                    raise LostLease
                elif not self.stop.is_set():
                    self._account()  # renewing: still active?

    def _fetch(self, conn: imaplib.IMAP4) -> None:
        """Fetch now on the watcher's connection; while another fetch holds the lease, try
        again shortly (the heartbeat kept); again while a fetch brings mail or the server
        announced more during it (imaplib swallowed that EXISTS: the next IDLE would not hear
        it)."""
        while not self.stop.is_set():
            conn.untagged_responses.clear()
            poll = imap.fetch(self._account(), conn=conn)
            if poll.busy:
                if time.monotonic() - self._last_beat >= HEARTBEAT_SECONDS:
                    self._renew()
                self.stop.wait(BUSY_RETRY)
                continue
            for line in poll.lines:
                self.say(f"{poll.mailbox} {line}")
            if poll.error:
                self.say(f"{poll.mailbox}: not fetched: {poll.error}")
                raise FetchFailed(poll.error)
            # The SELECT's own EXISTS is the first; any later one is mail that came meanwhile.
            announced = len(conn.untagged_responses.get("EXISTS", [])) > 1
            conn.untagged_responses.clear()
            if not poll.lines and not announced:
                return

    def _beat(self, state: str = "", **changes: Any) -> bool:
        """The heartbeat on the account, written only while `idle_by` names this watcher;
        False when another holds the account now (the lease lost). A database that is away is
        logged, not raised (the lease is thought kept: its writes say otherwise later)."""
        changes.update(idle_heartbeat_at=timezone.now())
        if state:
            changes["idle_state"] = state
        try:
            written = ImapAccount.objects.filter(pk=self.account_id, idle_by=self.me).update(
                **changes
            )
        except DatabaseError:
            logger.warning("mail: could not write the IDLE heartbeat of %s", self.name)
            return self.holding
        self._last_beat = time.monotonic()
        self.holding = bool(written)
        return self.holding

    def _renew(self, state: str = "", **changes: Any) -> None:
        """The heartbeat, or LostLease when another watcher holds the account now."""
        if not self._beat(state, **changes):
            raise LostLease

    def _failed(self, error: str, *, on_account: bool = True) -> None:
        logger.warning("mail: %s: %s", self.name or self.account_id, error)
        self.say(f"{self.name or self.account_id}: {error}")
        now = timezone.now()
        self._beat(IdleState.RECONNECTING, idle_error=error[:5000], idle_error_at=now)
        if not on_account:
            return
        try:
            ImapAccount.objects.filter(pk=self.account_id).update(
                last_error=error[:5000], last_error_at=now
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
