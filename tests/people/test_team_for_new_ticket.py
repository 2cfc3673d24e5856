"""people.queries.team_for_new_ticket: the team the desk routes a new ticket to."""

from __future__ import annotations

import pytest

from tests.people import factories as people_factories
from tierline.people import queries
from tierline.people.models import Team

pytestmark = pytest.mark.django_db


def test_a_named_team_is_found_by_id_and_a_gone_one_is_none():
    # given
    print_room = Team.objects.create(name="Print room", tier=2)
    gone = Team.objects.create(name="Old desk", tier=1)
    gone_id = gone.pk
    gone.delete()
    # when / then
    found = queries.team_for_new_ticket(print_room.pk)
    assert (found, found.tier, found.name) == (print_room, 2, "Print room")
    assert queries.team_for_new_ticket(gone_id) is None


def test_without_a_team_it_is_tier_1s_default_then_its_first_by_name():
    # given: the migrations' Tier 1 default, and another Tier 1 team earlier by name
    Team.objects.create(name="AAA Walk-in desk", tier=1)
    # then: the default wins
    assert queries.team_for_new_ticket(None) == people_factories.team(1)
    # when the tier has no default any more
    Team.objects.filter(tier=1).update(is_tier_default=False)
    assert queries.team_for_new_ticket(None).name == "AAA Walk-in desk"
    # and when Tier 1 has no team at all
    Team.objects.filter(tier=1).update(tier=3)
    assert queries.team_for_new_ticket(None) is None
