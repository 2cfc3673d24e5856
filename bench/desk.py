"""Desk benchmark: bulk-load N tickets into a fresh database, then time the busiest pages.

    python bench/desk.py                                   SQLite in a temporary dir, 100,000 tickets
    python bench/desk.py --tickets 2000                    a quick pass
    python bench/desk.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
                                                           PostgreSQL: creates and drops a bench database

Requests go through Django's test Client in-process (no network, no server), signed in with
force_login or an API token. Prints one table: p50 and p95 in ms and SQL queries per request.
Not a test: nothing here asserts, and the suite never runs it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

BATCH = 5000
# (status, weight): most tickets are closed, but a big desk carries a backlog deep enough for
# page 200 of one team's queue to exist at 100,000 tickets (about 16% open, 60% of it Tier 1).
STATUS_MIX = [
    ("closed", 80),
    ("resolved", 4),
    ("new", 3),
    ("open", 5),
    ("in_progress", 5),
    ("waiting_requester", 2),
    ("waiting_third_party", 1),
]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--tickets", type=int, default=100_000, help="tickets to load (default 100000)")
    p.add_argument("--people", type=int, default=200, help="employees (default 200)")
    p.add_argument("--requests", type=int, default=200, help="timed requests per endpoint")
    p.add_argument("--deep-page", type=int, default=200, help="the deep queue page (default 200)")
    p.add_argument(
        "--database-url",
        help="postgresql://user@host:port/any: a database tierline_bench_<pid> is created there",
    )
    p.add_argument("--keep", action="store_true", help="keep the bench database / temp dir")
    p.add_argument(
        "--reuse",
        action="store_true",
        help="with --database-url naming a database kept by --keep: migrate it and measure "
        "again, without loading (N is what it holds)",
    )
    p.add_argument(
        "--only",
        help="time only the endpoints whose name contains one of these comma-separated words",
    )
    p.add_argument(
        "--skip",
        help="leave out the endpoints whose name contains one of these comma-separated words",
    )
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    if args.tickets < 100 or args.requests < 1:
        p.error("--tickets must be at least 100 and --requests at least 1")
    if args.reuse and not args.database_url:
        p.error("--reuse needs --database-url naming the kept database")
    return args


# --- database lifecycle ---------------------------------------------------------------------


def _pg_admin(url: str):
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(url)
    params["dbname"] = "postgres"
    return psycopg.connect(**params, autocommit=True)


@contextmanager
def fresh_database(args: argparse.Namespace):
    """Point the settings at a new, empty database; remove it afterwards unless --keep."""
    workdir = Path(tempfile.mkdtemp(prefix="tierline-bench-"))
    os.environ["TIERLINE_DATA_DIR"] = str(workdir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tierline.settings"
    os.environ.pop("TIERLINE_DATABASE_URL", None)
    os.environ["TIERLINE_TASKS"] = "immediate"
    # The bench measures speed: no per-token rate limit, and Django's test client's host allowed.
    os.environ["TIERLINE_API_RATE"] = "off"
    os.environ["TIERLINE_ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    bench_db = None
    if args.reuse:
        os.environ["TIERLINE_DATABASE_URL"] = args.database_url
        yield "postgresql"
        return
    if args.database_url:
        bench_db = f"tierline_bench_{os.getpid()}"
        with _pg_admin(args.database_url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')
            admin.execute(f'CREATE DATABASE "{bench_db}"')
        parts = urlsplit(args.database_url)
        os.environ["TIERLINE_DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{bench_db}"))
    try:
        yield "postgresql" if bench_db else "sqlite"
    finally:
        if bench_db and not args.keep:
            from django.db import connections

            connections.close_all()
            with _pg_admin(args.database_url) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{bench_db}" WITH (FORCE)')
        if args.keep:
            print(f"kept: data dir {workdir}" + (f", database {bench_db}" if bench_db else ""))
        else:
            shutil.rmtree(workdir, ignore_errors=True)


# --- loading --------------------------------------------------------------------------------


def load(args: argparse.Namespace) -> dict:
    """People through the demo's loader, then N tickets with 3 messages each via bulk_create."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from tierline.demo import content
    from tierline.demo.loader import create_people, reset_sequences
    from tierline.desk import services
    from tierline.desk.models import (
        OPEN_STATUSES,
        Call,
        Channel,
        Level,
        Message,
        Ticket,
        WorkOrder,
    )

    rng = random.Random(args.seed)
    # Work orders and calls draw from their own stream, so the tickets stay those of a run
    # before they were loaded (same seed, same tickets).
    side = random.Random(args.seed + 1)
    with transaction.atomic():
        cast = create_people(rng, people=args.people, password_hash=make_password("bench"))
    matrix = {(i, u): services.priority_for(i, u) for i in Level.values for u in Level.values}
    requests = [(s, d) for kind in content.KINDS for s, d in kind.requests]
    statuses, weights = zip(*STATUS_MIX, strict=True)
    team_of_tier = cast.teams
    now = timezone.now()
    span = 730 * 86400
    started = time.perf_counter()
    messages_total = work_orders_total = calls_total = 0
    field_techs = cast.by_tier[2] + cast.by_tier[3]
    pk = 1
    while pk <= args.tickets:
        end = min(pk + BATCH, args.tickets + 1)
        tickets, messages, work_orders, calls = [], [], [], []
        for n in range(pk, end):
            # Ticket n is created at a time that grows with n, as numbers do in real life.
            created = now - timedelta(seconds=span * (1 - n / (args.tickets + 1)))
            status = rng.choices(statuses, weights)[0]
            tier = rng.choices((1, 2, 3), (60, 30, 10))[0]
            impact, urgency = rng.randint(1, 3), rng.randint(1, 3)
            subject, description = rng.choice(requests)
            requester = rng.choice(cast.employees)
            tech = rng.choice(cast.by_tier[tier])
            done = status in ("resolved", "closed")
            tickets.append(
                Ticket(
                    pk=n,
                    number=services.ticket_number(n),
                    subject=subject.replace("{", "").replace("}", "")[:200],
                    description=description,
                    requester=requester,
                    impact=impact,
                    urgency=urgency,
                    priority=matrix[(impact, urgency)],
                    status=status,
                    is_open=status in OPEN_STATUSES,
                    channel=Channel.PORTAL,
                    tier=tier,
                    team=team_of_tier[tier],
                    assignee=None if status == "new" else tech,
                    created_at=created,
                    updated_at=created + timedelta(hours=2),
                    resolved_at=created + timedelta(hours=2) if done else None,
                    closed_at=created + timedelta(days=2) if status == "closed" else None,
                )
            )
            for k, (author, body, internal) in enumerate(
                (
                    (requester, description, False),
                    (tech, "Thanks, I'm looking into it now.", False),
                    (tech, "Checked the logs; nothing unusual.", True),
                )
            ):
                messages.append(
                    Message(
                        ticket_id=n,
                        author=author,
                        body=body,
                        internal=internal,
                        created_at=created + timedelta(minutes=30 * k),
                    )
                )
            work_orders += _work_orders_for(side, n, tier, status, created, field_techs, WorkOrder)
            calls += _calls_for(side, n, requester, tech, created, cast.by_tier[1], Call)
        with transaction.atomic():
            Ticket.objects.bulk_create(tickets)
            Message.objects.bulk_create(messages, batch_size=2000)
            WorkOrder.objects.bulk_create(work_orders, batch_size=2000)
            Call.objects.bulk_create(calls, batch_size=2000)
        messages_total += len(messages)
        work_orders_total += len(work_orders)
        calls_total += len(calls)
        pk = end
        print(f"\r  loading: {pk - 1:,}/{args.tickets:,} tickets", end="", flush=True)
    seconds = time.perf_counter() - started
    print()
    reset_sequences(Ticket, WorkOrder)
    # What autovacuum does on a live database after a big load: statistics for the planner, and
    # on PostgreSQL a visibility map so counts can use index-only scans.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {
        "cast": cast,
        "seconds": seconds,
        "rows": args.tickets + messages_total + work_orders_total + calls_total,
        "tickets": args.tickets,
        "messages": messages_total,
        "work_orders": work_orders_total,
        "calls": calls_total,
    }


# A desk that answers the phone: about a third of tickets have a call logged on them, and for
# every seven tickets one more call was solved on the phone with no ticket (0.5 calls a ticket).
# Desk visits are rarer: about one ticket in 30 of Tier 2 or 3 gets a work order (2% overall).
CALL_ON_TICKET = 0.35
CALL_SOLVED = 0.15
WORK_ORDER_AT_TIER_2_PLUS = 0.05


def _work_orders_for(rng, n, tier, status, created, field_techs, WorkOrder) -> list:
    if tier < 2 or rng.random() >= WORK_ORDER_AT_TIER_2_PLUS:
        return []
    start = (created + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    done = status in ("resolved", "closed")
    tech = rng.choice(field_techs)
    # pk n: one work order at most per ticket, so the ticket's id is free as the work order's.
    return [
        WorkOrder(
            pk=n,
            number=f"WO-{n:06d}",
            ticket_id=n,
            status=WorkOrder.Status.DONE if done else WorkOrder.Status.SCHEDULED,
            desk="B1-2C-14",
            device="Laptop",
            scheduled_start=start,
            scheduled_end=start + timedelta(hours=1),
            technician=tech,
            instructions="Swap the docking station.",
            created_by=tech,
            created_at=created + timedelta(hours=1),
            updated_at=created + timedelta(hours=1),
            completed_at=start + timedelta(minutes=40) if done else None,
        )
    ]


def _calls_for(rng, n, requester, tech, created, tier1, Call) -> list:
    calls = []
    if rng.random() < CALL_ON_TICKET:
        calls.append(
            Call(
                caller=requester,
                caller_name=str(requester),
                caller_phone=requester.phone,
                technician=tech if rng.random() < 0.5 else rng.choice(tier1),
                started_at=created + timedelta(minutes=rng.randint(0, 600)),
                duration_seconds=rng.randint(30, 1200),
                outcome=Call.Outcome.EXISTING_TICKET,
                ticket_id=n,
                created_at=created,
            )
        )
    if rng.random() < CALL_SOLVED:
        calls.append(
            Call(
                caller=requester,
                caller_name=str(requester),
                caller_phone=requester.phone,
                technician=rng.choice(tier1),
                started_at=created + timedelta(minutes=rng.randint(0, 600)),
                duration_seconds=rng.randint(30, 900),
                outcome=Call.Outcome.SOLVED,
                notes="Talked them through it.",
                created_at=created,
            )
        )
    return calls


STORY_SUBJECT = "VPN drops every few minutes on the home network"


def kept_cast() -> SimpleNamespace:
    """What run() needs of the cast, read back from a kept database."""
    from tierline.people.models import Team, User

    return SimpleNamespace(
        named={name: User.objects.get(username=name) for name in ("tier1", "tier2", "employee")},
        teams={t.tier: t for t in Team.objects.filter(is_tier_default=True)},
    )


def story_ticket(cast) -> str:
    """An open Tier 1 ticket whose page shows 20 timeline entries, made through the services."""
    from tierline.desk import services
    from tierline.desk.models import Status

    tier1 = cast.named["tier1"]
    employee = cast.named["employee"]
    ticket = services.open_ticket(
        requester=employee,
        subject=STORY_SUBJECT,
        description="The VPN connects but drops every 5-10 minutes, which kills my Teams calls.",
    )
    services.take(ticket=ticket, by=tier1)  # opened, assigned, status: 3 entries
    for i in range(7):  # 14 more
        services.add_message(
            ticket=ticket, by=tier1, body=f"Tried fix {i + 1}.", internal=bool(i % 2)
        )
        services.add_message(ticket=ticket, by=employee, body=f"Still dropping ({i + 1}).")
    services.change_status(ticket=ticket, by=tier1, status=Status.IN_PROGRESS)
    services.change_status(ticket=ticket, by=tier1, status=Status.WAITING_REQUESTER)
    services.add_message(ticket=ticket, by=employee, body="Any news?")  # 20
    return ticket.number


# --- over HTTP ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(log_path: Path):
    """`tierline serve` (gunicorn, as in production) on the bench database, in a child process.

    Yields (host, port) once it accepts connections; stops it afterwards. Its log goes to
    log_path. The child inherits the environment fresh_database() set up, so it serves the
    same database this process measures.
    """
    port = _free_port()
    command = [
        str(Path(sys.executable).with_name("tierline")),
        *("serve", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler"),
    ]
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"tierline serve stopped at start; see {log_path}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError as error:
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            f"tierline serve did not answer; see {log_path}"
                        ) from error
                    time.sleep(0.1)
            yield "127.0.0.1", port
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


class HttpAnswer(SimpleNamespace):
    status_code: int


def http_poster(host: str, port: int, path: str, token: str, body_for):
    """One client on one kept-alive connection: each call POSTs body_for() as JSON."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    headers = {
        "Authorization": f"Token {token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }

    def send() -> HttpAnswer:
        conn.request("POST", path, body=json.dumps(body_for()), headers=headers)
        response = conn.getresponse()
        response.read()
        return HttpAnswer(status_code=response.status)

    return send


# --- measuring ------------------------------------------------------------------------------


def measure(name: str, send, requests: int, *, count_queries: bool = True) -> dict:
    """Warm up, count one request's SQL queries (in-process only), then time `requests` sends."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    statuses = set()
    for _ in range(5):  # warm caches, templates, the connection
        statuses.add(send().status_code)
    query_count = None
    if count_queries:
        with CaptureQueriesContext(connection) as queries:
            statuses.add(send().status_code)
        # Counted now: the timed requests below reset the connection's query log.
        query_count = len(queries)
    timings = []
    started = time.perf_counter()
    for _ in range(requests):
        t0 = time.perf_counter()
        response = send()
        timings.append((time.perf_counter() - t0) * 1000)
        statuses.add(response.status_code)
    total = time.perf_counter() - started
    timings.sort()
    return {
        "endpoint": name,
        "requests": requests,
        "p50": statistics.median(timings),
        "p95": timings[min(len(timings) - 1, int(round(0.95 * len(timings))) - 1)],
        "queries": query_count,
        "status": ",".join(str(s) for s in sorted(statuses)),
        "per_second": requests / total,
    }


def run(args: argparse.Namespace, vendor: str) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from tierline.core.tokens import issue_token
    from tierline.desk.models import Call, Ticket, WorkOrder

    if args.reuse:
        print("  migrating the kept database (no load)")
        call_command("migrate", verbosity=0)
        loaded = None
        cast = kept_cast()
        args.tickets = Ticket.objects.count()
        number = Ticket.objects.filter(subject=STORY_SUBJECT).latest("pk").number
        print(f"Tierline desk benchmark: {vendor}, {args.tickets:,} tickets (kept database)")
    else:
        print(f"Tierline desk benchmark: {vendor}, {args.tickets:,} tickets")
        print("  migrating a fresh database")
        call_command("migrate", verbosity=0)
        loaded = load(args)
        cast = loaded["cast"]
        print(
            f"  loaded {loaded['tickets']:,} tickets + {loaded['messages']:,} messages + "
            f"{loaded['work_orders']:,} work orders + {loaded['calls']:,} calls in "
            f"{loaded['seconds']:.1f} s: {loaded['rows'] / loaded['seconds']:,.0f} rows/s"
        )
        number = story_ticket(cast)
    tier1, employee = cast.named["tier1"], cast.named["employee"]
    team = cast.teams[1]
    page_size = settings.TIERLINE.get("PAGE_SIZE", 25)
    in_queue = Ticket.objects.filter(team=team, is_open=True).count()
    deep = max(1, min(args.deep_page, -(-in_queue // page_size)))

    desk = Client()
    desk.force_login(tier1)
    portal = Client()
    portal.force_login(employee)
    token = issue_token(user=employee, name="bench")[1]
    api = Client(HTTP_AUTHORIZATION=f"Token {token}")
    queue_url = reverse("desk:queue") + f"?queue=team&team={team.pk}&sort=priority&page="
    created = iter(range(10**9))

    def new_ticket() -> dict:
        return {
            "subject": f"Bench ticket {next(created)}: monitor flickers",
            "description": "The left monitor flickers every few seconds.",
            "impact": 2,
            "urgency": 2,
        }

    def create_ticket():
        return api.post("/api/v1/tickets/", new_ticket(), content_type="application/json")

    # The lists, as a technician sees them: the API's ticket list (its first page and a deep
    # one), work orders (a Tier 2 technician's day in HTML, the API list) and calls (HTML, API).
    tier2 = cast.named["tier2"]
    field = Client()
    field.force_login(tier2)
    tech_token = issue_token(user=tier1, name="bench")[1]
    tech_api = Client(HTTP_AUTHORIZATION=f"Token {tech_token}")
    field_token = issue_token(user=tier2, name="bench")[1]
    field_api = Client(HTTP_AUTHORIZATION=f"Token {field_token}")
    api_page_size = settings.REST_FRAMEWORK["PAGE_SIZE"]
    api_deep = max(1, min(args.deep_page, -(-in_queue // api_page_size)))
    busiest = (
        WorkOrder.objects.filter(technician=tier2)
        .values_list("scheduled_start", flat=True)
        .order_by("-scheduled_start")
        .first()
    )
    visit_day = timezone.localdate(busiest) if busiest else timezone.localdate()
    endpoints = [
        ("queue, team, page 1", lambda: desk.get(queue_url + "1")),
        (f"queue, team, page {deep}", lambda: desk.get(queue_url + str(deep))),
        ("portal: my tickets", lambda: portal.get(reverse("portal:home"))),
        ("ticket page (20 entries)", lambda: desk.get(reverse("desk:ticket", args=[number]))),
        ("API: tickets, page 1", lambda: tech_api.get("/api/v1/tickets/")),
        (
            f"API: tickets, page {api_deep}",
            lambda: tech_api.get(f"/api/v1/tickets/?page={api_deep}"),
        ),
        (
            "work orders: a day",
            lambda: field.get(reverse("desk:work_orders") + f"?date={visit_day.isoformat()}"),
        ),
        # Tier 1 sees few work orders (visits are Tier 2's): its list walks them all.
        ("API: work orders, Tier 1", lambda: tech_api.get("/api/v1/work-orders/")),
        ("API: work orders, Tier 2", lambda: field_api.get("/api/v1/work-orders/")),
        ("calls: list", lambda: desk.get(reverse("desk:calls"))),
        ("API: calls", lambda: tech_api.get("/api/v1/calls/")),
        ("API: create ticket", create_ticket),
    ]
    http_name = "API: create, over HTTP"

    def wanted(name: str) -> bool:
        only = [w for w in (args.only or "").split(",") if w]
        skip = [w for w in (args.skip or "").split(",") if w]
        return (not only or any(w in name for w in only)) and not any(w in name for w in skip)

    results = []
    for name, send in endpoints:
        if not wanted(name):
            continue
        print(f"  measuring {name}", flush=True)
        results.append(measure(name, send, args.requests))
        row = results[-1]
        print(f"    p50 {row['p50']:.1f} ms, p95 {row['p95']:.1f} ms", flush=True)
    api_result = next((r for r in results if r["endpoint"] == "API: create ticket"), None)
    http_result = None
    if wanted(http_name):
        # The same request from one client over HTTP, through the production server.
        print(f"  measuring {http_name} (tierline serve)", flush=True)
        with served(Path(os.environ["TIERLINE_DATA_DIR"]) / "bench-serve.log") as (host, port):
            send = http_poster(host, port, "/api/v1/tickets/", token, new_ticket)
            results.append(measure(http_name, send, args.requests, count_queries=False))
        http_result = results[-1]

    print()
    header = (
        f"{'database':<10} {'N':>9}  {'endpoint':<26} {'requests':>8} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'queries':>7}  status"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{vendor:<10} {args.tickets:>9,}  {r['endpoint']:<26} {r['requests']:>8} "
            f"{r['p50']:>8.1f} {r['p95']:>8.1f} {r['queries'] or '-':>7}  {r['status']}"
        )
    print()
    if loaded:
        print(
            f"bulk load: {loaded['rows']:,} rows in {loaded['seconds']:.1f} s "
            f"({loaded['rows'] / loaded['seconds']:,.0f} rows/s)"
        )
    if api_result and http_result:
        print(
            f"ticket creation through the API, one client: {api_result['per_second']:,.0f} "
            f"tickets/s in-process, {http_result['per_second']:,.0f} tickets/s over HTTP "
            "(tierline serve)"
        )
    print(
        f"queue of team {team.name}: {in_queue:,} open tickets, {page_size} a page; "
        f"deep page = {deep}"
    )
    print(
        f"API lists as {tier1.username}, {api_page_size} a page; deep page = {api_deep}; "
        f"{WorkOrder.objects.count():,} work orders, {Call.objects.count():,} calls"
    )


def main() -> int:
    args = parse_args()
    with fresh_database(args) as vendor:
        run(args, vendor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
