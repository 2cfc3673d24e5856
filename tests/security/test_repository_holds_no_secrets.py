"""The checkout tracks no secret key, database or private key.

A run with `TIERLINE_DATA_DIR` set but empty once wrote `secret_key` and `tierline.sqlite3` into the
root of the checkout, and a commit took them in. This test reads what git tracks.
"""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What a data dir or a deployment writes, and what must never be committed.
NEVER_TRACKED = (
    "secret_key",
    "*.sqlite3",
    "*.sqlite3-wal",
    "*.sqlite3-shm",
    "*.pem",
    "*.key",
    ".env",
)


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to read what is tracked from")
    result = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [name for name in result.stdout.decode().split("\0") if name]


def test_the_repository_tracks_no_secret_key_database_or_private_key():
    tracked = tracked_files()
    assert tracked, "git ls-files listed nothing"
    offending = [
        name
        for name in tracked
        if any(fnmatch.fnmatch(Path(name).name, pattern) for pattern in NEVER_TRACKED)
    ]
    assert offending == []


def test_gitignore_keeps_a_stray_data_dir_out_of_the_root():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "secret_key", "tierline.sqlite3", "var/x"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ignored.stdout.split() == ["secret_key", "tierline.sqlite3", "var/x"]
