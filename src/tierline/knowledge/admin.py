"""Article categories and troubleshooting guides are configured in the admin; articles are
written on /knowledge/.

A guide is edited on one page: its steps inline, each with its answers typed one a line
("Yes -> 3"), so a step can point to a step added in the same save. The whole tree is checked
when the page is saved (`guide_tree.check_tree`); what is wrong is a message on the form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet

from tierline.core.text import accepts_plain_text
from tierline.knowledge.guide_tree import Answer, Step, check_tree, format_answers, parse_answers
from tierline.knowledge.guides import replace_answers
from tierline.knowledge.models import Category, Guide, GuideStep
from tierline.knowledge.models_guides import RunOutcome


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    section = "Knowledge base"
    list_display = ("name", "description")
    search_fields = ("name",)


@accepts_plain_text()
class GuideStepForm(forms.ModelForm):
    answers = forms.CharField(
        label="Answers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}),
        help_text="Questions only: one answer a line, as: label -> step number "
        "(such as: Yes -> 3). Endings have none.",
    )

    class Meta:
        model = GuideStep
        fields = ("number", "kind", "text")
        widgets = {"text": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["answers"] = format_answers(
                [Answer(a.label, a.next_number) for a in self.instance.answers.all()]
            )

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise ValidationError("Write the question, the instruction or the fix.")
        return text

    def clean_answers(self) -> list[Answer]:
        try:
            return parse_answers(self.cleaned_data["answers"])
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def has_changed(self) -> bool:
        # An answers-only change is a change (the model's fields are the same).
        return super().has_changed() or "answers" in self.changed_data


class GuideStepFormSet(forms.BaseInlineFormSet):
    """The steps together: `check_tree`'s messages on top of the steps."""

    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return
        steps = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or data.get("number") is None:
                continue
            steps.append(Step(data["number"], data["kind"], list(data.get("answers") or [])))
        errors = check_tree(steps)
        if errors:
            raise ValidationError(errors)


class GuideStepInline(admin.StackedInline):
    model = GuideStep
    form = GuideStepForm
    formset = GuideStepFormSet
    extra = 2
    ordering = ("number",)


@accepts_plain_text()
class GuideForm(forms.ModelForm):
    class Meta:
        model = Guide
        fields = ("title", "summary", "category", "is_public", "is_active")


@admin.register(Guide)
class GuideAdmin(admin.ModelAdmin):
    section = "Knowledge base"
    form = GuideForm
    list_display = (
        "title",
        "category",
        "is_public",
        "is_active",
        "runs_solved",
        "runs_escalated",
        "updated_at",
    )
    list_filter = ("is_active", "is_public")
    search_fields = ("title", "summary")
    list_select_related = ("category",)
    inlines = [GuideStepInline]

    def get_queryset(self, request: Any) -> QuerySet[Guide]:
        # How often each guide ended solved or escalated: one aggregate with the list's query.
        return (
            super()
            .get_queryset(request)
            .annotate(
                solved=Count("runs", filter=Q(runs__outcome=RunOutcome.SOLVED)),
                escalated=Count("runs", filter=Q(runs__outcome=RunOutcome.ESCALATE)),
            )
        )

    @admin.display(description="runs solved", ordering="solved")
    def runs_solved(self, obj: Guide) -> int:
        return obj.solved

    @admin.display(description="runs escalated", ordering="escalated")
    def runs_escalated(self, obj: Guide) -> int:
        return obj.escalated

    def save_formset(self, request: Any, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        if not isinstance(formset, GuideStepFormSet):
            return
        for step_form in formset.forms:
            data = getattr(step_form, "cleaned_data", None)
            step = step_form.instance
            if not data or data.get("DELETE") or step.pk is None:
                continue
            replace_answers(step, list(data.get("answers") or []))
