"""Search benchmark: the index over N tickets and 3N messages, and the p95 of a search.

    python bench/search.py                                   SQLite in a temporary dir, 100,000 tickets
    python bench/search.py --tickets 10000                   a quick pass
    python bench/search.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
                                                             PostgreSQL: creates and drops a bench database
    python bench/search.py --keep ...                        keep what was loaded (prints where)
    python bench/search.py --reuse --database-url postgresql://.../tierline_bench_123
    python bench/search.py --reuse --data-dir /tmp/tierline-bench-xyz
                                                             time again what --keep kept, no loading
    python bench/search.py --sql-load --tickets 1000000 --keep --database-url postgresql://...
                                                             PostgreSQL: rows and index made by the
                                                             database itself (INSERT ... SELECT),
                                                             for 1,000,000 tickets

Loads N tickets (subjects and descriptions drawn from an IT vocabulary) with three messages
each (one in four an internal note), builds the index (`reindex_all`, timed), then times
searches of two random words as a technician: the search page's ranked query with snippets
(`knowledge.search.queries.search`) and the queue's first page with the text filter
(`desk.lists.TICKETS.page`, what the API's `q` runs), and a lead's whole open queue with the
text filter, counted (`desk.lists.QUEUE.page`). The same three again with rare words among
common ones ("rare"): a ticket-number-like token that is no number ("tl-17": PostgreSQL reads
'tl' & '-17', and every document has 'tl'), a requester's username ("bench17": one ticket in
200), that beside a common word, and a word no document holds. Prints one table (median, p95, N).
Not a test: nothing here asserts, and the suite never runs it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_parser, migrated_database, percentile  # noqa: E402

BATCH = 5000
VOCABULARY = (
    "printer paper jam toner laptop battery screen monitor flicker keyboard mouse vpn wifi "
    "network cable switch router outlook mailbox calendar password reset locked account "
    "teams meeting camera microphone headset docking station usb drive backup restore "
    "server database slow crash error update windows driver install licence excel word "
    "sharepoint folder permission access badge phone voicemail certificate expired browser "
    "chrome firefox proxy firewall antivirus scan virus phishing spam invoice payroll"
)
WORDS = tuple(VOCABULARY.split())


def settle() -> None:
    """What a running database has done to rows loaded a while ago (autovacuum's work): the
    statistics (ANALYZE, as bench/desk.py) and, on PostgreSQL, the VACUUM that autovacuum runs
    on a table of inserts, which sets each row's commit hint bits and the visibility map. Without
    it the first read of each page after a bulk load writes those bits: at 1,000,000 tickets a
    word 5,000 documents hold read its 5,000 pages in 220 ms, dirtying 4,127 of them; another
    whose pages had been read once took 33 ms, none dirtied (`EXPLAIN (ANALYZE, BUFFERS)`). The
    rare rows' p95 measured the load's one-time writes, not search."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")


def parse_args() -> argparse.Namespace:
    p = bench_parser(__doc__)
    p.add_argument("--tickets", type=int, default=100_000, help="tickets (default 100000)")
    p.add_argument("--searches", type=int, default=200, help="timed searches of each kind")
    p.add_argument("--keep", action="store_true", help="keep the bench database / data dir")
    p.add_argument(
        "--reuse",
        action="store_true",
        help="time what --keep kept (--database-url naming it, or --data-dir), without loading",
    )
    p.add_argument("--data-dir", help="with --reuse on SQLite: the data dir --keep printed")
    p.add_argument(
        "--sql-load",
        action="store_true",
        help="PostgreSQL: generate the rows and the index inside the database (1,000,000 tickets)",
    )
    args = p.parse_args()
    if args.tickets < 100 or args.searches < 1:
        p.error("--tickets must be at least 100 and --searches at least 1")
    if args.sql_load and not args.database_url:
        p.error("--sql-load needs --database-url (PostgreSQL)")
    if args.reuse and not (args.database_url or args.data_dir):
        p.error("--reuse needs --database-url or --data-dir naming what --keep kept")
    return args


@contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    """A fresh migrated database, or (--reuse) the one --keep kept."""
    if args.reuse and not args.database_url:
        import django

        os.environ["TIERLINE_DATA_DIR"] = args.data_dir
        os.environ["DJANGO_SETTINGS_MODULE"] = "tierline.settings"
        os.environ.pop("TIERLINE_DATABASE_URL", None)
        os.environ["TIERLINE_TASKS"] = "immediate"
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        yield "sqlite"
        return
    with migrated_database(args) as vendor:
        yield vendor


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def load(n: int, rng: random.Random) -> float:
    """N tickets and 3N messages, bulk inserted; returns the seconds taken."""
    from django.db import transaction
    from django.utils import timezone

    from tierline.desk.models import Channel, Message, Status, Ticket
    from tierline.people.models import Team, User

    requesters = [
        User.objects.create(
            username=f"bench{i}", first_name=f"Bench{i}", last_name=rng.choice(WORDS).title()
        )
        for i in range(200)
    ]
    team = Team.objects.filter(tier=1).order_by("pk").first()
    now = timezone.now()
    started = time.perf_counter()
    for first in range(1, n + 1, BATCH):
        last = min(first + BATCH, n + 1)
        tickets, messages = [], []
        for pk in range(first, last):
            tickets.append(
                Ticket(
                    pk=pk,
                    number=f"TL-{pk:06d}",
                    subject=sentence(rng, 4).capitalize(),
                    description=sentence(rng, 30),
                    requester=rng.choice(requesters),
                    channel=Channel.PORTAL,
                    team=team,
                    tier=1,
                    status=rng.choice([Status.NEW, Status.OPEN, Status.RESOLVED, Status.CLOSED]),
                    created_at=now,
                    updated_at=now,
                )
            )
            for _ in range(3):
                messages.append(
                    Message(ticket_id=pk, body=sentence(rng, 25), internal=rng.random() < 0.25)
                )
        with transaction.atomic():
            Ticket.objects.bulk_create(tickets)
            Message.objects.bulk_create(messages)
    return time.perf_counter() - started


def _copy_row_sql(table: str, overrides: dict[str, str], source: str) -> str:
    """INSERT INTO table SELECT every column of the template row (pk 1), some overridden."""
    from django.db import connection

    with connection.cursor() as cursor:
        columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(overrides.get(c, f't."{c}"') for c in columns)
    return f"INSERT INTO {table} ({names}) SELECT {values} FROM {table} t CROSS JOIN {source} WHERE t.id = 1"


def sql_load(n: int, rng: random.Random) -> tuple[float, float, dict[str, int]]:
    """PostgreSQL only: N tickets and 3N messages generated by the database itself (one ticket
    and one message made by the ORM are the template of every column), then the index written
    by INSERT ... SELECT with the same title and body `index.reindex_all` gives (the GIN index
    dropped meanwhile and built once after), and the word table from the vocabulary and the
    people. Returns the load's and the index's seconds and the counts."""
    from django.db import connection, transaction
    from django.utils import timezone

    from tierline.desk.models import Channel, Message, Status, Ticket
    from tierline.knowledge.models_search import SearchDocument
    from tierline.knowledge.search import backends, index, words
    from tierline.people.models import Team, User

    requesters = [
        User.objects.create(
            username=f"bench{i}", first_name=f"Bench{i}", last_name=rng.choice(WORDS).title()
        )
        for i in range(200)
    ]
    team = Team.objects.filter(tier=1).order_by("pk").first()
    now = timezone.now()
    vocabulary = "ARRAY[" + ", ".join(f"'{w}'" for w in WORDS) + "]"
    pick = f"({vocabulary})[1 + floor(random() * {len(WORDS)})::int]"

    def words_sql(count: int, outer: str) -> str:
        # Correlated with the outer row, so it is drawn again for every row.
        return (
            f"(SELECT string_agg({pick}, ' ') FROM generate_series(1, {count}) WHERE {outer} > 0)"
        )

    statuses = (
        "ARRAY['" + "', '".join([Status.NEW, Status.OPEN, Status.RESOLVED, Status.CLOSED]) + "']"
    )
    first_requester, requester_count = requesters[0].pk, len(requesters)
    started = time.perf_counter()
    with transaction.atomic():
        Ticket.objects.bulk_create(
            [
                Ticket(
                    pk=1,
                    number="TL-000001",
                    subject="Printer jam",
                    description="printer",
                    requester=requesters[0],
                    channel=Channel.PORTAL,
                    team=team,
                    tier=1,
                    status=Status.NEW,
                    created_at=now,
                    updated_at=now,
                )
            ]
        )
        Message.objects.bulk_create([Message(pk=1, ticket_id=1, body="printer", internal=False)])
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute(
                _copy_row_sql(
                    Ticket._meta.db_table,
                    {
                        "id": "g",
                        "number": "'TL-' || lpad(g::text, 7, '0')",
                        "subject": f"initcap({words_sql(4, 'g')})",
                        "description": words_sql(30, "g"),
                        "requester_id": f"{first_requester} + (g % {requester_count})",
                        "status": f"({statuses})[1 + floor(random() * 4)::int]",
                    },
                    f"generate_series(2, {n}) g",
                )
            )
            cursor.execute(
                _copy_row_sql(
                    Message._meta.db_table,
                    {
                        "id": "g",
                        "ticket_id": "1 + (g - 1) / 3",
                        "body": words_sql(25, "g"),
                        "internal": "random() < 0.25",
                    },
                    f"generate_series(2, {3 * n}) g",
                )
            )
            for model in (Ticket, Message):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
    load_s = time.perf_counter() - started

    started = time.perf_counter()
    docs = SearchDocument._meta.db_table
    tickets, messages = Ticket._meta.db_table, Message._meta.db_table
    users = User._meta.db_table
    person = (
        "concat_ws(' ', nullif(trim(concat_ws(' ', u.first_name, u.last_name)), ''), "
        "nullif(u.email, ''), nullif(u.username, ''), nullif(u.phone, ''))"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        SearchDocument.objects.all().delete()
        cursor.execute("DROP INDEX IF EXISTS searchdoc_vector_gin")
        for user in User.objects.all():
            index.index_person(user.pk)
        cursor.execute(
            f"INSERT INTO {docs} (kind, object_id, ticket_id, internal, title, body, indexed_at) "
            f"SELECT 'ticket', t.id, t.id, false, left(trim(coalesce(t.number, '') || ' ' || t.subject), 400), "
            f"t.description || E'\\n' || {person}, now() "
            f"FROM {tickets} t LEFT JOIN {users} u ON u.id = t.requester_id"
        )
        cursor.execute(
            f"INSERT INTO {docs} (kind, object_id, ticket_id, internal, title, body, indexed_at) "
            f"SELECT 'message', m.id, m.ticket_id, m.internal, "
            f"left(trim(coalesce(t.number, '') || ' ' || t.subject), 400), m.body, now() "
            f"FROM {messages} m JOIN {tickets} t ON t.id = m.ticket_id"
        )
        cursor.execute(f"CREATE INDEX searchdoc_vector_gin ON {docs} USING GIN (search_vector)")
        words.remember(words.words_of(VOCABULARY))
    backends.analyze()
    index_s = time.perf_counter() - started
    counts = {"ticket": Ticket.objects.count(), "message": Message.objects.count()}
    return load_s, index_s, counts


def timed(fn, texts: list[str]) -> list[float]:
    out = []
    for text in texts:
        started = time.perf_counter()
        fn(text)
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> int:
    args = parse_args()
    rng = random.Random(args.seed)
    with database(args) as vendor:
        from tierline.desk import lists
        from tierline.desk import queries as desk_queries
        from tierline.desk.models import Message, Ticket
        from tierline.knowledge.search import index, queries
        from tierline.people.models import User

        if args.sql_load and not args.reuse:
            load_s, index_s, counts = sql_load(args.tickets, rng)
            settle()
        elif args.reuse:
            load_s = index_s = 0.0
            args.tickets = Ticket.objects.count()
            counts = {"message": Message.objects.count()}
        else:
            load_s = load(args.tickets, rng)
            started = time.perf_counter()
            counts = index.reindex_all()
            index_s = time.perf_counter() - started
            settle()
        technician, _ = User.objects.get_or_create(
            username="bench-tech", defaults={"role": User.Role.TECHNICIAN}
        )
        lead, _ = User.objects.get_or_create(
            username="bench-lead", defaults={"role": User.Role.LEAD}
        )
        texts = [f"{rng.choice(WORDS)} {rng.choice(WORDS)}" for _ in range(args.searches)]
        rare_kinds = (
            lambda: f"tl-{rng.randint(1, args.tickets)}",
            lambda: f"bench{rng.randrange(200)}",
            lambda: f"{rng.choice(WORDS)} bench{rng.randrange(200)}",
            lambda: f"zq{rng.randrange(10**6)}",
        )
        rare = [rare_kinds[i % len(rare_kinds)]() for i in range(args.searches)]

        def page(text: str) -> None:
            found, _ = lists.TICKETS.page(technician, {"q": text, "sort": "-updated"})
            list(found.object_list)

        def counted(text: str) -> None:
            # The workspace's "all open" queue of a lead (every loaded ticket is open): counted.
            found, _ = lists.QUEUE.page(
                lead, {"q": text}, scope=desk_queries.queue_for(lead, "all")
            )
            list(found.object_list)

        rows = [
            (
                "search page (ranked, snippets)",
                timed(lambda t: queries.search(technician, t), texts),
            ),
            ("queue/API first page (q)", timed(page, texts)),
            ("lead's open queue, counted (q)", timed(counted, texts)),
            ("rare: search page", timed(lambda t: queries.search(technician, t), rare)),
            ("rare: queue/API first page (q)", timed(page, rare)),
            ("rare: lead's open queue, counted", timed(counted, rare)),
        ]
        print(
            f"\n{vendor}: {args.tickets:,} tickets, {counts['message']:,} messages; "
            f"load {load_s:.1f} s, index {index_s:.1f} s"
        )
        print(f"{'what':34} {'median ms':>10} {'p95 ms':>10} {'N':>6}")
        for name, values in rows:
            print(
                f"{name:34} {statistics.median(values):10.1f} {percentile(values, 0.95):10.1f} "
                f"{len(values):6d}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
