"""Duplicates and bursts: a new ticket that reads like an open one of the same requester is
offered for merge; similar tickets from several people in a short time are offered as a
possible major incident.

A new ticket is compared after it commits (subscriptions.py queues `find_duplicates`), by
TF-IDF cosine (similarity.py) over subject and description, with the rarity of each word taken
from the recent tickets. Nothing is done without a person: what is found is stored here
(DuplicateSuggestion, IncidentCluster), shown on the ticket page and in the assistant's list of
possible major incidents, and a technician merges (the desk's `merge`), groups (a new major
incident ticket, each member linked to it through the desk's `link`) or dismisses. The desk's
services check the technician's permissions and the tickets' state; every list here is cut to
the tickets the person may read (desk.permissions).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Left
from django.utils import timezone

from tierline.assist.classifier import MAX_CHARS
from tierline.assist.models import ClusterMember, DuplicateSuggestion, IncidentCluster
from tierline.assist.similarity import Pairwise
from tierline.core.errors import ActionRefused
from tierline.desk import permissions as perms
from tierline.desk import services as desk
from tierline.desk.choices import Level
from tierline.desk.models import Ticket
from tierline.people.models import User

log = logging.getLogger(__name__)

# Recent tickets whose words give the rarity weights (with the tickets compared).
BACKGROUND = 200
# Tickets compared with a new one at most: the same requester's, and the burst window's.
MAX_COMPARED = 200
# Duplicates offered for one ticket at most (the most alike first).
MAX_DUPLICATES = 3
FIELDS = ("id", "number", "requester_id", "subject", "created_at", "is_open", "merged_into_id")
# What is read of a description: the similarity reads no further (classifier.MAX_CHARS), and a
# pasted log must not make 200 background rows megabytes.
TEXT = {"text": Left("description", MAX_CHARS)}

DEFAULTS: dict[str, Any] = {
    "ASSIST_DUPLICATE_DAYS": 14,
    "ASSIST_DUPLICATE_SIMILARITY": 0.5,
    "ASSIST_BURST_SIZE": 3,
    "ASSIST_BURST_MINUTES": 60,
    "ASSIST_BURST_SIMILARITY": 0.4,
}


def setting(name: str) -> Any:
    return settings.TIERLINE.get(name, DEFAULTS[name])


def _text(row: dict[str, Any]) -> str:
    return f"{row['subject']}\n{row['text']}"


# --- finding --------------------------------------------------------------------------------


@dataclass
class Found:
    duplicates: list[DuplicateSuggestion] = field(default_factory=list)
    cluster: IncidentCluster | None = None


def _open_tickets() -> QuerySet[Ticket]:
    return Ticket.objects.filter(is_open=True, merged_into__isnull=True)


def _incident_parents(ids: Iterable[int]) -> set[int]:
    """Those of `ids` that are major incident tickets made from a cluster (never members)."""
    return set(
        IncidentCluster.objects.filter(parent_ticket_id__in=list(ids)).values_list(
            "parent_ticket_id", flat=True
        )
    )


def find_duplicates(*, ticket_id: int) -> Found:
    """Compare a new ticket with its requester's open tickets and with the other people's
    tickets of the last minutes; store the likely duplicates and the burst it belongs to.

    Safe to run twice: a pair is suggested once and a ticket is in one cluster at most.
    """
    found = Found()
    new = Ticket.objects.filter(pk=ticket_id).values(*FIELDS, **TEXT).first()
    if new is None or not new["is_open"] or new["merged_into_id"]:
        return found
    created: datetime = new["created_at"]
    since = created - timedelta(days=setting("ASSIST_DUPLICATE_DAYS"))
    window_start = created - timedelta(minutes=setting("ASSIST_BURST_MINUTES"))
    earlier = _open_tickets().filter(created_at__lte=created).exclude(pk=ticket_id)
    own = list(
        earlier.filter(requester_id=new["requester_id"], created_at__gte=since)
        .order_by("-created_at", "-id")
        .values(*FIELDS, **TEXT)[:MAX_COMPARED]
    )
    others = list(
        earlier.filter(created_at__gte=window_start)
        .exclude(requester_id=new["requester_id"])
        .order_by("-created_at", "-id")
        .values(*FIELDS, **TEXT)[:MAX_COMPARED]
    )
    # One query for the new ticket and those compared: a major incident ticket is never one.
    parents = _incident_parents([ticket_id, *(r["id"] for r in own + others)])
    if ticket_id in parents:
        return found
    own = [r for r in own if r["id"] not in parents]
    others = [r for r in others if r["id"] not in parents]
    if not own and not others:
        return found
    rows = [new, *own, *others]
    compared = {r["id"] for r in rows}
    background = [
        _text(r)
        for r in Ticket.objects.order_by("-id")
        .exclude(pk__in=compared)
        .values("subject", **TEXT)[:BACKGROUND]
    ]
    # The pairs asked for are few (the new ticket with each, then within a forming group):
    # scored one at a time, not as the whole matrix (similarity.Pairwise gives the same).
    pairs = Pairwise([_text(r) for r in rows], background)
    index = {r["id"]: i for i, r in enumerate(rows)}

    def alike(a: int, b: int) -> float:
        return pairs(index[a], index[b])

    found.duplicates = _suggest_duplicates(ticket_id, own, alike)
    if others:
        found.cluster = _group_burst(new, others, alike)
    return found


def _suggest_duplicates(ticket_id: int, own: list[dict], alike: Any) -> list[DuplicateSuggestion]:
    threshold = setting("ASSIST_DUPLICATE_SIMILARITY")
    scored = sorted(
        ((alike(ticket_id, r["id"]), r["id"]) for r in own), key=lambda pair: (-pair[0], -pair[1])
    )
    suggestions = []
    for score, candidate_id in scored[:MAX_DUPLICATES]:
        if score < threshold:
            break
        suggestion, _ = DuplicateSuggestion.objects.get_or_create(
            ticket_id=ticket_id, candidate_id=candidate_id, defaults={"score": score}
        )
        suggestions.append(suggestion)
    return suggestions


def _group_burst(new: dict, others: list[dict], alike: Any) -> IncidentCluster | None:
    """Join the new ticket to the suggested cluster it reads like, or start one with the other
    people's tickets of the window that all read alike (one ticket per person); a second run,
    or a race with another ticket's run, finds the cluster made and joins it."""
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _group_burst_once(new, others, alike)
        except IntegrityError:
            # Another ticket of the burst grouped these tickets at the same moment.
            if attempt:
                log.info("Burst of ticket %s not grouped: raced twice", new["id"])
    return None


def _group_burst_once(new: dict, others: list[dict], alike: Any) -> IncidentCluster | None:
    threshold = setting("ASSIST_BURST_SIMILARITY")
    ticket_id = new["id"]
    already = ClusterMember.objects.filter(ticket_id=ticket_id).select_related("cluster").first()
    if already is not None:
        return already.cluster
    by_id = {r["id"]: r for r in others}
    memberships: dict[int, list[int]] = {}
    statuses: dict[int, str] = {}
    # Plain values, not model rows: in a burst this is every member of the window's clusters.
    for cluster_id, member_id, status in ClusterMember.objects.filter(
        ticket_id__in=list(by_id)
    ).values_list("cluster_id", "ticket_id", "cluster__status"):
        memberships.setdefault(cluster_id, []).append(member_id)
        statuses[cluster_id] = status
    # An open suggestion it reads like (on average, over the members in the window): join it.
    best: tuple[float, int] | None = None
    for cluster_id, member_ids in memberships.items():
        if statuses[cluster_id] != IncidentCluster.Status.SUGGESTED:
            continue
        score = sum(alike(ticket_id, m) for m in member_ids) / len(member_ids)
        if score >= threshold and (best is None or score > best[0]):
            best = (score, cluster_id)
    if best is not None:
        cluster = IncidentCluster.objects.get(pk=best[1])
        ClusterMember.objects.create(cluster=cluster, ticket_id=ticket_id, score=best[0])
        return cluster
    # Else a new one, from the tickets in no cluster: the most alike first, each person once,
    # each ticket alike to every one taken before it.
    grouped = {t for members in memberships.values() for t in members}
    free = sorted(
        (r for r in others if r["id"] not in grouped and alike(ticket_id, r["id"]) >= threshold),
        key=lambda r: (-alike(ticket_id, r["id"]), r["id"]),
    )
    group, people = [ticket_id], {new["requester_id"]}
    for row in free:
        if row["requester_id"] in people:
            continue
        if all(alike(row["id"], g) >= threshold for g in group):
            group.append(row["id"])
            people.add(row["requester_id"])
    if len(group) < setting("ASSIST_BURST_SIZE"):
        return None
    cluster = IncidentCluster.objects.create()
    ClusterMember.objects.bulk_create(
        ClusterMember(
            cluster=cluster,
            ticket_id=t,
            score=sum(alike(t, o) for o in group if o != t) / (len(group) - 1),
        )
        for t in sorted(group)
    )
    return cluster


# --- what a technician sees ---------------------------------------------------------------


@dataclass(frozen=True)
class PossibleDuplicate:
    suggestion: DuplicateSuggestion
    candidate: Ticket

    @property
    def percent(self) -> int:
        return round(self.suggestion.score * 100)


def duplicates_for(ticket: Ticket, user: User) -> list[PossibleDuplicate]:
    """The ticket's undecided duplicate suggestions whose other ticket is still open and the
    user reads as a technician."""
    if not ticket.is_open or ticket.merged_into_id:
        return []
    suggestions = (
        DuplicateSuggestion.objects.filter(
            ticket=ticket,
            dismissed=False,
            decided_at__isnull=True,
            candidate__is_open=True,
            candidate__merged_into__isnull=True,
        )
        .select_related("candidate")
        .order_by("-score", "-candidate_id")
    )
    return [
        PossibleDuplicate(s, s.candidate)
        for s in suggestions
        if perms.can_read_as_technician(user, s.candidate)
    ]


@dataclass(frozen=True)
class ClusterView:
    cluster: IncidentCluster
    tickets: list[Ticket]
    scores: dict[int, float]

    @property
    def size(self) -> int:
        return len(self.tickets)

    @property
    def minutes(self) -> int:
        """Minutes from the first ticket to the last (at least 1)."""
        times = [t.created_at for t in self.tickets]
        return max(1, round((max(times) - min(times)).total_seconds() / 60))

    @property
    def rows(self) -> list[tuple[Ticket, int]]:
        return [(t, round(self.scores.get(t.pk, 0) * 100)) for t in self.tickets]


def _views(clusters: list[IncidentCluster], user: User) -> list[ClusterView]:
    """Each cluster with the member tickets the user reads as a technician (two queries);
    a cluster with fewer than two of them is left out."""
    members = list(
        ClusterMember.objects.filter(cluster__in=[c.pk for c in clusters]).values_list(
            "cluster_id", "ticket_id", "score"
        )
    )
    readable = perms.technician_tickets(
        user, Ticket.objects.filter(pk__in=[t for _, t, _ in members])
    ).select_related("requester", "team")
    tickets = {t.pk: t for t in readable}
    views = []
    for cluster in clusters:
        mine = [(t, s) for c, t, s in members if c == cluster.pk and t in tickets]
        if len(mine) < 2:
            continue
        ordered = sorted((tickets[t] for t, _ in mine), key=lambda t: (t.created_at, t.pk))
        views.append(ClusterView(cluster, ordered, dict(mine)))
    return views


def cluster_for(ticket: Ticket, user: User) -> ClusterView | None:
    """The suggested major incident this ticket is part of, as the user may see it."""
    member = (
        ClusterMember.objects.filter(
            ticket=ticket, cluster__status=IncidentCluster.Status.SUGGESTED
        )
        .select_related("cluster")
        .first()
    )
    if member is None or not perms.is_staff_member(user):
        return None
    views = _views([member.cluster], user)
    return views[0] if views else None


def clusters(status: str = IncidentCluster.Status.SUGGESTED) -> QuerySet[IncidentCluster]:
    """Clusters of one status (all when `status` is empty), newest first."""
    found = IncidentCluster.objects.select_related("parent_ticket", "decided_by")
    return found.filter(status=status) if status else found


def cluster_views(found: Iterable[IncidentCluster], user: User) -> list[ClusterView]:
    if not perms.is_staff_member(user):
        return []
    return _views(list(found), user)


def visible_cluster(cluster_id: int, user: User) -> ClusterView:
    """One cluster as the user sees it; DoesNotExist when they read fewer than two of it."""
    cluster = IncidentCluster.objects.select_related("parent_ticket", "decided_by").filter(
        pk=cluster_id
    )
    views = cluster_views(cluster, user)
    if not views:
        raise IncidentCluster.DoesNotExist("No such possible major incident.")
    return views[0]


# --- a technician's answer ----------------------------------------------------------------


def _duplicate_for(by: User, suggestion_id: int) -> DuplicateSuggestion:
    suggestion = (
        DuplicateSuggestion.objects.select_for_update(of=("self",))
        .select_related("ticket", "candidate")
        .filter(pk=suggestion_id)
        .first()
    )
    if (
        suggestion is None
        or not perms.can_read_as_technician(by, suggestion.ticket)
        or not perms.can_read_as_technician(by, suggestion.candidate)
    ):
        raise DuplicateSuggestion.DoesNotExist("No such suggestion.")
    if suggestion.dismissed:
        raise ActionRefused("This suggestion was already dismissed.")
    if suggestion.decided_at is not None:
        raise ActionRefused(f"{suggestion.ticket.number} was already merged from this suggestion.")
    return suggestion


@transaction.atomic
def merge_duplicate(*, suggestion_id: int, by: User) -> DuplicateSuggestion:
    """Merge the ticket into the open ticket it duplicates, as `by`, through the desk's merge
    (which checks that they work both tickets and that both are still open)."""
    suggestion = _duplicate_for(by, suggestion_id)
    ticket, into = suggestion.ticket, suggestion.candidate
    if into.merged_into_id or not into.is_open:
        raise ActionRefused(f"{into.number} is no longer open: it can't take a duplicate.")
    desk.merge(ticket=ticket, into=into, by=by)
    suggestion.decided_by, suggestion.decided_at = by, timezone.now()
    suggestion.save(update_fields=["decided_by", "decided_at"])
    return suggestion


@transaction.atomic
def dismiss_duplicate(*, suggestion_id: int, by: User) -> DuplicateSuggestion:
    """ "Not a duplicate": recorded, and the suggestion leaves the page."""
    suggestion = _duplicate_for(by, suggestion_id)
    perms.ensure(
        perms.can_work_ticket(by, suggestion.ticket),
        "Only who works this ticket may answer its suggestions.",
    )
    suggestion.dismissed = True
    suggestion.decided_by, suggestion.decided_at = by, timezone.now()
    suggestion.save(update_fields=["dismissed", "decided_by", "decided_at"])
    return suggestion


def _cluster_for(by: User, cluster_id: int) -> tuple[IncidentCluster, list[Ticket]]:
    """The suggested cluster, locked, and its tickets; only for who reads every one of them."""
    cluster = IncidentCluster.objects.select_for_update().filter(pk=cluster_id).first()
    if cluster is None or not perms.is_staff_member(by):
        raise IncidentCluster.DoesNotExist("No such possible major incident.")
    ids = list(cluster.members.values_list("ticket_id", flat=True))
    tickets = list(
        Ticket.objects.filter(pk__in=ids)
        .select_related("team", "category")
        .order_by("created_at", "id")
    )
    readable = [t for t in tickets if perms.can_read_as_technician(by, t)]
    if len(readable) < 2:
        raise IncidentCluster.DoesNotExist("No such possible major incident.")
    if len(readable) < len(tickets):
        raise PermissionDenied("Some of these tickets are not yours to read: ask a team lead.")
    if cluster.status == IncidentCluster.Status.ACCEPTED:
        number = cluster.parent_ticket.number if cluster.parent_ticket else "a major incident"
        raise ActionRefused(f"These tickets were already grouped under {number}.")
    if cluster.status == IncidentCluster.Status.DISMISSED:
        raise ActionRefused("This possible major incident was already dismissed.")
    return cluster, tickets


def _most_common(values: Iterable[Any]) -> Any:
    counted = Counter(v for v in values if v is not None)
    return counted.most_common(1)[0][0] if counted else None


@transaction.atomic
def group_as_incident(*, cluster_id: int, by: User) -> Ticket:
    """Open one major incident ticket for the cluster's open tickets and link each of them to
    it, as `by` (who must work every one of them: the desk's `link` checks); all or nothing."""
    cluster, tickets = _cluster_for(by, cluster_id)
    still_open = [t for t in tickets if t.is_open and not t.merged_into_id]
    if len(still_open) < 2:
        raise ActionRefused(
            f"Only {len(still_open)} of these {len(tickets)} tickets are still open: "
            "there is nothing to group."
        )
    for ticket in still_open:
        perms.ensure(
            perms.can_work_ticket(by, ticket),
            f"You don't work {ticket.number}: a team lead can group these tickets.",
        )
    first = still_open[0]
    lines = "\n".join(f"- {t.number}: {t.subject}" for t in still_open)
    parent = desk.open_ticket(
        requester=by,
        by=by,
        subject=f"Major incident: {first.subject}"[:200],
        description=(
            f"{len(still_open)} people reported this within minutes of each other. "
            f"Their tickets are linked here:\n{lines}"
        ),
        category=_most_common(t.category for t in still_open),
        impact=Level.HIGH,
        urgency=min(t.urgency for t in still_open),
        channel=first.channel,
        team=_most_common(t.team for t in still_open),
    )
    for ticket in still_open:
        desk.link(ticket=ticket, other=parent, by=by)
    cluster.status = IncidentCluster.Status.ACCEPTED
    cluster.parent_ticket = parent
    cluster.decided_by, cluster.decided_at = by, timezone.now()
    cluster.save(update_fields=["status", "parent_ticket", "decided_by", "decided_at"])
    return parent


@transaction.atomic
def dismiss_incident(*, cluster_id: int, by: User) -> IncidentCluster:
    """Not a major incident: recorded, and the suggestion leaves the pages."""
    cluster, tickets = _cluster_for(by, cluster_id)
    perms.ensure(
        any(perms.can_work_ticket(by, t) for t in tickets),
        "Only who works one of these tickets may dismiss this.",
    )
    cluster.status = IncidentCluster.Status.DISMISSED
    cluster.decided_by, cluster.decided_at = by, timezone.now()
    cluster.save(update_fields=["status", "decided_by", "decided_at"])
    return cluster
