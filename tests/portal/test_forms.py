"""The portal's forms: plain-word choices, file checks before anything is saved."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tierline.desk.models import Category, Level
from tierline.portal.forms import NewRequestForm, ReplyForm, apply_service_error

pytestmark = pytest.mark.django_db


def test_category_choices_group_by_top_level_and_start_with_not_sure():
    # given / when
    choices = NewRequestForm().fields["category"].choices
    # then
    assert choices[0][0] == ""
    groups = {label: options for label, options in choices if isinstance(options, list)}
    hardware = Category.objects.get(name="Hardware", parent=None)
    assert groups["Hardware"][0] == (hardware.pk, "Hardware: something else")
    other = Category.objects.get(name="Other")
    assert (other.pk, "Other") in choices


def test_urgency_is_offered_in_plain_words():
    labels = dict(NewRequestForm().fields["urgency"].choices)
    assert labels[Level.HIGH] == "It stops me working"
    assert labels[Level.LOW] == "It can wait"


def test_every_refused_file_is_named():
    # given
    files = [SimpleUploadedFile("a.exe", b"x"), SimpleUploadedFile("b.hta", b"x")]
    form = ReplyForm(data={"body": "hi"}, files={"attachments": files})
    # when
    form.full_clean()
    # then
    errors = " ".join(form.errors["attachments"])
    assert "a.exe" in errors and "b.hta" in errors


def test_service_errors_land_on_their_field_or_on_top():
    # given
    form = ReplyForm(data={"body": "hi"})
    form.full_clean()
    # when
    apply_service_error(form, ValidationError({"body": "Too long.", "unknown": "Odd."}))
    apply_service_error(form, ValidationError("Closed."))
    # then
    assert form.errors["body"] == ["Too long."]
    assert form.non_field_errors() == ["Odd.", "Closed."]
