"""Guided troubleshooting: a guide is a small decision tree of numbered steps. A question step
has answers, each going to another step of the same guide; a "solved" step ends with a fix, an
"escalate" step ends with "hand it to the next tier with these answers". A run is one person
going through a guide (on a ticket, on a call, or in the portal) and keeps the path taken."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

GUIDE_TITLE_MAX = 200
GUIDE_SUMMARY_MAX = 300
STEP_TEXT_MAX = 20_000
ANSWER_LABEL_MAX = 120
ANSWERS_PER_STEP_MAX = 12
STEPS_PER_GUIDE_MAX = 200


class StepKind(models.TextChoices):
    QUESTION = "question", _("Question or instruction (with answers)")
    SOLVED = "solved", _("Ending: solved (the text is the fix)")
    ESCALATE = "escalate", _("Ending: escalate with the answers")


class Guide(models.Model):
    """One troubleshooting guide. It starts at its lowest-numbered step."""

    title = models.CharField(_("title"), max_length=GUIDE_TITLE_MAX)
    summary = models.CharField(_("summary"), max_length=GUIDE_SUMMARY_MAX, blank=True)
    category = models.ForeignKey(
        "desk.Category",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ticket category"),
        help_text=_("The ticket page offers the guide on tickets of this category (or below)."),
    )
    is_public = models.BooleanField(
        _("public"), default=False, help_text=_("Employees can run it in the portal's help.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("troubleshooting guide")
        indexes = [models.Index(fields=["is_active", "category"], name="guide_category_idx")]

    def __str__(self) -> str:
        return self.title


class GuideStep(models.Model):
    """A step: Markdown text, and for a question its answers (GuideAnswer)."""

    guide = models.ForeignKey(Guide, on_delete=models.CASCADE, related_name="steps")
    number = models.PositiveIntegerField(_("step number"))
    kind = models.CharField(
        _("kind"), max_length=10, choices=StepKind.choices, default=StepKind.QUESTION
    )
    text = models.TextField(_("text (Markdown)"), max_length=STEP_TEXT_MAX)

    class Meta:
        ordering = ["guide", "number"]
        verbose_name = _("step")
        constraints = [
            models.UniqueConstraint(fields=["guide", "number"], name="guide_step_number_unique")
        ]

    def __str__(self) -> str:
        return f"step {self.number}"

    @property
    def is_ending(self) -> bool:
        return self.kind != StepKind.QUESTION


class GuideAnswer(models.Model):
    """One answer of a question step: its label and the number of the step it leads to (a
    step of the same guide, checked when the guide is saved)."""

    step = models.ForeignKey(GuideStep, on_delete=models.CASCADE, related_name="answers")
    position = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(_("answer"), max_length=ANSWER_LABEL_MAX)
    next_number = models.PositiveIntegerField(_("goes to step"))

    class Meta:
        ordering = ["step", "position", "id"]

    def __str__(self) -> str:
        return f"{self.label} -> {self.next_number}"


class RunOutcome(models.TextChoices):
    RUNNING = "", _("Running")
    SOLVED = "solved", _("Solved")
    ESCALATE = "escalate", _("Escalate")


class GuideRun(models.Model):
    """One person going through a guide. `path` holds what was asked and answered, as text
    (so a later edit of the guide does not change what a ticket was told)."""

    class Where(models.TextChoices):
        DESK = "desk", _("Help desk")
        PORTAL = "portal", _("Portal")

    guide = models.ForeignKey(Guide, on_delete=models.CASCADE, related_name="runs")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(
        "desk.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    where = models.CharField(max_length=10, choices=Where.choices)
    # [{"step": 1, "question": "…", "answer": "…"}, …] in the order answered.
    path = models.JSONField(default=list, blank=True)
    current_number = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=RunOutcome.choices, blank=True, default="")
    ending_text = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the path was written on the ticket (a note or an escalation), once.
    written_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["guide", "outcome"], name="guide_run_outcome_idx")]

    def __str__(self) -> str:
        return f"run {self.pk} of guide {self.guide_id}"
