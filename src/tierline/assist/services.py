"""Auto-triage: train on the resolved tickets, predict for a new one, apply or suggest.

A new ticket is triaged after its transaction commits (subscriptions.py queues `triage`). Each
field the models predict (category, team, priority) is applied by the assistant's system user
through the desk's services when the model is at least ASSIST_APPLY_CONFIDENCE sure and nobody
has touched the ticket since it opened; otherwise it is stored as a suggestion, shown on the
ticket page, which a technician applies with one click. The desk's optimistic locking (the
ticket's version, `ensure_current`) guarantees that a technician's change is never overwritten.

The models read a ticket's words and its meaning (`classifier.Blend`); the meaning's vector is
computed when the ticket is triaged and kept (`TriageVector`), so training reads it instead of
computing it again (`vectors_for`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from tierline.assist import classifier, embedding
from tierline.assist.models import Suggestion, Target, TriageModel, TriageVector
from tierline.core.errors import ActionRefused, StaleEdit
from tierline.desk import permissions as perms
from tierline.desk import queries as desk_queries
from tierline.desk import services as desk
from tierline.desk.choices import Level, Priority
from tierline.desk.models import Ticket
from tierline.people import queries as people_queries
from tierline.people import services as people
from tierline.people.models import User

log = logging.getLogger(__name__)

# The ticket's field behind each target, as desk_queries.triage_facts names it.
FIELD = {Target.CATEGORY: "category_id", Target.TEAM: "team_id", Target.PRIORITY: "priority"}
# A label seen fewer times than this among the resolved tickets is not learned (and not guessed).
MIN_PER_LABEL = 5
# A new ticket's version: triage applies only if the ticket is still at it (nobody acted).
VERSION_AT_OPEN = Ticket._meta.get_field("version").get_default()
KEEP_MODEL_FILES = 2


def _conf() -> dict[str, Any]:
    return settings.TIERLINE


def text_of(subject: str, description: str) -> str:
    return f"{subject}\n{description}"


# --- the meaning's vectors, one per ticket --------------------------------------------------

# Tickets read from or written to the vectors' table per query (SQLite's limit on a query's
# parameters is 32,766), and texts embedded at a time by training.
VECTOR_CHUNK = 2000


def meaning_on() -> bool:
    """Whether auto-triage reads the tickets' meaning too (the embedding model is installed and
    ASSIST_EMBEDDINGS is on); else their words alone."""
    return bool(_conf().get("ASSIST_EMBEDDINGS", True)) and embedding.available()


def _vector_hash(text: str) -> str:
    return hashlib.sha256(f"{embedding.TRIAGE_VECTOR}\n{text}".encode()).hexdigest()


def _save_vectors(rows: Sequence[tuple[int, str, np.ndarray]]) -> None:
    """Upsert (ticket id, text, vector) rows: two writers of one ticket's row can't collide.
    A ticket deleted meanwhile only means its vector is not kept (gone before the write: left
    out; during it: the database refuses the chunk, and those vectors are computed again by the
    next training)."""
    try:
        with transaction.atomic():
            _upsert_vectors(rows)
    except IntegrityError as exc:
        log.info("Triage vectors not kept (a ticket was deleted meanwhile?): %s", exc)


def _upsert_vectors(rows: Sequence[tuple[int, str, np.ndarray]]) -> None:
    now = timezone.now()
    present = set(
        Ticket.objects.filter(pk__in=[ticket_id for ticket_id, _, _ in rows]).values_list(
            "pk", flat=True
        )
    )
    rows = [row for row in rows if row[0] in present]
    TriageVector.objects.bulk_create(
        [
            TriageVector(
                ticket_id=ticket_id,
                text_hash=_vector_hash(text),
                vector=np.asarray(vector, dtype="<f4").tobytes(),
                updated_at=now,
            )
            for ticket_id, text, vector in rows
        ],
        update_conflicts=True,
        unique_fields=["ticket"],
        update_fields=["text_hash", "vector", "updated_at"],
    )


@dataclass
class Vectors:
    matrix: np.ndarray  # one row per ticket asked for, in its order
    stored: int  # read from the table
    computed: int  # embedded now (no row, or one of an older text) and stored
    seconds: float  # the time the computed ones took


def vectors_for(items: Sequence[tuple[int, str]]) -> Vectors:
    """The vectors of these (ticket id, text) pairs: the stored ones whose text is unchanged,
    the rest embedded now and stored. Raises `embedding.ModelMissing`."""
    wanted = {ticket_id: _vector_hash(text) for ticket_id, text in items}
    found: dict[int, np.ndarray] = {}
    ids = list(wanted)
    for start in range(0, len(ids), VECTOR_CHUNK):
        rows = TriageVector.objects.filter(ticket_id__in=ids[start : start + VECTOR_CHUNK])
        for ticket_id, text_hash, vector in rows.values_list("ticket_id", "text_hash", "vector"):
            if text_hash == wanted[ticket_id] and len(vector) == embedding.DIMENSIONS * 4:
                found[ticket_id] = np.frombuffer(bytes(vector), dtype="<f4")
    missing = [(ticket_id, text) for ticket_id, text in items if ticket_id not in found]
    started = time.perf_counter()
    for start in range(0, len(missing), VECTOR_CHUNK):
        chunk = missing[start : start + VECTOR_CHUNK]
        computed = classifier.vectors_of([text for _, text in chunk])
        _save_vectors([(i, text, v) for (i, text), v in zip(chunk, computed, strict=True)])
        found.update((i, v) for (i, _), v in zip(chunk, computed, strict=True))
    matrix = np.zeros((len(items), embedding.DIMENSIONS), dtype=np.float32)
    for row, (ticket_id, _) in enumerate(items):
        matrix[row] = found[ticket_id]
    return Vectors(
        matrix=matrix,
        stored=len(items) - len(missing),
        computed=len(missing),
        seconds=time.perf_counter() - started,
    )


# --- training -----------------------------------------------------------------------------


@dataclass
class Trained:
    model: TriageModel | None
    summary: dict[str, dict[str, Any]] = field(default_factory=dict)
    vectors: Vectors | None = None  # the meaning's input; None: trained on words alone

    def lines(self) -> list[str]:
        if self.model is None:
            return [
                "Nothing trained: "
                + "; ".join(
                    f"{target}: {facts.get('skipped', '')}"
                    for target, facts in self.summary.items()
                )
            ]
        out = [f"{self.model} trained in {self.model.seconds:.1f} s"]
        if self.vectors is None:
            out.append("  words alone (the embedding model is not in use)")
        else:
            out.append(
                f"  words and meaning: {self.vectors.stored} tickets' vectors stored, "
                f"{self.vectors.computed} computed now ({self.vectors.seconds:.1f} s)"
            )
        for target, facts in self.summary.items():
            if "skipped" in facts:
                out.append(f"  {target}: not predicted ({facts['skipped']})")
            else:
                out.append(
                    f"  {target}: {facts['labels']} values learned from {facts['examples']} tickets"
                )
        return out


def _model_dir() -> Path:
    folder = Path(settings.DATA_DIR) / "assist"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def retrain() -> Trained:
    """Train the models of every target on the newest resolved tickets and put them in use.

    A target with too few examples is skipped (and not predicted); with none trained, the
    models in use stay.
    """
    started = time.perf_counter()
    examples = desk_queries.triage_examples(limit=_conf()["ASSIST_MAX_EXAMPLES"])
    minimum = _conf()["ASSIST_MIN_EXAMPLES"]
    texts = [text_of(e["subject"], e["description"]) for e in examples]
    vectors = None
    if examples and meaning_on():
        try:
            vectors = vectors_for([(e["id"], t) for e, t in zip(examples, texts, strict=True)])
        except embedding.ModelMissing as exc:
            log.warning("Auto-triage trains on words alone: %s", exc)
    pipelines: dict[str, Any] = {}
    summary: dict[str, dict[str, Any]] = {}
    for target, key in FIELD.items():
        pairs = [(i, str(e[key])) for i, e in enumerate(examples) if e[key]]
        counts = Counter(label for _, label in pairs)
        pairs = [(i, label) for i, label in pairs if counts[label] >= MIN_PER_LABEL]
        labels = {label for _, label in pairs}
        if len(pairs) < minimum:
            summary[target] = {"skipped": f"{len(pairs)} resolved tickets, {minimum} needed"}
            continue
        if len(labels) < 2:
            summary[target] = {"skipped": "every resolved ticket has the same value"}
            continue
        rows = [i for i, _ in pairs]
        pipelines[target] = classifier.train_compiled(
            [texts[i] for i in rows],
            [label for _, label in pairs],
            None if vectors is None else vectors.matrix[rows],
        )
        summary[target] = {
            "labels": len(labels),
            "examples": len(pairs),
            "meaning": vectors is not None,
        }
    if not pipelines:
        return Trained(model=None, summary=summary, vectors=vectors)
    version = (TriageModel.objects.aggregate(top=Max("version"))["top"] or 0) + 1
    path = _model_dir() / f"triage-v{version}.joblib"
    partial = path.with_suffix(".partial")
    joblib.dump(pipelines, partial, compress=3)
    os.replace(partial, path)
    model = TriageModel.objects.create(
        version=version,
        path=str(path),
        examples=len(examples),
        seconds=round(time.perf_counter() - started, 2),
        summary=summary,
    )
    for old in TriageModel.objects.order_by("-version")[KEEP_MODEL_FILES:]:
        Path(old.path).unlink(missing_ok=True)
    return Trained(model=model, summary=summary, vectors=vectors)


# --- the models in use, loaded once per process --------------------------------------------

_loaded: tuple[int, dict[str, Any]] | None = None
_loading = threading.Lock()


def models_in_use() -> tuple[int, dict[str, Any]] | None:
    """(version, {target: pipeline}) of the newest training, loaded once per process; None
    before the first training or when its file is gone."""
    global _loaded
    row = TriageModel.objects.order_by("-version").values("version", "path").first()
    if row is None:
        return None
    if _loaded is not None and _loaded[0] == row["version"]:
        return _loaded
    with _loading:
        if _loaded is None or _loaded[0] != row["version"]:
            try:
                # Our own file, in the private data dir (0600): joblib's pickle is trusted here.
                _loaded = (row["version"], joblib.load(row["path"]))
            except (OSError, ValueError, EOFError) as exc:
                log.error("Triage model v%s can't be loaded: %s", row["version"], exc)
                return None
    return _loaded


# --- triage of a new ticket ---------------------------------------------------------------


@dataclass(frozen=True)
class Guess:
    target: str
    value: int
    label: str
    confidence: float


def _describe(target: str, value: int) -> str | None:
    """The name of a predicted value, or None when it no longer exists (a deleted team)."""
    if target == Target.CATEGORY:
        category = desk_queries.active_categories().filter(pk=value).first()
        return category.full_name or category.name if category else None
    if target == Target.TEAM:
        team = people_queries.teams().filter(pk=value).first()
        return team.name if team else None
    return Priority(value).label if value in Priority.values else None


def _vector_at_arrival(ticket_id: int, text: str) -> np.ndarray | None:
    """The new ticket's meaning vector, stored for the trainings to come; None when the model
    can't run (triage then reads the words alone)."""
    if not meaning_on():
        return None
    try:
        vector = classifier.vectors_of([text])
    except embedding.ModelMissing as exc:
        log.warning("Auto-triage reads words alone: %s", exc)
        return None
    _save_vectors([(ticket_id, text, vector[0])])
    return vector


def _guesses(
    facts: dict[str, Any], pipelines: dict[str, Any], vector: np.ndarray | None
) -> list[Guess]:
    text = text_of(facts["subject"], facts["description"])
    guesses = []
    for target, pipeline in pipelines.items():
        prediction = classifier.predict(pipeline, [text], vector)[0]
        value = int(prediction.label)
        if value == facts[FIELD[target]]:
            continue  # the ticket already says so
        label = _describe(target, value)
        if label is not None:
            guesses.append(Guess(target, value, str(label), prediction.confidence))
    return guesses


def _urgency_for(ticket: Ticket, priority: int) -> int | None:
    """The urgency that gives `priority` with the ticket's impact (the matrix decides), if any."""
    for urgency in sorted(Level.values, key=lambda u: abs(u - ticket.urgency)):
        if desk.priority_for(ticket.impact, urgency) == priority:
            return urgency
    return None


def _apply(
    ticket: Ticket, guess: Guess, *, by: User, expected_version: int | None, why: str
) -> None:
    """Set one field through the desk's services (each checks the version and permissions)."""
    if guess.target == Target.CATEGORY:
        category = desk_queries.active_categories().get(pk=guess.value)
        desk.change_fields(
            ticket=ticket, by=by, expected_version=expected_version, category=category
        )
    elif guess.target == Target.PRIORITY:
        urgency = _urgency_for(ticket, guess.value)
        if urgency is None:
            raise ActionRefused(
                f"No urgency gives {guess.label} with this ticket's impact: set it by hand."
            )
        desk.change_fields(ticket=ticket, by=by, expected_version=expected_version, urgency=urgency)
    else:
        team = people_queries.teams().get(pk=guess.value)
        move = desk.escalate if team.tier >= ticket.tier else desk.de_escalate
        move(ticket=ticket, by=by, team=team, summary=why, expected_version=expected_version)


def _store(ticket_id: int, guess: Guess, version: int, *, applied_by: User | None) -> None:
    now = timezone.now()
    Suggestion.objects.update_or_create(
        ticket_id=ticket_id,
        target=guess.target,
        defaults={
            "value": guess.value,
            "label": guess.label,
            "confidence": guess.confidence,
            "model_version": version,
            "state": Suggestion.State.APPLIED if applied_by else Suggestion.State.PENDING,
            "auto": applied_by is not None,
            "decided_by": applied_by,
            "decided_at": now if applied_by else None,
            "created_at": now,
        },
    )


@dataclass
class Triaged:
    applied: list[Guess] = field(default_factory=list)
    suggested: list[Guess] = field(default_factory=list)


def triage(*, ticket_id: int, opened_category_id: int | None = None) -> Triaged:
    """Predict the new ticket's category, team and priority; apply the sure ones, suggest the rest.

    Applied only while the ticket is as it opened (its version): a technician who changed
    anything meanwhile gets suggestions, never an overwrite; a category the requester chose is
    never replaced, only suggested. Safe to run twice.
    """
    done = Triaged()
    facts = desk_queries.triage_facts(ticket_id)
    loaded = models_in_use()
    if facts is None or not facts["is_open"] or loaded is None:
        return done
    version, pipelines = loaded
    vector = None
    if any(isinstance(p, classifier.Blend) for p in pipelines.values()):
        vector = _vector_at_arrival(ticket_id, text_of(facts["subject"], facts["description"]))
    threshold = _conf()["ASSIST_APPLY_CONFIDENCE"]
    untouched = facts["version"] == VERSION_AT_OPEN
    for guess in _guesses(facts, pipelines, vector):
        sure = untouched and guess.confidence >= threshold
        chosen = guess.target == Target.CATEGORY and opened_category_id is not None
        (done.applied if sure and not chosen else done.suggested).append(guess)
    # Category, then priority, then the team (a move to another team opens the ticket).
    order = list(FIELD)
    done.applied.sort(key=lambda g: order.index(g.target))
    assistant = people.system_user("assistant")
    if done.applied:
        try:
            with transaction.atomic():
                ticket = Ticket.objects.get(pk=ticket_id)
                expected: int | None = VERSION_AT_OPEN  # the first write checks; the lock holds
                for guess in done.applied:
                    why = f"Routed by auto-triage ({guess.confidence:.0%} sure)."
                    _apply(ticket, guess, by=assistant, expected_version=expected, why=why)
                    expected = None
                    _store(ticket_id, guess, version, applied_by=assistant)
        except (StaleEdit, ActionRefused, ValidationError, PermissionDenied) as exc:
            # A technician acted first (or the desk refused): nothing of it is applied.
            log.info("Auto-triage of ticket %s suggests instead: %s", ticket_id, exc)
            done.suggested += done.applied
            done.applied = []
    with transaction.atomic():
        for guess in done.suggested:
            _store(ticket_id, guess, version, applied_by=None)
    return done


# --- a technician's answer to a suggestion ---------------------------------------------------


def pending_for(ticket: Ticket) -> list[Suggestion]:
    return list(ticket.triage_suggestions.filter(state=Suggestion.State.PENDING))


def _suggestion_for(by: User, suggestion_id: int) -> Suggestion:
    suggestion = Suggestion.objects.select_related("ticket").filter(pk=suggestion_id).first()
    if suggestion is None or not perms.can_read_as_technician(by, suggestion.ticket):
        raise Suggestion.DoesNotExist("No such suggestion.")
    if not perms.can_work_ticket(by, suggestion.ticket):
        raise PermissionDenied("Only who works this ticket may act on its suggestions.")
    if suggestion.state != Suggestion.State.PENDING:
        raise ActionRefused(
            f"This suggestion was already {suggestion.get_state_display().lower()}."
        )
    return suggestion


@transaction.atomic
def apply_suggestion(
    *, suggestion_id: int, by: User, expected_version: int | None = None
) -> Suggestion:
    """Apply a suggestion as `by` (the history names them); refused from a stale page."""
    suggestion = _suggestion_for(by, suggestion_id)
    guess = Guess(suggestion.target, suggestion.value, suggestion.label, suggestion.confidence)
    why = f"Routed on the assistant's suggestion ({suggestion.confidence:.0%} sure)."
    try:
        _apply(suggestion.ticket, guess, by=by, expected_version=expected_version, why=why)
    except (ObjectDoesNotExist, ValueError) as exc:
        raise ActionRefused(f"{suggestion.label} can't be applied any more.") from exc
    suggestion.state = Suggestion.State.APPLIED
    suggestion.decided_by, suggestion.decided_at = by, timezone.now()
    suggestion.save(update_fields=["state", "decided_by", "decided_at"])
    return suggestion


@transaction.atomic
def dismiss_suggestion(*, suggestion_id: int, by: User) -> Suggestion:
    suggestion = _suggestion_for(by, suggestion_id)
    suggestion.state = Suggestion.State.DISMISSED
    suggestion.decided_by, suggestion.decided_at = by, timezone.now()
    suggestion.save(update_fields=["state", "decided_by", "decided_at"])
    return suggestion
