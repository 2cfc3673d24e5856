"""Appends benchmark: what a reply costs now that it locks the ticket's row, what a one-time key
costs on a create, and how simultaneous replies to one ticket fare.

    python bench/appends.py                                SQLite in a temporary dir
    python bench/appends.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Times in-process with Django's test Client (as bench/desk.py, whose database set-up and
measure() it uses): p50 and p95 in ms, SQL queries per request. Then THREADS threads, each with
its own connection, reply to one ticket REPLIES times each: replies/s, refusals (must be 0) and
whether every reply and minute was kept. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from desk import fresh_database, measure  # noqa: E402  (bench/desk.py, beside this file)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--requests", type=int, default=200, help="timed requests per endpoint")
    p.add_argument("--threads", type=int, default=6, help="simultaneous repliers (default 6)")
    p.add_argument("--replies", type=int, default=20, help="replies per thread (default 20)")
    p.add_argument("--database-url", default="", help="PostgreSQL server to create a db on")
    args = p.parse_args()
    args.reuse, args.keep = False, False
    return args


def run(args: argparse.Namespace, vendor: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from tierline.core.tokens import issue_token
    from tierline.desk import services
    from tierline.desk.models import Message, Ticket
    from tierline.people.models import Team, User

    call_command("migrate", verbosity=0)
    tier1_team = Team.objects.get(tier=1, is_tier_default=True)
    employee = User.objects.create_user("employee", "employee@example.com", "x")
    techs = []
    for i in range(max(1, args.threads)):
        tech = User.objects.create_user(
            f"tech{i}", f"tech{i}@example.com", "x", role=User.Role.TECHNICIAN
        )
        tech.teams.set([tier1_team])
        techs.append(tech)
    ticket = services.open_ticket(requester=employee, subject="VPN drops", description="Hourly.")

    def api_for(user: User) -> Client:
        return Client(
            HTTP_AUTHORIZATION=f"Token {issue_token(user=user)[1]}", HTTP_HOST="localhost"
        )

    tech_api, employee_api = api_for(techs[0]), api_for(employee)
    body = {"subject": "Monitor flickers", "description": "Every few seconds.", "urgency": 2}
    replay_key = str(uuid.uuid4())

    endpoints = [
        (
            "API: reply (+1 min)",
            lambda: tech_api.post(
                f"/api/v1/tickets/{ticket.number}/replies/",
                {"body": "Still looking.", "time_spent_minutes": 1},
                content_type="application/json",
            ),
        ),
        (
            "API: create, no key",
            lambda: employee_api.post("/api/v1/tickets/", body, content_type="application/json"),
        ),
        (
            "API: create, new key",
            lambda: employee_api.post(
                "/api/v1/tickets/",
                body,
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
            ),
        ),
        (
            "API: create, key replayed",
            lambda: employee_api.post(
                "/api/v1/tickets/",
                body,
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=replay_key,
            ),
        ),
    ]
    results = [measure(name, send, args.requests) for name, send in endpoints]

    # Simultaneous replies to one fresh ticket, each thread on its own connection.
    target = services.open_ticket(requester=employee, subject="Printer", description="Jams.")
    start = threading.Barrier(len(techs))
    refused: list[BaseException] = []

    def reply_many(tech: User) -> None:
        try:
            start.wait()
            for _ in range(args.replies):
                copy = Ticket.objects.get(pk=target.pk)
                try:
                    services.add_message(ticket=copy, by=tech, body="On it.", time_spent_minutes=1)
                except Exception as exc:  # counted: the table shows how many were refused
                    refused.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=reply_many, args=(t,)) for t in techs]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    target.refresh_from_db()
    kept = Message.objects.filter(ticket=target).count()
    sent = len(techs) * args.replies

    header = (
        f"{'database':<10} {'endpoint':<26} {'N':>6} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'queries':>7}  status"
    )
    print()
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{vendor:<10} {r['endpoint']:<26} {r['requests']:>6} {r['p50']:>8.1f} "
            f"{r['p95']:>8.1f} {r['queries'] or '-':>7}  {r['status']}"
        )
    print()
    print(
        f"{vendor}: {len(techs)} threads x {args.replies} replies to one ticket: "
        f"{sent / seconds:,.0f} replies/s, {len(refused)} refused, {kept}/{sent} kept, "
        f"time spent {target.time_spent_minutes}/{sent} min"
    )


def main() -> int:
    args = parse_args()
    with fresh_database(args) as vendor:
        run(args, vendor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
