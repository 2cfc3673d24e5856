"""The spool: raw messages accepted by `tierline mailserver`, on disk before the 250.

    <DATA_DIR>/mail-spool/tmp/    being written
    <DATA_DIR>/mail-spool/new/    complete, waiting for the gateway

A message is written to tmp/, flushed to the disk (fsync), renamed into new/ and the folder
synced: once `write` returns, a crash or a power cut loses nothing, so the listener may answer
250. `drain` feeds each file through the gateway (`services.receive`) and deletes it only after
its outcome is committed; a crash between the two brings the message again, and the gateway
calls it a duplicate: one entry, whatever happens.

The listener adds `Return-Path: <envelope sender>` and `Delivered-To: <recipient>` at the top,
as a delivery agent does, so the loop rules see the envelope (an empty sender is a bounce).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings

from tierline.mail import services
from tierline.mail.models import RawMessage

logger = logging.getLogger(__name__)
_UNSAFE_IN_HEADER = re.compile(r"[\r\n\x00]")


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
    return new / name


def waiting() -> list[Path]:
    folder = root() / "new"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def drain(*, limit: int | None = None) -> list[tuple[Path, services.Received]]:
    """Feed the waiting messages through the gateway, oldest first; each file is deleted once
    its outcome is committed."""
    done = []
    for path in waiting()[:limit]:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:  # another drainer took it
            continue
        received = services.receive(raw, source=RawMessage.Source.SPOOL)
        path.unlink(missing_ok=True)
        done.append((path, received))
    return done


def drain_job() -> int:
    """The scheduled job: drain what the listener left (if it runs elsewhere or was stopped)."""
    return len(drain())
