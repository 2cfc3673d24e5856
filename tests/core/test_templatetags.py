"""Template helpers: the Python-rendered <select> matches what Django's widget would submit."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from tests import factories
from tierline.desk.filters import TicketFilter

pytestmark = pytest.mark.django_db


def _render(bound_field) -> str:
    return Template("{% load tierline %}{% select f %}").render(Context({"f": bound_field}))


def test_select_marks_chosen_values_of_a_multiple_select():
    # given
    form = TicketFilter({"status": ["open", "new"]}).form
    # when
    html = _render(form["status"])
    # then
    assert html.startswith('<select name="status"') and " multiple" in html
    assert '<option value="open" selected>' in html and '<option value="new" selected>' in html
    assert '<option value="closed">' in html


def test_select_of_model_choices_uses_ids_and_escapes_labels():
    team = factories.team(2)
    form = TicketFilter({"team": [str(team.pk)]}).form
    html = _render(form["team"])
    assert f'<option value="{team.pk}" selected>Tier 2 Desktop &amp; Applications</option>' in html


def test_query_with_replaces_and_drops_parameters():
    request = RequestFactory().get("/desk/", {"queue": "team", "page": "3", "sort": "priority"})
    html = Template("{% load tierline %}{% query_with page=None sort='-created' %}").render(
        Context({"request": request})
    )
    assert html == "?queue=team&amp;sort=-created"
