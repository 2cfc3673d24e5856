"""Canned responses and macros: placeholders checked at save, filled as text; a macro is one
transaction through the desk's services, refused when stale."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.desk import factories as desk_factories
from tierline.core.errors import ActionRefused, StaleEdit
from tierline.desk import canned, placeholders, services
from tierline.desk.models import (
    CannedResponse,
    Category,
    Macro,
    Message,
    ResolutionCode,
    Status,
)
from tierline.people.models import Team

pytestmark = pytest.mark.django_db


def test_unknown_placeholders_are_refused_at_save_with_the_list(tier1):
    with pytest.raises(ValidationError) as refused:
        services.save_canned_response(by=tier1, title="Hi", body="Hello {firstname}, {nope}")
    text = " ".join(refused.value.message_dict["body"])
    assert "{firstname}, {nope}" in text and "{first_name}" in text
    assert not CannedResponse.objects.exists()


def test_the_admin_form_refuses_them_too(tier1):
    row = CannedResponse(title="Hi", body="Hello {user.password}")
    with pytest.raises(ValidationError, match="Unknown placeholder"):
        row.full_clean()


def test_placeholders_are_filled_as_plain_text(employee, tier1):
    employee.first_name = "<b>Ann</b>"
    employee.save()
    ticket = desk_factories.ticket(employee, subject="VPN {first_name} down")
    response = services.save_canned_response(
        by=tier1,
        title="Hello",
        body="Hi {first_name}, about {ticket_number} ({subject}): {ticket_link} {{ok}}",
    )
    text = placeholders.fill(response.body, ticket=ticket, by=tier1, base="https://desk.example/")
    link = "https://desk.example" + reverse("portal:ticket", args=[ticket.number])
    # Values go in as typed (escaped when shown, as every message), and are not filled again.
    assert text == f"Hi <b>Ann</b>, about {ticket.number} (VPN {{first_name}} down): {link} {{ok}}"


def test_personal_team_and_shared_responses(tier1, tier2):
    mine = services.save_canned_response(by=tier1, title="Mine", body="a")
    team1 = Team.objects.get(pk=services.default_team_for(1).pk)
    teams = services.save_canned_response(
        by=tier1, title="Team one", body="b", personal=False, team=team1
    )
    shared = services.save_canned_response(by=tier1, title="Everyone", body="c", personal=False)
    assert set(canned.responses_for(tier1)) == {mine, teams, shared}
    assert set(canned.responses_for(tier2)) == {shared}
    assert list(canned.responses_for(tier1, "team")) == [teams]


def _macro(**kwargs) -> Macro:
    response = CannedResponse.objects.create(title="Reset", body="Hi {first_name}, done.")
    return Macro.objects.create(name="Password reset done", response=response, **kwargs)


def test_a_macro_replies_sets_the_category_and_resolves_in_one_click(employee, tier1):
    ticket = desk_factories.ticket(employee)
    category = Category.objects.filter(parent__isnull=False).first() or Category.objects.first()
    code = ResolutionCode.objects.first()
    macro = _macro(category=category, resolution_code=code)
    services.apply_macro(ticket=ticket, by=tier1, macro=macro, expected_version=ticket.version)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.category, ticket.resolution_code) == (
        Status.RESOLVED,
        category,
        code,
    )
    reply = Message.objects.filter(ticket=ticket, internal=False).last()
    assert reply.body == f"Hi {employee.first_name or employee.username}, done."


def test_a_stale_macro_changes_nothing(employee, tier1):
    ticket = desk_factories.ticket(employee)
    loaded = ticket.version
    services.change_status(ticket=ticket, by=tier1, status=Status.IN_PROGRESS)
    macro = _macro(
        category=Category.objects.first(), resolution_code=ResolutionCode.objects.first()
    )
    with pytest.raises(StaleEdit):
        services.apply_macro(ticket=ticket, by=tier1, macro=macro, expected_version=loaded)
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and ticket.resolution_code is None
    assert not Message.objects.filter(ticket=ticket, body__contains="done.").exists()


def test_a_macro_that_fails_halfway_rolls_back_the_category(employee, tier1):
    ticket = desk_factories.ticket(employee)
    child = services.create_child(
        parent=ticket, by=tier1, subject="Part", description="A part of it.", team=None
    )
    assert child.is_open
    macro = _macro(
        category=Category.objects.first(), resolution_code=ResolutionCode.objects.first()
    )
    before = ticket.category_id
    with pytest.raises(ActionRefused):
        services.apply_macro(ticket=ticket, by=tier1, macro=macro)
    ticket.refresh_from_db()
    assert ticket.category_id == before and ticket.status != Status.RESOLVED


def test_another_teams_macro_is_refused(employee, tier1, tier2):
    ticket = desk_factories.ticket(employee)
    macro = _macro(team=services.default_team_for(2))
    with pytest.raises(ActionRefused):
        services.apply_macro(ticket=ticket, by=tier1, macro=macro)
