"""Admin pages of the people app: a person's page, and a team's, which shows who is in it
and edits its membership."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.people import factories as people_factories
from tierline.core.history import history_of
from tierline.people.models import Team, User

pytestmark = pytest.mark.django_db


def team_form(team: Team, members: list[User]) -> dict:
    return {
        "name": team.name,
        "tier": team.tier,
        "description": team.description,
        "email": team.email,
        "members": [person.pk for person in members],
        **({"is_restricted": "on"} if team.is_restricted else {}),
        **({"is_tier_default": "on"} if team.is_tier_default else {}),
    }


def test_a_team_page_lists_its_members_and_leads_with_links(client, admin_user, tier1, lead):
    # given: tier1 and the lead in tier 1's team
    team = tier1.teams.get()
    lead.teams.add(team)
    client.force_login(admin_user)
    # when
    page = client.get(reverse("admin:people_team_change", args=[team.pk])).content.decode()
    # then
    assert f'<a href="{reverse("admin:people_user_change", args=[tier1.pk])}">Tess One</a>' in page
    assert (
        f'<a href="{reverse("admin:people_user_change", args=[lead.pk])}">Lee Lead</a> (Team lead)'
        in page
    )
    leads = reverse("admin:people_user_changelist") + "?role__exact=lead"
    assert f'<a href="{leads}">Team leads (and administrators) also work' in page
    assert client.get(leads).status_code == 200
    listing = client.get(reverse("admin:people_team_changelist")).content.decode()
    assert "members" in listing.lower()


def test_the_team_page_edits_membership_and_records_it(client, admin_user, tier1, lead):
    # given
    team = tier1.teams.get()
    client.force_login(admin_user)
    # when: the lead joins, tier1 leaves
    response = client.post(
        reverse("admin:people_team_change", args=[team.pk]), team_form(team, [lead])
    )
    # then
    assert response.status_code == 302
    assert list(team.members.all()) == [lead]
    entry = history_of(team).get()
    assert entry.actor == admin_user and entry.summary == "joined: Lee Lead; left: Tess One"


def test_saving_a_team_unchanged_keeps_its_members_and_writes_no_history(client, admin_user, tier1):
    team = tier1.teams.get()
    client.force_login(admin_user)
    client.post(reverse("admin:people_team_change", args=[team.pk]), team_form(team, [tier1]))
    assert list(team.members.all()) == [tier1]
    assert not history_of(team).exists()


def test_a_requester_is_not_offered_as_a_member(client, admin_user, employee):
    team = people_factories.team(2)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:people_team_change", args=[team.pk]), team_form(team, [employee])
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not team.members.exists()


def test_the_dates_django_sets_are_shown_not_offered_as_unlabelled_boxes(
    client, admin_user, employee
):
    # given
    client.force_login(admin_user)
    # when
    html = client.get(reverse("admin:people_user_change", args=[employee.pk])).content.decode()
    # then: the split date/time boxes (no label for either, axe "label") are gone; the dates show
    assert 'name="date_joined_0"' not in html and 'name="last_login_0"' not in html
    assert "Date joined" in html and "Last login" in html
