"""The spool: raw messages accepted by `tierline mailserver`, on disk before the 250.

    <DATA_DIR>/mail-spool/tmp/    being written
    <DATA_DIR>/mail-spool/new/    complete, waiting for the gateway

A message is written to tmp/, flushed to the disk (fsync), renamed into new/ and the folder
synced: once `write` returns, a crash or a power cut loses nothing, so the listener may answer
250. `drain` feeds each file through the gateway (`services.receive`) and deletes it only after
its outcome is committed; a crash between the two brings the message again, and the gateway
calls it a duplicate: one entry, whatever happens.

The drain commits in batches (up to BATCH messages or BATCH_SECONDS, one transaction): each
message still gets its own savepoint inside (a failure is its own quarantine, the others go on),
its raw copy is on disk before the batch commits (`rawstore.synced_together`), and the spool
files are deleted only after that commit. A crash mid-batch rolls the whole batch back and
leaves its files in new/: the next drain takes them again. The 250 promise is the listener's
(`write`, one fsync per message before it answers) and does not change; batching only spares
the drain a commit, the mailboxes' reads and the notifications' queries per message. If a batch
fails as a whole (the database went away, a file could not be stored), its messages are taken
again one per transaction, so the messages before the failing one are kept, as before.

The listener adds `Return-Path: <envelope sender>` and `Delivered-To: <recipient>` at the top,
as a delivery agent does, so the loop rules see the envelope (an empty sender is a bounce).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tierline.mail import mailboxes, rawstore, senders, services
from tierline.mail.models import RawMessage

logger = logging.getLogger(__name__)
_UNSAFE_IN_HEADER = re.compile(r"[\r\n\x00]")
# A drain commits after this many messages, or after this long, whichever comes first: each
# commit is a wait for the disk (PostgreSQL's WAL flush), and a batch holds the rows it wrote
# (on SQLite the database's write lock) until it commits.
BATCH = 50
BATCH_SECONDS = 0.5
# A batch reads its messages before it processes them (their senders are looked up together),
# up to this many bytes: a batch of large attachments is not held in memory whole.
AHEAD_BYTES = 8 * 1024 * 1024
# The mailserver's loop drains when its listener spools a message, this long after it.
GATHER_SECONDS = 0.1
# Set by `write`: a message is waiting (in this process; see `wait_for_mail`).
_arrived = threading.Event()


def root() -> Path:
    return Path(settings.DATA_DIR) / "mail-spool"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def envelope_headers(mail_from: str, recipients: Sequence[str]) -> bytes:
    """Return-Path and Delivered-To lines for the top of a message: no CR, LF or NUL from the
    envelope ever reaches a header."""
    sender = _UNSAFE_IN_HEADER.sub("", mail_from or "").strip().strip("<>")
    lines = [f"Return-Path: <{sender}>"]
    if recipients:
        lines.append(f"Delivered-To: {_UNSAFE_IN_HEADER.sub('', recipients[0]).strip()}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8", "replace")


def write(raw: bytes, *, mail_from: str, recipients: Sequence[str]) -> Path:
    """Store one accepted message durably in new/; its path. Raises OSError when it can't."""
    tmp, new = root() / "tmp", root() / "new"
    tmp.mkdir(parents=True, exist_ok=True)
    new.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns()}.{os.getpid()}.{secrets.token_hex(6)}.eml"
    temporary = tmp / name
    try:
        with open(temporary, "xb") as handle:
            handle.write(envelope_headers(mail_from, recipients))
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, new / name)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_dir(new)
    _arrived.set()
    return new / name


def wait_for_mail(timeout: float) -> bool:
    """Wait up to `timeout` seconds for a message this process's listener spools (the
    mailserver's loop drains on arrival, not only every interval); True if one came. Another
    process's spooled mail waits for the timeout. A message that comes is given GATHER_SECONDS
    for others to join it, so a steady stream is drained in batches, not one by one."""
    came = _arrived.wait(timeout)
    if came:
        time.sleep(GATHER_SECONDS)
    _arrived.clear()
    return came


def waiting() -> list[Path]:
    folder = root() / "new"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def drain(*, limit: int | None = None) -> list[tuple[Path, services.Received]]:
    """Feed the waiting messages through the gateway, oldest first, in batches (one commit
    each); each file is deleted once its outcome is committed."""
    done: list[tuple[Path, services.Received]] = []
    paths = waiting()[:limit]
    while paths:
        taken, paths = _drain_batch(paths)
        done.extend(taken)
    return done


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:  # another drainer took it
        return None


def _read_ahead(paths: Sequence[Path]) -> list[tuple[Path, bytes | None]]:
    """The front of `paths` read, up to AHEAD_BYTES in all (at least one file): a batch of large
    messages is not all held in memory at once."""
    ahead: list[tuple[Path, bytes | None]] = []
    held = 0
    for path in paths:
        if ahead and held >= AHEAD_BYTES:
            break
        raw = _read(path)
        held += len(raw or b"")
        ahead.append((path, raw))
    return ahead


def _receive(path: Path, raw: bytes | None = None) -> services.Received | None:
    """The file's message through the gateway (`raw`: its bytes, already read)."""
    if raw is None:
        raw = _read(path)
        if raw is None:
            return None
    return services.receive(raw, source=RawMessage.Source.SPOOL)


def _drain_batch(
    paths: list[Path],
) -> tuple[list[tuple[Path, services.Received]], list[Path]]:
    """One batch from the front of `paths`, committed; what it did and the paths left."""
    taken: list[tuple[Path, services.Received]] = []
    started = time.monotonic()
    position = 0
    try:
        # Left in reverse order: the raw files and their folders are flushed, then it commits.
        with mailboxes.batch_cache(), transaction.atomic(), rawstore.synced_together():
            # The batch's files read first, so their senders are looked up together
            # (`senders.expect`, from the headers alone); those left when time runs out are
            # read again by the next batch.
            ahead = _read_ahead(paths[:BATCH])
            senders.expect(
                (raw for _path, raw in ahead if raw is not None),
                since=timezone.now() - services.RATE_WINDOW,
            )
            while position < len(ahead):  # at most BATCH: `ahead` holds no more
                if taken and time.monotonic() - started >= BATCH_SECONDS:
                    break
                path, raw = ahead[position]
                position += 1
                received = _receive(path, raw) if raw is not None else None
                if received is not None:
                    taken.append((path, received))
    except Exception:
        if position <= 1:
            raise
        # The batch is rolled back: take its messages again one per commit, as the drain did
        # before it batched, so those before a failing one are kept and the failure is raised.
        logger.warning("mail: a spool batch of %d failed; one at a time", position, exc_info=True)
        taken = []
        for path in paths[:position]:
            with transaction.atomic():
                received = _receive(path)
            if received is not None:
                path.unlink(missing_ok=True)
                taken.append((path, received))
        return taken, paths[position:]
    for path, _received in taken:
        path.unlink(missing_ok=True)
    return taken, paths[position:]


def drain_job() -> int:
    """The scheduled job: drain what the listener left (if it runs elsewhere or was stopped)."""
    return len(drain())
