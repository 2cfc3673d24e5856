"""IMAP IDLE against the real Dovecot (tests/mail/dovecot.py): a watcher thread per account
fetches new mail as soon as the server announces it, without any poll (the poll interval is a
day here); it reconnects when the server drops it, and leaves a server without IDLE to the
poller. The watcher's thread has its own database connection: transactional tests."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from django.db import OperationalError, connection

from tests.mail import dovecot as dovecot_server
from tests.mail.conftest import PASSWORD
from tests.mail.factories import mail, mailbox
from tierline import cli
from tierline.desk.models import Ticket
from tierline.mail import idle, imap, sealing
from tierline.mail.models import ImapAccount

pytestmark = pytest.mark.django_db(transaction=True)

SOON = 10.0  # seconds: generous for a loaded 2-core machine; the bench measures the real time


def make_account(server, user: str) -> ImapAccount:
    return ImapAccount.objects.create(
        mailbox=mailbox(),
        host="127.0.0.1",
        port=server.imaps_port,
        security=ImapAccount.Security.TLS,
        trusted_certificate=server.certificate,
        username=user,
        password=sealing.seal(PASSWORD),
        folder="INBOX",
        after=ImapAccount.After.MOVE,
        move_to="Processed",
        poll_minutes=24 * 60,
    )


class Running:
    """A watcher in its own thread, what it said kept."""

    def __init__(self, account: ImapAccount) -> None:
        self.lines: list[str] = []
        self.stop = threading.Event()
        self.watcher = idle.Watcher(
            account_id=account.pk, stop=self.stop, say=self.lines.append, name="Help desk"
        )
        self.thread = threading.Thread(target=self.watcher.run, daemon=True)
        self.thread.start()

    def said(self, text: str, *, count: int = 1) -> bool:
        return sum(text in line for line in self.lines) >= count


def wait_for(check: Callable[[], bool], seconds: float = SOON) -> bool:
    """Whether `check` came true within `seconds`. SQLite's shared in-memory test database
    locks a table while the watcher's thread writes it: that is "not yet", asked again."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
        time.sleep(0.05)
    return check()


@pytest.fixture
def watching(server, user, employee) -> Iterator[tuple[ImapAccount, Running]]:
    account = make_account(server, user)
    running = Running(account)
    assert wait_for(lambda: running.said("watching INBOX (IDLE)")), running.lines
    yield account, running
    running.stop.set()
    running.thread.join(timeout=10)
    assert not running.thread.is_alive(), "the watcher did not stop"


def test_a_message_appended_while_idling_becomes_a_ticket_without_a_poll(server, user, watching):
    account, running = watching
    # when a message arrives while the watcher idles (no poll is due for a day)
    server.append(user, PASSWORD, mail(subject="IDLE: VPN drops"))
    # then it is a ticket within seconds, fetched by the watcher, and left the inbox
    assert wait_for(lambda: Ticket.objects.filter(subject="IDLE: VPN drops").exists())
    assert wait_for(lambda: running.said("UID 1: new TL-"))
    assert server.folder(user, PASSWORD) == {}
    assert wait_for(
        lambda: ImapAccount.objects.filter(pk=account.pk, last_uid=1, last_error="").exists()
    )


def test_two_messages_in_quick_succession_both_become_tickets(server, user, watching):
    _, running = watching
    server.append(user, PASSWORD, mail(subject="First of two"))
    server.append(user, PASSWORD, mail(subject="Second of two"))
    assert wait_for(
        lambda: (
            sorted(Ticket.objects.values_list("subject", flat=True))
            == ["First of two", "Second of two"]
        )
    ), running.lines
    # and another one after them still arrives (the watcher idles again)
    server.append(user, PASSWORD, mail(subject="Third, later"))
    assert wait_for(lambda: Ticket.objects.count() == 3), running.lines


def test_mail_waiting_before_the_watcher_starts_is_fetched_at_once(server, user, employee):
    account = make_account(server, user)
    server.append(user, PASSWORD, mail(subject="Arrived while nobody watched"))
    running = Running(account)
    try:
        assert wait_for(lambda: Ticket.objects.count() == 1), running.lines
    finally:
        running.stop.set()
        running.thread.join(timeout=10)


def test_a_busy_lease_is_tried_again_shortly_not_at_the_next_poll(
    server, user, watching, monkeypatch
):
    account, running = watching
    # given another fetch holds the account's lease
    lease = imap.timezone.now() + imap.LEASE
    ImapAccount.objects.filter(pk=account.pk).update(polling_until=lease)
    server.append(user, PASSWORD, mail(subject="During another poll"))
    assert not wait_for(lambda: Ticket.objects.exists(), seconds=1.5)
    # when that fetch ends (its lease given back) the watcher's retry takes the message
    ImapAccount.objects.filter(pk=account.pk).update(polling_until=None)
    assert wait_for(lambda: Ticket.objects.count() == 1), running.lines


def test_the_server_dropping_the_connection_makes_the_watcher_reconnect(server, user, watching):
    _, running = watching
    # when the server kicks the user's sessions (as a restart or a timeout would)
    kicked = subprocess.run(
        ["doveadm", "-c", str(server.config), "kick", user],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert kicked.returncode == 0, kicked.stderr
    # then the error is recorded on the account and the watcher comes back
    assert wait_for(lambda: running.said("watching INBOX (IDLE)", count=2)), running.lines
    assert any("IDLE:" in line for line in running.lines), running.lines
    assert wait_for(
        lambda: (
            ImapAccount.objects.get(pk=running.watcher.account_id).last_error.startswith(
                "IDLE: the server"
            )
            or bool(ImapAccount.objects.get(pk=running.watcher.account_id).last_success_at)
        )
    )
    # and mail arriving afterwards still becomes a ticket at once
    server.append(user, PASSWORD, mail(subject="After the reconnect"))
    assert wait_for(lambda: Ticket.objects.filter(subject="After the reconnect").exists())


def test_a_server_that_cannot_be_reached_is_recorded_and_retried(employee, monkeypatch):
    monkeypatch.setattr(idle, "BACKOFF_FIRST", 0.1)
    account = ImapAccount.objects.create(
        mailbox=mailbox(),
        host="127.0.0.1",
        port=1,
        username="nobody",
        password=sealing.seal(PASSWORD),
    )
    running = Running(account)
    try:
        assert wait_for(lambda: running.said("could not connect", count=2)), running.lines
        assert wait_for(
            lambda: ImapAccount.objects.get(pk=account.pk).last_error.startswith(
                "IDLE: could not connect to 127.0.0.1:1"
            )
        )
    finally:
        running.stop.set()
        running.thread.join(timeout=10)
    assert not running.thread.is_alive()


@pytest.fixture(scope="module")
def server_without_idle():
    why = dovecot_server.available()
    if why:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    instance = dovecot_server.Dovecot(
        password=PASSWORD, users=2, capabilities="IMAP4rev1 UIDPLUS MOVE"
    ).start()
    yield instance
    instance.stop()


def test_without_idle_the_watcher_says_so_and_leaves_the_account_to_polling(
    server_without_idle, employee
):
    user = server_without_idle.new_user()
    account = make_account(server_without_idle, user)
    running = Running(account)
    running.thread.join(timeout=SOON)
    # then the watcher has ended, said why, and recorded no error: the poller reads the box
    assert not running.thread.is_alive()
    assert running.lines == ["Help desk: the server offers no IDLE; left to polling"]
    assert running.watcher.no_idle
    assert ImapAccount.objects.get(pk=account.pk).last_error == ""
    server_without_idle.append(user, PASSWORD, mail(subject="Polled instead"))
    assert imap.fetch(ImapAccount.objects.get(pk=account.pk)).error == ""
    assert Ticket.objects.count() == 1


def test_the_command_watches_until_sigterm(server, user, employee, capsys, monkeypatch):
    make_account(server, user)
    stopped: list[threading.Event] = []
    original = idle.Watchers.__init__

    def keep(self, *args, **kwargs):
        original(self, *args, **kwargs)
        stopped.append(self.stop)

    monkeypatch.setattr(idle.Watchers, "__init__", keep)
    # the command's own SIGTERM handler is replaced by a timer setting the same flag
    monkeypatch.setattr(cli.signal, "signal", lambda *args: None)
    result: list[int] = []

    def command() -> None:
        try:
            result.append(cli.main(["mail", "idle"]))
        finally:
            connection.close()  # the thread's own, so the test database can be dropped

    thread = threading.Thread(target=command)
    thread.start()
    assert wait_for(lambda: bool(stopped))
    server.append(user, PASSWORD, mail(subject="Seen by the command"))
    assert wait_for(lambda: Ticket.objects.count() == 1)
    stopped[0].set()
    thread.join(timeout=SOON + 60)
    assert result == [0]
    out = capsys.readouterr().out
    assert "Help desk: watching INBOX (IDLE)" in out
    assert "Help desk UID 1: new TL-" in out
    assert out.rstrip().endswith("Tierline IMAP IDLE stopped.")


def test_the_command_refuses_an_unknown_mailbox(capsys, db):
    assert cli.main(["mail", "idle", "--mailbox", "Nope"]) == cli.EXIT_BAD_INPUT
    assert "No active mailbox named “Nope” has IMAP settings" in capsys.readouterr().err


def test_the_worker_watches_only_when_told_to(server, user, employee, monkeypatch):
    make_account(server, user)
    monkeypatch.delenv("TIERLINE_MAIL_IDLE", raising=False)
    assert cli._idle_watchers() is None
    # with TIERLINE_MAIL_IDLE=1 the worker starts the watchers beside its jobs
    monkeypatch.setenv("TIERLINE_MAIL_IDLE", "1")
    watchers = cli._idle_watchers()
    try:
        assert wait_for(lambda: bool(watchers.threads))
        watcher, _ = next(iter(watchers.threads.values()))
        assert wait_for(lambda: watcher.name == "Help desk")
        server.append(user, PASSWORD, mail(subject="Seen by the worker"))
        assert wait_for(lambda: Ticket.objects.filter(subject="Seen by the worker").exists())
    finally:
        watchers.close()
    assert not any(thread.is_alive() for _, thread in watchers.threads.values())


# --- one connection for IDLE and fetches; the heartbeat the health page reads ---------------


def test_the_watcher_fetches_on_its_own_connection_signing_in_once(
    server, user, employee, monkeypatch
):
    # given a watcher whose sign-ins are counted
    opened: list[int] = []
    original = imap.connect

    def counted(account):
        opened.append(account.pk)
        return original(account)

    monkeypatch.setattr(imap, "connect", counted)
    account = make_account(server, user)
    running = Running(account)
    try:
        assert wait_for(lambda: running.said("watching INBOX (IDLE)")), running.lines
        # when three messages arrive one after another
        for n in range(3):
            server.append(user, PASSWORD, mail(subject=f"One connection {n}"))
            assert wait_for(lambda n=n: Ticket.objects.count() == n + 1), running.lines
        # then all were fetched and moved on the watcher's one connection
        assert wait_for(lambda: server.folder(user, PASSWORD) == {})
        assert opened == [account.pk]
    finally:
        running.stop.set()
        running.thread.join(timeout=10)


def test_the_watcher_writes_heartbeats_that_the_health_page_reads(
    server, user, employee, monkeypatch
):
    from tierline.mail import health

    monkeypatch.setenv("TIERLINE_MAIL_IDLE", "1")
    monkeypatch.setattr(idle, "HEARTBEAT_SECONDS", 0.3)
    account = make_account(server, user)
    running = Running(account)
    try:
        assert wait_for(lambda: running.said("watching INBOX (IDLE)")), running.lines
        row = ImapAccount.objects.get(pk=account.pk)
        assert row.idle_state == ImapAccount.IdleState.WATCHING and row.idle_since
        assert str(os.getpid()) in row.idle_by
        # while it idles, the heartbeat moves on
        first = row.idle_heartbeat_at
        assert wait_for(lambda: ImapAccount.objects.get(pk=account.pk).idle_heartbeat_at > first)
        finding = health.idle_watchers()
        assert finding.state == "ok", finding.summary
        assert finding.summary.startswith("Watched by IDLE: Help desk (heartbeat ")
    finally:
        running.stop.set()
        running.thread.join(timeout=10)
    # when it stops, the health page says no watcher runs for the mailbox
    assert ImapAccount.objects.get(pk=account.pk).idle_state == ImapAccount.IdleState.STOPPED
    assert health.idle_watchers().state == "warning"
    assert "no watcher has reported" in health.idle_watchers().summary


def test_a_dropped_watcher_records_its_error_in_its_heartbeat(server, user, watching):
    account, running = watching
    kicked = subprocess.run(
        ["doveadm", "-c", str(server.config), "kick", user],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert kicked.returncode == 0, kicked.stderr
    assert wait_for(lambda: running.said("watching INBOX (IDLE)", count=2)), running.lines
    row = ImapAccount.objects.get(pk=account.pk)
    assert row.idle_state == ImapAccount.IdleState.WATCHING
    assert row.idle_error.startswith("IDLE: the server") and row.idle_error_at
    assert row.idle_since > row.idle_error_at


# --- one watcher per mailbox: the heartbeat is a lease, another watcher stands by -----------


def row_of(account: ImapAccount) -> ImapAccount:
    """The account as the database has it now (SQLite's locked table: asked again)."""
    found: list[ImapAccount] = []
    assert wait_for(lambda: found.append(ImapAccount.objects.get(pk=account.pk)) is None)
    return found[-1]


@pytest.fixture
def quick(monkeypatch):
    """Heartbeats and standby rounds in fractions of a second; the health line switched on."""
    monkeypatch.setenv("TIERLINE_MAIL_IDLE", "1")
    monkeypatch.setattr(idle, "HEARTBEAT_SECONDS", 0.3)
    monkeypatch.setattr(idle, "STANDBY_SECONDS", 0.2)


def stop_all(*runnings: Running) -> None:
    for running in runnings:
        running.stop.set()
    for running in runnings:
        running.thread.join(timeout=10)
        assert not running.thread.is_alive(), "a watcher did not stop"


def test_regression_two_watchers_of_one_mailbox_do_not_overwrite_each_others_heartbeat(
    server, user, employee, quick
):
    """Two workers with TIERLINE_MAIL_IDLE both watched a mailbox and wrote the same heartbeat
    row: one stopping wrote "stopped" over the other still watching, and one's bare heartbeat
    kept the other's "watching" fresh after it died. Now one IDLEs, the other stands by."""
    from tierline.mail import health

    account = make_account(server, user)
    first = Running(account)
    assert wait_for(lambda: first.said("watching INBOX (IDLE)")), first.lines
    # when a second watcher starts for the same mailbox
    second = Running(account)
    try:
        assert wait_for(lambda: second.said("standing by")), second.lines
        assert second.lines == [f"Help desk: watched by {first.watcher.me}; standing by"]
        # then over several heartbeats the row is the first watcher's alone
        seen: set[tuple[str, str]] = set()
        for _ in range(10):
            row = row_of(account)
            seen.add((row.idle_by, row.idle_state))
            assert wait_for(
                lambda row=row: row_of(account).idle_heartbeat_at > row.idle_heartbeat_at
            )
        assert seen == {(first.watcher.me, ImapAccount.IdleState.WATCHING)}
        # and the one standing by is named beside it, on the page and in its own columns
        assert row_of(account).idle_standby_by == second.watcher.me
        finding = health.idle_watchers()
        assert f"from {first.watcher.me}" in finding.summary
        assert f"standing by: {second.watcher.me}" in finding.summary
        # and a message is fetched once, by the watcher that IDLEs
        server.append(user, PASSWORD, mail(subject="Two watchers, one ticket"))
        assert wait_for(lambda: Ticket.objects.count() == 1), first.lines
        assert wait_for(lambda: first.said("UID 1: new TL-")), first.lines
        assert not second.said("UID 1")
        # when the first stops, the second takes over within seconds and the page names it
        stop_all(first)
        assert wait_for(lambda: second.said("watching INBOX (IDLE)")), second.lines
        row = row_of(account)
        assert (row.idle_by, row.idle_state) == (second.watcher.me, ImapAccount.IdleState.WATCHING)
        finding = health.idle_watchers()
        assert finding.state == "ok", finding.summary
        assert f"from {second.watcher.me}" in finding.summary
        assert "standing by" not in finding.summary  # its note went when it took over
        assert row_of(account).idle_standby_by == ""
        server.append(user, PASSWORD, mail(subject="After the takeover"))
        assert wait_for(lambda: Ticket.objects.count() == 2), second.lines
    finally:
        stop_all(first, second)
    assert row_of(account).idle_state == ImapAccount.IdleState.STOPPED


def test_regression_a_dead_watcher_is_not_kept_alive_by_one_standing_by(
    server, user, employee, quick, monkeypatch
):
    from tierline.mail import health

    # given the mailbox held by a watcher of another worker that then died (SIGKILL: it
    # writes nothing more)
    account = make_account(server, user)
    dead = "other-host pid 4242 watcher 1"
    then = imap.timezone.now()
    ImapAccount.objects.filter(pk=account.pk).update(
        idle_by=dead,
        idle_state=ImapAccount.IdleState.WATCHING,
        idle_since=then,
        idle_heartbeat_at=then,
    )
    rounds: list[int] = []
    original = idle.Watcher._stand_by

    def counted(self):
        rounds.append(1)
        return original(self)

    monkeypatch.setattr(idle.Watcher, "_stand_by", counted)
    running = Running(account)
    try:
        # then this one stands by for round after round and writes nothing on the row
        assert wait_for(lambda: len(rounds) >= 4), running.lines
        assert running.lines == [f"Help desk: watched by {dead}; standing by"]
        row = row_of(account)
        assert (row.idle_by, row.idle_heartbeat_at) == (dead, then)
        assert row.idle_standby_by == running.watcher.me  # its own note, not the lease
        # so the dead one's heartbeat ages, and once it is STALE the page says so
        later = then + idle.STALE + idle.timedelta(seconds=1)
        assert health.idle_watchers(later).state == "warning"
        assert "no watcher has reported" in health.idle_watchers(later).summary
        # when it is that old, the one standing by takes over and the page names it
        ImapAccount.objects.filter(pk=account.pk).update(
            idle_heartbeat_at=then - idle.STALE - idle.timedelta(seconds=1)
        )
        assert wait_for(lambda: running.said("watching INBOX (IDLE)")), running.lines
        assert row_of(account).idle_by == running.watcher.me
        assert f"from {running.watcher.me}" in health.idle_watchers().summary
        server.append(user, PASSWORD, mail(subject="Taken over"))
        assert wait_for(lambda: Ticket.objects.count() == 1), running.lines
    finally:
        stop_all(running)


def test_a_watcher_whose_lease_was_taken_ends_its_idle_and_stands_by(server, user, employee, quick):
    account = make_account(server, user)
    running = Running(account)
    try:
        assert wait_for(lambda: running.said("watching INBOX (IDLE)")), running.lines
        # when another watcher took the mailbox over (as if this one had been silent for STALE)
        other = "other-host pid 7 watcher 3"
        taken = imap.timezone.now()
        ImapAccount.objects.filter(pk=account.pk).update(
            idle_by=other, idle_state=ImapAccount.IdleState.WATCHING, idle_heartbeat_at=taken
        )
        # then at its next heartbeat this one ends its IDLE and stands by, writing nothing
        assert wait_for(lambda: running.said("took the mailbox over; standing by")), running.lines
        assert wait_for(lambda: running.said(f"watched by {other}; standing by")), running.lines
        row = row_of(account)
        assert (row.idle_by, row.idle_heartbeat_at) == (other, taken)
        # and takes the mailbox back once the other has been silent for STALE
        ImapAccount.objects.filter(pk=account.pk).update(
            idle_heartbeat_at=taken - idle.STALE - idle.timedelta(seconds=1)
        )
        assert wait_for(lambda: running.said("watching INBOX (IDLE)", count=2)), running.lines
        assert row_of(account).idle_by == running.watcher.me
    finally:
        stop_all(running)


def test_a_watcher_of_a_killed_worker_on_this_host_is_taken_over_at_once(
    server, user, employee, quick
):
    # given the mailbox held, with a fresh heartbeat, by a watcher of a process on this host
    # that has ended (a worker killed and restarted: no need to wait for STALE)
    ended = subprocess.Popen(["true"])
    ended.wait()
    holder = f"{idle.socket.gethostname()[:150]} pid {ended.pid} watcher 1"
    account = make_account(server, user)
    ImapAccount.objects.filter(pk=account.pk).update(
        idle_by=holder,
        idle_state=ImapAccount.IdleState.WATCHING,
        idle_heartbeat_at=imap.timezone.now(),
    )
    running = Running(account)
    try:
        # then the new watcher takes the mailbox at once, without standing by
        assert wait_for(lambda: running.said("watching INBOX (IDLE)")), running.lines
        assert not running.said("standing by")
        assert row_of(account).idle_by == running.watcher.me
    finally:
        stop_all(running)
    # while a holder whose process still runs (the parent of this one) is waited for
    assert not idle._dead_here(f"{idle.socket.gethostname()[:150]} pid {os.getppid()} watcher 1")
    assert not idle._dead_here(f"other-host pid {ended.pid} watcher 1")
