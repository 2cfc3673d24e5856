"""Raw messages on disk: content-addressed by SHA-256, written durably (fsync) before any row
says they exist.

    <MEDIA_ROOT>/mail/ab/cd/<sha256>.eml

The same bytes are stored once. A file is written to a temporary name, flushed to the disk and
renamed into place (and the folder synced), so a crash leaves either the whole message or none.

Inside `synced_together()` (the spool's drain: many messages, one commit) each file is still
flushed before its rename, but the folders' syncs wait for the end of the block, each folder
once, and the block ends before the transaction naming the files commits: as durable for the
promise (no committed row names a file the disk may lose), one directory sync per folder per
batch instead of one per message.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from django.conf import settings


def root() -> Path:
    """The folder raw messages live in (read at call time: tests move the data dir)."""
    return Path(settings.MEDIA_ROOT) / "mail"


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def relative_path(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.eml"


# The folders whose sync waits for the end of a `synced_together()` block (None: outside one).
_unsynced: ContextVar[set[Path] | None] = ContextVar("rawstore_unsynced", default=None)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(path: Path) -> None:
    """Sync a folder's entries now, or at the end of the current `synced_together()` block."""
    pending = _unsynced.get()
    if pending is None:
        _fsync_dir(path)
    else:
        pending.add(path)


@contextmanager
def synced_together() -> Iterator[None]:
    """Defer the folder syncs of the files stored in the block to its end (each folder once).
    Leave the block before committing the rows that name the files."""
    if _unsynced.get() is not None:  # already inside one: the outer block syncs
        yield
        return
    pending: set[Path] = set()
    token = _unsynced.set(pending)
    try:
        yield
    finally:
        _unsynced.reset(token)
    # Deepest first: a new folder's own entries, then its entry in its parent.
    for folder in sorted(pending, key=lambda path: len(path.parts), reverse=True):
        _fsync_dir(folder)


def _make_folders(folder: Path) -> None:
    """Create `folder` (and its missing parents); each new entry synced in its parent."""
    missing = []
    current = folder
    while not current.exists():
        missing.append(current)
        current = current.parent
    folder.mkdir(parents=True, exist_ok=True)
    for created in missing:
        _sync_folder(created.parent)


def store(raw: bytes, sha256: str | None = None) -> str:
    """Write `raw` durably under its digest (once); its path relative to `root()`."""
    sha256 = sha256 or digest(raw)
    relative = relative_path(sha256)
    target = root() / relative
    if target.exists() and target.stat().st_size == len(raw):
        # Written before (flushed before its rename), maybe by a batch that rolled back
        # before its folders were synced: its entry is synced now, as a new one would be.
        _sync_folder(target.parent)
        return relative
    _make_folders(target.parent)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_folder(target.parent)
    return relative


def read(relative: str) -> bytes:
    """The stored bytes of a raw message."""
    path = (root() / relative).resolve()
    if root().resolve() not in path.parents:
        raise ValueError("A raw message path must stay inside the mail store.")
    return path.read_bytes()
