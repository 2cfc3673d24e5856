"""Troubleshooting guides: the tree checked whole, and a run from start to its end."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.desk import factories as desk_factories
from tests.knowledge import guide_factories
from tierline.knowledge import guides
from tierline.knowledge.guide_tree import Answer, Step, check_tree, parse_answers
from tierline.knowledge.guides import StepSpec
from tierline.knowledge.models import Guide, GuideRun
from tierline.knowledge.models_guides import RunOutcome, StepKind

Q, SOLVED, ESCALATE = StepKind.QUESTION, StepKind.SOLVED, StepKind.ESCALATE


def test_a_good_tree_has_nothing_to_say():
    steps = [
        Step(1, Q, [Answer("Yes", 2), Answer("No", 3)]),
        Step(2, SOLVED),
        Step(3, Q, [Answer("Done", 4)]),
        Step(4, ESCALATE),
    ]
    assert check_tree(steps) == []


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([], "at least one step"),
        ([Step(1, Q)], "Step 1 is a question with no answers"),
        ([Step(1, Q, [Answer("Yes", 9)])], "goes to step 9, which this guide does not have"),
        ([Step(1, Q, [Answer("Again", 1)])], "goes back to the same step"),
        (
            [Step(1, Q, [Answer("Yes", 2)]), Step(2, Q, [Answer("Again", 1)])],
            "Step 2: the answer 'Again' goes back to step 1",
        ),
        ([Step(1, SOLVED), Step(2, SOLVED)], "Step 2 can't be reached from step 1"),
        ([Step(1, SOLVED, [Answer("Yes", 1)])], "Step 1 is an ending (solved)"),
        ([Step(1, Q, [Answer("Yes", 2), Answer("yes", 2)]), Step(2, SOLVED)], "same answer twice"),
        ([Step(1, SOLVED), Step(1, SOLVED)], "Two steps are numbered 1"),
    ],
)
def test_a_bad_tree_is_refused_with_a_message_naming_the_step(steps, expected):
    errors = check_tree(steps)
    assert any(expected in e for e in errors), errors


def test_a_loop_far_from_the_start_is_found():
    steps = [
        Step(1, Q, [Answer("A", 2), Answer("B", 5)]),
        Step(2, Q, [Answer("Next", 3)]),
        Step(3, Q, [Answer("Next", 4)]),
        Step(4, Q, [Answer("Round", 2)]),
        Step(5, SOLVED),
    ]
    assert check_tree(steps) == [
        "Step 4: the answer 'Round' goes back to step 2, which comes before it: a guide can't "
        "loop. Point it to a later step or an ending."
    ]


def test_answers_are_typed_one_a_line():
    assert parse_answers("Yes -> 2\n\n  It's <b>on</b> & blinking ->  3 \n") == [
        Answer("Yes", 2),
        Answer("It's <b>on</b> & blinking", 3),
    ]
    for bad, message in [
        ("Yes 2", "has no '->'"),
        ("-> 2", "no answer before"),
        ("Yes -> two", "not a step number"),
        ("Yes -> 0", "not a step number"),
        ("Yes -> ²", "not a step number"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_answers(bad)


@pytest.mark.django_db
def test_create_guide_refuses_a_bad_tree_and_stores_nothing():
    with pytest.raises(ValidationError) as refused:
        guides.create_guide(
            title="Broken",
            steps=[StepSpec(1, "Is it on?", answers=(("Yes", 7),))],
        )
    assert "goes to step 7" in refused.value.messages[0]
    assert not Guide.objects.exists()


@pytest.mark.django_db
def test_a_run_on_a_ticket_ends_in_a_note_with_the_path(tier1, employee):
    guide = guide_factories.printer_guide()
    ticket = desk_factories.ticket(employee)
    run = guides.start_run(guide=guide, by=tier1, where=GuideRun.Where.DESK, ticket=ticket)
    assert run.current_number == 1
    guides.answer(
        run=run, by=tier1, step_number=1, answer_id=guide_factories.answer_id(guide, 1, "No")
    )
    run = guides.answer(
        run=run, by=tier1, step_number=3, answer_id=guide_factories.answer_id(guide, 3, "No")
    )
    assert run.outcome == RunOutcome.SOLVED and run.current_number is None
    guides.write_on_ticket(run=run, by=tier1)
    note = ticket.messages.get(internal=True)
    assert note.body == (
        "Guided troubleshooting: Printer prints blank pages\n\n"
        "1. Does the printer show an orange light?\n   Answer: No\n"
        "2. Is the toner cartridge new?\n   Answer: No\n\n"
        "Outcome: solved.\nReplace the toner cartridge."
    )
    # written once
    with pytest.raises(guides.BadAnswer):
        guides.write_on_ticket(run=run, by=tier1)


@pytest.mark.django_db
def test_back_and_an_answer_for_a_passed_step(tier1):
    guide = guide_factories.printer_guide()
    run = guides.start_run(guide=guide, by=tier1, where=GuideRun.Where.DESK)
    no = guide_factories.answer_id(guide, 1, "No")
    guides.answer(run=run, by=tier1, step_number=1, answer_id=no)
    # the same answer again (a double click) is refused: the run is at step 3
    with pytest.raises(guides.BadAnswer, match="another step"):
        guides.answer(run=run, by=tier1, step_number=1, answer_id=no)
    run = guides.go_back(run=run, by=tier1)
    assert run.current_number == 1 and run.path == []
    # an answer of step 3 sent as step 1's
    with pytest.raises(guides.BadAnswer, match="this step's answers"):
        guides.answer(
            run=run, by=tier1, step_number=1, answer_id=guide_factories.answer_id(guide, 3, "No")
        )


@pytest.mark.django_db
def test_the_portal_runs_public_guides_only(employee, tier1):
    internal = guide_factories.printer_guide(is_public=False)
    with pytest.raises(Exception) as refused:
        guides.start_run(guide=internal, by=employee, where=GuideRun.Where.PORTAL)
    assert refused.type.__name__ == "Http404"
    with pytest.raises(PermissionDenied):
        guides.start_run(guide=internal, by=employee, where=GuideRun.Where.DESK)


@pytest.mark.django_db
def test_guides_for_a_ticket_follow_its_category_and_those_above(employee):
    printer = guide_factories.printer_guide()
    hardware = guide_factories.printer_guide(
        title="Any hardware", category=guide_factories.printer_category().parent
    )
    guide_factories.printer_guide(title="Switched off", is_active=False)
    ticket = desk_factories.ticket(employee, category=guide_factories.printer_category())
    assert [g.pk for g in guides.guides_for_ticket(ticket)] == [hardware.pk, printer.pk]
    assert guides.guides_for_ticket(desk_factories.ticket(employee)) == []
