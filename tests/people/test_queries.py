"""Reading the directory: what the desk and other apps ask of people, teams and locations."""

from __future__ import annotations

import pytest

from tests.people.factories import UserFactory, team, technician
from tierline.people import queries
from tierline.people.models import Team, User

pytestmark = pytest.mark.django_db


def test_staff_people_are_active_technicians_leads_admins_and_superusers():
    # given one of each
    tech = technician(1)
    lead = UserFactory(role=User.Role.LEAD)
    root = UserFactory(is_superuser=True)
    employee = UserFactory()
    gone = technician(1, is_active=False)
    # when / then
    staff = set(queries.staff_people())
    assert {tech, lead, root} <= staff
    assert employee not in staff and gone not in staff
    assert gone in set(queries.desk_people())


def test_members_and_leads_are_who_may_be_given_a_teams_ticket():
    tier1, tier2 = technician(1), technician(2)
    lead = UserFactory(role=User.Role.LEAD)
    offered = list(queries.members_and_leads(team(1).pk))
    assert tier1 in offered and lead in offered
    assert tier2 not in offered


def test_people_matching_needs_every_word_and_ignores_empty_text():
    erin = UserFactory(first_name="Erin", last_name="Stone", phone="+44 20 7946 0001")
    UserFactory(first_name="Erin", last_name="Other")
    assert queries.people_matching("erin stone") == [erin]
    assert queries.people_matching("7946") == [erin]
    assert queries.people_matching("   ") == []


def test_people_by_login_matches_username_or_email_exactly_ignoring_case():
    erin = UserFactory(username="erin", email="Erin@Example.com")
    assert queries.people_by_login("ERIN") == [erin]
    assert queries.people_by_login("erin@example.com") == [erin]
    assert queries.people_by_login("eri") == []


def test_default_team_for_a_tier_prefers_the_marked_default():
    Team.objects.create(name="AAA first by name", tier=2)
    assert queries.default_team_for_tier(2) == team(2)
    assert queries.default_team_for_tier(4) is None


def test_team_memberships_list_id_and_tier():
    person = technician(2)
    person.teams.add(team(3))
    assert sorted(queries.team_memberships(person)) == sorted([(team(2).pk, 2), (team(3).pk, 3)])
    assert queries.team_memberships(User()) == []


def test_teams_above_and_below_a_tier():
    assert {t.tier for t in queries.teams_at_or_above(2)} == {2, 3}
    assert {t.tier for t in queries.teams_below(2)} == {1}


def test_person_for_names_one_person_by_exact_login_email_or_phone_or_a_sole_match():
    # given: two Sams, one with a phone
    able = UserFactory(username="sam.a", first_name="Sam", last_name="Able", email="sam@x.org")
    baker = UserFactory(username="sam.b", first_name="Sam", last_name="Baker", phone="0123 456")
    UserFactory(username="gone.sam", first_name="Sam", last_name="Gone", is_active=False)
    # when / then: exact email, username or phone name one; a sole match too
    assert queries.person_for("SAM@x.org")[0] == able
    assert queries.person_for("sam.b")[0] == baker
    assert queries.person_for("0123 456")[0] == baker
    assert queries.person_for("sam baker")[0] == baker
    # several matches name nobody but list them (never the inactive one); no match, nothing
    person, matches = queries.person_for("Sam")
    assert person is None and set(matches) == {able, baker}
    assert queries.person_for("nobody-here") == (None, [])


def test_person_for_finds_an_exact_login_beyond_the_first_matches():
    # given: eleven people whose names contain "lee", the exact login sorting last
    for n in range(10):
        UserFactory(username=f"lee{n}", first_name="Ann", last_name=f"Aleen{n}")
    last = UserFactory(username="lee", first_name="Zed", last_name="Zlee")
    # when
    person, matches = queries.person_for("lee", limit=10)
    # then
    assert person == last and len(matches) == 10


def test_a_person_is_found_by_email_whatever_its_case_active_first(db):
    gone = UserFactory(username="old", email="pat@example.com", is_active=False)
    here = UserFactory(username="pat", email="Pat@Example.com")
    assert queries.person_by_email("PAT@example.COM") == here
    here.delete()
    assert queries.person_by_email("pat@example.com") == gone
    assert queries.person_by_email("") is None


@pytest.mark.parametrize(
    ("phone", "key"),
    [
        ("0113 496 0123", "134960123"),
        ("+44 (0)113 496-0123", "134960123"),
        ("4711", "4711"),
        ("12", ""),
        ("", ""),
        ("ext. 0", ""),
    ],
)
def test_a_phones_key_is_its_last_nine_digits(phone, key):
    from tierline.people.models import phone_key_for

    assert phone_key_for(phone) == key
    assert UserFactory(phone=phone).phone_key == key


def test_the_key_follows_the_phone_when_only_the_phone_is_saved():
    person = UserFactory(phone="0113 496 0123")
    person.phone = "0161 496 0999"
    person.save(update_fields=["phone"])
    person.refresh_from_db()
    assert person.phone_key == "614960999"
    assert queries.people_by_phone("+44 161 496 0999") == [person]


def test_a_number_finds_its_person_in_any_format_and_never_an_inactive_one():
    erin = UserFactory(phone="0113 496 0123")
    UserFactory(phone="0113 496 0123", is_active=False)
    assert queries.people_by_phone("+44 113 4960123") == [erin]
    assert queries.people_by_phone("12") == []
    # the call form's lookup, typed as the phone shows it
    assert queries.person_for("+44 113 496 0123")[0] == erin
    assert queries.looks_like_phone("+44 113 496 0123")
    assert not queries.looks_like_phone("erin") and not queries.looks_like_phone("12")
