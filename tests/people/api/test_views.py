"""The people API: the directory (help desk only) and the teams."""

from __future__ import annotations

import pytest

from tests.people.factories import DepartmentFactory, UserFactory, technician

pytestmark = pytest.mark.django_db


def test_staff_searches_people_by_name_email_or_phone(api, tier1):
    # given
    UserFactory(username="jdoe", first_name="Jane", last_name="Doe", phone="+44 161 496 0001")
    UserFactory(username="bsmith", first_name="Bob", last_name="Smith", email="bob@corp.test")
    client = api(tier1)
    # when / then
    names = lambda r: [p["username"] for p in r.json()["results"]]  # noqa: E731
    assert names(client.get("/api/v1/people/", {"q": "jane doe"})) == ["jdoe"]
    assert names(client.get("/api/v1/people/", {"q": "bob@corp"})) == ["bsmith"]
    assert names(client.get("/api/v1/people/", {"q": "496 0001"})) == ["jdoe"]


def test_person_shows_directory_fields(api, tier1):
    UserFactory(
        username="jdoe",
        first_name="Jane",
        last_name="Doe",
        department=DepartmentFactory(name="Finance"),
    )
    person = api(tier1).get("/api/v1/people/", {"q": "jdoe"}).json()["results"][0]
    assert person["name"] == "Jane Doe" and person["department"] == "Finance"
    assert {"id", "email", "phone", "role", "teams", "location", "desk"} <= set(person)


def test_requester_cannot_list_people(api, employee):
    assert api(employee).get("/api/v1/people/").status_code == 403
    assert api(employee).get(f"/api/v1/people/{employee.pk}/").status_code == 403


def test_unknown_person_answers_404(api, tier1):
    assert api(tier1).get("/api/v1/people/999999/").status_code == 404


@pytest.mark.parametrize("rows", [3, 30])
def test_people_list_query_count_is_bounded(api, lead, rows, django_assert_max_num_queries):
    for i in range(rows):
        technician(1 + i % 3, department=DepartmentFactory(name=f"Dept {i % 4}"))
    client = api(lead)
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/people/")
    assert len(response.json()["results"]) == rows + 1 and response.json()["next"] is None


def test_teams_list_for_anyone_signed_in(api, employee):
    response = api(employee).get("/api/v1/teams/")
    assert response.status_code == 200
    assert {t["tier"] for t in response.json()["results"]} == {1, 2, 3}
