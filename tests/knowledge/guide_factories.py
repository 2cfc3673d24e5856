"""Troubleshooting guides for the tests, written through the service as the demo's are."""

from __future__ import annotations

from typing import Any

from tierline.desk.models import Category as TicketCategory
from tierline.knowledge import guides
from tierline.knowledge.guides import StepSpec
from tierline.knowledge.models import Guide, GuideStep
from tierline.knowledge.models_guides import StepKind


def printer_category() -> TicketCategory:
    return TicketCategory.objects.get(name="Printer & scanner")


def printer_guide(**kwargs: Any) -> Guide:
    """1 error light? yes -> 2 (solved: clear the jam); no -> 3 toner new? yes -> 4 (escalate),
    no -> 5 (solved: replace the toner)."""
    kwargs.setdefault("title", "Printer prints blank pages")
    kwargs.setdefault("category", printer_category())
    kwargs.setdefault("is_public", True)
    return guides.create_guide(
        steps=[
            StepSpec(
                1, "Does the printer show an **orange** light?", answers=(("Yes", 2), ("No", 3))
            ),
            StepSpec(2, "Open the front door and pull out the jammed sheet.", StepKind.SOLVED),
            StepSpec(3, "Is the toner cartridge new?", answers=(("Yes", 4), ("No", 5))),
            StepSpec(4, "The fuser may be faulty: Tier 2 checks it.", StepKind.ESCALATE),
            StepSpec(5, "Replace the toner cartridge.", StepKind.SOLVED),
        ],
        **kwargs,
    )


def answer_id(guide: Guide, number: int, label: str) -> int:
    return GuideStep.objects.get(guide=guide, number=number).answers.get(label=label).pk
