"""The `tierline` command: set up, load demo data, serve, run background jobs, hand out tokens.

    tierline init [--noinput]          create or update the database; offer to create an admin
    tierline createadmin               create an administrator (asks for the password)
    tierline demo [--seed N]           load a realistic help desk to try things on
    tierline serve [--host H --port P] run the web server (gunicorn); each of its worker
                                       processes also runs the scheduler of periodic jobs
    tierline serve --check-port        only say whether the port is free (`make demo` asks first)
    tierline worker [--once]           run periodic jobs and queued tasks (TIERLINE_TASKS=database,
                                       or Redis when TIERLINE_REDIS_URL is set: many workers share them)

Periodic jobs (`core.scheduler`) run once across every server and worker sharing the database:
a lease on the job's row decides who runs it, so any number of `serve` and `worker` may run.
    tierline token USER [--days N]     issue an API token for USER (shown once, stored hashed)
    tierline agent-token [--days N]    print a one-time enrolment token for an endpoint agent
    tierline mail ingest PATH...       feed raw messages (files, Maildirs) through the mail
                                       gateway; prints `<path>: <outcome>` per message
    tierline mail reprocess [--held]   process quarantined (and pending; held) messages again
    tierline mail send                 send the queued outgoing mail that is due (SMTP)
    tierline mail fetch [--mailbox N]  poll the mailboxes' IMAP folders now
    tierline mail idle [--mailbox N]   watch the IMAP folders (IDLE): new mail fetched at once
                                       (or TIERLINE_MAIL_IDLE=1 in `tierline worker`)
    tierline mail oauth-signin --grant NAME
                                       the administrator's one-time sign-in for an OAuth2 grant
                                       (XOAUTH2 mailboxes): Microsoft 365 by device code,
                                       Google in a browser (a loopback redirect)
    tierline mailserver [--lmtp]       an SMTP/LMTP listener for the mailboxes: spools each
                                       message (fsync) before its 250, and drains the spool
    tierline search reindex            build the search index again (tickets, replies, notes,
                                       people, articles) from the stored rows

Every failure prints one clear line and exits non-zero; no tracebacks for bad input.
"""

from __future__ import annotations

import argparse
import errno
import getpass
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from typing import Any

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class CommandFailed(Exception):
    """A failure the user can act on: its message is printed and the exit code returned."""

    def __init__(self, message: str, code: int = EXIT_FAILED):
        super().__init__(message)
        self.code = code


def _out(message: str = "") -> None:
    print(message, flush=True)


# --- argument types -------------------------------------------------------------------------


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{value}” is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 1-65535")
    return port


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{value}” is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} must be at least 1")
    return number


def _non_negative(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{value}” is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{number} must be 0 or more")
    return number


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{value}” is not a number of seconds") from None
    if not 0.05 <= number <= 3600:
        raise argparse.ArgumentTypeError(f"{value} must be between 0.05 and 3600 seconds")
    return number


def _lease_seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{value}” is not a number of seconds") from None
    if not 1 <= number <= 3600:
        raise argparse.ArgumentTypeError(f"{value} must be between 1 and 3600 seconds")
    return number


# --- init and admins -------------------------------------------------------------------------


def _migrate(verbosity: int = 1) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def _unapplied_migrations() -> list[str]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, _ in plan]


def _admin_exists() -> bool:
    from django.db.models import Q

    from tierline.people.models import User

    return User.objects.filter(Q(is_superuser=True) | Q(role=User.Role.ADMIN)).exists()


def create_admin(*, username: str, email: str, password: str) -> Any:
    """An administrator: role admin, superuser, may use the Django admin."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from tierline.people.models import User

    username = username.strip()
    if not username:
        raise CommandFailed("A username is required.", EXIT_BAD_INPUT)
    if User.objects.filter(username=username).exists():
        raise CommandFailed(f"A user named “{username}” already exists.", EXIT_BAD_INPUT)
    user = User(username=username, email=email.strip(), role=User.Role.ADMIN)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise CommandFailed("Password refused: " + " ".join(exc.messages), EXIT_BAD_INPUT) from None
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    return user


def _ask_admin() -> tuple[str, str, str]:
    username = input("Administrator username [admin]: ").strip() or "admin"
    email = input("Email address (optional): ").strip()
    for _attempt in range(3):
        password = getpass.getpass("Password: ")
        if password and password == getpass.getpass("Password (again): "):
            return username, email, password
        _out("The passwords were empty or did not match; try again.")
    raise CommandFailed("No administrator created: the passwords did not match.")


def cmd_init(args: argparse.Namespace) -> int:
    _out("Applying database migrations...")
    _migrate(verbosity=0 if args.quiet else 1)
    _build_search_index_if_missing()
    if args.migrate_only:
        return 0
    if _admin_exists():
        _out("An administrator already exists; nothing else to do.")
        return 0
    if args.noinput:
        password = os.environ.get("TIERLINE_ADMIN_PASSWORD", "")
        if password:
            create_admin(
                username="admin",
                email=os.environ.get("TIERLINE_ADMIN_EMAIL", ""),
                password=password,
            )
            _out("Created administrator “admin” with the password from TIERLINE_ADMIN_PASSWORD.")
        else:
            _out(
                "No administrator was created. Create one with `tierline createadmin` "
                "(or `django-admin createsuperuser`), or run `tierline init --noinput` "
                "with TIERLINE_ADMIN_PASSWORD set."
            )
        return 0
    try:
        username, email, password = _ask_admin()
    except (EOFError, KeyboardInterrupt):
        _out()
        raise CommandFailed(
            "No administrator created. Run `tierline createadmin` when you are ready."
        ) from None
    create_admin(username=username, email=email, password=password)
    _out(f"Created administrator “{username}”.")
    return 0


def _build_search_index_if_missing() -> None:
    """Tickets stored before the search index existed (an upgrade) are indexed once, here:
    the queue's text filter and the search page read only the index."""
    from tierline.knowledge.search import index

    if index.is_missing():
        _out("Building the search index (first time; later changes keep it up to date)...")
        counts = index.reindex_all()
        _out("Indexed " + ", ".join(f"{n:,} {kind}s" for kind, n in counts.items()) + ".")


def cmd_createadmin(args: argparse.Namespace) -> int:
    _require_migrated()
    password = os.environ.get("TIERLINE_ADMIN_PASSWORD", "")
    if not password:
        if args.noinput:
            raise CommandFailed(
                "With --noinput the password comes from TIERLINE_ADMIN_PASSWORD, which is not set.",
                EXIT_BAD_INPUT,
            )
        try:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandFailed("The passwords did not match.", EXIT_BAD_INPUT)
        except (EOFError, KeyboardInterrupt):
            raise CommandFailed("No administrator created.") from None
    create_admin(username=args.username, email=args.email, password=password)
    _out(f"Created administrator “{args.username}”.")
    return 0


def _require_migrated() -> None:
    pending = _unapplied_migrations()
    if pending:
        raise CommandFailed(
            f"The database is not set up ({len(pending)} migrations not applied). "
            "Run `tierline init` first."
        )


# --- demo -----------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from tierline.demo import DEMO_PASSWORD, DEMO_SIGN_INS, demo_loaded, load_demo

    _require_migrated()
    if demo_loaded():
        _out("Demo data already loaded; nothing to do.")
    else:
        started = time.monotonic()
        summary = load_demo(
            seed=args.seed, people=args.people, tickets=args.tickets, progress=_progress
        )
        _out(
            f"Loaded {summary['people']:,} people and {summary['tickets']:,} tickets "
            f"in {time.monotonic() - started:.1f} s."
        )
    _out()
    _out(f"Demo sign-ins (every password is “{DEMO_PASSWORD}”):")
    for username, what in DEMO_SIGN_INS:
        _out(f"  {username:<10}  {what}")
    return 0


def _progress(step: str, done: int | None = None, total: int | None = None) -> None:
    if done is None or not total:
        _out(f"  {step}")
    else:
        end = "\n" if done >= total else "\r"
        print(f"  {step}: {done:,}/{total:,}", end=end, flush=True)


# --- serve ----------------------------------------------------------------------------------


def _ensure_port_free(host: str, port: int) -> None:
    """Fail with a plain message if the server could not listen on host:port.

    gunicorn alone retries for five seconds and then exits with its own log lines."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise CommandFailed(
            f"Can't serve on “{host}”: {reason}. Use an address of this machine, "
            "e.g. --host 127.0.0.1.",
            EXIT_BAD_INPUT,
        ) from None
    with socket.socket(family, kind, proto) as probe:
        # As gunicorn does: a port left in TIME_WAIT by a server that just stopped is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CommandFailed(
                    f"Port {port} on {host} is already in use: another program (perhaps "
                    "another `tierline serve`) is listening there. Stop it, or choose another "
                    f"port: tierline serve --port {port + 1 if port < 65535 else 8000} "
                    f"(make demo PORT={port + 1 if port < 65535 else 8000})."
                ) from None
            if exc.errno == errno.EACCES:
                raise CommandFailed(
                    f"Not allowed to listen on port {port} of {host}: ports below 1024 need "
                    "root. Choose a port from 1024, e.g. --port 8000."
                ) from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise CommandFailed(
                    f"{host} is not an address of this machine; e.g. --host 127.0.0.1.",
                    EXIT_BAD_INPUT,
                ) from None
            raise CommandFailed(f"Can't listen on {host}:{port}: {exc.strerror}.") from None


def cmd_serve(args: argparse.Namespace) -> int:
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    from tierline.core.scheduler import SchedulerThread

    _ensure_port_free(args.host, args.port)
    if args.check_port:
        return 0
    _require_migrated()
    # The master forks the workers: no database connection may cross a fork (each worker opens
    # its own), and the master starts no thread (see post_worker_init).
    connections.close_all()

    def when_ready(server: Any) -> None:
        server.log.info("Tierline on http://%s:%s/", args.host, args.port)

    def post_worker_init(worker: Any) -> None:
        # In each worker, once it has loaded the app, so every module is imported and nothing
        # forks after: one scheduler per worker, and the jobs' database lease lets only one of
        # them (on any machine) run a due job. In the master, before the fork, a scheduler
        # thread importing while the workers forked left them stuck on an import lock.
        if not args.no_scheduler:
            worker.tierline_scheduler = SchedulerThread()
            worker.tierline_scheduler.start()
        # The embedding model and the suggestions' index load in a thread of the worker's own,
        # not in the first request that needs them (assist.background).
        from tierline.assist import background

        background.start(corpus=True)

    def worker_exit(server: Any, worker: Any) -> None:
        thread = getattr(worker, "tierline_scheduler", None)
        if thread is not None:
            thread.stop()
            thread.join(timeout=5)

    options = {
        "bind": f"{args.host}:{args.port}",
        "workers": args.workers,
        "worker_class": "gthread",
        "threads": args.threads,
        "accesslog": "-",
        "errorlog": "-",
        "timeout": 60,
        "graceful_timeout": 10,
        # gunicorn's runtime control socket is one fixed path per user: two servers would clash.
        "control_socket_disable": True,
        "when_ready": when_ready,
        "post_worker_init": post_worker_init,
        "worker_exit": worker_exit,
    }

    class TierlineServer(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from tierline.wsgi import application

            return application

    # gunicorn reads sys.argv for its own options: give it none of ours.
    sys.argv = [sys.argv[0]]
    TierlineServer().run()
    return 0


# --- worker ---------------------------------------------------------------------------------


def _task_backend_kind() -> str:
    """ "immediate", "database" or "redis": where queued tasks wait for a worker."""
    from django.conf import settings

    backend = settings.TASKS["default"]["BACKEND"]
    if backend.startswith("django_tasks_db"):
        return "database"
    if backend == "tierline.core.redis_tasks.RedisBackend":
        return "redis"
    return "immediate"


def _drain_task_queue() -> None:
    """Run every queued task of the database backend, then return."""
    from django.utils.crypto import get_random_string
    from django_tasks_db.management.commands.db_worker import Worker

    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"tierline-{get_random_string(12)}",
        excluded_queue_names=[],
    ).run()


def cmd_worker(args: argparse.Namespace) -> int:
    from django.db import DatabaseError

    from tierline.core.scheduler import Scheduler

    _require_migrated()
    kind = _task_backend_kind()
    if not args.once:
        # The embedding model loads while the worker starts, not in its first task.
        from tierline.assist import background

        background.start(corpus=False)
    if kind == "redis":
        return _redis_worker(args)
    scheduler = Scheduler()
    db_tasks = kind == "database"
    if args.once:
        ran = scheduler.run_due()
        if db_tasks:
            _drain_task_queue()
        _out(f"Ran {len(ran)} periodic job(s): {', '.join(ran) or 'none'}.")
        return 0

    stopping = {"now": False}

    def stop(signum: int, frame: Any) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGTERM, stop)
    watchers = _idle_watchers()
    _out(
        "Tierline worker: periodic jobs "
        + (", ".join(f"{j.name} ({j.schedule})" for j in scheduler.jobs) or "none")
        + ("; database task queue" if db_tasks else "")
        + ". Ctrl-C stops."
    )
    try:
        while not stopping["now"]:
            try:
                for name in scheduler.run_due():
                    _out(f"ran {name}")
            except DatabaseError as exc:  # the database is away: say so, try again next round
                _out(f"periodic jobs not checked: database error: {exc}")
            if db_tasks:
                _drain_task_queue()
            # Short naps so queued tasks start promptly and Ctrl-C / SIGTERM stop quickly.
            deadline = time.monotonic() + (args.interval if db_tasks else 5.0)
            while not stopping["now"] and time.monotonic() < deadline:
                time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        if watchers is not None:
            watchers.close()
    _out("Tierline worker stopped.")
    return 0


def _redis_worker(args: argparse.Namespace) -> int:
    """Tasks from Redis in this thread, one at a time; the scheduler in its own thread (a long
    task does not hold up the periodic jobs). Several of these, on several machines, share the
    queue: each task runs once at a time, and a dead worker's task goes to another."""
    import redis
    from django_tasks import task_backends

    from tierline.core.redis_tasks import RedisWorker
    from tierline.core.scheduler import Scheduler, SchedulerThread

    backend = task_backends["default"]
    scheduler = Scheduler()
    worker = RedisWorker(backend, lease=args.lease, heartbeat=args.lease / 6)
    try:
        backend.redis.ping()
    except redis.RedisError as exc:
        raise CommandFailed(f"Redis at {_redacted(backend.url)} does not answer: {exc}") from None
    if args.once:
        ran = scheduler.run_due()
        worker.start()
        try:
            count = worker.drain()
        finally:
            worker.stop()
        _out(f"Ran {len(ran)} periodic job(s): {', '.join(ran) or 'none'}; {count} task(s).")
        return 0

    stopping = {"now": False}

    def stop(signum: int, frame: Any) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGTERM, stop)
    worker.start()
    thread = SchedulerThread(scheduler)
    thread.start()
    watchers = _idle_watchers()
    _out(
        f"Tierline worker {worker.worker_id}: periodic jobs "
        + (", ".join(f"{j.name} ({j.schedule})" for j in scheduler.jobs) or "none")
        + f"; tasks from Redis at {_redacted(backend.url)} (queues: {', '.join(worker.queues)})"
        + ". Ctrl-C stops."
    )
    try:
        while not stopping["now"]:
            try:
                result = worker.run_one(timeout=args.interval)
            except redis.RedisError as exc:  # Redis is away: say so, try again shortly
                _out(f"tasks not taken: Redis error: {exc}")
                time.sleep(args.interval)
                continue
            if result is not None:
                _out(f"{result.status.lower()} {result.task.module_path} {result.id}")
    except KeyboardInterrupt:
        pass
    finally:
        thread.stop()
        worker.stop()
        if watchers is not None:
            watchers.close()
        thread.join(timeout=10)
    _out("Tierline worker stopped.")
    return 0


def _redacted(url: str) -> str:
    """A Redis URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


# --- token ----------------------------------------------------------------------------------


def cmd_token(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from django.utils import timezone

    from tierline.core.tokens import issue_token
    from tierline.people.models import User

    _require_migrated()
    user = User.objects.filter(username=args.user).first()
    if user is None:
        raise CommandFailed(f"No user named “{args.user}”.", EXIT_BAD_INPUT)
    if not user.is_active:
        raise CommandFailed(f"User “{args.user}” is deactivated.", EXIT_BAD_INPUT)
    expires = timezone.now() + timedelta(days=args.days) if args.days else None
    token, key = issue_token(user=user, name=args.name, expires_at=expires)
    _out(key)
    until = f"until {token.expires_at:%Y-%m-%d %H:%M %Z}" if token.expires_at else "until revoked"
    print(
        f"A new API token for {user.username}, valid {until}. It is shown only now: Tierline "
        "keeps only its hash. Revoke it on the person's page under Configuration.",
        file=sys.stderr,
    )
    return 0


def cmd_agent_token(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from tierline.assets.agent import issue_enrolment_token

    _require_migrated()
    token, key = issue_enrolment_token(valid_for=timedelta(days=args.days))
    _out(key)
    print(
        f"A one-time enrolment token, valid until {token.expires_at:%Y-%m-%d %H:%M %Z}: "
        "tierline-agent enrol --server URL --token TOKEN. It is shown only now.",
        file=sys.stderr,
    )


# --- assist ---------------------------------------------------------------------------------


def _columns(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"“{value}” is not a comma-separated list of column names")
    return names


def cmd_assist_evaluate(args: argparse.Namespace) -> int:
    """Train on the older part of a CSV, test on the newer; print the figures."""
    from pathlib import Path

    from tierline.assist.evaluation import EvaluationError, evaluate

    if args.date_col and args.split_col:
        raise CommandFailed("Give --date-col or --split-col, not both.", EXIT_BAD_INPUT)
    try:
        report = evaluate(
            Path(args.csv),
            text_cols=args.text,
            label_col=args.label,
            date_col=args.date_col,
            split_col=args.split_col,
            meaning=not args.words_only,
        )
    except EvaluationError as exc:
        raise CommandFailed(str(exc), EXIT_BAD_INPUT) from exc
    for line in report.lines():
        _out(line)
    return 0


def cmd_assist_train(args: argparse.Namespace) -> int:
    """Train the triage models on the resolved tickets now (the weekly job does it too)."""
    from tierline.assist import services

    _require_migrated()
    trained = services.retrain()
    for line in trained.lines():
        _out(line)
    return 0


def cmd_assist_embed(args: argparse.Namespace) -> int:
    """Embed the solved tickets and articles not yet embedded (the suggested answers)."""
    from tierline.assist import answers
    from tierline.assist.embedding import ModelMissing

    _require_migrated()
    try:
        done = answers.backfill(limit=args.limit)
    except ModelMissing as exc:
        raise CommandFailed(str(exc), EXIT_BAD_INPUT) from exc
    _out(f"Embedded {done} solved tickets and articles.")
    return 0


# --- mail ---------------------------------------------------------------------------------


def cmd_mail_ingest(args: argparse.Namespace) -> int:
    """One line per message, `<path>: <outcome>`; exit 0 when every message got an outcome."""
    from tierline.mail import ingest, services
    from tierline.mail.models import Mailbox

    _require_migrated()
    mailbox = None
    if args.mailbox:
        mailbox = Mailbox.objects.filter(name=args.mailbox).first()
        if mailbox is None:
            raise CommandFailed(f"No mailbox named “{args.mailbox}”.", EXIT_BAD_INPUT)
    missed = 0
    for label, path, problem in ingest.message_files(args.paths):
        if path is None:
            _out(f"{label}: not read: {problem}")
            missed += 1
            continue
        try:
            raw = path.read_bytes()
        except OSError as exc:
            _out(f"{label}: not read: {exc.strerror or exc}")
            missed += 1
            continue
        received = services.receive(raw, source="ingest", mailbox=mailbox)
        _out(f"{label}: {received.line}")
    return EXIT_FAILED if missed else 0


def cmd_mail_reprocess(args: argparse.Namespace) -> int:
    from tierline.mail import services

    _require_migrated()
    done = services.reprocess(include_held=args.held)
    for inbound in done:
        _out(f"{inbound.raw.message_id or inbound.raw.sha256[:12]}: {inbound.line}")
    _out(f"Processed {len(done)} message(s) again.")
    return 0


def cmd_mail_send(args: argparse.Namespace) -> int:
    """Send the queued mail that is due; one line of counts. Exit 1 if something failed."""
    from tierline.mail import outbound

    _require_migrated()
    if not outbound.enabled():
        raise CommandFailed(
            "Outbound mail is off: set TIERLINE_SMTP_HOST (and TIERLINE_MAIL_FROM)."
        )
    report = outbound.send_due()
    _out(f"Outbox: {report}.")
    return EXIT_FAILED if report.failed else 0


def cmd_mail_fetch(args: argparse.Namespace) -> int:
    """Poll the IMAP mailboxes now: a line per message, `<mailbox> UID n: <outcome>`; exit 1
    when a mailbox could not be read (its error is recorded on it too)."""
    from tierline.mail import imap

    _require_migrated()
    accounts = imap.accounts(args.mailbox)
    if not accounts:
        where = f"named “{args.mailbox}” " if args.mailbox else ""
        raise CommandFailed(
            f"No active mailbox {where}has IMAP settings: add them in the admin (Mail › "
            "Mailboxes).",
            EXIT_BAD_INPUT,
        )
    failed = 0
    for account in accounts:
        poll = imap.fetch(account)
        for line in poll.lines:
            _out(f"{poll.mailbox} {line}")
        if poll.busy:
            _out(f"{poll.mailbox}: skipped, another fetch of it is running")
        elif poll.error:
            _out(f"{poll.mailbox}: not fetched: {poll.error}")
            failed += 1
        else:
            _out(f"{poll.mailbox}: {len(poll.lines)} message(s)")
    return EXIT_FAILED if failed else 0


def cmd_mail_idle(args: argparse.Namespace) -> int:
    """Watch each IMAP mailbox (one thread and one IDLE connection each) until stopped; a line
    per message fetched, per error, and for a server without IDLE (left to the poller)."""
    from tierline.mail import idle, imap

    _require_migrated()
    if not imap.accounts(args.mailbox):
        where = f"named “{args.mailbox}” " if args.mailbox else ""
        raise CommandFailed(
            f"No active mailbox {where}has IMAP settings: add them in the admin (Mail › "
            "Mailboxes).",
            EXIT_BAD_INPUT,
        )
    watchers = idle.Watchers(args.mailbox, say=_out)

    def stop(signum: int, frame: Any) -> None:
        watchers.stop.set()

    signal.signal(signal.SIGTERM, stop)
    _out("Tierline IMAP IDLE: watching the mailboxes' folders. Ctrl-C stops.")
    try:
        while not watchers.stop.is_set():
            watchers.sync()
            watchers.stop.wait(60)
    except KeyboardInterrupt:
        pass
    finally:
        watchers.close()
    _out("Tierline IMAP IDLE stopped.")
    return 0


def _idle_watchers() -> Any:
    """With TIERLINE_MAIL_IDLE=1 the worker also watches the IMAP folders (IDLE); None
    otherwise. The `mail-imap` poll job stays as the safety net."""
    from tierline.mail import idle

    if not idle.enabled():
        return None
    _out("IMAP IDLE watchers on (TIERLINE_MAIL_IDLE).")
    return idle.run_in_background(say=_out)


def cmd_mail_oauth_signin(args: argparse.Namespace) -> int:
    """The administrator's sign-in for a grant, kept as its refresh token (sealed). Microsoft:
    the device code (prints where to go and the code). Google: the installed-app flow (prints
    the address to open; the browser comes back to a listener on 127.0.0.1)."""
    from tierline.mail import oauth
    from tierline.mail.models import OAuthGrant

    _require_migrated()
    grant = OAuthGrant.objects.filter(name=args.grant).first()
    if grant is None:
        names = ", ".join(OAuthGrant.objects.order_by("name").values_list("name", flat=True))
        raise CommandFailed(
            f"No OAuth2 grant named “{args.grant}”"
            + (f" (there are: {names})." if names else ": add one in the admin first."),
            EXIT_BAD_INPUT,
        )
    if args.timeout <= 0:
        raise CommandFailed("--timeout is a number of seconds above 0.", EXIT_BAD_INPUT)
    try:
        if grant.provider == OAuthGrant.Provider.GOOGLE:
            oauth.sign_in_with_browser(
                grant,
                _out,
                authorization_url=args.authorization_url or oauth.GOOGLE_AUTHORIZATION_URL,
                timeout=args.timeout,
            )
        else:
            oauth.sign_in_with_device_code(grant, _out)
    except oauth.OAuthFailure as exc:
        raise CommandFailed(f"Sign-in failed: {exc}", EXIT_FAILED) from None
    _out(f"Signed in: {grant.name} keeps its refresh token; its mailboxes sign in by XOAUTH2.")
    return 0


def cmd_search_reindex(args: argparse.Namespace) -> int:
    """Build the search index again from the stored rows (one transaction)."""
    from tierline.knowledge.search import index

    _require_migrated()
    counts = index.reindex_all()
    _out(
        f"Indexed {counts['ticket']} ticket(s), {counts['message']} repl(ies) and note(s), "
        f"{counts['person']} person(s), {counts['article']} article(s)."
    )
    return 0


def cmd_mailserver(args: argparse.Namespace) -> int:
    """Listen for mail (SMTP or LMTP) and feed what arrives through the gateway until stopped."""
    from django.db import DatabaseError

    from tierline.mail import smtp, spool
    from tierline.mail.models import Mailbox

    _require_migrated()
    _ensure_port_free(args.host, args.port)
    addresses = sorted(
        {a for box in Mailbox.objects.filter(is_active=True) for a in box.address_list}
    )
    if not addresses and not args.any_recipient:
        raise CommandFailed(
            "No active mailbox has an address: add one in the admin (Mail › Mailboxes), or "
            "accept mail for any address with --any-recipient."
        )
    server = smtp.listener(addresses, host=args.host, port=args.port, lmtp=args.lmtp)
    stopping = {"now": False}

    def stop(signum: int, frame: Any) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGTERM, stop)
    server.start()
    kind = "LMTP" if args.lmtp else "SMTP"
    _out(
        f"Tierline mailserver ({kind}) on {args.host}:{args.port} for "
        + (", ".join(addresses) or "any address")
        + f"; spool in {spool.root()}. Ctrl-C stops."
    )
    try:
        while not stopping["now"]:
            try:
                for path, received in spool.drain():
                    _out(f"{path.name}: {received.line}")
            except DatabaseError as exc:  # the database is away: the spool keeps the mail
                _out(f"spool not drained: database error: {exc}")
            # Drained again when the listener spools a message, or after the interval.
            spool.wait_for_mail(args.interval)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    _out("Tierline mailserver stopped.")
    return 0


# --- wiring ---------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tierline",
        description="Tierline, a self-hosted IT help desk.",
        epilog="Periodic jobs (auto-close, ...) run in the worker processes of `tierline serve` "
        "and in `tierline worker`; run as many as you like, on as many machines: each due job "
        "runs once among them all.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("init", help="create or update the database; create an administrator")
    p.add_argument("--noinput", "--no-input", action="store_true", help="ask nothing")
    p.add_argument("--quiet", action="store_true", help="no migration output")
    p.add_argument(
        "--migrate-only",
        action="store_true",
        help="only create or update the database (`make demo`: the demo data brings its admin)",
    )
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("createadmin", help="create an administrator")
    p.add_argument("--username", default="admin")
    p.add_argument("--email", default="")
    p.add_argument(
        "--noinput",
        action="store_true",
        help="take the password from TIERLINE_ADMIN_PASSWORD instead of asking",
    )
    p.set_defaults(func=cmd_createadmin)

    p = sub.add_parser("demo", help="load demo data (people, technicians, tickets)")
    p.add_argument("--seed", type=_non_negative, default=7, help="same seed, same data")
    p.add_argument("--people", type=_positive, default=200, help="employees (default 200)")
    p.add_argument("--tickets", type=_positive, default=3000, help="tickets (default 3000)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "serve", help="run the web server (gunicorn); its workers also run the periodic jobs"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_port, default=8000)
    p.add_argument("--workers", type=_positive, default=2, help="processes (default 2)")
    p.add_argument("--threads", type=_positive, default=4, help="threads per process")
    p.add_argument(
        "--no-scheduler",
        action="store_true",
        help="don't run periodic jobs in the server's workers (run `tierline worker` instead)",
    )
    p.add_argument(
        "--check-port",
        action="store_true",
        help="only check that the port is free (exit 1 with a message if not), then exit",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run periodic jobs and queued tasks until stopped")
    p.add_argument("--once", action="store_true", help="run due jobs once, then exit")
    p.add_argument(
        "--interval", type=_positive, default=1, help="seconds between task queue checks"
    )
    p.add_argument(
        "--lease",
        type=_lease_seconds,
        default=30.0,
        help="with Redis: seconds after which a worker that stopped answering loses its task "
        "to another worker (default 30; its heartbeat comes six times as often)",
    )
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("token", help="issue a new API token for a user (shown once)")
    p.add_argument("user", help="username")
    p.add_argument("--name", default="", help="what the token is for (e.g. 'monitoring script')")
    p.add_argument(
        "--days", type=_positive, default=None, help="expire after N days (default: never)"
    )
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("agent-token", help="print a one-time enrolment token for an agent")
    p.add_argument("--days", type=_positive, default=7, help="valid for N days (default: 7)")
    p.set_defaults(func=cmd_agent_token)

    p = sub.add_parser("assist", help="auto-triage: train the models, evaluate on a CSV")
    assist = p.add_subparsers(dest="assist_command", metavar="ASSIST_COMMAND", parser_class=_Parser)
    assist.required = True
    q = assist.add_parser(
        "evaluate",
        help="train on the older part of a CSV, test on the newer; print accuracy, macro-F1, "
        "per-class figures and the confusion of the worst classes",
    )
    q.add_argument("--csv", required=True, metavar="FILE", help="a UTF-8 CSV with a header row")
    q.add_argument(
        "--text", required=True, type=_columns, metavar="COL[,COL]", help="the text column(s)"
    )
    q.add_argument("--label", required=True, metavar="COL", help="the column to predict")
    q.add_argument(
        "--date-col", metavar="COL", help="train on the oldest 80%% by this date, test on the rest"
    )
    q.add_argument(
        "--split-col", metavar="COL", help="a column whose values are “train” and “test”"
    )
    q.add_argument(
        "--words-only",
        action="store_true",
        help="the words' model alone, without the meaning (no embedding: faster)",
    )
    q.set_defaults(func=cmd_assist_evaluate)
    q = assist.add_parser("train", help="train the triage models on the resolved tickets now")
    q.set_defaults(func=cmd_assist_train)
    q = assist.add_parser(
        "embed",
        help="embed the solved tickets and articles not yet embedded, for the suggested answers",
    )
    q.add_argument("--limit", type=_positive, default=None, help="at most N this time")
    q.set_defaults(func=cmd_assist_embed)

    p = sub.add_parser(
        "mail", help="the email gateway: ingest raw messages, fetch by IMAP, reprocess"
    )
    mail = p.add_subparsers(dest="mail_command", metavar="MAIL_COMMAND", parser_class=_Parser)
    mail.required = True
    q = mail.add_parser("ingest", help="feed raw messages (files or Maildirs) through the gateway")
    q.add_argument("paths", nargs="+", metavar="PATH", help="a message file, a Maildir or a folder")
    q.add_argument(
        "--mailbox", default="", help="the mailbox they arrived at (default: by address)"
    )
    q.set_defaults(func=cmd_mail_ingest)
    q = mail.add_parser("reprocess", help="process quarantined and pending messages again")
    q.add_argument("--held", action="store_true", help="release held messages too (reviewed)")
    q.set_defaults(func=cmd_mail_reprocess)
    q = mail.add_parser("send", help="send the queued outgoing mail that is due (SMTP)")
    q.set_defaults(func=cmd_mail_send)
    q = mail.add_parser("fetch", help="poll the mailboxes' IMAP folders now")
    q.add_argument("--mailbox", default="", help="only this mailbox (by name)")
    q.set_defaults(func=cmd_mail_fetch)
    q = mail.add_parser(
        "idle", help="watch the IMAP folders (IDLE) and fetch new mail as it arrives"
    )
    q.add_argument("--mailbox", default="", help="only this mailbox (by name)")
    q.set_defaults(func=cmd_mail_idle)
    q = mail.add_parser(
        "oauth-signin",
        help="sign in once for an OAuth2 grant (Microsoft: device code; Google: a browser)",
    )
    q.add_argument("--grant", required=True, help="the grant's name (admin: OAuth2 sign-ins)")
    q.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="Google: seconds to wait for the browser's answer (default 300)",
    )
    q.add_argument(
        "--authorization-url",
        default="",
        help="Google: another authorization endpoint (default Google's own)",
    )
    q.set_defaults(func=cmd_mail_oauth_signin)

    p = sub.add_parser(
        "mailserver", help="receive mail by SMTP or LMTP into the spool, and drain it"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_port, default=2525)
    p.add_argument("--lmtp", action="store_true", help="speak LMTP (for a local MTA) instead")
    p.add_argument(
        "--any-recipient",
        action="store_true",
        help="accept mail for any address, not only the mailboxes'",
    )
    p.add_argument(
        "--interval", type=_seconds, default=1.0, help="seconds between drains of the spool"
    )
    p.set_defaults(func=cmd_mailserver)

    p = sub.add_parser("search", help="the search index: build it again")
    search = p.add_subparsers(dest="search_command", metavar="SEARCH_COMMAND", parser_class=_Parser)
    search.required = True
    q = search.add_parser(
        "reindex", help="index every ticket, reply, note, person and article again"
    )
    q.set_defaults(func=cmd_search_reindex)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tierline.settings")
    try:
        import django

        django.setup()
        return args.func(args) or 0
    except CommandFailed as exc:
        print(f"tierline {args.command}: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print(f"\ntierline {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last guard: one line, not a traceback
        from django.db import DatabaseError

        if isinstance(exc, DatabaseError):
            print(f"tierline {args.command}: database error: {exc}", file=sys.stderr)
        else:
            print(
                f"tierline {args.command}: failed: {exc.__class__.__name__}: {exc}",
                file=sys.stderr,
            )
        if os.environ.get("TIERLINE_DEBUG"):
            raise
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
