"""Mail intake benchmark: N messages (a realistic mix) through the spool, and from IMAP.

    python bench/mail.py                                   SQLite in a temporary dir, 2,000 messages
    python bench/mail.py --messages 10000                  the issue's ten thousand
    python bench/mail.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
                                                           PostgreSQL: creates and drops a bench database
    python bench/mail.py --imap                            also from a private Dovecot (IMAPS)
    python bench/mail.py --imap --idle                     and delivered while an IDLE watcher waits
    python bench/mail.py --imap --imap-only --steady 0     the IMAP fetch alone
    python bench/mail.py --profile spool.prof              cProfile the spool drain into a file
    python bench/mail.py --tasks redis                     after-commit tasks queued in Redis for
                                                           the task workers (a cluster's set-up):
                                                           the mail worker's own share is timed
    python bench/mail.py --tasks redis --run-tasks         and then one task worker runs them

The mix (seeded): new requests from --senders known people (example.com), about 40% replies
onto earlier tickets (half by `[TL-000123]` in the subject, half by In-Reply-To only), 15% with a
small attachment (a few KB of PDF or PNG bytes), some HTML-only, a few automatic replies and
bounces (recorded and ignored, no ticket). The desk has the demo's Standard service-target
policy (9 to 5, England's holidays): each new ticket's clock computes its due times
(--no-sla-policy: none, as the figures before stop 19 were taken).

Phases, each on the same database:
- spool, burst: every message written to the spool as `tierline mailserver` writes it
  (`mail.spool.write`: tmp, fsync, rename, fsync of the folder), then one drain as the
  `mail-spool` job and the mailserver's loop do it (`mail.spool.drain`);
- spool, steady: a writer thread writes --rate messages/s into the spool for --steady seconds
  while the main thread drains it as the mailserver does: when a message is spooled (after
  spool.GATHER_SECONDS), else every --interval seconds (its default, 1 s; --no-wake: only then):
  arrival (written to the spool) to ticket (committed), p95;
- imap (with --imap): the messages APPENDed to a Dovecot folder, then fetched as `tierline mail
  fetch` does (`mail.imap.fetch`, 500 per poll) until the folder is empty;
- imap idle (with --imap --idle): an IDLE watcher (`mail.idle.Watcher`, as `tierline mail idle`
  runs it) on a folder of its own, no poll due; --idle-messages APPENDed one by one at
  --idle-rate per second: arrival (APPEND answered OK) to ticket (committed), p50 and p95.

Prints one table: messages, msgs/s (wall), msgs/s per CPU-second of this process (the database
server's CPU is not counted), p50/p95 ms per message (receive to commit), p95 arrival to
ticket (p50 too), the database. Not a test: nothing here asserts, and the suite never runs it.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import os
import random
import re
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from email.utils import format_datetime, make_msgid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_parser, finish_args, percentile  # noqa: E402
from desk import fresh_database  # noqa: E402

MAILBOX = "helpdesk@example.org"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 12
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
SUBJECTS = [
    "VPN drops every hour",
    "Printer on floor 3 is offline",
    "Cannot sign in to the payroll portal",
    "New laptop for a starter on Monday",
    "Outlook keeps asking for my password",
    "Monitor flickers",
    "Access to the finance share",
    "Phone will not sync mail",
    "Wi-Fi in meeting room B is slow",
    "Teams crashes when sharing the screen",
]
BODY = (
    "Hello,\n\n{what}. It started this morning and happens on and off; I restarted twice.\n"
    "Could someone have a look?\n\nThanks,\n{name}\n\n-- \n{name}\nExample Ltd, Finance\n"
)


def parse_args() -> argparse.Namespace:
    p = bench_parser(__doc__)
    p.add_argument("--messages", type=int, default=2000, help="messages per phase (default 2000)")
    p.add_argument("--senders", type=int, default=500, help="known senders (default 500)")
    p.add_argument("--rate", type=float, default=20.0, help="steady phase: messages/s written")
    p.add_argument("--steady", type=float, default=20.0, help="steady phase: seconds (0: skip)")
    p.add_argument(
        "--interval", type=float, default=1.0, help="steady phase: seconds between drains"
    )
    p.add_argument("--imap", action="store_true", help="also fetch them from a private Dovecot")
    p.add_argument(
        "--imap-only",
        action="store_true",
        help="with --imap: skip the spool phases (measure the IMAP fetcher alone)",
    )
    p.add_argument(
        "--idle", action="store_true", help="with --imap: also delivered to an IDLE watcher"
    )
    p.add_argument("--idle-messages", type=int, default=200, help="IDLE phase (default 200)")
    p.add_argument("--idle-rate", type=float, default=5.0, help="IDLE phase: APPENDs per second")
    p.add_argument("--profile", help="write a cProfile of the burst drain to this file")
    p.add_argument(
        "--queries",
        type=int,
        default=0,
        metavar="N",
        help="print the burst drain's SQL statements per message and its N most run (by shape)",
    )
    p.add_argument(
        "--tasks",
        choices=["immediate", "database", "redis"],
        default="immediate",
        help="the task backend (TIERLINE_TASKS): immediate (the default) runs the search\n"
        "indexing and the other after-commit tasks in the drain; database and redis queue\n"
        "them for the task workers (not timed here; redis: --redis-url, keys of its own,\n"
        "deleted after)",
    )
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="with --tasks redis")
    p.add_argument(
        "--no-wake",
        action="store_true",
        help="steady phase: drain every --interval only (before stop 19 the mailserver's loop\n"
        "did not drain on arrival)",
    )
    p.add_argument(
        "--run-tasks",
        action="store_true",
        help="with --tasks redis: after the burst, one task worker runs the tasks it queued\n"
        "(timed as a phase of its own)",
    )
    p.add_argument(
        "--no-sla-policy",
        action="store_true",
        help="no service-target policy (by default the demo's Standard one, 9 to 5, so every\n"
        "new ticket's clock computes its due times, as on a desk that uses them)",
    )
    args = p.parse_args()
    if args.messages < 10 or args.senders < 1 or args.rate <= 0 or args.interval <= 0:
        p.error("--messages >= 10, --senders >= 1, --rate and --interval > 0")
    return finish_args(args)


# --- the mix --------------------------------------------------------------------------------


@dataclass
class Thread:
    sender: int
    subject: str
    number: str  # the ticket number it will get (tickets are numbered in creation order)
    message_ids: list[str] = field(default_factory=list)


class Mix:
    """Messages in arrival order; the tickets they open are predicted so replies can name them."""

    def __init__(self, seed: int, senders: int, first_ticket: int, prefix: str) -> None:
        self.rng = random.Random(seed)
        self.senders = senders
        self.next_ticket = first_ticket
        self.prefix = prefix
        self.threads: list[Thread] = []
        self.counts = {"new": 0, "reply": 0, "attachment": 0, "html": 0, "automatic": 0}

    def person(self, n: int) -> tuple[str, str]:
        return f"Person {n}", f"person{n}@example.com"

    def next(self) -> bytes:
        rng = self.rng
        roll = rng.random()
        if roll < 0.04:
            self.counts["automatic"] += 1
            return self._automatic()
        if roll < 0.44 and self.threads:
            self.counts["reply"] += 1
            return self._reply(rng.choice(self.threads[-300:]))
        self.counts["new"] += 1
        return self._new()

    def _headers(self, sender: int, subject: str, message_id: str, extra: str = "") -> str:
        name, address = self.person(sender)
        return (
            f"From: {name} <{address}>\r\nTo: Help desk <{MAILBOX}>\r\n"
            f"Subject: {subject}\r\nDate: {format_datetime(_now())}\r\n"
            f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n{extra}"
        )

    def _body(self, sender: int, what: str, *, quoted: str = "") -> tuple[str, bytes]:
        """A text body, sometimes HTML only, sometimes with a small attachment: (headers, body)."""
        rng = self.rng
        text = BODY.format(what=what, name=self.person(sender)[0])
        if quoted:
            text += "\nOn Monday, the help desk wrote:\n" + "".join(
                f"> {line}\n" for line in quoted.splitlines()
            )
        html = rng.random() < 0.10
        if html:
            self.counts["html"] += 1
            paragraphs = "".join(f"<p>{line}</p>" for line in text.splitlines() if line)
            content = f"<html><body>{paragraphs}</body></html>"
            kind = "text/html"
        else:
            content, kind = text, "text/plain"
        if rng.random() >= 0.15:
            return (f'Content-Type: {kind}; charset="utf-8"\r\n', content.encode())
        self.counts["attachment"] += 1
        name, data, ctype = (
            ("error.pdf", PDF * rng.randint(1, 3), "application/pdf")
            if rng.random() < 0.5
            else ("screen.png", PNG + os.urandom(rng.randint(1000, 4000)), "image/png")
        )
        boundary = f"b{rng.getrandbits(64):x}"
        encoded = base64.encodebytes(data).decode()
        body = (
            f"--{boundary}\r\nContent-Type: {kind}; charset=utf-8\r\n\r\n{content}\r\n"
            f"--{boundary}\r\nContent-Type: {ctype}\r\n"
            f'Content-Disposition: attachment; filename="{name}"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--{boundary}--\r\n"
        )
        return (f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n', body.encode())

    def _new(self) -> bytes:
        rng = self.rng
        sender = rng.randrange(self.senders)
        subject = f"{rng.choice(SUBJECTS)} ({rng.randrange(10**6)})"
        message_id = make_msgid(domain="example.com")
        number = f"{self.prefix}-{self.next_ticket:06d}"
        self.next_ticket += 1
        self.threads.append(Thread(sender, subject, number, [message_id]))
        content_type, body = self._body(sender, subject)
        return self._headers(sender, subject, message_id, content_type).encode() + b"\r\n" + body

    def _reply(self, thread: Thread) -> bytes:
        rng = self.rng
        message_id = make_msgid(domain="example.com")
        if rng.random() < 0.5:
            subject = f"Re: [{thread.number}] {thread.subject}"
            threading_headers = ""
        else:
            subject = f"Re: {thread.subject}"
            refs = " ".join(thread.message_ids[-5:])
            threading_headers = f"In-Reply-To: {thread.message_ids[-1]}\r\nReferences: {refs}\r\n"
        thread.message_ids.append(message_id)
        content_type, body = self._body(
            thread.sender,
            "Still happening, I tried what you said",
            quoted=BODY.format(what=thread.subject, name="The help desk"),
        )
        headers = self._headers(
            thread.sender, subject, message_id, threading_headers + content_type
        )
        return headers.encode() + b"\r\n" + body

    def _automatic(self) -> bytes:
        rng = self.rng
        sender = rng.randrange(self.senders)
        message_id = make_msgid(domain="example.com")
        if rng.random() < 0.5:  # an out-of-office
            headers = self._headers(
                sender,
                "Automatic reply: out of the office",
                message_id,
                "Auto-Submitted: auto-replied\r\nContent-Type: text/plain\r\n",
            )
            return headers.encode() + b"\r\nI am away until Monday.\r\n"
        boundary = f"r{rng.getrandbits(64):x}"
        report = (
            "From: Mail Delivery System <MAILER-DAEMON@example.com>\r\n"
            f"To: {MAILBOX}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            f"Date: {format_datetime(_now())}\r\nMessage-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status; "
            f'boundary="{boundary}"\r\n\r\n'
            f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
            f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.example.com\r\n\r\n"
            f"Final-Recipient: rfc822; gone{sender}@example.net\r\nAction: failed\r\n"
            f"Status: 5.1.1\r\n\r\n--{boundary}--\r\n"
        )
        return report.encode()


def _now():
    from django.utils import timezone

    return timezone.now()


# --- set-up ---------------------------------------------------------------------------------


def set_up(args: argparse.Namespace) -> None:
    from tierline.mail.models import Mailbox
    from tierline.people.models import User

    User.objects.bulk_create(
        User(username=f"person{n}", email=f"person{n}@example.com", password="!", first_name="P")
        for n in range(args.senders)
    )
    Mailbox.objects.create(
        name="Help desk",
        addresses=MAILBOX,
        allowed_domains="example.com",
        policy=Mailbox.Policy.ACCEPT,
        rate_limit_per_hour=100_000,  # the bench's senders write far more than people do
    )
    if not args.no_sla_policy:
        _standard_policy()


def _standard_policy() -> None:
    """The demo's standard service targets: every new ticket's clock runs on a policy with a
    9-to-5 calendar and England's public holidays, as on a desk that uses them."""
    from tierline.demo.service_targets import desk_calendar, policy_with_targets

    policy_with_targets("Standard", 100, desk_calendar(_now().date()))


def next_ticket_pk() -> int:
    from django.db.models import Max

    from tierline.desk.models import Ticket

    return (Ticket.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


# --- timing ---------------------------------------------------------------------------------


class Clock:
    """Wraps the function the drain or the fetcher calls per message: each message is timed
    from the start of that call to the commit of its transaction (the drain commits a batch at
    once: a message's time includes the rest of its batch), and when each was committed."""

    def __init__(self, module, name: str) -> None:
        self.module, self.name = module, name
        self.original = getattr(module, name)
        self.samples: list[float] = []
        self.done: list[float] = []

    def __enter__(self) -> Clock:
        from django.db import transaction

        original = self.original

        def timed(*a, **kw):
            start = time.perf_counter()
            result = original(*a, **kw)

            def committed() -> None:
                end = time.perf_counter()
                self.samples.append((end - start) * 1000)
                self.done.append(end)

            transaction.on_commit(committed)  # at once when no transaction is open
            return result

        setattr(self.module, self.name, timed)
        return self

    def __exit__(self, *exc) -> None:
        setattr(self.module, self.name, self.original)


@dataclass
class Row:
    phase: str
    messages: int
    wall: float
    cpu: float
    samples: list[float]
    latencies: list[float]
    vendor: str

    def cells(self) -> list[str]:
        lat = f"{percentile(self.latencies, 0.95):.2f}" if self.latencies else "-"
        lat50 = f"{percentile(self.latencies, 0.50):.2f}" if self.latencies else "-"
        return [
            self.phase,
            str(self.messages),
            f"{self.messages / self.wall:.1f}",
            f"{self.messages / self.cpu:.1f}" if self.cpu else "-",
            f"{percentile(self.samples, 0.50):.1f}" if self.samples else "-",
            f"{percentile(self.samples, 0.95):.1f}" if self.samples else "-",
            lat50,
            lat,
            self.vendor,
        ]


def burst(args: argparse.Namespace, mix: Mix, vendor: str) -> Row:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tierline.mail import services, spool

    for _ in range(args.messages):
        spool.write(mix.next(), mail_from="someone@example.com", recipients=[MAILBOX])
    profiler = cProfile.Profile() if args.profile else None
    counting = CaptureQueriesContext(connection) if args.queries else nullcontext()
    if args.queries:
        connection.queries_log = deque(maxlen=100 * args.messages + 10_000)  # Django keeps 9,000
    with Clock(services, "receive") as clock, counting:
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        done = spool.drain()
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if args.queries:
        print_queries(counting.captured_queries, len(done), args.queries)
    return Row("spool, burst", len(done), wall, cpu, clock.samples, [], vendor)


def print_queries(captured: list[dict], messages: int, top: int) -> None:
    """Statements per message, and the most run by shape (literals and lists of values as ?)."""
    shapes = Counter(
        re.sub(r"'[^']*'|\b\d+\b|\((?:\?, )+\?\)|\"s\d+_x\d+\"", "?", q["sql"])[:160]
        for q in captured
    )
    print(f"SQL statements: {len(captured)}, {len(captured) / max(messages, 1):.1f} per message")
    for shape, count in shapes.most_common(top):
        print(f"  {count / max(messages, 1):6.2f}/msg  {shape}")


def steady(args: argparse.Namespace, mix: Mix, vendor: str) -> Row:
    from tierline.mail import services, spool

    total = int(args.rate * args.steady)
    raws = [mix.next() for _ in range(total)]
    arrived: dict[str, float] = {}
    finished = threading.Event()

    def writer() -> None:
        start = time.perf_counter()
        for n, raw in enumerate(raws):
            pause = start + n / args.rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            path = spool.write(raw, mail_from="someone@example.com", recipients=[MAILBOX])
            arrived[path.name] = time.perf_counter()
        finished.set()

    latencies: list[float] = []
    with Clock(services, "receive") as clock:
        wall, cpu = time.perf_counter(), time.process_time()
        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        count = 0
        while True:  # the mailserver's loop: drain, then wait for mail or the interval
            last = finished.is_set()
            done = spool.drain()
            count += len(done)
            for (path, _received), end in zip(done, clock.done[-len(done) :], strict=True):
                latencies.append(end - arrived.get(path.name, end))
            if last and not spool.waiting():
                break
            if args.no_wake:
                time.sleep(args.interval)
            else:
                spool.wait_for_mail(args.interval)
        thread.join()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    how = "every" if args.no_wake else "on arrival, at least every"
    phase = f"spool, steady {args.rate:g}/s, drain {how} {args.interval:g} s"
    return Row(phase, count, wall, cpu, clock.samples, latencies, vendor)


def imap_phase(args: argparse.Namespace, mix: Mix, vendor: str) -> Row:
    from tests.mail import dovecot

    from tierline.mail import imap, sealing, services
    from tierline.mail.models import ImapAccount, Mailbox

    why = dovecot.available()
    if why:
        print(f"imap: skipped: {why}")
        return Row("imap (skipped)", 0, 1, 0, [], [], vendor)
    password = "bench-password"
    server = dovecot.Dovecot(password=password, users=1).start()
    try:
        user = server.new_user()
        account = ImapAccount.objects.create(
            mailbox=Mailbox.objects.get(name="Help desk"),
            host="127.0.0.1",
            port=server.imaps_port,
            security=ImapAccount.Security.TLS,
            trusted_certificate=server.certificate,
            username=user,
            password=sealing.seal(password),
            folder="INBOX",
            after=ImapAccount.After.MOVE,
            move_to="Processed",
        )
        conn = server.client(user, password)
        appended: list[float] = []
        try:
            for _ in range(args.messages):
                kind, data = conn.append('"INBOX"', None, None, mix.next())
                assert kind == "OK", data
                appended.append(time.perf_counter())
        finally:
            conn.logout()
        with Clock(services, "process") as clock:
            wall, cpu = time.perf_counter(), time.process_time()
            while True:
                account = ImapAccount.objects.select_related("mailbox").get(pk=account.pk)
                poll = imap.fetch(account)
                if poll.error:
                    print(f"imap: {poll.error}")
                    break
                if not poll.lines:
                    break
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        # UIDs are fetched in append order: the nth processed is the nth appended.
        latencies = [end - start for end, start in zip(clock.done, appended, strict=False)]
        return Row("imap, burst", len(clock.done), wall, cpu, clock.samples, latencies, vendor)
    finally:
        server.stop()


def idle_phase(args: argparse.Namespace, mix: Mix, vendor: str) -> Row:
    from tests.mail import dovecot

    from tierline.mail import idle, sealing, services
    from tierline.mail.models import ImapAccount, Mailbox

    why = dovecot.available()
    if why:
        print(f"imap idle: skipped: {why}")
        return Row("imap idle (skipped)", 0, 1, 0, [], [], vendor)
    password = "bench-password"
    server = dovecot.Dovecot(password=password, users=1).start()
    stop = threading.Event()
    said: list[str] = []
    try:
        user = server.new_user()
        # One IMAP account per mailbox: the IDLE phase reads into a second one, same policy.
        box = Mailbox.objects.create(
            name="Help desk (IDLE)",
            addresses="idle-" + MAILBOX,
            allowed_domains="example.com",
            policy=Mailbox.Policy.ACCEPT,
            rate_limit_per_hour=100_000,
        )
        account = ImapAccount.objects.create(
            mailbox=box,
            host="127.0.0.1",
            port=server.imaps_port,
            security=ImapAccount.Security.TLS,
            trusted_certificate=server.certificate,
            username=user,
            password=sealing.seal(password),
            folder="INBOX",
            after=ImapAccount.After.MOVE,
            move_to="Processed",
            poll_minutes=24 * 60,  # no poll: only the watcher fetches
        )
        raws = [mix.next() for _ in range(args.idle_messages)]
        watcher = idle.Watcher(account_id=account.pk, stop=stop, say=said.append)
        thread = threading.Thread(target=watcher.run, daemon=True)
        with Clock(services, "process") as clock:
            thread.start()
            deadline = time.monotonic() + 30
            while not any("(IDLE)" in line for line in said) and time.monotonic() < deadline:
                time.sleep(0.05)
            conn = server.client(user, password)
            appended: list[float] = []
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                start = time.perf_counter()
                for n, raw in enumerate(raws):
                    pause = start + n / args.idle_rate - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                    kind, data = conn.append('"INBOX"', None, None, raw)
                    assert kind == "OK", data
                    appended.append(time.perf_counter())
            finally:
                conn.logout()
            deadline = time.monotonic() + 120
            while len(clock.done) < len(raws) and time.monotonic() < deadline:
                time.sleep(0.05)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            stop.set()
            thread.join(timeout=30)
        errors = [line for line in said if "IDLE:" in line or "not fetched" in line]
        if errors:
            print("imap idle: " + "; ".join(errors[:5]))
        # UIDs are fetched in append order: the nth processed is the nth appended.
        latencies = [end - start for end, start in zip(clock.done, appended, strict=False)]
        phase = f"imap idle, {args.idle_rate:g}/s, no poll"
        return Row(phase, len(clock.done), wall, cpu, clock.samples, latencies, vendor)
    finally:
        stop.set()
        server.stop()


def tasks_phase(messages: int, vendor: str) -> Row:
    """With --tasks redis: the after-commit tasks the burst queued (triage, duplicates, search
    indexing, SLA routing, notifications), run to the end by one task worker in this process,
    as `tierline worker` runs them. Its rate is in messages whose tasks were done per second."""
    from django_tasks import task_backends

    from tierline.core.redis_tasks import RedisWorker

    backend = task_backends["default"]
    waiting = backend.redis.llen(backend.keys.queue("default"))
    worker = RedisWorker(backend, worker_id=f"bench-{os.getpid()}")
    worker.start()
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        ran = worker.drain()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        worker.stop()
    print(f"task worker: {ran} tasks run of {waiting} queued, {ran / wall:.1f} tasks/s")
    return Row("its tasks, one task worker", messages, wall, cpu, [], [], vendor)


def outcomes() -> str:
    from django.db.models import Count

    from tierline.mail.models import Inbound

    rows = Inbound.objects.values("outcome").annotate(n=Count("pk")).order_by("outcome")
    return ", ".join(f"{row['outcome']} {row['n']}" for row in rows)


@contextmanager
def migrated_database(args: argparse.Namespace) -> Iterator[str]:
    """common.migrated_database, with the task backend chosen by --tasks."""
    with fresh_database(args) as vendor:
        os.environ["TIERLINE_TASKS"] = args.tasks
        prefix = f"tierline-bench-{os.getpid()}"
        if args.tasks == "redis":  # the tasks (and the cache) through Redis, as a cluster runs
            os.environ["TIERLINE_REDIS_URL"] = args.redis_url
            os.environ["TIERLINE_REDIS_PREFIX"] = prefix
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        try:
            yield vendor
        finally:
            if args.tasks == "redis":
                _forget_redis(args.redis_url, prefix)


def _forget_redis(url: str, prefix: str) -> None:
    """Delete the tasks the bench queued (nobody ran them); the backend's keys are
    `{prefix}:...` (core.redis_tasks.Keys). Never the whole database: others share it."""
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match="{" + prefix + "}:*", count=1000):
        client.delete(key)


def main() -> int:
    args = parse_args()
    with migrated_database(args) as vendor:
        from django.conf import settings

        set_up(args)
        mix = Mix(args.seed, args.senders, next_ticket_pk(), settings.TIERLINE["TICKET_PREFIX"])
        rows = [] if args.imap and args.imap_only else [burst(args, mix, vendor)]
        if rows and args.tasks == "redis" and args.run_tasks:
            rows.append(tasks_phase(rows[0].messages, vendor))
        if args.steady > 0 and not (args.imap and args.imap_only):
            rows.append(steady(args, mix, vendor))
        if args.imap:
            rows.append(imap_phase(args, mix, vendor))
        if args.imap and args.idle:
            rows.append(idle_phase(args, mix, vendor))
        print(f"mix: {mix.counts}")
        print(f"outcomes: {outcomes()}")
    header = [
        "phase",
        "messages",
        "msgs/s",
        "msgs/CPU-s",
        "p50 ms",
        "p95 ms",
        "p50 arrival->ticket s",
        "p95 arrival->ticket s",
        "database",
    ]
    table = [header] + [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
    print(
        f"tasks: {args.tasks}; SLA policy: {'none' if args.no_sla_policy else 'Standard, 9 to 5'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
