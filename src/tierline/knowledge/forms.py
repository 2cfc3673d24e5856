"""The article form (write and edit) and the small forms of the article and ticket pages."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from tierline.core.inputs import BoundedDateField
from tierline.core.text import accepts_plain_text
from tierline.knowledge.models import BODY_MAX, TITLE_MAX, Audience, Category


@accepts_plain_text()
class ArticleForm(forms.Form):
    title = forms.CharField(label="Title", max_length=TITLE_MAX)
    body = forms.CharField(
        label="Article",
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 18, "class": "mono"}),
        help_text="Markdown: ## for a heading, - for a list, **bold**, [a link](https://…). "
        "Write for the person who has the problem, in plain words.",
    )
    category = forms.ModelChoiceField(
        label="Category",
        queryset=Category.objects.order_by("name"),
        required=False,
        empty_label="No category",
    )
    audience = forms.ChoiceField(
        label="Who may read it",
        choices=Audience.choices,
        initial=Audience.INTERNAL,
        widget=forms.RadioSelect,
    )
    review_by = BoundedDateField(
        label="Review by",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The date by which someone should check the article is still right.",
    )
    note = forms.CharField(
        label="What changed",
        max_length=200,
        required=False,
        help_text="A few words for the history (optional).",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class FeedbackForm(forms.Form):
    helpful = forms.ChoiceField(choices=[("yes", "Yes"), ("no", "No")])

    @property
    def answer(self) -> bool:
        return self.cleaned_data["helpful"] == "yes"


class LinkForm(forms.Form):
    """Which article solved the ticket: its reference (KB-12) or number (12)."""

    article = forms.CharField(label="Article", max_length=20)

    def clean_article(self) -> int:
        text = self.cleaned_data["article"].strip().upper().removeprefix("KB-").strip()
        if not text.isascii() or not text.isdigit() or not 0 < len(text) < 10:
            raise ValidationError("Give the article's reference, such as KB-12.")
        return int(text)


def apply_service_error(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError next to the field it names, else on top of the form."""
    if hasattr(exc, "error_dict"):
        for name, messages in exc.message_dict.items():
            target = name if name in form.fields else None
            for message in messages:
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)
