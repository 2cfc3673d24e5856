"""Raw messages on disk: content-addressed by SHA-256, written durably (fsync) before any row
says they exist.

    <MEDIA_ROOT>/mail/ab/cd/<sha256>.eml

The same bytes are stored once. A file is written to a temporary name, flushed to the disk and
renamed into place (and the folder synced), so a crash leaves either the whole message or none.

Inside `synced_together()` (the spool's drain: many messages, one commit) the files are written
and renamed into place at once, and flushed together when the block ends, each file then each
folder (on ext4 the first flush commits the journal for all of them: one disk wait per batch
instead of two per message). The block ends before the transaction naming the files commits, so
no committed row ever names a file the disk may lose. A file found in place is reused only if
its bytes hash to its name (a crash before a batch's flush may leave one unflushed).
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


# Files and folders whose flush waits for the end of a `synced_together()` block (None: outside).
_unsynced: ContextVar[tuple[set[Path], set[Path]] | None] = ContextVar(
    "rawstore_unsynced", default=None
)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(path: Path) -> None:
    """Sync a folder's entries now, or at the end of the current `synced_together()` block."""
    pending = _unsynced.get()
    if pending is None:
        _fsync(path)
    else:
        pending[1].add(path)


@contextmanager
def synced_together() -> Iterator[None]:
    """Flush the files stored in the block, and their folders, once, when it ends. Leave the
    block before committing the rows that name the files. Nothing is flushed when the block
    ends with an exception (the transaction it sits in rolls back)."""
    if _unsynced.get() is not None:  # already inside one: the outer block flushes
        yield
        return
    files: set[Path] = set()
    folders: set[Path] = set()
    token = _unsynced.set((files, folders))
    try:
        yield
    finally:
        _unsynced.reset(token)
    for path in sorted(files):
        _fsync(path)
    # Deepest first: a new folder's own entries, then its entry in its parent.
    for folder in sorted(folders, key=lambda path: len(path.parts), reverse=True):
        _fsync(folder)


def _make_folders(folder: Path) -> None:
    """Create `folder` (and its missing parents); each new entry synced in its parent."""
    missing = []
    current = folder
    while not current.exists():
        missing.append(current)
        current = current.parent
    if not missing:  # the usual case: no system call more
        return
    folder.mkdir(parents=True, exist_ok=True)
    for created in missing:
        _sync_folder(created.parent)


def _holds(target: Path, raw: bytes, sha256: str) -> bool:
    """Whether the file in place holds these bytes (its size, then its digest)."""
    try:
        if target.stat().st_size != len(raw):
            return False
        return digest(target.read_bytes()) == sha256
    except OSError:
        return False


def store(raw: bytes, sha256: str | None = None) -> str:
    """Write `raw` durably under its digest (once); its path relative to `root()`. Inside
    `synced_together()`, durable when the block ends."""
    sha256 = sha256 or digest(raw)
    relative = relative_path(sha256)
    target = root() / relative
    pending = _unsynced.get()
    if _holds(target, raw, sha256):
        # Written before; maybe by a batch that rolled back before its flush: flushed again.
        if pending is None:
            _fsync(target)
        else:
            pending[0].add(target)
        _sync_folder(target.parent)
        return relative
    _make_folders(target.parent)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            if pending is None:  # else flushed with the batch, before its commit
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if pending is not None:
        pending[0].add(target)
    _sync_folder(target.parent)
    return relative


def read(relative: str) -> bytes:
    """The stored bytes of a raw message."""
    path = (root() / relative).resolve()
    if root().resolve() not in path.parents:
        raise ValueError("A raw message path must stay inside the mail store.")
    return path.read_bytes()
