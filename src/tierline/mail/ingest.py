"""Raw messages from files and Maildirs, for `tierline mail ingest` (the same path as the spool).

A path is a file (one message), a Maildir (its `new/` and `cur/` messages) or a folder of
message files; hidden files are skipped. Each message is read as bytes, never decoded here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path


def _is_maildir(folder: Path) -> bool:
    return all((folder / part).is_dir() for part in ("cur", "new", "tmp"))


def _files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def message_files(paths: Iterable[str]) -> Iterator[tuple[str, Path | None, str]]:
    """(label, file, problem) per message: the file to read, or None and why not."""
    for given in paths:
        path = Path(given)
        if path.is_file():
            yield given, path, ""
        elif path.is_dir():
            folders = [path / "new", path / "cur"] if _is_maildir(path) else [path]
            for folder in folders:
                for file in _files_in(folder):
                    yield str(file), file, ""
        elif path.exists():
            yield given, None, "not a file or a folder"
        else:
            yield given, None, "no such file or folder"
