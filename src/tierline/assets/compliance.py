"""Security checks: each device's result per policy (pass, fail, or unknown when the platform
does not tell), evaluated when a report changes the inventory (`evaluate_asset`, called by
`assets.agent.receive_report` in its transaction) and for every device by the
`assets-compliance` job when a policy changed or a day passed (`run`), which also writes the
day's snapshot per department for the trend. An unchanged report evaluates nothing.

The checks themselves (`check`) are pure functions of what the agent reported.
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tierline.assets.compliance_models import (
    ApprovedAccount,
    ComplianceSnapshot,
    ComplianceState,
    Outcome,
    PolicyKind,
    PolicyResult,
    SecurityPolicy,
    SupportedOS,
)
from tierline.assets.models import Asset, InstalledSoftware
from tierline.assets.queries import devices

MAX_PATTERNS = 500
PATTERN_MAX_LENGTH = 200
# A name or a glob: letters, digits and what package and account names use, plus * and ?.
PATTERN = re.compile(r"^[\w.+\-:@~ *?$]+$")
VERSION = re.compile(r"^\d+(\.\d+){0,5}$")
SNAPSHOT_DAYS_KEPT = 400

# The posture checks read one key of the report's `security` and its on/off/unknown value.
POSTURE = {
    PolicyKind.FIREWALL: ("firewall", "the firewall"),
    PolicyKind.DISK_ENCRYPTION: ("disk_encryption", "disk encryption"),
    PolicyKind.ANTIVIRUS: ("antivirus", "antivirus"),
    PolicyKind.SCREEN_LOCK: ("screen_lock", "the screen lock"),
}


# --- definitions: parsing and validation (the admin refuses what these refuse) ---------------


def patterns_of(text: str) -> list[str]:
    """The non-empty lines of a names-or-patterns field, stripped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def pattern_errors(patterns: Sequence[str], *, what: str) -> list[str]:
    """Plain-words problems with a list of names or patterns (empty: fine)."""
    errors = []
    if len(patterns) > MAX_PATTERNS:
        errors.append(f"At most {MAX_PATTERNS} {what}; this has {len(patterns)}.")
    for line in patterns[:MAX_PATTERNS]:
        shown = line[:60]
        if len(line) > PATTERN_MAX_LENGTH:
            errors.append(f"“{shown}…” is longer than {PATTERN_MAX_LENGTH} characters.")
        elif not PATTERN.match(line):
            errors.append(
                f"“{shown}” has characters a name cannot have: use letters, digits, . _ + - : "
                "@ ~ $ and spaces, with * for any characters and ? for one."
            )
        elif not line.replace("*", "").replace("?", "").strip():
            errors.append(f"“{shown}” would match every name; write part of a name.")
    return errors


def version_tuple(text: str) -> tuple[int, ...] | None:
    """(22, 4) for "22.04"; the leading numbers of "12 (bookworm)"; None when there are none."""
    found = re.match(r"\s*(\d+(?:\.\d+)*)", text or "")
    if not found:
        return None
    return tuple(int(part) for part in found.group(1).split(".")[:6])


def version_errors(version_from: str, version_to: str) -> list[str]:
    errors = []
    for label, value in (("From version", version_from), ("To version", version_to)):
        if not VERSION.match(value or ""):
            errors.append(f"{label} “{(value or '')[:40]}” is not numbers and dots, like 22.04.")
    if not errors:
        low, high = version_tuple(version_from), version_tuple(version_to)
        assert low is not None and high is not None
        if low[: len(high)] > high:
            errors.append(f"From version {version_from} is after to version {version_to}.")
    return errors


def _glob(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for many globs, matched on casefolded names."""
    parts = [fnmatch.translate(p.casefold()) for p in patterns]
    return re.compile("|".join(parts)) if parts else None


# --- the facts a check reads ----------------------------------------------------------------


@dataclass
class Facts:
    """What the agent last reported of one device, and where the device belongs."""

    asset_id: int
    reported: bool
    os_name: str
    os_version: str
    security: dict[str, Any]
    accounts: list[Any]
    type_id: int | None
    department_id: int | None
    software: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rules:
    """The enabled policies and what they read, loaded once for one evaluation."""

    policies: list[SecurityPolicy]
    scopes: dict[int, tuple[frozenset[int], frozenset[int]]]
    systems: list[SupportedOS]
    approved: list[ApprovedAccount]
    banned: dict[int, re.Pattern[str] | None]

    @classmethod
    def load(cls) -> Rules:
        policies = list(
            SecurityPolicy.objects.filter(enabled=True).prefetch_related(
                "asset_types", "departments"
            )
        )
        scopes = {
            p.pk: (
                frozenset(t.pk for t in p.asset_types.all()),
                frozenset(d.pk for d in p.departments.all()),
            )
            for p in policies
        }
        kinds = {p.kind for p in policies}
        return cls(
            policies=policies,
            scopes=scopes,
            systems=list(SupportedOS.objects.all()) if PolicyKind.OS_SUPPORTED in kinds else [],
            approved=list(ApprovedAccount.objects.all())
            if PolicyKind.ADMIN_ACCOUNTS in kinds
            else [],
            banned={
                p.pk: _glob(patterns_of(p.banned))
                for p in policies
                if p.kind == PolicyKind.BANNED_SOFTWARE
            },
        )

    def applying(self, facts: Facts) -> list[SecurityPolicy]:
        found = []
        for policy in self.policies:
            types, departments = self.scopes[policy.pk]
            if types and facts.type_id not in types:
                continue
            if departments and facts.department_id not in departments:
                continue
            found.append(policy)
        return found

    def needs_software(self) -> bool:
        return any(p.kind == PolicyKind.BANNED_SOFTWARE for p in self.policies)


# --- the checks -----------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _posture(facts: Facts, key: str, what: str) -> tuple[str, str]:
    value = facts.security.get(key) if isinstance(facts.security, dict) else None
    if value == "on":
        return Outcome.PASS, f"The agent reports {what} on."
    if value == "off":
        return Outcome.FAIL, f"The agent reports {what} off."
    return Outcome.UNKNOWN, f"The agent cannot tell whether {what} is on on this platform."


def _os_supported(facts: Facts, systems: Sequence[SupportedOS], today: date) -> tuple[str, str]:
    name = (facts.os_name or "").strip()
    if not name:
        return Outcome.UNKNOWN, "The agent did not report the operating system."
    shown = f"{name} {facts.os_version}".strip()
    version = version_tuple(facts.os_version)
    if version is None:
        return Outcome.UNKNOWN, f"The version of {shown} is not a number the table can match."
    matches = [
        row
        for row in systems
        if name.casefold().startswith(row.name.casefold())
        and (low := version_tuple(row.version_from)) is not None
        and (high := version_tuple(row.version_to)) is not None
        and version >= low
        and version[: len(high)] <= high
    ]
    if not matches:
        return (
            Outcome.UNKNOWN,
            f"{shown} is not in the table of supported operating systems; add it there.",
        )
    row = max(matches, key=lambda r: r.ends_on)
    if row.ends_on < today:
        return Outcome.FAIL, f"{row.label}: support ended on {row.ends_on.isoformat()}."
    return Outcome.PASS, f"{row.label}: supported until {row.ends_on.isoformat()}."


def _updates(facts: Facts, max_days: int, now: datetime) -> tuple[str, str]:
    security = facts.security if isinstance(facts.security, dict) else {}
    pending = _int(security.get("pending_updates"))
    raw = security.get("last_update_at")
    last = parse_datetime(raw) if isinstance(raw, str) else None
    if pending == 0:
        return Outcome.PASS, "No updates are pending."
    if last is not None:
        if timezone.is_naive(last):
            last = last.replace(tzinfo=UTC)
        days = max(0, (now - last).days)
        waiting = f"{pending} pending; " if pending else ""
        if days > max_days:
            return (
                Outcome.FAIL,
                f"{waiting}updates were last applied {days} days ago (more than {max_days}).",
            )
        return Outcome.PASS, f"{waiting}updates were last applied {days} days ago."
    if pending:
        return (
            Outcome.UNKNOWN,
            f"{pending} updates pending, and the agent cannot tell when updates were last "
            "applied on this platform.",
        )
    return Outcome.UNKNOWN, "The agent cannot tell pending updates on this platform."


def _admins(facts: Facts, approved: Sequence[ApprovedAccount]) -> tuple[str, str]:
    accounts = facts.accounts if isinstance(facts.accounts, list) else []
    if not accounts:
        return Outcome.UNKNOWN, "The agent reported no local accounts on this platform."
    allowed = _glob(
        a.name
        for a in approved
        if (a.asset_type_id is None or a.asset_type_id == facts.type_id)
        and (a.department_id is None or a.department_id == facts.department_id)
    )
    admins = sorted(
        {
            str(a.get("name", ""))
            for a in accounts
            if isinstance(a, dict) and a.get("admin") is True and a.get("name")
        }
    )
    unapproved = [n for n in admins if allowed is None or not allowed.fullmatch(n.casefold())]
    if unapproved:
        shown = ", ".join(unapproved[:10]) + (" …" if len(unapproved) > 10 else "")
        return Outcome.FAIL, f"Administrators not on the approved list: {shown}."
    if not admins:
        return Outcome.PASS, "No local administrator accounts."
    return Outcome.PASS, f"Every administrator is approved ({len(admins)})."


def _banned(facts: Facts, pattern: re.Pattern[str] | None) -> tuple[str, str]:
    if pattern is None:
        return Outcome.PASS, "No software is banned by this policy."
    if not facts.software:
        return Outcome.UNKNOWN, "The agent reported no installed software."
    found = sorted(n for n in facts.software if pattern.fullmatch(n.casefold()))
    if found:
        shown = ", ".join(found[:10]) + (" …" if len(found) > 10 else "")
        return Outcome.FAIL, f"Banned software installed: {shown}."
    return Outcome.PASS, f"None of {len(facts.software)} installed packages is banned."


def check(policy: SecurityPolicy, facts: Facts, rules: Rules, *, now: datetime) -> tuple[str, str]:
    """(outcome, reason) of one policy on one device."""
    if not facts.reported:
        return Outcome.UNKNOWN, "No agent report yet."
    if policy.kind in POSTURE:
        return _posture(facts, *POSTURE[PolicyKind(policy.kind)])
    if policy.kind == PolicyKind.OS_SUPPORTED:
        return _os_supported(facts, rules.systems, timezone.localdate(now))
    if policy.kind == PolicyKind.UPDATES:
        return _updates(facts, policy.max_days or 30, now)
    if policy.kind == PolicyKind.ADMIN_ACCOUNTS:
        return _admins(facts, rules.approved)
    if policy.kind == PolicyKind.BANNED_SOFTWARE:
        return _banned(facts, rules.banned.get(policy.pk))
    return Outcome.UNKNOWN, "This check is not known to this server."


# --- evaluation and the stored results ------------------------------------------------------

FACT_FIELDS = (
    "pk",
    "inventory_at",
    "os_name",
    "os_version",
    "security",
    "accounts",
    "asset_type_id",
    "assigned_to__department_id",
)


def _facts(row: dict[str, Any]) -> Facts:
    return Facts(
        asset_id=row["pk"],
        reported=row["inventory_at"] is not None,
        os_name=row["os_name"],
        os_version=row["os_version"],
        security=row["security"] if isinstance(row["security"], dict) else {},
        accounts=row["accounts"] if isinstance(row["accounts"], list) else [],
        type_id=row["asset_type_id"],
        department_id=row["assigned_to__department_id"],
    )


def _store(facts_list: Sequence[Facts], rules: Rules, now: datetime) -> None:
    """Make the stored results of these devices equal what the rules say now."""
    ids = [f.asset_id for f in facts_list]
    stored = {(r.asset_id, r.policy_id): r for r in PolicyResult.objects.filter(asset_id__in=ids)}
    new, changed, same, wanted = [], [], [], set()
    for facts in facts_list:
        for policy in rules.applying(facts):
            outcome, reason = check(policy, facts, rules, now=now)
            reason = reason[:500]
            key = (facts.asset_id, policy.pk)
            wanted.add(key)
            row = stored.get(key)
            if row is None:
                new.append(
                    PolicyResult(
                        asset_id=facts.asset_id,
                        policy_id=policy.pk,
                        outcome=outcome,
                        reason=reason,
                        checked_at=now,
                        since=now,
                    )
                )
            elif row.outcome != outcome or row.reason != reason:
                if row.outcome != outcome:
                    row.since = now
                row.outcome, row.reason, row.checked_at = outcome, reason, now
                changed.append(row)
            else:
                same.append(row.pk)
    gone = [row.pk for key, row in stored.items() if key not in wanted]
    if gone:
        PolicyResult.objects.filter(pk__in=gone).delete()
    PolicyResult.objects.bulk_create(new, batch_size=500)
    if changed:
        PolicyResult.objects.bulk_update(
            changed, ["outcome", "reason", "checked_at", "since"], batch_size=500
        )
    if same:
        PolicyResult.objects.filter(pk__in=same).update(checked_at=now)


def evaluate_asset(*, asset: Asset, software: Sequence[str] | None = None) -> None:
    """Evaluate every enabled policy on one device, from its stored inventory (the report
    hook: in the report's transaction, after the inventory is stored). `software`: the names
    just stored, when the caller has them (saves reading them back)."""
    row = Asset.objects.filter(pk=asset.pk).values(*FACT_FIELDS).first()
    if row is None:
        return
    rules = Rules.load()
    facts = _facts(row)
    if rules.needs_software():
        facts.software = (
            list(software)
            if software is not None
            else list(
                InstalledSoftware.objects.filter(asset_id=asset.pk).values_list("name", flat=True)
            )
        )
    _store([facts], rules, timezone.now())


@transaction.atomic
def evaluate_all(*, chunk: int = 500) -> int:
    """Evaluate every device on the status board (and drop the results of assets that left
    it). Returns the number of devices evaluated."""
    now = timezone.now()
    rules = Rules.load()
    ids = list(devices().order_by("pk").values_list("pk", flat=True))
    PolicyResult.objects.exclude(asset_id__in=devices().values("pk")).delete()
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        rows = Asset.objects.filter(pk__in=part).order_by("pk").values(*FACT_FIELDS)
        facts_list = [_facts(r) for r in rows]
        if rules.needs_software():
            names: dict[int, list[str]] = defaultdict(list)
            for asset_id, name in InstalledSoftware.objects.filter(asset_id__in=part).values_list(
                "asset_id", "name"
            ):
                names[asset_id].append(name)
            for facts in facts_list:
                facts.software = names.get(facts.asset_id, [])
        _store(facts_list, rules, now)
    state = _state()
    ComplianceState.objects.filter(pk=state.pk).update(evaluated_at=now)
    return len(ids)


def _state() -> ComplianceState:
    state = ComplianceState.objects.order_by("pk").first()
    return state if state is not None else ComplianceState.objects.create()


def policies_changed() -> None:
    """A policy, the OS table or the approved accounts changed: mark it, so that the next
    `run` evaluates every device again. Whoever changed them queues that run after the commit
    (the admin: `tasks.evaluate_compliance`); this module imports no task."""
    state = _state()
    ComplianceState.objects.filter(pk=state.pk).update(policies_changed_at=timezone.now())


@transaction.atomic
def take_snapshot(*, day: date | None = None) -> int:
    """Replace the day's snapshot rows with the current results, per department (of the
    assigned person) and policy, and per department for "every policy passed"."""
    day = day or timezone.localdate()
    per_policy: dict[tuple[int | None, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    per_device: dict[int, tuple[int | None, set[str]]] = {}
    rows = PolicyResult.objects.filter(
        asset_id__in=devices().values("pk"), policy__enabled=True
    ).values_list("asset_id", "asset__assigned_to__department_id", "policy_id", "outcome")
    index = {Outcome.PASS: 1, Outcome.FAIL: 2, Outcome.UNKNOWN: 3}
    for asset_id, department_id, policy_id, outcome in rows.iterator(chunk_size=2000):
        counts = per_policy[(department_id, policy_id)]
        counts[0] += 1
        counts[index[outcome]] += 1
        per_device.setdefault(asset_id, (department_id, set()))[1].add(outcome)
    overall: dict[int | None, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for department_id, outcomes in per_device.values():
        counts = overall[department_id]
        counts[0] += 1
        if Outcome.FAIL in outcomes:
            counts[2] += 1
        elif Outcome.UNKNOWN in outcomes:
            counts[3] += 1
        else:
            counts[1] += 1
    ComplianceSnapshot.objects.filter(day=day).delete()
    ComplianceSnapshot.objects.filter(day__lt=day - timedelta(days=SNAPSHOT_DAYS_KEPT)).delete()
    made = [
        ComplianceSnapshot(
            day=day,
            department_id=department_id,
            policy_id=policy_id,
            devices=c[0],
            passed=c[1],
            failed=c[2],
            unknown=c[3],
        )
        for (department_id, policy_id), c in per_policy.items()
    ] + [
        ComplianceSnapshot(
            day=day,
            department_id=department_id,
            policy_id=None,
            devices=c[0],
            passed=c[1],
            failed=c[2],
            unknown=c[3],
        )
        for department_id, c in overall.items()
    ]
    ComplianceSnapshot.objects.bulk_create(made, batch_size=500)
    return len(made)


def run(*, now: datetime | None = None) -> dict[str, int]:
    """The `assets-compliance` job: evaluate every device again when a policy changed since
    the last full evaluation or it was on another day (end-of-support dates and update ages
    move with the calendar), then write today's snapshot."""
    now = now or timezone.now()
    state = _state()
    evaluated = 0
    if (
        state.evaluated_at is None
        or state.policies_changed_at > state.evaluated_at
        or timezone.localdate(state.evaluated_at) != timezone.localdate(now)
    ):
        evaluated = evaluate_all()
    return {"evaluated": evaluated, "snapshot_rows": take_snapshot(day=timezone.localdate(now))}
