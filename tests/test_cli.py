"""The `tierline` command: each subcommand, and bad input giving a clear message, not a traceback."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.desk.factories import ticket
from tierline import cli
from tierline.core.models import ApiToken
from tierline.core.tokens import digest
from tierline.desk import services
from tierline.desk.models import Status, Ticket
from tierline.people.models import User

pytestmark = pytest.mark.django_db


def test_init_noinput_without_password_creates_no_admin(capsys, monkeypatch):
    # given
    monkeypatch.delenv("TIERLINE_ADMIN_PASSWORD", raising=False)
    # when
    code = cli.main(["init", "--noinput", "--quiet"])
    # then
    assert code == 0
    assert not User.objects.filter(is_superuser=True).exists()
    assert "No administrator was created" in capsys.readouterr().out


def test_init_migrate_only_says_nothing_about_an_administrator(capsys, monkeypatch):
    # given (as make demo runs it, before the demo data brings its own admin)
    monkeypatch.delenv("TIERLINE_ADMIN_PASSWORD", raising=False)
    # when
    code = cli.main(["init", "--migrate-only", "--quiet"])
    # then
    assert code == 0
    assert "administrator" not in capsys.readouterr().out.lower()


def test_init_indexes_tickets_stored_before_the_search_index_existed(capsys):
    # given: tickets, and an index that lost them (as after upgrading to a version with one)
    from tierline.knowledge.models_search import SearchDocument

    ticket(subject="Paper jam on the second floor")
    SearchDocument.objects.all().delete()
    # when
    code = cli.main(["init", "--migrate-only", "--quiet"])
    # then
    assert code == 0
    assert "Building the search index" in capsys.readouterr().out
    assert SearchDocument.objects.filter(kind="ticket").count() == Ticket.objects.count() == 1
    # and a second init has nothing to build
    cli.main(["init", "--migrate-only", "--quiet"])
    assert "search index" not in capsys.readouterr().out


def test_init_noinput_with_password_creates_admin_once(capsys, monkeypatch):
    # given
    monkeypatch.setenv("TIERLINE_ADMIN_PASSWORD", "a-long-admin-secret-42")
    # when
    first = cli.main(["init", "--noinput", "--quiet"])
    second = cli.main(["init", "--noinput", "--quiet"])
    # then
    assert (first, second) == (0, 0)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.role == User.Role.ADMIN
    assert admin.check_password("a-long-admin-secret-42")
    assert User.objects.count() == 1
    assert "already exists" in capsys.readouterr().out


def test_createadmin_refuses_a_weak_password(capsys, monkeypatch):
    # given
    monkeypatch.setenv("TIERLINE_ADMIN_PASSWORD", "password")
    # when
    code = cli.main(["createadmin", "--noinput", "--username", "boss"])
    # then
    assert code == 2
    assert "Password refused" in capsys.readouterr().err
    assert not User.objects.filter(username="boss").exists()


def test_demo_small_then_again_is_idempotent(capsys):
    # when
    first = cli.main(["demo", "--people", "40", "--tickets", "60", "--seed", "3"])
    tickets = Ticket.objects.count()
    second = cli.main(["demo", "--people", "40", "--tickets", "60"])
    # then
    assert (first, second) == (0, 0)
    assert tickets >= 60
    assert Ticket.objects.count() == tickets
    out = capsys.readouterr().out
    assert "Demo data already loaded" in out
    for username in ("admin", "tier1", "tier2", "tier3", "lead", "employee", "employee2"):
        assert username in out


def test_token_prints_a_new_key_each_time_and_stores_only_its_hash(capsys, tier1):
    # when
    assert cli.main(["token", "tier1", "--name", "report script", "--days", "30"]) == 0
    assert cli.main(["token", "tier1"]) == 0
    # then two different keys were printed, once each, and only their digests are stored
    captured = capsys.readouterr()
    first, second = captured.out.split()
    assert first != second
    assert "shown only now" in captured.err
    stored = {t.digest: t for t in ApiToken.objects.filter(user=tier1)}
    assert set(stored) == {digest(first), digest(second)}
    assert not ApiToken.objects.filter(digest__in=[first, second]).exists()
    assert stored[digest(first)].name == "report script"
    assert stored[digest(first)].expires_at is not None
    assert stored[digest(second)].expires_at is None


@pytest.mark.parametrize("days", ["0", "-1", "soon"])
def test_token_with_a_bad_expiry_exits_2(capsys, tier1, days):
    with pytest.raises(SystemExit) as exited:
        cli.main(["token", "tier1", "--days", days])
    assert exited.value.code == 2
    assert not ApiToken.objects.filter(user=tier1).exists()


def test_token_for_unknown_user_exits_2_with_a_message(capsys):
    # when
    code = cli.main(["token", "nobody-here"])
    # then
    assert code == 2
    captured = capsys.readouterr()
    assert "No user named “nobody-here”" in captured.err
    assert "Traceback" not in captured.err


def test_worker_once_closes_an_old_resolved_ticket(capsys, employee, tier1):
    # given
    old = ticket(employee)
    services.take(ticket=old, by=tier1)
    services.resolve(ticket=old, by=tier1, resolution_code="fixed", body="Restarted the spooler.")
    Ticket.objects.filter(pk=old.pk).update(resolved_at=timezone.now() - timedelta(days=30))
    # when
    code = cli.main(["worker", "--once"])
    # then
    assert code == 0
    old.refresh_from_db()
    assert old.status == Status.CLOSED and not old.is_open
    assert "close-resolved-tickets" in capsys.readouterr().out


def test_worker_once_again_runs_nothing_until_the_job_is_due(capsys):
    # given a worker that ran the due jobs
    assert cli.main(["worker", "--once"]) == 0
    capsys.readouterr()
    # when another starts straight after (a restart, a second machine)
    code = cli.main(["worker", "--once"])
    # then
    assert code == 0
    assert "Ran 0 periodic job(s): none." in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["no-such-command"],
        ["serve", "--port", "99999"],
        ["serve", "--port", "eighty"],
        ["demo", "--tickets", "0"],
        ["worker", "--interval", "-1"],
        [],
    ],
)
def test_bad_input_exits_2_with_usage(argv, capsys):
    # when
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    # then
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: tierline" in err
    assert "Traceback" not in err


# --- tierline serve, as a real child process ------------------------------------------------

TIERLINE = Path(sys.executable).with_name("tierline")
SERVE_STARTS = 20
FIRST_ANSWER_SECONDS = 10


def _serve_env(data_dir: Path) -> dict[str, str]:
    """The environment of a `tierline` child: its own data dir, always on SQLite.

    The hang this guards against is about imports and fork, not the database; on the PostgreSQL
    run the child would otherwise serve (and migrate) the real database of the URL."""
    env = dict(os.environ, TIERLINE_DATA_DIR=str(data_dir))
    for name in ("TIERLINE_DATABASE_URL", "TIERLINE_ADMIN_PASSWORD", "TIERLINE_TASKS"):
        env.pop(name, None)
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def initialised_data_dir(tmp_path_factory) -> Path:
    """A data dir after `tierline init`: each start copies it, so each start is a fresh one."""
    data_dir = tmp_path_factory.mktemp("serve-template")
    subprocess.run(
        [str(TIERLINE), "init", "--noinput", "--quiet"],
        env=_serve_env(data_dir),
        check=True,
        capture_output=True,
        timeout=300,
    )
    return data_dir


def _wait_until_accepting(server: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, f"tierline serve stopped at start:\n{log.read_text()}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"port {port} never opened:\n{log.read_text()}"
            time.sleep(0.05)


def _first_answer(port: int) -> tuple[int, float]:
    """GET the sign-in page; the status and the seconds it took (raises if over the limit)."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=FIRST_ANSWER_SECONDS)
    try:
        conn.request("GET", "/accounts/login/")
        status = conn.getresponse().status
    finally:
        conn.close()
    return status, time.monotonic() - started


def _stop(server: subprocess.Popen) -> int:
    server.send_signal(signal.SIGTERM)
    try:
        return server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        raise


def _scheduled_job(data_dir: Path, name: str) -> tuple | None:
    with closing(sqlite3.connect(data_dir / "tierline.sqlite3", timeout=20)) as db:
        return db.execute(
            "SELECT last_started_at, last_finished_at, last_error FROM core_scheduledjob "
            "WHERE name = ?",
            (name,),
        ).fetchone()


def test_serve_answers_its_first_request_on_twenty_fresh_starts(initialised_data_dir, tmp_path):
    seconds = []
    for start in range(SERVE_STARTS):
        # given a fresh data dir and a free port
        data_dir = tmp_path / f"start-{start}"
        shutil.copytree(initialised_data_dir, data_dir)
        port, log = _free_port(), tmp_path / f"serve-{start}.log"
        with open(log, "w") as out:
            server = subprocess.Popen(
                [str(TIERLINE), "serve", "--port", str(port)],
                env=_serve_env(data_dir),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_accepting(server, port, log)
            # when the first request is sent as soon as the port accepts
            try:
                status, took = _first_answer(port)
            except TimeoutError:
                pytest.fail(
                    f"start {start + 1}: no answer within {FIRST_ANSWER_SECONDS} s\n"
                    + log.read_text()
                )
            # then it is answered, and the scheduler ran its job in a worker
            assert status == 200, log.read_text()
            seconds.append(took)
            deadline = time.monotonic() + FIRST_ANSWER_SECONDS
            while (row := _scheduled_job(data_dir, "close-resolved-tickets")) is None or not row[1]:
                assert time.monotonic() < deadline, f"the scheduler did not run:\n{log.read_text()}"
                time.sleep(0.1)
            assert row[2] == "", row[2]
        finally:
            code = _stop(server)
        # and it stops cleanly
        assert code == 0, log.read_text()
        assert "Traceback" not in log.read_text()
    assert len(seconds) == SERVE_STARTS
    print(f"first answers: max {max(seconds):.2f} s, median {sorted(seconds)[10]:.2f} s")


def test_serve_on_a_taken_port_says_so_plainly(capsys):
    # given another program listening on the port
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        # when
        code = cli.main(["serve", "--port", str(port)])
    # then
    assert code == 1
    err = capsys.readouterr().err
    assert f"Port {port} on 127.0.0.1 is already in use" in err
    assert "Traceback" not in err


def test_serve_check_port_on_a_free_port_says_nothing_and_exits_0(capsys):
    # when
    code = cli.main(["serve", "--check-port", "--port", str(_free_port())])
    # then
    assert code == 0
    assert capsys.readouterr().err == ""


def test_serve_on_an_unknown_host_says_so_plainly(capsys):
    # when
    code = cli.main(["serve", "--check-port", "--host", "no-such-host.invalid", "--port", "8000"])
    # then
    assert code == 2
    err = capsys.readouterr().err
    assert "“no-such-host.invalid”" in err
    assert "Traceback" not in err


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_on_a_taken_port_stops_before_serving(tmp_path):
    # given another program listening on the port, and the virtualenv these tests run in
    venv = Path(sys.executable).parent.parent
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        # when
        result = subprocess.run(
            [
                "make",
                "--no-print-directory",
                "-C",
                str(Path(__file__).resolve().parent.parent),
                # the virtualenv is there: don't rebuild it
                "-o",
                f"{venv}/.installed",
                "demo",
                f"VENV={venv}",
                f"PORT={port}",
                f"TIERLINE_DATA_DIR={tmp_path / 'var'}",
            ],
            env=_serve_env(tmp_path / "var"),
            capture_output=True,
            text=True,
            timeout=120,
        )
    # then
    assert result.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Stop with Ctrl-C" not in result.stdout
    # nothing was loaded either: the check comes first
    assert not (tmp_path / "var" / "tierline.sqlite3").exists()
