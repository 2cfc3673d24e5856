"""Guided troubleshooting: who runs which guide, and every change of a run (one function each,
one transaction each). Guides are written in the admin (knowledge/admin.py) or by
`create_guide` (the demo loader, tests); both check the tree with `guide_tree.check_tree`.

A run lives on the server: each answer names the step the page showed and one of that step's
answers (by id); anything else (another guide's answer, a step already passed, a finished run)
is refused with `BadAnswer`, which the pages answer with a 400. At the end the path is written
on the ticket through the desk's services: an internal note, or the escalation's summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from tierline.core.inputs import parse_id
from tierline.core.markdown import plain_summary
from tierline.core.text import normalise_text
from tierline.desk import permissions as perms
from tierline.desk import services as desk_services
from tierline.desk.models import Category as TicketCategory
from tierline.desk.models import Ticket
from tierline.knowledge.guide_tree import Answer, Step, check_tree
from tierline.knowledge.models_guides import (
    GUIDE_SUMMARY_MAX,
    GUIDE_TITLE_MAX,
    STEP_TEXT_MAX,
    Guide,
    GuideAnswer,
    GuideRun,
    GuideStep,
    RunOutcome,
    StepKind,
)
from tierline.knowledge.queries import can_write

# What a path keeps of a step's text (the note on the ticket is for reading, not the guide).
QUESTION_MAX = 300


class BadAnswer(ValidationError):
    """An answer that does not fit the run as it is (tampered with, or sent twice)."""


# --- writing guides ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StepSpec:
    number: int
    text: str
    kind: str = StepKind.QUESTION
    answers: tuple[tuple[str, int], ...] = ()


@transaction.atomic
def create_guide(
    *,
    title: str,
    steps: list[StepSpec],
    summary: str = "",
    category: TicketCategory | None = None,
    is_public: bool = False,
    is_active: bool = True,
) -> Guide:
    """A guide with its steps and answers, all or nothing; ValidationError naming what is
    wrong (the same rules as the admin's form)."""
    errors: list[str] = []
    title = normalise_text(title, label="The title", multiline=False).strip()
    summary = normalise_text(summary, label="The summary", multiline=False).strip()
    if not title or len(title) > GUIDE_TITLE_MAX:
        errors.append(f"A guide needs a title of 1 to {GUIDE_TITLE_MAX} characters.")
    if len(summary) > GUIDE_SUMMARY_MAX:
        errors.append(f"A summary is at most {GUIDE_SUMMARY_MAX} characters.")
    texts = {}
    for spec in steps:
        text = normalise_text(spec.text, label=f"Step {spec.number}").strip()
        if not text or len(text) > STEP_TEXT_MAX:
            errors.append(f"Step {spec.number} needs a text of 1 to {STEP_TEXT_MAX:,} characters.")
        if spec.kind not in StepKind.values:
            errors.append(f"Step {spec.number} has no kind {spec.kind!r}.")
        texts[spec.number] = text
    errors += check_tree(
        [
            Step(s.number, s.kind, [Answer(label, number) for label, number in s.answers])
            for s in steps
        ]
    )
    if errors:
        raise ValidationError(errors)
    guide = Guide.objects.create(
        title=title,
        summary=summary,
        category=category,
        is_public=is_public,
        is_active=is_active,
    )
    for spec in steps:
        step = GuideStep.objects.create(
            guide=guide, number=spec.number, kind=spec.kind, text=texts[spec.number]
        )
        replace_answers(step, [Answer(label, number) for label, number in spec.answers])
    return guide


def replace_answers(step: GuideStep, answers: list[Answer]) -> None:
    """The step's answers become `answers` (the tree was checked by the caller)."""
    GuideAnswer.objects.filter(step=step).delete()
    GuideAnswer.objects.bulk_create(
        GuideAnswer(step=step, position=i, label=a.label, next_number=a.number)
        for i, a in enumerate(answers)
    )


# --- reading guides ---------------------------------------------------------------------------


def desk_guides(user: Any) -> QuerySet[Guide]:
    """The active guides the help desk runs (public and internal alike)."""
    if not can_write(user):
        return Guide.objects.none()
    return Guide.objects.filter(is_active=True).select_related("category")


def portal_guides(user: Any) -> QuerySet[Guide]:
    """The active public guides: what employees run in the portal (the help desk sees the
    same there)."""
    if not user.is_authenticated:
        return Guide.objects.none()
    return Guide.objects.filter(is_active=True, is_public=True).select_related("category")


def guides_for_ticket(ticket: Ticket) -> list[Guide]:
    """Active guides of the ticket's category or of a category above it, in one query."""
    if ticket.category_id is None:
        return []
    category = ticket.category_id
    match = (
        Q(category_id=category)
        | Q(category__children=category)
        | Q(category__children__children=category)
        | Q(category__children__children__children=category)
    )
    return list(Guide.objects.filter(match, is_active=True).distinct().order_by("title")[:10])


def guide_for(guides: QuerySet[Guide], pk: Any) -> Guide:
    guide_id = parse_id(pk)
    guide = guides.filter(pk=guide_id).first() if guide_id else None
    if guide is None:
        raise Http404("No such guide.")
    return guide


def run_for(user: Any, pk: Any, where: str) -> GuideRun:
    """The user's own run (a run is never shared); a 404 otherwise."""
    run_id = parse_id(pk)
    run = None
    if run_id and user.is_authenticated:
        run = (
            GuideRun.objects.select_related("guide", "ticket")
            .filter(pk=run_id, person=user, where=where)
            .first()
        )
    if run is None:
        raise Http404("No such run.")
    return run


def step_of(run: GuideRun) -> GuideStep | None:
    """The step the run is at (None once it ended), with its answers."""
    if run.current_number is None:
        return None
    return (
        GuideStep.objects.filter(guide_id=run.guide_id, number=run.current_number)
        .prefetch_related("answers")
        .first()
    )


def run_counts(guide: Guide) -> dict[str, int]:
    """How many runs of the guide ended solved, escalated, or are unfinished."""
    counts = GuideRun.objects.filter(guide=guide).aggregate(
        solved=Count("id", filter=Q(outcome=RunOutcome.SOLVED)),
        escalated=Count("id", filter=Q(outcome=RunOutcome.ESCALATE)),
        unfinished=Count("id", filter=Q(outcome=RunOutcome.RUNNING)),
    )
    return counts


def path_text(run: GuideRun) -> str:
    """The path as plain text, for a note, an escalation or a new request."""
    lines = [f"Guided troubleshooting: {run.guide.title}", ""]
    for index, entry in enumerate(run.path, start=1):
        lines.append(f"{index}. {entry['question']}")
        lines.append(f"   Answer: {entry['answer']}")
    if run.outcome == RunOutcome.SOLVED:
        lines += ["", "Outcome: solved.", plain_summary(run.ending_text, 2000)]
    elif run.outcome == RunOutcome.ESCALATE:
        lines += ["", "Outcome: to escalate.", plain_summary(run.ending_text, 2000)]
    return "\n".join(lines).strip()


# --- running a guide --------------------------------------------------------------------------


def _first_number(guide: Guide) -> int:
    number = (
        GuideStep.objects.filter(guide=guide).order_by("number").values_list("number", flat=True)
    ).first()
    if number is None:
        raise BadAnswer("This guide has no steps yet.")
    return number


@transaction.atomic
def start_run(*, guide: Guide, by: Any, where: str, ticket: Ticket | None = None) -> GuideRun:
    """A new run at the guide's first step. The help desk runs any active guide, on a ticket
    it reads as the help desk; the portal runs public guides only, on no ticket."""
    if not guide.is_active:
        raise Http404("No such guide.")
    if where == GuideRun.Where.DESK:
        if not can_write(by):
            raise PermissionDenied("Only the help desk runs guides here.")
        if ticket is not None and not perms.can_note_ticket(by, ticket):
            raise PermissionDenied("You can't write on that ticket as the help desk.")
    elif where == GuideRun.Where.PORTAL:
        if not guide.is_public:
            raise Http404("No such guide.")
        ticket = None
    else:
        raise ValueError(f"unknown place {where!r}")
    return GuideRun.objects.create(
        guide=guide,
        person=by,
        ticket=ticket,
        where=where,
        current_number=_first_number(guide),
    )


def _locked(run: GuideRun) -> GuideRun:
    return GuideRun.objects.select_for_update().select_related("guide").get(pk=run.pk)


@transaction.atomic
def answer(*, run: GuideRun, by: Any, step_number: Any, answer_id: Any) -> GuideRun:
    """Answer the step the run is at. `step_number` is the step the page showed: an answer
    sent twice, or from a page left behind by "back", is refused, as is any answer that is
    not one of that step's."""
    run = _locked(run)
    if run.person_id != by.pk:
        raise PermissionDenied("This is someone else's run.")
    if run.current_number is None:
        raise BadAnswer("This run has ended: start again to run the guide once more.")
    if parse_id(step_number) != run.current_number:
        raise BadAnswer(
            "That answer was for another step than the one this run is at: "
            "go back to the guide's page and answer again."
        )
    step = step_of(run)
    chosen_id = parse_id(answer_id)
    chosen = next((a for a in step.answers.all() if a.pk == chosen_id), None) if step else None
    if step is None or chosen is None:
        raise BadAnswer("Choose one of this step's answers.")
    target = GuideStep.objects.filter(guide_id=run.guide_id, number=chosen.next_number).first()
    if target is None:  # the tree is checked on save: only a guide edited mid-run gets here
        raise BadAnswer("This guide changed while you ran it: start again.")
    run.path = [
        *run.path,
        {
            "step": step.number,
            "question": plain_summary(step.text, QUESTION_MAX),
            "answer": chosen.label,
        },
    ]
    if target.is_ending:
        run.current_number = None
        run.outcome = target.kind
        run.ending_text = target.text
        run.finished_at = timezone.now()
    else:
        run.current_number = target.number
    run.save(update_fields=["path", "current_number", "outcome", "ending_text", "finished_at"])
    return run


@transaction.atomic
def go_back(*, run: GuideRun, by: Any) -> GuideRun:
    """Undo the last answer (also after the run ended, until it was written on a ticket)."""
    run = _locked(run)
    if run.person_id != by.pk:
        raise PermissionDenied("This is someone else's run.")
    if run.written_at is not None:
        raise BadAnswer("This run is already written on the ticket.")
    if not run.path:
        return run
    last = run.path[-1]
    run.path = run.path[:-1]
    run.current_number = last["step"]
    run.outcome, run.ending_text, run.finished_at = RunOutcome.RUNNING, "", None
    run.save(update_fields=["path", "current_number", "outcome", "ending_text", "finished_at"])
    return run


@transaction.atomic
def restart(*, run: GuideRun, by: Any) -> GuideRun:
    """Start the guide again: a new run (the old one stays, counted as it ended)."""
    run = _locked(run)
    if run.person_id != by.pk:
        raise PermissionDenied("This is someone else's run.")
    ticket = run.ticket if run.where == GuideRun.Where.DESK else None
    return start_run(guide=run.guide, by=by, where=run.where, ticket=ticket)


def _ended_on_ticket(run: GuideRun, by: Any) -> GuideRun:
    run = _locked(run)
    if run.person_id != by.pk:
        raise PermissionDenied("This is someone else's run.")
    if run.outcome == RunOutcome.RUNNING:
        raise BadAnswer("This run has not ended yet.")
    if run.ticket_id is None:
        raise BadAnswer("This run is on no ticket.")
    if run.written_at is not None:
        raise BadAnswer("This run is already written on the ticket.")
    return run


@transaction.atomic
def write_on_ticket(*, run: GuideRun, by: Any) -> GuideRun:
    """The path and answers as an internal note on the run's ticket (any technician who reads
    the ticket as the help desk may note it)."""
    run = _ended_on_ticket(run, by)
    ticket = Ticket.objects.get(pk=run.ticket_id)
    desk_services.add_message(ticket=ticket, by=by, body=path_text(run), internal=True)
    run.written_at = timezone.now()
    run.save(update_fields=["written_at"])
    return run


def can_escalate(user: Any, run: GuideRun) -> bool:
    return (
        run.outcome == RunOutcome.ESCALATE
        and run.ticket is not None
        and run.written_at is None
        and perms.can_work_ticket(user, run.ticket)
    )


@transaction.atomic
def escalate_with_answers(*, run: GuideRun, by: Any) -> GuideRun:
    """Escalate the run's ticket through the desk, the path as the summary of what was tried
    (only those who work the ticket escalate; the desk's service checks it again)."""
    run = _ended_on_ticket(run, by)
    if run.outcome != RunOutcome.ESCALATE:
        raise BadAnswer("This guide ended solved: there is nothing to escalate.")
    ticket = Ticket.objects.get(pk=run.ticket_id)
    if not perms.can_work_ticket(by, ticket):
        raise PermissionDenied("Only the help desk working this ticket can escalate it.")
    desk_services.escalate(ticket=ticket, by=by, summary=path_text(run))
    run.written_at = timezone.now()
    run.save(update_fields=["written_at"])
    return run


def request_draft(user: Any, pk: Any) -> dict[str, Any] | None:
    """A new request's subject, description and category from the user's own portal run that
    ended in "escalate" (None for anything else: the form simply starts empty)."""
    run_id = parse_id(pk)
    if run_id is None or not user.is_authenticated:
        return None
    run = (
        GuideRun.objects.select_related("guide")
        .filter(pk=run_id, person=user, where=GuideRun.Where.PORTAL)
        .filter(outcome=RunOutcome.ESCALATE)
        .first()
    )
    if run is None:
        return None
    draft: dict[str, Any] = {
        "subject": run.guide.title[:200],
        "description": path_text(run),
    }
    if run.guide.category_id is not None:
        draft["category"] = run.guide.category_id
    return draft
