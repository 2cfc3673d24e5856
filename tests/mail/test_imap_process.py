"""`tierline mail fetch` as a process, killed with SIGKILL in the middle of a batch: run again
(once the dead run's lease has run out), every message is on exactly one ticket and has left
the inbox. Nothing lost, nothing doubled."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from tests.mail.conftest import PASSWORD
from tests.mail.factories import mail

TIERLINE = Path(sys.executable).with_name("tierline")
COUNT = 40
SECRET_KEY = "a test key for the fetch process, long enough to be a key"

SETUP = f"""
import django
django.setup()
from tierline.mail import sealing
from tierline.mail.models import ImapAccount, Mailbox
box = Mailbox.objects.create(name="Help desk", addresses="help@example.org", policy="accept")
ImapAccount.objects.create(
    mailbox=box, host="127.0.0.1", port=int(__import__("sys").argv[1]),
    trusted_certificate=open(__import__("sys").argv[2]).read(), username=__import__("sys").argv[3],
    password=sealing.seal({PASSWORD!r}), move_to="Processed",
)
"""


def _env(data_dir: Path) -> dict[str, str]:
    env = dict(
        os.environ,
        TIERLINE_DATA_DIR=str(data_dir),
        TIERLINE_SECRET_KEY=SECRET_KEY,
        DJANGO_SETTINGS_MODULE="tierline.settings",
    )
    for name in ("TIERLINE_DATABASE_URL", "TIERLINE_TASKS"):
        env.pop(name, None)  # always its own SQLite database
    return env


def _rows(data_dir: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(data_dir / "tierline.sqlite3", timeout=20)) as db:
        return db.execute(sql).fetchall()


def test_a_fetch_killed_mid_batch_loses_and_doubles_nothing(server, user, tmp_path):
    data_dir = tmp_path / "data"
    env = _env(data_dir)
    run = {"env": env, "check": True, "capture_output": True, "timeout": 300}
    subprocess.run([str(TIERLINE), "init", "--migrate-only", "--quiet"], **run)
    certificate = tmp_path / "cert.pem"
    certificate.write_text(server.certificate)
    subprocess.run(
        [sys.executable, "-c", SETUP, str(server.imaps_port), str(certificate), user], **run
    )
    for n in range(COUNT):
        server.append(user, PASSWORD, mail(subject=f"Message {n}", sender=f"user{n}@example.com"))
    # when a fetch is killed once a few messages are stored
    log = tmp_path / "fetch.log"
    with open(log, "w") as out:
        fetch = subprocess.Popen(
            [str(TIERLINE), "mail", "fetch"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 120
    while _rows(data_dir, "SELECT count(*) FROM mail_imapmessage")[0][0] < 3:
        assert fetch.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.01)
    fetch.send_signal(signal.SIGKILL)
    fetch.wait(timeout=20)
    stored = _rows(data_dir, "SELECT count(*) FROM mail_imapmessage")[0][0]
    assert 3 <= stored < COUNT
    assert len(server.folder(user, PASSWORD)) > 0
    # then, once the dead fetch's lease has run out, a new fetch finishes the batch
    _expire_lease(data_dir)
    done = subprocess.run([str(TIERLINE), "mail", "fetch"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    subjects = _rows(data_dir, "SELECT subject FROM desk_ticket ORDER BY subject")
    assert sorted(s for (s,) in subjects) == sorted(f"Message {n}" for n in range(COUNT))
    assert _rows(data_dir, "SELECT count(*), count(DISTINCT raw_id) FROM mail_inbound") == [
        (COUNT, COUNT)
    ]
    assert _rows(data_dir, "SELECT DISTINCT state FROM mail_imapmessage") == [("done",)]
    assert server.folder(user, PASSWORD) == {}
    assert len(server.folder(user, PASSWORD, "Processed")) == COUNT


def _expire_lease(data_dir: Path) -> None:
    with closing(sqlite3.connect(data_dir / "tierline.sqlite3", timeout=20)) as db:
        db.execute("UPDATE mail_imapaccount SET polling_until = NULL")
        db.commit()
