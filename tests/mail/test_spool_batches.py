"""The spool's drain in batches: one commit for many messages, with each message still its own
outcome, the raw copies on disk before the commit, the files deleted only after it, and a failed
batch taken again one message at a time."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from tests.mail.factories import mail, mailbox
from tests.people.factories import UserFactory
from tierline.core.models import HistoryEntry
from tierline.desk.models import Ticket
from tierline.mail import parsing, rawstore, services, spool
from tierline.mail.models import Inbound, RawMessage
from tierline.people import queries as people_queries
from tierline.people.models import User

pytestmark = pytest.mark.django_db


class Crash(BaseException):
    """The worker killed mid-batch: not an Exception, nothing in the drain catches it."""


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.MEDIA_ROOT = tmp_path / "data" / "files"


def _spool(*raws: bytes) -> None:
    for raw in raws:
        spool.write(raw, mail_from="employee@example.com", recipients=["help@example.org"])


def _five() -> list[bytes]:
    return [mail(subject=f"Printer {n} jammed") for n in range(5)]


def test_a_batch_gives_each_message_its_own_outcome_and_empties_the_spool(employee, monkeypatch):
    mailbox()
    monkeypatch.setattr(spool, "BATCH", 2)
    # Only the count closes a batch here: on a busy machine 0.5 s can pass within one message.
    monkeypatch.setattr(spool, "BATCH_SECONDS", 3600)
    batches = []
    original = spool._drain_batch
    monkeypatch.setattr(
        spool, "_drain_batch", lambda paths: batches.append(len(paths)) or original(paths)
    )
    no_sender = b"To: help@example.org\r\nSubject: who?\r\nMessage-ID: <x@y>\r\n\r\nHello\r\n"
    _spool(*_five(), no_sender)

    done = spool.drain()

    assert [received.line.split()[0] for _, received in done] == ["new"] * 5 + ["quarantined:"]
    assert len(batches) == 3  # 6 messages, 2 per commit
    assert Ticket.objects.count() == 5 and spool.waiting() == []
    assert Inbound.objects.filter(outcome=Inbound.Outcome.QUARANTINED).count() == 1


def test_a_failed_batch_is_taken_again_one_at_a_time_keeping_those_before_the_failure(
    employee, monkeypatch
):
    mailbox()
    raws = _five()
    _spool(*raws)
    broken = rawstore.digest(spool.waiting()[2].read_bytes())
    store = rawstore.store

    def full_disk(raw: bytes, sha256: str | None = None) -> str:
        if sha256 == broken:
            raise OSError(28, "No space left on device")
        return store(raw, sha256)

    monkeypatch.setattr(rawstore, "store", full_disk)
    with pytest.raises(OSError):
        spool.drain()
    # the two before it are tickets and their files are gone; it and those after it wait
    assert Ticket.objects.count() == 2 and len(spool.waiting()) == 3
    assert not RawMessage.objects.filter(sha256=broken).exists()

    monkeypatch.setattr(rawstore, "store", store)
    assert len(spool.drain()) == 3
    assert Ticket.objects.count() == 5 and RawMessage.objects.count() == 5
    assert spool.waiting() == []


def test_a_crash_mid_batch_loses_nothing_and_doubles_nothing(employee, monkeypatch):
    mailbox()
    # One batch of the five: on a busy machine 0.5 s can pass within one message.
    monkeypatch.setattr(spool, "BATCH_SECONDS", 3600)
    _spool(*_five())
    receive, calls = services.receive, []

    def dies_on_the_third(raw: bytes, **kwargs) -> services.Received:
        calls.append(1)
        if len(calls) == 3:
            raise Crash
        return receive(raw, **kwargs)

    monkeypatch.setattr(services, "receive", dies_on_the_third)
    with pytest.raises(Crash):
        spool.drain()
    # the batch never committed: every file is still there, no row names any of them
    assert len(spool.waiting()) == 5
    assert RawMessage.objects.count() == 0 and Ticket.objects.count() == 0

    monkeypatch.setattr(services, "receive", receive)
    assert [r.line.split()[0] for _, r in spool.drain()] == ["new"] * 5
    assert Ticket.objects.count() == 5 and spool.waiting() == []


def test_the_mail_user_made_by_a_batch_survives_a_message_that_rolls_back(employee):
    # No mail system user yet; the first message is held (its savepoint rolls back), the
    # second opens a ticket in the same batch: by a mail user that exists.
    mailbox(policy="hold")
    assert not User.objects.filter(username="tierline-mail").exists()
    _spool(mail(sender="stranger@elsewhere.test"), mail(sender="employee@example.com"))

    lines = [received.line for _, received in spool.drain()]

    assert lines[0].startswith("held:") and lines[1].startswith("new TL-")
    ticket = Ticket.objects.get()
    opened = HistoryEntry.objects.get(object_id=ticket.pk, action="opened")
    assert opened.actor == User.objects.get(username="tierline-mail")


def test_a_mailbox_changed_between_batches_is_seen_by_the_next(employee, monkeypatch):
    box = mailbox(policy="hold")
    monkeypatch.setattr(spool, "BATCH", 1)
    _spool(mail(sender="stranger@elsewhere.test"))
    [(_, first)] = spool.drain()
    assert first.line.startswith("held:")
    box.policy = "accept"
    box.save()
    _spool(mail(sender="stranger2@elsewhere.test"))
    [(_, second)] = spool.drain()
    assert second.line.startswith("new TL-")


# --- what a batch does not do twice ---------------------------------------------------------


def test_a_drained_message_is_parsed_once_and_not_read_back_from_the_raw_store(
    employee, monkeypatch
):
    mailbox()
    _spool(*_five())
    loads, reads = [], []
    load, read = parsing.load, rawstore.read
    monkeypatch.setattr(parsing, "load", lambda raw: loads.append(1) or load(raw))
    monkeypatch.setattr(rawstore, "read", lambda path: reads.append(path) or read(path))

    done = spool.drain()

    assert [r.line.split()[0] for _, r in done] == ["new"] * 5
    assert len(loads) == 5 and reads == []


def test_what_a_batch_returns_is_what_it_committed(employee):
    mailbox()
    _spool(
        *_five(), mail(subject="Re: printer", body="", headers={"Auto-Submitted": "auto-replied"})
    )

    done = spool.drain()

    for _, received in done:
        stored = Inbound.objects.select_related("ticket").get(pk=received.inbound.pk)
        assert stored.line == received.line == received.inbound.line
        assert stored.ticket_id == received.inbound.ticket_id
        assert stored.outcome != Inbound.Outcome.PENDING
    assert [r.line.split()[0] for _, r in done] == ["new"] * 5 + ["ignored:"]


def test_the_same_message_twice_in_one_batch_is_one_entry(employee):
    mailbox()
    raw = mail(message_id="<once@client.example>")
    _spool(raw, raw.replace(b"Printer jammed", b"Printer jammed!"))

    lines = [received.line for _, received in spool.drain()]

    assert lines[0].startswith("new TL-")
    assert lines[1] == "ignored: duplicate of <once@client.example>"
    assert Ticket.objects.count() == 1 and RawMessage.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_received_outside_a_transaction_the_row_is_read_again_locked(employee, monkeypatch):
    # `tierline mail ingest` runs with no transaction open: the pending row is committed
    # (another worker or `reprocess` may see it), so `process` takes it again, locked.
    mailbox()
    locked = []
    original = Inbound.objects.select_for_update

    def counting(*args, **kwargs):
        locked.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(Inbound.objects, "select_for_update", counting)
    received = services.receive(mail(), source=RawMessage.Source.INGEST)
    assert received.line.startswith("new TL-") and locked == [1]
    again = services.receive(mail(), source=RawMessage.Source.INGEST)  # a new Message-ID
    assert again.line.startswith("new TL-") and locked == [1, 1]


# --- the raw store's flush together ----------------------------------------------------------


def test_files_stored_together_are_flushed_when_the_block_ends(monkeypatch):
    flushed = []
    monkeypatch.setattr(rawstore, "_fsync", flushed.append)
    raw = mail()
    with rawstore.synced_together():
        relative = rawstore.store(raw)
        assert flushed == []  # nothing yet: written and renamed, not flushed
        assert rawstore.read(relative) == raw  # readable at once
    target = rawstore.root() / relative
    assert flushed[0] == target  # the file first, then its folders, deepest first
    assert flushed[1] == target.parent
    # the new folders' entries in their parents too: ab/ in mail/, mail/ in files/, ...
    assert {target.parent.parent, rawstore.root()} <= set(flushed[2:])
    depths = [len(path.parts) for path in flushed[1:]]
    assert depths == sorted(depths, reverse=True)


def test_nothing_is_flushed_when_the_block_fails(monkeypatch):
    flushed = []
    monkeypatch.setattr(rawstore, "_fsync", flushed.append)
    with pytest.raises(RuntimeError), rawstore.synced_together():
        rawstore.store(mail())
        raise RuntimeError("the batch failed")
    assert flushed == []


def test_outside_a_block_a_file_is_flushed_before_store_returns(monkeypatch):
    flushed = []
    monkeypatch.setattr(rawstore, "_fsync", flushed.append)
    relative = rawstore.store(mail())
    assert (rawstore.root() / relative).parent in flushed


def test_a_file_in_place_with_other_bytes_is_written_again():
    raw = mail()
    sha256 = rawstore.digest(raw)
    target = rawstore.root() / rawstore.relative_path(sha256)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"\0" * len(raw))  # a crash before the flush: the size, not the bytes
    assert rawstore.store(raw) == rawstore.relative_path(sha256)
    assert target.read_bytes() == raw


# --- one savepoint a message ------------------------------------------------------------------


def test_a_duplicate_in_a_batch_writes_no_raw_file(employee):
    # The unique index answers "duplicate" before the file is written: no file names nothing.
    mailbox()
    raw = mail(message_id="<twice@client.example>")
    _spool(raw, raw.replace(b"Printer jammed", b"Printer jammed again"))

    lines = [received.line for _, received in spool.drain()]

    assert lines[1] == "ignored: duplicate of <twice@client.example>"
    files = list(rawstore.root().rglob("*.eml"))
    assert [p.name for p in files] == [f"{RawMessage.objects.get().sha256}.eml"]


def test_a_message_whose_outcome_cannot_be_written_is_quarantined_and_the_batch_goes_on(
    employee, monkeypatch
):
    mailbox()
    monkeypatch.setattr(spool, "BATCH_SECONDS", 3600)
    _spool(*_five()[:3])
    save, calls = Inbound.save, []

    def fails_once(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the second message's outcome, after its ticket was opened
            raise DatabaseError("the row could not be written")
        return save(self, *args, **kwargs)

    monkeypatch.setattr(Inbound, "save", fails_once)
    done = spool.drain()

    lines = [received.line for _, received in done]
    assert lines[0].startswith("new TL-") and lines[2].startswith("new TL-")
    assert lines[1] == (
        "quarantined: could not be processed: DatabaseError: the row could not be written"
    )
    second = Inbound.objects.get(pk=done[1][1].inbound.pk)
    assert second.ticket_id is None and second.raw_id is not None
    assert Ticket.objects.count() == 2 and RawMessage.objects.count() == 3
    assert spool.waiting() == []


# --- what a batch knows of its senders ------------------------------------------------------


def test_a_batch_looks_its_senders_up_together_not_once_per_message(employee, monkeypatch):
    # given five known people writing in one batch
    mailbox()
    monkeypatch.setattr(spool, "BATCH_SECONDS", 3600)
    people = [UserFactory(username=f"writer{n}") for n in range(5)]
    _spool(*[mail(sender=p.email, subject=f"Printer {n}") for n, p in enumerate(people)])
    one_by_one = []
    monkeypatch.setattr(
        people_queries,
        "person_by_email",
        lambda address: one_by_one.append(address) or pytest.fail("looked up alone"),
    )
    # when the spool is drained
    with CaptureQueriesContext(connection) as queries:
        done = spool.drain()
    # then each has a ticket of their own, with no one-by-one look-up or rate count
    assert [r.line.split()[0] for _, r in done] == ["new"] * 5
    assert sorted(t.requester_id for t in Ticket.objects.all()) == sorted(p.pk for p in people)
    assert one_by_one == []
    counts = [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)")]
    assert not [sql for sql in counts if "mail_inbound" in sql]


def test_the_rate_limit_holds_inside_one_batch_with_what_came_before(employee, monkeypatch):
    # given a limit of 3 an hour, and one message from the sender already in
    mailbox(rate_limit_per_hour=3)
    monkeypatch.setattr(spool, "BATCH_SECONDS", 3600)
    assert services.receive(mail(subject="Printer 0")).line.startswith("new TL-")
    # when four more come in one batch
    _spool(*[mail(subject=f"Printer {n}") for n in range(1, 5)])
    lines = [r.line for _, r in spool.drain()]
    # then two more open tickets and the rest are held, with the exact count
    assert [line.split()[0] for line in lines] == ["new", "new", "held:", "held:"]
    assert "rate limit: 3 messages from employee@example.com" in lines[2]
    assert Inbound.objects.filter(sender="employee@example.com").count() == 5


def test_an_automatic_reply_in_the_batch_counts_towards_the_rate_limit(employee, monkeypatch):
    mailbox(rate_limit_per_hour=2)
    monkeypatch.setattr(spool, "BATCH_SECONDS", 3600)
    auto = {"Auto-Submitted": "auto-replied"}
    _spool(mail(headers=auto), mail(headers=auto, subject="Again"), mail(subject="Printer"))
    lines = [r.line for _, r in spool.drain()]
    assert [line.split()[0] for line in lines] == ["ignored:", "ignored:", "held:"]


def test_a_sender_made_a_requester_by_the_batch_is_one_person_for_all_its_messages(
    employee, monkeypatch
):
    # given an unknown sender from an allowed domain, writing twice in one batch
    mailbox(allowed_domains="example.com")
    monkeypatch.setattr(spool, "BATCH_SECONDS", 3600)
    _spool(
        mail(sender="newcomer@example.com", subject="First"),
        mail(sender="newcomer@example.com", subject="Second"),
    )
    lines = [r.line for _, r in spool.drain()]
    assert [line.split()[0] for line in lines] == ["new", "new"]
    newcomer = User.objects.get(email__iexact="newcomer@example.com")
    assert set(Ticket.objects.values_list("requester_id", flat=True)) == {newcomer.pk}


def test_people_by_email_matches_person_by_email():
    here = UserFactory(username="here", email="Pat@Example.com")
    UserFactory(username="later", email="pat@example.com", is_active=False)
    found = people_queries.people_by_email(["PAT@example.COM", "nobody@example.com", ""])
    assert found == {"PAT@EXAMPLE.COM": here}
    assert people_queries.person_by_email("pat@example.com") == here


def test_a_batch_reads_ahead_no_more_than_its_byte_budget(employee, monkeypatch):
    # given messages each larger than what a batch may hold read ahead
    mailbox()
    monkeypatch.setattr(spool, "AHEAD_BYTES", 1)
    monkeypatch.setattr(spool, "BATCH_SECONDS", 3600)
    batches = []
    original = spool._drain_batch
    monkeypatch.setattr(
        spool, "_drain_batch", lambda paths: batches.append(len(paths)) or original(paths)
    )
    _spool(*_five()[:3])
    # when drained, then each batch read and took one, and every message has its outcome
    done = spool.drain()
    assert [r.line.split()[0] for _, r in done] == ["new"] * 3
    assert batches == [3, 2, 1] and spool.waiting() == []


# --- the mailserver's loop wakes on arrival -------------------------------------------------


def test_the_loop_wakes_when_the_listener_spools_a_message_not_after_the_interval():
    spool.wait_for_mail(0)  # nothing left over from other tests
    writer = threading.Timer(0.1, lambda: _spool(mail(subject="Woken")))
    started = time.monotonic()
    writer.start()
    try:
        came = spool.wait_for_mail(30)
    finally:
        writer.join()
    assert came and time.monotonic() - started < 30
    assert len(spool.waiting()) == 1


def test_without_mail_the_loop_waits_the_interval():
    spool.wait_for_mail(0)
    assert spool.wait_for_mail(0.05) is False
