"""A guide's tree, checked as a whole before it is saved (the admin's form and the services
ask the same function). Plain data in, messages out: no database.

The rules, each refused with a message naming the step:
- a guide has at least one step; it starts at the lowest-numbered one;
- step numbers are unique;
- a question has 1 to 12 answers, each with a label (unique in the step) and a step number
  of the same guide; an ending ("solved", "escalate") has none;
- no loops: an answer never leads back to a step already on its path (so every run ends,
  and "back" always has somewhere to go);
- every step can be reached from the start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tierline.knowledge.models_guides import (
    ANSWER_LABEL_MAX,
    ANSWERS_PER_STEP_MAX,
    STEPS_PER_GUIDE_MAX,
    StepKind,
)

ANSWER_LINE = re.compile(r"^(?P<label>.*?)\s*->\s*(?P<number>\S+)\s*$")
ANSWER_FORMAT = "Write one answer a line as: label -> step number (such as: Yes -> 3)."


@dataclass(frozen=True)
class Answer:
    label: str
    number: int


@dataclass
class Step:
    number: int
    kind: str
    answers: list[Answer] = field(default_factory=list)


def parse_answers(text: str) -> list[Answer]:
    """The answers typed in the admin, one a line ("Yes -> 3"); ValueError naming the line."""
    answers: list[Answer] = []
    for index, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = ANSWER_LINE.match(line)
        if match is None:
            raise ValueError(f"Line {index} ({line[:40]!r}) has no '->'. {ANSWER_FORMAT}")
        label, number = match.group("label").strip(), match.group("number")
        if not label:
            raise ValueError(f"Line {index} has no answer before '->'. {ANSWER_FORMAT}")
        if len(label) > ANSWER_LABEL_MAX:
            raise ValueError(
                f"Line {index}: an answer is at most {ANSWER_LABEL_MAX} characters "
                f"(this one has {len(label)})."
            )
        if not (number.isascii() and number.isdigit()) or not 0 < int(number) < 100_000:
            raise ValueError(f"Line {index}: {number[:20]!r} is not a step number. {ANSWER_FORMAT}")
        answers.append(Answer(label, int(number)))
    return answers


def format_answers(answers: list[Answer]) -> str:
    return "\n".join(f"{a.label} -> {a.number}" for a in answers)


def check_tree(steps: list[Step]) -> list[str]:
    """Every reason the guide can't be saved (empty when it can)."""
    if not steps:
        return ["A guide needs at least one step: add a question and an ending."]
    if len(steps) > STEPS_PER_GUIDE_MAX:
        return [f"A guide has at most {STEPS_PER_GUIDE_MAX} steps (this one has {len(steps)})."]
    errors: list[str] = []
    by_number: dict[int, Step] = {}
    for step in steps:
        if step.number in by_number:
            errors.append(f"Two steps are numbered {step.number}: give each its own number.")
        by_number[step.number] = step
    for step in sorted(steps, key=lambda s: s.number):
        where = f"Step {step.number}"
        if step.kind == StepKind.QUESTION:
            if not step.answers:
                errors.append(
                    f"{where} is a question with no answers: add at least one "
                    "(such as: Done -> 2), or make it an ending."
                )
            if len(step.answers) > ANSWERS_PER_STEP_MAX:
                errors.append(f"{where} has more than {ANSWERS_PER_STEP_MAX} answers.")
            labels = [a.label.casefold() for a in step.answers]
            if len(set(labels)) != len(labels):
                errors.append(f"{where} has the same answer twice.")
            for answer in step.answers:
                if answer.number not in by_number:
                    errors.append(
                        f"{where}: the answer {answer.label!r} goes to step {answer.number}, "
                        "which this guide does not have."
                    )
                elif answer.number == step.number:
                    errors.append(
                        f"{where}: the answer {answer.label!r} goes back to the same step. "
                        "A guide can't loop."
                    )
        elif step.answers:
            errors.append(
                f"{where} is an ending ({step.kind}): it has no answers. Remove them, or make "
                "it a question."
            )
    if errors:
        return errors
    start = min(by_number)
    errors.extend(_loops(by_number, start))
    if errors:
        return errors
    reached = _reachable(by_number, start)
    for number in sorted(set(by_number) - reached):
        errors.append(
            f"Step {number} can't be reached from step {start} (where the guide starts): "
            "point an answer to it, or delete it."
        )
    return errors


def _reachable(by_number: dict[int, Step], start: int) -> set[int]:
    seen, todo = {start}, [start]
    while todo:
        for answer in by_number[todo.pop()].answers:
            if answer.number not in seen:
                seen.add(answer.number)
                todo.append(answer.number)
    return seen


def _loops(by_number: dict[int, Step], start: int) -> list[str]:
    """One message per answer that closes a loop, found by a depth-first walk from every step
    (unreachable ones included), without recursion."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(by_number, white)
    found: list[str] = []
    for root in sorted(by_number):
        if colour[root] != white:
            continue
        colour[root] = grey
        stack = [(root, iter(by_number[root].answers))]
        while stack:
            number, answers = stack[-1]
            answer = next(answers, None)
            if answer is None:
                colour[number] = black
                stack.pop()
                continue
            target = answer.number
            if colour[target] == grey:
                found.append(
                    f"Step {number}: the answer {answer.label!r} goes back to step {target}, "
                    "which comes before it: a guide can't loop. Point it to a later step "
                    "or an ending."
                )
            elif colour[target] == white:
                colour[target] = grey
                stack.append((target, iter(by_number[target].answers)))
    return found
