"""Forms of the requester portal: plain words, clear limits, files checked before anything is saved."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from tierline.core.idempotency import FormTokenField
from tierline.core.text import accepts_plain_text
from tierline.desk import services
from tierline.desk.models import Category, Level
from tierline.people import queries as directory
from tierline.people.models import User
from tierline.portal.queries import category_tree

MAX_FILES = 10

URGENCY_CHOICES = [
    (Level.HIGH, "It stops me working"),
    (Level.MEDIUM, "It slows me down"),
    (Level.LOW, "It can wait"),
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files (up to MAX_FILES), each checked by services.validate_upload."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > MAX_FILES:
            raise ValidationError(f"At most {MAX_FILES} files at once.")
        errors = []
        for upload in files:
            super().clean(upload, initial)
            try:
                services.validate_upload(upload)
            except ValidationError as exc:
                errors.extend(_messages_of(exc))
        if errors:
            raise ValidationError(errors)
        return files


def _messages_of(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for messages in exc.message_dict.values() for m in messages]
    return list(exc.messages)


def apply_service_error(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: next to the field it names, else on top."""
    if hasattr(exc, "error_dict"):
        for name, messages in exc.message_dict.items():
            target = name if name in form.fields else None
            for message in messages:
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def category_choices() -> list[tuple[Any, Any]]:
    """An optgroup per top-level category (itself first, then its branch, indented by depth)."""
    choices: list[tuple[Any, Any]] = [("", "Not sure: let the help desk decide")]
    for top, descendants in category_tree():
        if not descendants:
            choices.append((top.pk, top.name))
            continue
        options = [(top.pk, f"{top.name}: something else")]
        for category in descendants:
            depth = category.full_name.count(" › ") - 1
            options.append((category.pk, "\u2003" * depth + category.name))
        choices.append((top.name, options))
    return choices


@accepts_plain_text()
class NewRequestForm(forms.Form):
    form_token = FormTokenField()
    category = forms.TypedChoiceField(
        label="What is it about?",
        required=False,
        coerce=int,
        empty_value=None,
    )
    subject = forms.CharField(
        label="In a few words, what's wrong?",
        max_length=200,
        help_text="For example: “Laptop won't connect to Wi-Fi on floor 3”.",
        error_messages={
            "required": "Please write a subject.",
            "max_length": "Keep the subject under 200 characters.",
        },
    )
    description = forms.CharField(
        label="Tell us more",
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=20000,
        help_text="What happened, what you expected, any error message, and since when.",
        error_messages={
            "required": "Please describe the problem.",
            "max_length": "The description is too long: %(show_value)d characters, "
            "at most %(limit_value)d.",
        },
    )
    urgency = forms.TypedChoiceField(
        label="How much does it get in your way?",
        choices=URGENCY_CHOICES,
        coerce=int,
        initial=Level.MEDIUM,
        widget=forms.RadioSelect,
        error_messages={"required": "Please say how much it gets in your way."},
    )
    attachments = MultipleFileField(
        label="Screenshots or files (optional)",
        help_text=f"Up to {MAX_FILES} files.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()
        limit = services.conf()["ATTACHMENT_MAX_BYTES"] / 2**20
        self.fields["attachments"].help_text = (
            f"Up to {MAX_FILES} files, {limit:.0f} MB each: pictures, PDFs, text and "
            "Office documents without macros."
        )

    def clean_category(self) -> Category | None:
        pk = self.cleaned_data.get("category")
        if pk is None:
            return None
        category = Category.objects.filter(pk=pk, is_active=True).first()
        if category is None:
            raise ValidationError("That category is no longer in use: please pick another.")
        return category


@accepts_plain_text()
class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your reply",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=50000,
        error_messages={
            "required": "Please write a message.",
            "max_length": "The message is too long: at most 50,000 characters.",
        },
    )
    attachments = MultipleFileField(label="Add files (optional)")


class AttachForm(forms.Form):
    attachments = MultipleFileField(label="Add files")

    def clean_attachments(self) -> Sequence[UploadedFile]:
        files = self.cleaned_data["attachments"]
        if not files:
            raise ValidationError("Choose at least one file.")
        return files


@accepts_plain_text()
class ReopenForm(forms.Form):
    reason = forms.CharField(
        label="What's still wrong?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={
            "required": "Please tell us what's still wrong, so we can pick it up again.",
            "max_length": "Please keep it under 5,000 characters.",
        },
    )


@accepts_plain_text()
class ShareForm(forms.Form):
    """Share a request with a colleague: typed (name or email, looked up on submit) or picked
    among the matches of an earlier try (`colleague`)."""

    colleague_lookup = forms.CharField(
        label="Share with a colleague",
        required=False,
        max_length=120,
        help_text="Their name or email address. They'll see this request in their portal "
        "and can reply to it.",
    )
    colleague = forms.ModelChoiceField(
        queryset=directory.active_people(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "That person is not in the directory."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.matches: list[User] = []

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("colleague") is not None or "colleague" in self.errors:
            return data
        lookup = (data.get("colleague_lookup") or "").strip()
        if len(lookup) < 2:
            self.add_error("colleague_lookup", "Type at least two letters of their name or email.")
            return data
        person, self.matches = directory.person_for(lookup, limit=10)
        if person is not None:
            data["colleague"] = person
        elif not self.matches:
            self.add_error("colleague_lookup", f"Nobody in the directory matches “{lookup}”.")
        else:
            self.add_error("colleague_lookup", "Several people match: pick one below.")
        return data


class UnshareForm(forms.Form):
    colleague = forms.ModelChoiceField(
        queryset=directory.everyone(),
        error_messages={
            "required": "Say whom to stop sharing with.",
            "invalid_choice": "That person is not in the directory.",
        },
    )


__all__ = [
    "AttachForm",
    "NewRequestForm",
    "ReopenForm",
    "ReplyForm",
    "ShareForm",
    "UnshareForm",
    "apply_service_error",
]
