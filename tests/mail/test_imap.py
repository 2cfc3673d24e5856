"""IMAP intake against a real Dovecot (tests/mail/dovecot.py): every new UID stored and
committed before anything changes on the server, processed once, then moved, flagged or
deleted by UID; a crash anywhere, a changed UIDVALIDITY, a refused sign-in or a server that is
down loses nothing and doubles nothing."""

from __future__ import annotations

import imaplib
import os
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from tests.mail import dovecot as dovecot_server
from tests.mail.conftest import PASSWORD
from tests.mail.factories import mail, mailbox
from tierline import cli
from tierline.core.scheduler import registered_jobs
from tierline.desk.models import Ticket
from tierline.mail import imap, sealing, services
from tierline.mail.models import ImapAccount, ImapMessage, Inbound, RawMessage

pytestmark = pytest.mark.django_db


class Crash(BaseException):
    """A worker killed mid-way: not an Exception, so nothing in the fetcher catches it."""


@pytest.fixture
def account(server, user, employee) -> ImapAccount:
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
    )


def fresh(account: ImapAccount) -> ImapAccount:
    return ImapAccount.objects.select_related("mailbox").get(pk=account.pk)


def test_new_mail_becomes_tickets_stored_with_its_uid_then_moved(server, user, account):
    # given two messages in the inbox
    first, second = mail(subject="VPN drops"), mail(subject="Printer jammed")
    server.append(user, PASSWORD, first)
    server.append(user, PASSWORD, second)
    # when the mailbox is fetched
    poll = imap.fetch(fresh(account))
    # then each is a ticket, its line says so
    tickets = list(Ticket.objects.order_by("pk"))
    assert [t.subject for t in tickets] == ["VPN drops", "Printer jammed"]
    assert poll.error == ""
    assert poll.lines == [f"UID 1: new {tickets[0].number}", f"UID 2: new {tickets[1].number}"]
    # and each UID is recorded with its UIDVALIDITY, digest and Message-ID, done
    rows = list(ImapMessage.objects.order_by("uid"))
    account = fresh(account)
    assert [(r.uid, r.state) for r in rows] == [(1, "done"), (2, "done")]
    assert {r.uidvalidity for r in rows} == {account.uidvalidity} and account.uidvalidity
    assert rows[0].sha256 == rows[0].raw.sha256 and rows[0].raw.source == RawMessage.Source.IMAP
    assert rows[0].message_id == rows[0].raw.message_id != ""
    assert account.last_uid == 2 and account.last_error == "" and account.last_success_at
    # and the server's inbox is empty, both are in Processed, not marked read by the fetch
    assert server.folder(user, PASSWORD) == {}
    assert list(server.folder(user, PASSWORD, "Processed").values()) == [set(), set()]


def test_fetching_again_processes_nothing_twice(server, user, account):
    server.append(user, PASSWORD, mail(subject="Once"))
    imap.fetch(fresh(account))
    # when it is fetched again, and the same message (same Message-ID) arrives once more
    assert imap.fetch(fresh(account)).lines == []
    raw = mail(subject="Twice", message_id="<same@client.example>")
    server.append(user, PASSWORD, raw)
    server.append(user, PASSWORD, raw)
    poll = imap.fetch(fresh(account))
    # then the copy is recorded as a duplicate, one ticket each, and both left the inbox
    assert Ticket.objects.count() == 2
    assert poll.lines[1] == "UID 3: ignored: duplicate of <same@client.example>"
    assert server.folder(user, PASSWORD) == {}


def test_seen_mode_flags_the_message_and_leaves_it(server, user, account):
    ImapAccount.objects.filter(pk=account.pk).update(after=ImapAccount.After.SEEN)
    server.append(user, PASSWORD, mail(subject="Keep me here"))
    imap.fetch(fresh(account))
    assert server.folder(user, PASSWORD) == {1: {"\\Seen"}}
    # and a second poll does not take it again
    assert imap.fetch(fresh(account)).lines == []
    assert Ticket.objects.count() == 1


def test_delete_mode_expunges_by_uid(server, user, account):
    ImapAccount.objects.filter(pk=account.pk).update(after=ImapAccount.After.DELETE)
    server.append(user, PASSWORD, mail(subject="Delete me"))
    imap.fetch(fresh(account))
    assert server.folder(user, PASSWORD) == {}
    assert Ticket.objects.count() == 1


def test_a_crash_after_storing_before_processing_makes_exactly_one_ticket(
    server, user, account, monkeypatch
):
    server.append(user, PASSWORD, mail(subject="Crash after store"))

    def crash(inbound_id: int, **kwargs) -> None:
        raise Crash

    # when the worker dies right after the raw message and its UID are committed
    with monkeypatch.context() as patch:
        patch.setattr(services, "process", crash)
        with pytest.raises(Crash):
            imap.fetch(fresh(account))
    # then the message is stored, pending, and untouched on the server
    row = ImapMessage.objects.get()
    assert row.state == ImapMessage.State.STORED
    assert Inbound.objects.get().outcome == Inbound.Outcome.PENDING
    assert server.folder(user, PASSWORD) == {1: set()}
    # and the next fetch makes its one ticket and moves it
    poll = imap.fetch(fresh(account))
    assert Ticket.objects.count() == 1
    assert poll.lines == [f"UID 1: new {Ticket.objects.get().number}"]
    assert server.folder(user, PASSWORD) == {}
    assert ImapMessage.objects.get().state == ImapMessage.State.DONE


def test_a_crash_after_the_ticket_before_the_move_makes_no_second_ticket(
    server, user, account, monkeypatch
):
    server.append(user, PASSWORD, mail(subject="Crash before move"))

    def crash(*args, **kwargs) -> None:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(imap, "settle", crash)
        with pytest.raises(Crash):
            imap.fetch(fresh(account))
    assert Ticket.objects.count() == 1
    assert ImapMessage.objects.get().state == ImapMessage.State.PROCESSED
    assert server.folder(user, PASSWORD) == {1: set()}
    # the rerun settles it on the server and opens nothing new
    imap.fetch(fresh(account))
    assert Ticket.objects.count() == 1
    assert server.folder(user, PASSWORD) == {}
    assert ImapMessage.objects.get().state == ImapMessage.State.DONE


def test_a_changed_uidvalidity_rereads_the_folder_without_doubling(server, user, account):
    # given a folder read once, in seen mode (its messages stay)
    ImapAccount.objects.filter(pk=account.pk).update(folder="Support", after=ImapAccount.After.SEEN)
    client = server.client(user, PASSWORD)
    client.create('"Support"')
    client.logout()
    old = mail(subject="Old news", message_id="<old@client.example>")
    server.append(user, PASSWORD, old, folder="Support")
    imap.fetch(fresh(account))
    before = fresh(account).uidvalidity
    # when the folder is recreated (new UIDVALIDITY, UIDs from 1 again) with the old message
    # and a new one
    client = server.client(user, PASSWORD)
    assert client.delete('"Support"')[0] == "OK"
    assert client.create('"Support"')[0] == "OK"
    client.logout()
    server.append(user, PASSWORD, old, folder="Support")
    server.append(user, PASSWORD, mail(subject="New news"), folder="Support")
    poll = imap.fetch(fresh(account))
    # then the old one is known, the new one is a ticket, and the change is noted
    account = fresh(account)
    assert account.uidvalidity != before
    assert "UIDVALIDITY changed" in account.notes
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["New news", "Old news"]
    assert poll.lines[0] == "UID 1: ignored: duplicate of <old@client.example>"
    assert poll.lines[1].startswith("UID 2: new TL-")


def test_starttls_works_too(server, user, account):
    ImapAccount.objects.filter(pk=account.pk).update(
        security=ImapAccount.Security.STARTTLS, port=server.imap_port
    )
    server.append(user, PASSWORD, mail(subject="Over STARTTLS"))
    assert imap.fetch(fresh(account)).error == ""
    assert Ticket.objects.get().subject == "Over STARTTLS"


def test_a_refused_sign_in_is_recorded_and_the_mail_stays(server, user, account):
    ImapAccount.objects.filter(pk=account.pk).update(password=sealing.seal("wrong"))
    server.append(user, PASSWORD, mail(subject="Waiting"))
    poll = imap.fetch(fresh(account))
    account = fresh(account)
    assert poll.error.startswith(f"sign-in as {user} refused")
    assert account.last_error == poll.error and account.last_error_at
    assert account.polling_until is None
    assert Ticket.objects.count() == 0
    assert server.folder(user, PASSWORD) == {1: set()}
    # and once the password is right, it comes in and the error is cleared
    ImapAccount.objects.filter(pk=account.pk).update(password=sealing.seal(PASSWORD))
    assert imap.fetch(fresh(account)).error == ""
    assert fresh(account).last_error == "" and Ticket.objects.count() == 1


def test_a_server_that_is_down_is_recorded(account):
    ImapAccount.objects.filter(pk=account.pk).update(port=dovecot_server._free_port())
    poll = imap.fetch(fresh(account))
    assert poll.error.startswith("could not connect to 127.0.0.1:")
    assert fresh(account).last_error == poll.error


def test_a_certificate_nobody_vouches_for_is_refused(server, user, account):
    ImapAccount.objects.filter(pk=account.pk).update(trusted_certificate="")
    server.append(user, PASSWORD, mail(subject="Not over an untrusted line"))
    poll = imap.fetch(fresh(account))
    assert "certificate is not trusted" in poll.error
    assert Ticket.objects.count() == 0


def test_one_poller_at_a_time(account):
    ImapAccount.objects.filter(pk=account.pk).update(
        polling_until=timezone.now() + timedelta(minutes=5)
    )
    assert imap.fetch(fresh(account)).busy


def test_the_scheduled_job_polls_only_the_accounts_that_are_due(server, user, account):
    assert "mail-imap" in {job.name for job in registered_jobs()}
    server.append(user, PASSWORD, mail(subject="From the job"))
    assert imap.poll_due() == 1
    assert Ticket.objects.count() == 1
    account = fresh(account)
    assert account.next_poll_at > timezone.now() + timedelta(seconds=50)
    # not due again before its interval
    server.append(user, PASSWORD, mail(subject="Later"))
    assert imap.poll_due() == 0
    ImapAccount.objects.filter(pk=account.pk).update(next_poll_at=timezone.now())
    assert imap.poll_due() == 1
    assert Ticket.objects.count() == 2


def test_the_command_fetches_one_mailbox_and_prints_a_line_per_message(
    server, user, account, capsys
):
    server.append(user, PASSWORD, mail(subject="Via the command"))
    code = cli.main(["mail", "fetch", "--mailbox", account.mailbox.name])
    out = capsys.readouterr().out.splitlines()
    number = Ticket.objects.get().number
    assert out == [f"Help desk UID 1: new {number}", "Help desk: 1 message(s)"]
    assert code == 0


def test_the_command_says_when_a_mailbox_cannot_be_read(account, capsys):
    ImapAccount.objects.filter(pk=account.pk).update(password=sealing.seal("wrong"))
    code = cli.main(["mail", "fetch"])
    assert "Help desk: not fetched: sign-in as" in capsys.readouterr().out
    assert code == 1
    assert cli.main(["mail", "fetch", "--mailbox", "Nope"]) == 2


@pytest.mark.parametrize(
    ("name", "wire"),
    [("INBOX", '"INBOX"'), ("Traité", '"Trait&AOk-"'), ('A&B "x"', '"A&-B \\"x\\""')],
)
def test_folder_names_are_quoted_and_encoded(name, wire):
    assert imap.quoted_folder(name) == wire


def test_a_folder_name_cannot_carry_a_command():
    with pytest.raises(imap.ImapFailure):
        imap.quoted_folder("INBOX\r\nA1 DELETE INBOX")


@pytest.fixture(scope="module", params=["IMAP4rev1 UIDPLUS", "IMAP4rev1"])
def old_server(request):
    """A Dovecot that offers no MOVE (and, the second time, no UIDPLUS either)."""
    why = dovecot_server.available()
    if why:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    instance = dovecot_server.Dovecot(password=PASSWORD, users=8, capabilities=request.param)
    instance.start()
    yield instance
    instance.stop()


def test_without_move_a_message_is_copied_then_deleted_by_uid(old_server, employee):
    user, account = old_account(old_server)
    for n in range(3):
        old_server.append(user, PASSWORD, mail(subject=f"No MOVE here {n}"))
    poll = imap.fetch(fresh(account))
    assert poll.error == ""
    assert list(old_server.folder(user, PASSWORD, "Done").values()) == [set(), set(), set()]
    if "UIDPLUS" in old_server.capabilities:
        assert old_server.folder(user, PASSWORD) == {}
    else:  # flagged, left for the server's own expunge: no other \Deleted mail is expunged
        assert old_server.folder(user, PASSWORD) == {n: {"\\Deleted"} for n in (1, 2, 3)}
    # and the next poll takes nothing again
    assert imap.fetch(fresh(account)).lines == []
    assert Ticket.objects.count() == 3


def old_account(old_server) -> tuple[str, ImapAccount]:
    user = old_server.new_user()
    account = ImapAccount.objects.create(
        mailbox=mailbox(),
        host="127.0.0.1",
        port=old_server.imaps_port,
        trusted_certificate=old_server.certificate,
        username=user,
        password=sealing.seal(PASSWORD),
        move_to="Done",
    )
    return user, account


def crash_after(monkeypatch, command: str) -> None:
    """The worker dies right after the server has done `command` (the STORE that flags
    \\Deleted, for STORE) while a batch is settled."""
    original = imaplib.IMAP4.uid

    def uid(conn, name, *args):
        answer = original(conn, name, *args)
        if name.upper() == command and (command != "STORE" or "Deleted" in str(args[-1])):
            raise Crash
        return answer

    monkeypatch.setattr(imaplib.IMAP4, "uid", uid)


@pytest.mark.parametrize("crashed_after", ["COPY", "STORE", "EXPUNGE"])
def test_regression_copy_without_move_never_copies_twice_after_a_crash(
    old_server, employee, monkeypatch, crashed_after
):
    """Data duplication: without MOVE a processed message is COPY'd, then flagged \\Deleted
    and expunged. A crash in between made the next poll COPY it again (two copies in the
    processed folder); now the recovery looks there first (Message-ID, then the bytes)."""
    if crashed_after == "EXPUNGE" and "UIDPLUS" not in old_server.capabilities:
        pytest.skip("without UIDPLUS nothing is expunged by UID: STORE is the last step")
    user, account = old_account(old_server)
    for n in range(3):
        old_server.append(user, PASSWORD, mail(subject=f"Copied once {n}"))
    # when the worker dies after the batch's COPY (or its \Deleted, or its expunge)
    with monkeypatch.context() as patch:
        crash_after(patch, crashed_after)
        with pytest.raises(Crash):
            imap.fetch(fresh(account))
    assert len(old_server.folder(user, PASSWORD, "Done")) == 3
    assert set(ImapMessage.objects.values_list("state", flat=True)) == {"processed"}
    # and the next poll finishes the batch
    ImapAccount.objects.filter(pk=account.pk).update(polling_until=None)
    poll = imap.fetch(fresh(account))
    # then each message is in the processed folder once, on one ticket, out of the inbox
    assert poll.error == ""
    assert len(old_server.folder(user, PASSWORD, "Done")) == 3
    assert Ticket.objects.count() == 3
    assert set(ImapMessage.objects.values_list("state", flat=True)) == {"done"}
    if "UIDPLUS" in old_server.capabilities:
        assert old_server.folder(user, PASSWORD) == {}
    else:
        assert old_server.folder(user, PASSWORD) == {n: {"\\Deleted"} for n in (1, 2, 3)}


def test_regression_a_byte_identical_message_is_copied_though_an_earlier_copy_is_there(
    old_server, employee, monkeypatch
):
    """Data loss: without MOVE, the recovery took any copy with the same bytes in the processed
    folder for the message's own. The same mail delivered twice, the first settled in an
    earlier poll, the worker dying after processing the second and before its COPY: the
    second was then deleted from the inbox with no copy of its own."""
    user, account = old_account(old_server)
    same = mail(subject="Delivered twice", message_id="<twice@client.example>")
    old_server.append(user, PASSWORD, same)
    assert imap.fetch(fresh(account)).error == ""
    assert len(old_server.folder(user, PASSWORD, "Done")) == 1
    # when the same bytes arrive again and the worker dies before settling them
    old_server.append(user, PASSWORD, same)
    ImapAccount.objects.filter(pk=account.pk).update(polling_until=None)
    with monkeypatch.context() as patch:

        def dies(*args, **kwargs):
            raise Crash

        patch.setattr(imap, "settle", dies)
        with pytest.raises(Crash):
            imap.fetch(fresh(account))
    assert ImapMessage.objects.filter(state="processed").count() == 1
    # and the next poll finishes it
    ImapAccount.objects.filter(pk=account.pk).update(polling_until=None)
    assert imap.fetch(fresh(account)).error == ""
    # then the processed folder holds a copy for each delivery, and the inbox none
    assert len(old_server.folder(user, PASSWORD, "Done")) == 2
    assert set(ImapMessage.objects.values_list("state", flat=True)) == {"done"}
    if "UIDPLUS" in old_server.capabilities:
        assert old_server.folder(user, PASSWORD) == {}


def test_a_different_message_with_the_same_message_id_is_no_copy_of_it(
    old_server, employee, monkeypatch
):
    # given the processed folder already holds another message under the same Message-ID
    user, account = old_account(old_server)
    same = "<reused@client.example>"
    conn = old_server.client(user, PASSWORD)
    try:
        assert conn.create('"Done"')[0] == "OK"
    finally:
        conn.logout()
    old_server.append(user, PASSWORD, mail(subject="Someone else's", message_id=same), "Done")
    old_server.append(user, PASSWORD, mail(subject="Ours", message_id=same))
    # when the worker dies after copying ours, and the next poll finishes
    with monkeypatch.context() as patch:
        crash_after(patch, "COPY")
        with pytest.raises(Crash):
            imap.fetch(fresh(account))
    ImapAccount.objects.filter(pk=account.pk).update(polling_until=None)
    assert imap.fetch(fresh(account)).error == ""
    # then ours was copied once: the other one did not stand for it (other bytes)
    assert len(old_server.folder(user, PASSWORD, "Done")) == 2
    assert Ticket.objects.filter(subject="Ours").count() == 1


def test_a_password_sealed_under_another_secret_key_is_an_error_not_a_crash(account, settings):
    settings.SECRET_KEY = "another key altogether, after a restore without the data dir"
    poll = imap.fetch(fresh(account))
    assert poll.error.startswith("the stored password cannot be read")
    assert fresh(account).last_error == poll.error


def test_a_database_error_while_storing_flags_nothing_and_the_next_poll_takes_it(
    server, user, account, monkeypatch
):
    server.append(user, PASSWORD, mail(subject="Database away"))

    def database_away(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    with monkeypatch.context() as patch:
        patch.setattr(services, "store", database_away)
        poll = imap.fetch(fresh(account))
    assert poll.error == "OperationalError: server closed the connection unexpectedly"
    assert fresh(account).last_uid == 0
    assert server.folder(user, PASSWORD) == {1: set()}
    imap.fetch(fresh(account))
    assert Ticket.objects.count() == 1
    assert server.folder(user, PASSWORD) == {}


# --- batches: one UID FETCH and one settling command for many UIDs ---------------------------


class Commands:
    """Records the UID commands the fetcher sends (imaplib's `uid`), passing them on."""

    def __init__(self, monkeypatch) -> None:
        self.sent: list[tuple[str, ...]] = []
        original = imaplib.IMAP4.uid

        def uid(conn, command, *args):
            self.sent.append((command.upper(), *[str(a) for a in args]))
            return original(conn, command, *args)

        monkeypatch.setattr(imaplib.IMAP4, "uid", uid)

    def named(self, command: str) -> list[tuple[str, ...]]:
        return [c for c in self.sent if c[0] == command]


def test_a_batch_is_fetched_by_one_command_and_moved_by_one_command(
    server, user, account, monkeypatch
):
    # given seven messages and batches of three
    for n in range(7):
        server.append(user, PASSWORD, mail(subject=f"Batch {n}", sender=f"user{n}@example.com"))
    monkeypatch.setattr(imap, "FETCH_BATCH", 3)
    commands = Commands(monkeypatch)
    # when the mailbox is fetched
    poll = imap.fetch(fresh(account))
    # then the bodies came in three UID FETCHes and left in three UID MOVEs, by UID set
    assert poll.error == ""
    bodies = [c[1] for c in commands.named("FETCH") if c[2] == "(BODY.PEEK[])"]
    assert bodies == ["1:3", "4:6", "7"]
    assert [c[1] for c in commands.named("MOVE")] == ["1:3", "4:6", "7"]
    # and every message is one ticket, in order, out of the inbox
    assert [t.subject for t in Ticket.objects.order_by("pk")] == [f"Batch {n}" for n in range(7)]
    assert len(poll.lines) == 7
    assert server.folder(user, PASSWORD) == {}
    assert len(server.folder(user, PASSWORD, "Processed")) == 7
    assert set(ImapMessage.objects.values_list("state", flat=True)) == {"done"}


def test_a_batch_killed_mid_way_loses_and_doubles_nothing(server, user, account, monkeypatch):
    # given seven messages, batches of three, and a worker that dies on the fifth message
    for n in range(7):
        server.append(user, PASSWORD, mail(subject=f"Killed {n}", sender=f"user{n}@example.com"))
    monkeypatch.setattr(imap, "FETCH_BATCH", 3)
    original = services.process
    calls = {"n": 0}

    def dies_on_the_fifth(inbound_id: int, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise Crash
        return original(inbound_id, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(services, "process", dies_on_the_fifth)
        with pytest.raises(Crash):
            imap.fetch(fresh(account))
    # then the first batch is settled; the second is stored up to its second message (the
    # fifth is stored before it is processed) and nothing of it was moved; the rest waits
    states = dict(ImapMessage.objects.values_list("uid", "state"))
    assert states == {1: "done", 2: "done", 3: "done", 4: "processed", 5: "stored"}
    assert sorted(server.folder(user, PASSWORD)) == [4, 5, 6, 7]
    assert Ticket.objects.count() == 4
    # when the next poll runs (the dead one's lease run out)
    ImapAccount.objects.filter(pk=account.pk).update(polling_until=None)
    poll = imap.fetch(fresh(account))
    # then every message is on exactly one ticket and has left the inbox
    assert poll.error == ""
    subjects = sorted(Ticket.objects.values_list("subject", flat=True))
    assert subjects == [f"Killed {n}" for n in range(7)]
    assert Inbound.objects.count() == RawMessage.objects.count() == 7
    assert server.folder(user, PASSWORD) == {}
    assert len(server.folder(user, PASSWORD, "Processed")) == 7
    assert set(ImapMessage.objects.values_list("state", flat=True)) == {"done"}


def test_a_crash_before_a_batch_is_moved_settles_it_all_at_the_next_poll(
    server, user, account, monkeypatch
):
    for n in range(4):
        server.append(user, PASSWORD, mail(subject=f"Unmoved {n}", sender=f"user{n}@example.com"))

    def crash(*args, **kwargs) -> None:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(imap, "settle", crash)
        with pytest.raises(Crash):
            imap.fetch(fresh(account))
    assert set(ImapMessage.objects.values_list("state", flat=True)) == {"processed"}
    assert len(server.folder(user, PASSWORD)) == 4
    ImapAccount.objects.filter(pk=account.pk).update(polling_until=None)
    commands = Commands(monkeypatch)
    poll = imap.fetch(fresh(account))
    # the rerun moves the four in one command and opens nothing new
    assert [c[1] for c in commands.named("MOVE")] == ["1:4"]
    assert len(poll.lines) == 4
    assert Ticket.objects.count() == 4
    assert server.folder(user, PASSWORD) == {}


def test_a_large_message_comes_in_a_batch_of_its_own(server, user, account, monkeypatch):
    big = mail(subject="Big one", body="x" * 4000)
    server.append(user, PASSWORD, mail(subject="Small one"))
    server.append(user, PASSWORD, big)
    server.append(user, PASSWORD, mail(subject="Small two", sender="other@example.com"))
    monkeypatch.setattr(imap, "FETCH_BYTES", len(big))
    commands = Commands(monkeypatch)
    imap.fetch(fresh(account))
    bodies = [c[1] for c in commands.named("FETCH") if c[2] == "(BODY.PEEK[])"]
    assert bodies == ["1", "2", "3"]
    assert Ticket.objects.count() == 3


@pytest.mark.parametrize(
    ("uids", "written"),
    [([1], "1"), ([1, 2, 3, 7], "1:3,7"), ([9, 3, 4, 4, 12, 10, 11], "3:4,9:12"), ([5, 7], "5,7")],
)
def test_uid_sets_are_written_as_ranges(uids, written):
    assert imap.uid_set(uids) == written


def test_an_empty_uid_set_is_refused():
    with pytest.raises(ValueError):
        imap.uid_set([])


def test_batches_are_cut_by_count_and_by_bytes(monkeypatch):
    monkeypatch.setattr(imap, "FETCH_BATCH", 3)
    monkeypatch.setattr(imap, "FETCH_BYTES", 100)
    sizes = {1: 10, 2: 10, 3: 10, 4: 10, 5: 95, 6: 500, 7: 1}
    assert list(imap.batches([1, 2, 3, 4, 5, 6, 7], sizes)) == [[1, 2, 3], [4], [5], [6], [7]]


class FakeConnection:
    def __init__(self, data: list) -> None:
        self.data = data

    def uid(self, *args):
        return "OK", self.data


def test_a_uid_after_the_body_is_read_too():
    # given a server that names the UID after the literal, and an unsolicited FLAGS update
    data = [
        (b"1 (BODY[] {5}", b"first"),
        b" UID 7)",
        b"2 FETCH (FLAGS (\\Seen))",
        (b"3 (UID 9 BODY[] {6}", b"second"),
        b")",
        (b"4 (UID 99 BODY[] {5}", b"other"),
        b")",
    ]
    # then each body is found under its UID, and a UID not asked for is left out
    assert imap._fetch_raws(FakeConnection(data), [7, 9]) == {7: b"first", 9: b"second"}
