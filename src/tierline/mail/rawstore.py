"""Raw messages on disk: content-addressed by SHA-256, written durably (fsync) before any row
says they exist.

    <MEDIA_ROOT>/mail/ab/cd/<sha256>.eml

The same bytes are stored once. A file is written to a temporary name, flushed to the disk and
renamed into place (and the folder synced), so a crash leaves either the whole message or none.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings


def root() -> Path:
    """The folder raw messages live in (read at call time: tests move the data dir)."""
    return Path(settings.MEDIA_ROOT) / "mail"


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def relative_path(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.eml"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def store(raw: bytes, sha256: str | None = None) -> str:
    """Write `raw` durably under its digest (once); its path relative to `root()`."""
    sha256 = sha256 or digest(raw)
    relative = relative_path(sha256)
    target = root() / relative
    if target.exists() and target.stat().st_size == len(raw):
        return relative
    target.parent.mkdir(parents=True, exist_ok=True)
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
    _fsync_dir(target.parent)
    return relative


def read(relative: str) -> bytes:
    """The stored bytes of a raw message."""
    path = (root() / relative).resolve()
    if root().resolve() not in path.parents:
        raise ValueError("A raw message path must stay inside the mail store.")
    return path.read_bytes()
