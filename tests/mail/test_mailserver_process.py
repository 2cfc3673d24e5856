"""`tierline mailserver` as a process: killed (SIGKILL) after it answered 250, it loses nothing;
started again, it drains the spool into the gateway."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from tests.mail.factories import mail

TIERLINE = Path(sys.executable).with_name("tierline")


def _env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ, TIERLINE_DATA_DIR=str(data_dir))
    for name in ("TIERLINE_DATABASE_URL", "TIERLINE_TASKS"):
        env.pop(name, None)  # always its own SQLite database
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(data_dir: Path, port: int, log: Path, *extra: str) -> subprocess.Popen:
    with open(log, "a") as out:
        server = subprocess.Popen(
            [str(TIERLINE), "mailserver", "--port", str(port), "--any-recipient", *extra],
            env=_env(data_dir),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, log.read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)


def _inbound(data_dir: Path) -> list[tuple]:
    with closing(sqlite3.connect(data_dir / "tierline.sqlite3", timeout=20)) as db:
        return db.execute("SELECT outcome, reason FROM mail_inbound").fetchall()


def test_a_message_answered_250_survives_a_kill_and_is_processed_after_restart(tmp_path):
    data_dir, log = tmp_path / "data", tmp_path / "mailserver.log"
    subprocess.run(
        [str(TIERLINE), "init", "--migrate-only", "--quiet"],
        env=_env(data_dir),
        check=True,
        capture_output=True,
        timeout=300,
    )
    port = _free_port()
    # given a mailserver that drains only once an hour
    server = _start(data_dir, port, log, "--interval", "3600")
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            assert client.sendmail("someone@example.net", ["help@example.org"], mail()) == {}
    finally:
        # when it is killed right after its 250
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=20)
    # then the message is in the spool, and nothing was processed yet
    assert len(list((data_dir / "mail-spool" / "new").iterdir())) == 1
    assert _inbound(data_dir) == []
    # when it starts again
    server = _start(data_dir, port, log, "--interval", "0.2")
    try:
        deadline = time.monotonic() + 30
        while not _inbound(data_dir):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=20)
    # then the message got its outcome (no mailbox is configured: held for review), once
    assert _inbound(data_dir) == [
        ("held", "unknown sender employee@example.com (no mailbox configured)")
    ]
    assert list((data_dir / "mail-spool" / "new").iterdir()) == []
    assert code == 0
    assert "Traceback" not in log.read_text()


@pytest.mark.parametrize("interval", ["0", "soon"])
def test_a_bad_interval_is_refused(interval, tmp_path):
    result = subprocess.run(
        [str(TIERLINE), "mailserver", "--interval", interval],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "usage: tierline" in result.stderr and "Traceback" not in result.stderr
