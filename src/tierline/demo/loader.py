"""Build the demo help desk: people, technicians and six months of tickets.

Deterministic from a seed: the same seed gives the same people, subjects and story (times are
relative to now). Volume goes through bulk_create; the few tickets of "today" go through the
desk services, as a person clicking through the app would make them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from tierline.core.models import HistoryEntry
from tierline.demo import content, service_targets
from tierline.desk import services
from tierline.desk.models import (
    Call,
    Category,
    Channel,
    Escalation,
    Level,
    Message,
    ResolutionCode,
    Status,
    Ticket,
    WorkOrder,
)
from tierline.knowledge import guides as knowledge_guides
from tierline.knowledge.search import index as search_index
from tierline.people.models import Department, Location, Skill, Team, User, phone_key_for

DEMO_PASSWORD = "demo"
DEMO_SIGN_INS = [(u[0], u[6]) for u in content.DEMO_USERS]
DEMO_USERNAMES = [u[0] for u in content.DEMO_USERS]
BATCH = 500
DAYS = 180

Progress = Callable[..., None]


def _quiet(step: str, done: int | None = None, total: int | None = None) -> None:
    pass


def demo_loaded() -> bool:
    """The demo's own users exist (admin may come from `tierline init`, so it doesn't count)."""
    return User.objects.filter(username__in=DEMO_USERNAMES[1:]).exists()


# --- people ---------------------------------------------------------------------------------


@dataclass
class Cast:
    """Everyone the tickets are about, grouped the way the generator needs them."""

    employees: list[User]
    by_tier: dict[int, list[User]]
    teams: dict[int, Team]
    locations: dict[str, Location]
    named: dict[str, User] = field(default_factory=dict)


def _phone(rng: random.Random, prefix: str, used: set[str]) -> str:
    while True:
        number = f"{prefix}{rng.randrange(1000):03d}"
        if number not in used or len(used) > 2500:
            used.add(number)
            return number


def create_people(
    rng: random.Random, *, people: int, password_hash: str, progress: Progress = _quiet
) -> Cast:
    """Departments, locations, skills, ~`people` employees, the demo users, and 12 technicians (tier1-3 among them)."""
    departments = {
        name: Department.objects.get_or_create(name=name)[0] for name in content.DEPARTMENTS
    }
    locations = {
        name: Location.objects.get_or_create(name=name, defaults={"address": address})[0]
        for name, address, _, _ in content.LOCATIONS
    }
    skills = {name: Skill.objects.get_or_create(name=name)[0] for name in content.SKILLS}
    teams = {tier: services.default_team_for(tier) for tier in (1, 2, 3)}
    taken = set(User.objects.values_list("username", flat=True))
    # The technicians' and demo users' names are theirs, whatever names the employees draw.
    reserved = {t[0] for t in content.TECHNICIANS} | {u[0] for u in content.DEMO_USERS}
    unusable = make_password(None)
    phones: set[str] = set()
    dept_names = list(content.DEPARTMENTS)
    dept_weights = [content.DEPARTMENT_WEIGHTS[d] for d in dept_names]

    def place(user: User, location_index: int) -> None:
        name, _, phone_prefix, desk_prefix = content.LOCATIONS[location_index]
        user.location = locations[name]
        user.phone = _phone(rng, phone_prefix, phones)
        user.phone_key = phone_key_for(user.phone)  # bulk_create skips save(), which sets it
        user.desk = (
            f"{desk_prefix}-{rng.randint(1, 3)}{rng.choice('ABCD')}-{rng.randint(1, 40):02d}"
            if desk_prefix
            else ""
        )

    rows: list[User] = []
    for _ in range(people):
        first, last = rng.choice(content.FIRST_NAMES), rng.choice(content.LAST_NAMES)
        base = f"{first}.{last}".lower()
        username, n = base, 1
        while username in taken or username in reserved:
            n += 1
            username = f"{base}{n}"
        taken.add(username)
        dept = rng.choices(dept_names, dept_weights)[0]
        user = User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@example.com",
            role=User.Role.REQUESTER,
            job_title=rng.choice(content.DEPARTMENTS[dept]),
            department=departments[dept],
            password=unusable,
        )
        place(user, rng.choices(range(3), content.LOCATION_WEIGHTS)[0])
        rows.append(user)

    technicians: list[tuple[User, int, list[str]]] = []
    for username, first, last, tier, title, skill_names in content.TECHNICIANS:
        if username in taken:
            continue
        taken.add(username)
        user = User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@example.com",
            role=User.Role.TECHNICIAN,
            job_title=title,
            password=unusable,
        )
        place(user, 0 if tier != 2 or len(technicians) % 2 else 1)
        rows.append(user)
        technicians.append((user, tier, skill_names))

    named: dict[str, User] = {}
    for username, first, last, role, tier, title, _ in content.DEMO_USERS:
        if username in taken:
            named[username] = User.objects.get(username=username)
            continue
        user = User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@example.com",
            role=role,
            job_title=title,
            password=password_hash,
            is_staff=role == User.Role.ADMIN,
            is_superuser=role == User.Role.ADMIN,
        )
        if role == User.Role.REQUESTER:
            user.department = departments["Sales" if username == "employee" else "Finance"]
        place(user, 0 if username != "employee2" else 1)
        rows.append(user)
        named[username] = user
        if tier:
            technicians.append((user, tier, ["Windows", "Microsoft 365"][: 3 - tier]))

    User.objects.bulk_create(rows, batch_size=BATCH)
    # bulk_create fills pks on PostgreSQL and SQLite >= 3.35; fetch them if a backend did not.
    if any(u.pk is None for u in rows):
        ids = dict(
            User.objects.filter(username__in=[u.username for u in rows]).values_list(
                "username", "pk"
            )
        )
        for u in rows:
            u.pk = u.id = ids[u.username]

    memberships = [
        User.teams.through(user_id=user.pk, team_id=teams[tier].pk) for user, tier, _ in technicians
    ]
    lead = named["lead"]
    memberships += [User.teams.through(user_id=lead.pk, team_id=t.pk) for t in teams.values()]
    User.teams.through.objects.bulk_create(memberships, ignore_conflicts=True)
    User.skills.through.objects.bulk_create(
        [
            User.skills.through(user_id=user.pk, skill_id=skills[name].pk)
            for user, _, skill_names in technicians
            for name in skill_names
        ],
        ignore_conflicts=True,
    )
    progress(f"{len(rows):,} people, of whom {len(technicians)} technicians in 3 tier teams")

    by_tier: dict[int, list[User]] = {1: [], 2: [], 3: []}
    for user, tier, _ in technicians:
        by_tier[tier].append(user)
    employees = [u for u in rows if u.role == User.Role.REQUESTER]
    return Cast(employees, by_tier, teams, locations, named)


# --- tickets --------------------------------------------------------------------------------


def _fill(template: str, ctx: dict[str, str]) -> str:
    try:
        text = template.format(**ctx)
    except (KeyError, IndexError):
        text = template
    return text[:1].upper() + text[1:]


def _level(rng: random.Random, weights: tuple[int, int, int]) -> int:
    return rng.choices([Level.HIGH, Level.MEDIUM, Level.LOW], weights)[0]


def _business_time(rng: random.Random, now: datetime, max_days: float) -> datetime:
    """A moment in working hours within the last `max_days` (weekends are quiet)."""
    for _ in range(20):
        moment = now - timedelta(days=rng.random() * max_days)
        if moment.weekday() >= 5 and rng.random() < 0.85:
            continue
        hour = rng.choices(range(7, 19), [1, 6, 9, 9, 8, 5, 7, 8, 7, 6, 4, 2])[0]
        moment = moment.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
        if moment < now:
            return moment
    return now - timedelta(minutes=rng.randint(5, 600))


# How long a ticket of each priority takes to resolve (hours: low, high).
RESOLVE_HOURS = {1: (1, 8), 2: (2, 30), 3: (4, 96), 4: (8, 200)}


def _done_probability(age_days: float) -> float:
    if age_days < 1:
        return 0.15
    if age_days < 3:
        return 0.45
    if age_days < 7:
        return 0.75
    if age_days < 30:
        return 0.93
    return 0.985


@dataclass
class Rows:
    """Everything generated, waiting for bulk_create."""

    tickets: list[Ticket] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    work_orders: list[WorkOrder] = field(default_factory=list)
    calls: list[tuple[Call, list[HistoryEntry]]] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)


class TicketStory:
    """Generates one ticket's life: who opened it, who worked it, what was said and done."""

    def __init__(
        self,
        rng: random.Random,
        cast: Cast,
        now: datetime,
        rows: Rows,
        lookups: dict[str, Any],
    ):
        self.rng, self.cast, self.now, self.rows, self.lookups = rng, cast, now, rows, lookups
        self.ticket_ct: ContentType = lookups["ticket_ct"]
        self.wo_ct: ContentType = lookups["wo_ct"]

    def _history(self, ticket: Ticket, actor: User | None, at: datetime, action: str, **kw):
        self.rows.history.append(
            HistoryEntry(
                content_type=self.ticket_ct,
                object_id=ticket.pk,
                actor=actor,
                created_at=at,
                action=action,
                field=kw.get("field", ""),
                old_value=str(kw.get("old", "") or ""),
                new_value=str(kw.get("new", "") or ""),
                summary=kw.get("summary", ""),
            )
        )

    def context(self, requester: User) -> dict[str, str]:
        rng = self.rng
        colleague = f"{rng.choice(content.FIRST_NAMES)} {rng.choice(content.LAST_NAMES)}"
        department = requester.department.name if requester.department else "Operations"
        return {
            "printer": rng.choice(content.PRINTERS),
            "device": rng.choice(content.LAPTOPS),
            "monitor": rng.choice(content.MONITORS),
            "app": rng.choice(content.APPS),
            "bapp": rng.choice(content.BUSINESS_APPS),
            "share": rng.choice(content.SHARES),
            "room": rng.choice(content.MEETING_ROOMS),
            "error": rng.choice(content.ERRORS),
            "asset": f"LT-{rng.randint(1000, 9999):05d}",
            "desk": requester.desk or "home",
            "colleague": colleague,
            "department": department,
            "department_lower": department.lower().replace(" ", "-"),
            "job": rng.choice(content.DEPARTMENTS.get(department, ["Analyst"])),
            "sender": rng.choice(content.SENDERS),
            "team_mailbox": rng.choice(content.TEAM_MAILBOXES),
            "ref": f"{rng.randint(10000, 99999)}/{self.now.year % 100}",
        }

    def build(
        self,
        pk: int,
        requester: User,
        created: datetime,
        kind: content.Kind,
        *,
        force: str | None = None,
    ) -> Ticket:
        """One ticket. `force` pins the outcome: "new", "open", "waiting", "resolved", "closed"."""
        rng, cast, now = self.rng, self.cast, self.now
        history_before = len(self.rows.history)
        ctx = self.context(requester)
        subject, description = rng.choice(kind.requests)
        impact, urgency = _level(rng, kind.impact), _level(rng, kind.urgency)
        priority = self.lookups["matrix"][(impact, urgency)]
        channel = rng.choices(
            [Channel.PORTAL, Channel.EMAIL, Channel.PHONE, Channel.WALK_IN], [45, 30, 20, 5]
        )[0]
        if force == "new":
            channel = Channel.PORTAL
        top, child = kind.category
        category = (
            self.lookups["categories"].get((top, child)) or self.lookups["categories"][(top, "")]
        )
        ticket = Ticket(
            pk=pk,
            number=services.ticket_number(pk),
            subject=_fill(subject, ctx)[:200],
            description=_fill(description, ctx),
            requester=requester,
            category=category,
            impact=impact,
            urgency=urgency,
            priority=priority,
            channel=channel,
            tier=1,
            team=cast.teams[1],
            created_at=created,
            updated_at=created,
        )
        age_days = (now - created).total_seconds() / 86400
        low, high = RESOLVE_HOURS[priority]
        escalate2 = rng.random() < kind.escalate2
        escalate3 = escalate2 and rng.random() < kind.escalate3
        visit = kind.visit and escalate2 and not escalate3 and rng.random() < 0.6
        work_hours = rng.uniform(low, high) * (1 + escalate2 + escalate3)
        resolved_at = created + timedelta(hours=work_hours)
        if force:
            done = force in ("resolved", "closed")
            if done:
                resolved_at = min(
                    resolved_at, now - timedelta(days=1 if force == "resolved" else 12)
                )
                resolved_at = max(resolved_at, created + timedelta(minutes=30))
        else:
            done = rng.random() < _done_probability(age_days) and resolved_at < now
        end = resolved_at if done else now - timedelta(minutes=rng.randint(2, 90))
        end = max(end, created + timedelta(minutes=10))
        span = (end - created).total_seconds()

        def at(fraction: float) -> datetime:
            return created + timedelta(seconds=span * fraction)

        first_tech = rng.choice(cast.by_tier[1])
        opener = first_tech if channel in (Channel.PHONE, Channel.WALK_IN) else requester
        self._history(ticket, opener, created, "opened", summary=f"via {Channel(channel).label}")
        if channel == Channel.PHONE:
            self.call(
                ticket,
                requester,
                first_tech,
                created - timedelta(seconds=rng.randint(120, 900)),
                Call.Outcome.NEW_TICKET,
                ticket.description,
            )

        walked_up = channel in (Channel.PHONE, Channel.WALK_IN)
        if force == "new" or (
            not force and not done and not walked_up and age_days < 0.5 and rng.random() < 0.5
        ):
            ticket.status = Status.NEW
            ticket.is_open = True
            return ticket

        # Tier 1 picks it up and answers.
        time_spent = 0
        step = [0.02, 0.05]
        tech = first_tech
        self._history(ticket, tech, at(step[0]), "assigned", field="assignee", new=tech)
        self._history(ticket, tech, at(step[0]), "status", field="status", old="New", new="Open")
        ticket.assignee = tech
        ticket.first_response_at = at(step[1])
        minutes = rng.choice([5, 5, 10, 10, 15, 20])
        time_spent += minutes
        self.message(ticket, tech, at(step[1]), _fill(rng.choice(kind.replies), ctx), minutes)
        if rng.random() < 0.6:
            self.message(
                ticket, requester, at(0.15), _fill(rng.choice(kind.requester_replies), ctx), 0
            )
        if channel == Channel.PHONE and rng.random() < 0.2:
            self.call(
                ticket,
                requester,
                tech,
                at(0.2),
                Call.Outcome.EXISTING_TICKET,
                "Chased for an update.",
            )

        tiers = [1] + ([2] if escalate2 else []) + ([3] if escalate3 else [])
        position = 0.25
        for from_tier, to_tier in zip(tiers, tiers[1:], strict=False):
            note = _fill(rng.choice(kind.notes), ctx)
            self.message(ticket, tech, at(position), note, 10, internal=True)
            time_spent += 10
            summary = _fill(
                rng.choice(kind.escalations or [f"Tier {from_tier} checks done: {note}"]), ctx
            )
            moved_at = at(position + 0.03)
            from_team, to_team = cast.teams[from_tier], cast.teams[to_tier]
            self.rows.escalations.append(
                Escalation(
                    ticket_id=pk,
                    direction=Escalation.Direction.UP,
                    from_tier=from_tier,
                    to_tier=to_tier,
                    from_team=from_team,
                    to_team=to_team,
                    from_assignee=tech,
                    by=tech,
                    summary=summary,
                    created_at=moved_at,
                )
            )
            self._history(
                ticket,
                tech,
                moved_at,
                "escalated",
                field="team",
                old=from_team,
                new=to_team,
                summary=summary,
            )
            self._history(ticket, tech, moved_at, "assigned", field="assignee", old=tech)
            ticket.escalation_count += 1
            ticket.tier, ticket.team = to_tier, to_team
            tech = rng.choice(cast.by_tier[to_tier])
            taken_at = at(position + 0.08)
            self._history(ticket, tech, taken_at, "assigned", field="assignee", new=tech)
            minutes = rng.choice([15, 20, 30, 45])
            time_spent += minutes
            self.message(
                ticket,
                tech,
                at(position + 0.12),
                _fill(rng.choice(kind.notes), ctx),
                minutes,
                internal=True,
            )
            position += 0.25
        ticket.assignee = tech

        if visit:
            time_spent += self.work_order(
                ticket, requester, tech, kind, ctx, done, at(0.55), at(0.8)
            )

        if done:
            code = self.lookups["codes"][rng.choice(kind.codes)]
            note = _fill(rng.choice(kind.resolutions), ctx)
            minutes = rng.choice([5, 10, 15, 20, 30])
            time_spent += minutes
            self.message(ticket, tech, resolved_at, note, minutes)
            ticket.status = Status.RESOLVED
            ticket.resolution_code = code
            ticket.resolution_note = note
            ticket.resolved_at = resolved_at
            self._history(
                ticket,
                tech,
                resolved_at,
                "resolved",
                field="status",
                old="In progress",
                new="Resolved",
                summary=code.name,
            )
            window = timedelta(days=services.conf()["AUTOCLOSE_DAYS"])
            if force == "resolved":
                pass
            elif rng.random() < 0.55 and resolved_at + timedelta(hours=30) < now:
                closed_at = resolved_at + timedelta(hours=rng.uniform(0.5, 30))
                self._close(ticket, requester, closed_at, "confirmed")
            elif resolved_at + window < now or force == "closed":
                self._close(ticket, None, resolved_at + window, "closed")
        else:
            if force == "waiting":
                status = Status.WAITING_REQUESTER
            else:
                status = rng.choices(
                    [
                        Status.OPEN,
                        Status.IN_PROGRESS,
                        Status.WAITING_REQUESTER,
                        Status.WAITING_THIRD_PARTY,
                    ],
                    [30, 40, 20, 10],
                )[0]
            ticket.status = status
            if status != Status.OPEN:
                self._history(
                    ticket, tech, at(0.9), "status", field="status", old="Open", new=status.label
                )
        ticket.is_open = ticket.status not in (Status.RESOLVED, Status.CLOSED)
        ticket.time_spent_minutes = time_spent
        ticket.updated_at = ticket.closed_at or ticket.resolved_at or end
        ticket.version = len(self.rows.history) - history_before
        return ticket

    def _close(self, ticket: Ticket, by: User | None, at: datetime, action: str) -> None:
        ticket.status = Status.CLOSED
        ticket.closed_at = at
        days = services.conf()["AUTOCLOSE_DAYS"]
        self._history(
            ticket,
            by,
            at,
            action,
            field="status",
            old="Resolved",
            new="Closed",
            summary="" if by else f"No answer within {days} days",
        )

    def message(
        self,
        ticket: Ticket,
        author: User,
        at: datetime,
        body: str,
        minutes: int,
        *,
        internal: bool = False,
    ) -> None:
        self.rows.messages.append(
            Message(
                ticket_id=ticket.pk,
                author=author,
                body=body,
                internal=internal,
                channel=Channel.PORTAL,
                time_spent_minutes=minutes if author.role != User.Role.REQUESTER else 0,
                created_at=at,
            )
        )
        action = "noted" if internal else "replied"
        self._history(ticket, author, at, action, summary=f"{minutes} min" if minutes else "")

    def call(
        self,
        ticket: Ticket | None,
        caller: User,
        tech: User,
        started: datetime,
        outcome: str,
        notes: str,
    ) -> None:
        duration = self.rng.randint(90, 1100)
        call = Call(
            caller=caller,
            caller_name=str(caller),
            caller_phone=caller.phone,
            technician=tech,
            direction=Call.Direction.INBOUND,
            started_at=started,
            duration_seconds=duration,
            notes=notes,
            outcome=outcome,
            ticket_id=ticket.pk if ticket else None,
            created_at=started + timedelta(seconds=duration),
        )
        extra = []
        if ticket is not None and outcome == Call.Outcome.EXISTING_TICKET:
            extra.append(
                HistoryEntry(
                    content_type=self.ticket_ct,
                    object_id=ticket.pk,
                    actor=tech,
                    created_at=started,
                    action="call",
                    summary=f"{caller}, {-(-duration // 60)} min",
                )
            )
        self.rows.calls.append((call, extra))

    def work_order(
        self,
        ticket: Ticket,
        requester: User,
        tech: User,
        kind: content.Kind,
        ctx: dict[str, str],
        done: bool,
        created: datetime,
        visit_at: datetime,
    ) -> int:
        rng = self.rng
        pk = self.lookups["next_wo_pk"]
        self.lookups["next_wo_pk"] += 1
        if not done:
            # Booked for a coming working day.
            day = self.now + timedelta(days=rng.randint(1, 4))
            while day.weekday() >= 5:
                day += timedelta(days=1)
            visit_at = day.replace(hour=rng.choice([9, 10, 11, 14, 15]), minute=0, second=0)
        minutes = rng.choice([30, 45, 60, 90]) if done else 0
        wo = WorkOrder(
            pk=pk,
            number=f"WO-{pk:06d}",
            ticket_id=ticket.pk,
            status=WorkOrder.Status.DONE if done else WorkOrder.Status.SCHEDULED,
            location=requester.location,
            desk=requester.desk,
            device=ctx["device"] if kind.key == "slow_laptop" else "",
            scheduled_start=visit_at,
            scheduled_end=visit_at + timedelta(hours=1),
            technician=tech,
            instructions=_fill(rng.choice(kind.escalations or kind.notes), ctx),
            checklist=[{"text": item, "done": done} for item in kind.checklist],
            time_spent_minutes=minutes,
            outcome=_fill(rng.choice(kind.visit_outcomes), ctx) if done else "",
            signoff_name=str(requester) if done else "",
            created_by=tech,
            created_at=created,
            updated_at=visit_at if done else created,
            completed_at=visit_at + timedelta(minutes=minutes) if done else None,
        )
        self.rows.work_orders.append(wo)
        self.rows.history.append(
            HistoryEntry(
                content_type=self.wo_ct,
                object_id=pk,
                actor=tech,
                created_at=created,
                action="created",
                summary=f"for {ticket.number}",
            )
        )
        self._history(
            ticket,
            tech,
            created,
            "work order",
            summary=f"{wo.number}: visit {visit_at:%Y-%m-%d %H:%M} by {tech}",
        )
        if done:
            self._history(
                ticket,
                tech,
                wo.completed_at,
                "work order done",
                summary=f"{wo.number}: {minutes} min, signed off by {requester}",
            )
        return minutes


def _lookups() -> dict[str, Any]:
    categories: dict[tuple[str, str], Category] = {}
    for category in Category.objects.select_related("parent"):
        if category.parent is None:
            categories[(category.name, "")] = category
        else:
            categories[(category.parent.name, category.name)] = category
    return {
        "categories": categories,
        "codes": {c.code: c for c in ResolutionCode.objects.all()},
        "matrix": {(i, u): services.priority_for(i, u) for i in Level.values for u in Level.values},
        "ticket_ct": ContentType.objects.get_for_model(Ticket),
        "wo_ct": ContentType.objects.get_for_model(WorkOrder),
        "call_ct": ContentType.objects.get_for_model(Call),
        "next_wo_pk": (WorkOrder.objects.aggregate(m=Max("pk"))["m"] or 0) + 1,
    }


def reset_sequences(*models: Any) -> None:
    """After inserting explicit pks, let the database's sequences continue past them."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _save_rows(rows: Rows, progress: Progress) -> None:
    total = len(rows.tickets)
    for start in range(0, total, BATCH):
        Ticket.objects.bulk_create(rows.tickets[start : start + BATCH])
        progress("tickets", min(start + BATCH, total), total)
    Message.objects.bulk_create(rows.messages, batch_size=BATCH)
    Escalation.objects.bulk_create(rows.escalations, batch_size=BATCH)
    WorkOrder.objects.bulk_create(rows.work_orders, batch_size=BATCH)
    calls = [c for c, _ in rows.calls]
    Call.objects.bulk_create(calls, batch_size=BATCH)
    call_ct = ContentType.objects.get_for_model(Call)
    history = list(rows.history)
    for call, extra in rows.calls:
        history.append(
            HistoryEntry(
                content_type=call_ct,
                object_id=call.pk,
                actor=call.technician,
                created_at=call.created_at,
                action="logged",
                summary=Call.Outcome(call.outcome).label,
            )
        )
        history.extend(extra)
    history.sort(key=lambda h: h.created_at)
    HistoryEntry.objects.bulk_create(history, batch_size=BATCH)
    reset_sequences(Ticket, WorkOrder)
    progress(
        f"{len(rows.messages):,} replies and notes, {len(rows.escalations):,} escalations, "
        f"{len(rows.work_orders):,} work orders, {len(calls):,} calls, "
        f"{len(history):,} history entries"
    )


def _guides() -> None:
    """The demo's troubleshooting guides, written through the knowledge app's service."""
    categories = {c.full_name: c for c in Category.objects.all()}
    for title, summary, category, public, steps in content.GUIDES:
        knowledge_guides.create_guide(
            title=title,
            summary=summary,
            category=categories.get(category),
            is_public=public,
            steps=[
                knowledge_guides.StepSpec(number, text, kind, tuple(answers))
                for number, kind, text, answers in steps
            ],
        )


# --- the story of today, through the services --------------------------------------------


def _today(cast: Cast, rng: random.Random) -> None:
    """A few tickets of this morning, made the way the app makes them."""
    n = cast.named
    employee, employee2 = n["employee"], n["employee2"]
    tier1, tier2 = n["tier1"], n["tier2"]
    cats = {c.full_name: c for c in Category.objects.all()}

    t = services.open_ticket(
        requester=employee,
        subject="Outlook keeps asking for my password",
        description=(
            "Since this morning Outlook asks for my password every few minutes. "
            "I type it in and it comes back. Web mail works fine."
        ),
        category=cats.get("Software › Email & calendar"),
        urgency=Level.MEDIUM,
    )
    services.take(ticket=t, by=tier1)
    services.add_message(
        ticket=t,
        by=tier1,
        body=(
            "Thanks Erin. Could you tell me whether this also happens on your phone, and send a "
            "screenshot of the password box?"
        ),
        time_spent_minutes=5,
    )
    services.change_status(ticket=t, by=tier1, status=Status.WAITING_REQUESTER)

    t = services.open_ticket(
        requester=employee2,
        subject="Docking station no longer detects my second monitor",
        description=(
            "My second monitor (Dell P2422H) stopped working yesterday afternoon. I've tried "
            "another cable and the other port on the dock."
        ),
        category=cats.get("Hardware › Monitor"),
        channel=Channel.PORTAL,
    )
    services.take(ticket=t, by=tier1)
    services.add_message(
        ticket=t,
        by=tier1,
        body="Dock firmware is current (01.00.16); cable and port swapped by the user.",
        internal=True,
        time_spent_minutes=10,
    )
    services.escalate(
        ticket=t,
        by=tier1,
        summary=(
            "User swapped cable and port, dock firmware current, monitor works on another "
            "laptop. Likely the dock: needs a swap at the desk."
        ),
    )
    services.take(ticket=t, by=tier2)
    start = (timezone.now() + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    services.create_work_order(
        ticket=t,
        by=tier2,
        technician=tier2,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        device="Dell WD19S docking station",
        instructions="Bring a spare WD19S dock; test both monitors.",
        checklist=["Bring spare dock", "Swap dock", "Test both monitors", "User signs off"],
    )

    t = services.open_ticket(
        requester=employee,
        subject="Can't print to PRN-LDS-2F-01",
        description="Nothing comes out of the second floor printer; the job sits in the queue.",
        category=cats.get("Hardware › Printer & scanner"),
        urgency=Level.LOW,
    )
    services.take(ticket=t, by=tier1)
    services.resolve(
        ticket=t,
        by=tier1,
        resolution_code="fixed",
        body=(
            "The print queue on your laptop was stuck. I cleared it and re-added the printer; "
            "a test page printed. Please confirm it works for you."
        ),
        time_spent_minutes=10,
    )
    services.log_call(
        by=tier1,
        outcome="solved",
        caller=employee2,
        duration_seconds=240,
        notes="Asked how to set an out-of-office reply; talked through it in Outlook.",
    )


# --- the whole demo ------------------------------------------------------------------------

# The named requesters' own histories: the portal shows each kind of ticket.
_NAMED_STORY = [
    ("employee", "password", "closed", 40),
    ("employee", "vpn", "closed", 21),
    ("employee", "software", "resolved", 3),
    ("employee", "slow_laptop", "open", 2),
    ("employee", "shared_drive", "waiting", 1),
    ("employee2", "printer", "closed", 60),
    ("employee2", "outlook", "resolved", 2),
    ("employee2", "wifi", "open", 1),
    ("employee2", "business_app", "new", 0.1),
]


def load_demo(
    *, seed: int = 7, people: int = 200, tickets: int = 3000, progress: Progress = _quiet
) -> dict[str, int]:
    """Load the demo help desk. Deterministic for a seed; refuses nothing, so check first."""
    rng = random.Random(seed)
    now = timezone.now().replace(microsecond=0)
    progress("Creating people and teams")
    with transaction.atomic():
        cast = create_people(
            rng, people=people, password_hash=make_password(DEMO_PASSWORD), progress=progress
        )
        lookups = _lookups()
        rows = Rows()
        story = TicketStory(rng, cast, now, rows, lookups)
        kinds = {k.key: k for k in content.KINDS}
        weights = [k.weight for k in content.KINDS]
        # Busy people file more tickets: a few heavy users, many occasional ones.
        requester_weights = [rng.paretovariate(1.5) for _ in cast.employees]
        plan: list[tuple[datetime, User, content.Kind, str | None]] = []
        for username, key, outcome, days_ago in _NAMED_STORY:
            created = now - timedelta(days=days_ago, hours=rng.randint(0, 5))
            plan.append((created, cast.named[username], kinds[key], outcome))
        for _ in range(max(0, tickets - len(plan))):
            plan.append(
                (
                    _business_time(rng, now, DAYS),
                    rng.choices(cast.employees, requester_weights)[0],
                    rng.choices(content.KINDS, weights)[0],
                    None,
                )
            )
        # Numbers follow time: TL-000001 is the oldest ticket.
        plan.sort(key=lambda item: item[0])
        next_pk = (Ticket.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        for i, (created, requester, kind, force) in enumerate(plan):
            rows.tickets.append(story.build(next_pk + i, requester, created, kind, force=force))
            if i % 500 == 499:
                progress("generating", i + 1, len(plan))
        # Calls solved on the phone, with no ticket.
        for _ in range(max(1, len(plan) // 6)):
            caller = rng.choice(cast.employees)
            tech = rng.choice(cast.by_tier[1])
            story.call(
                None,
                caller,
                tech,
                _business_time(rng, now, DAYS),
                Call.Outcome.SOLVED,
                rng.choice(content.STANDALONE_CALLS),
            )
        _save_rows(rows, progress)
        progress("Service targets: calendars, policies, the on-call rota, rules, macros")
        service_targets.load_service_targets(
            teams=cast.teams, by_tier=cast.by_tier, named=cast.named, now=now
        )
        progress("Today's tickets, through the services")
        _today(cast, rng)
        progress("Troubleshooting guides")
        _guides()
        # The tickets above were written in bulk, past the desk's events: index them all.
        progress("The search index")
        search_index.reindex_all()
    return {"people": User.objects.count(), "tickets": Ticket.objects.count()}
