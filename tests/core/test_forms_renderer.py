"""The Python-rendered widgets give the markup Django's own templates give."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates

from tests.people import factories as people_factories
from tierline.core.forms_renderer import FormRenderer
from tierline.desk.filters import TicketFilter


class _Form(forms.Form):
    plain = forms.ChoiceField(
        choices=[("", "---"), ("x", "X & <y>"), ("Group", [("g1", "G1"), ("g2", 'G"2')])],
        required=False,
    )
    many = forms.MultipleChoiceField(
        choices=[(1, "one"), (2, "two"), (3, "three")],
        widget=forms.SelectMultiple(attrs={"size": 3, "class": "short"}),
    )
    typed = forms.TypedChoiceField(choices=[(1, "High"), (2, "Medium")], coerce=int, initial=2)
    text = forms.CharField(max_length=20, initial='Say "hi" <b>')
    number = forms.IntegerField(min_value=0, required=False)
    email = forms.EmailField(required=False)
    when = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    flag = forms.BooleanField(required=False)
    hidden = forms.IntegerField(widget=forms.HiddenInput, initial=3)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), initial="Line 1\n<script>")
    upload = forms.FileField(required=False, widget=forms.FileInput)


def _both(bound_field) -> tuple[str, str]:
    def render(renderer) -> str:
        html = bound_field.field.widget.render(
            bound_field.html_name,
            bound_field.value(),
            {"id": bound_field.auto_id, "required": bound_field.field.required},
            renderer=renderer,
        )
        return re.sub(r">\s+<", "><", html).strip()

    return render(FormRenderer()), render(DjangoTemplates())


@pytest.mark.parametrize(
    "name",
    [
        "plain",
        "many",
        "typed",
        "text",
        "number",
        "email",
        "when",
        "flag",
        "hidden",
        "body",
        "upload",
    ],
)
@pytest.mark.parametrize("bound", [True, False])
def test_widget_markup_matches_djangos_templates(name, bound):
    data = {
        "plain": "g2",
        "many": ["1", "3"],
        "text": "a&b",
        "number": "4",
        "flag": "on",
        "body": "x",
    }
    form = _Form(data if bound else None)
    fast, django_own = _both(form[name])
    assert fast == django_own


def test_labels_are_escaped_and_chosen_options_selected():
    fast, _ = _both(_Form({"plain": "x"})["plain"])
    assert '<option value="x" selected>X &amp; &lt;y&gt;</option>' in fast
    assert '<optgroup label="Group">' in fast


@pytest.mark.django_db
def test_the_queue_filter_uses_it_for_model_choices():
    team = people_factories.team(2)
    html = str(TicketFilter({"team": [str(team.pk)]}).form["team"])
    assert f'<option value="{team.pk}" selected>Tier 2 Desktop &amp; Applications</option>' in html
