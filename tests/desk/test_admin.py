"""Configuration lives in Django's admin: categories, teams, the priority matrix, resolution codes."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tierline.desk import services
from tierline.desk.models import Level, Priority, PriorityRule

pytestmark = pytest.mark.django_db

PAGES = [
    "admin:desk_category_changelist",
    "admin:desk_priorityrule_changelist",
    "admin:desk_resolutioncode_changelist",
    "admin:people_team_changelist",
    "admin:people_user_changelist",
]


@pytest.mark.parametrize("name", PAGES)
def test_admin_pages_open_for_the_administrator(client, admin_user, name):
    client.force_login(admin_user)
    assert client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", PAGES)
def test_admin_pages_are_refused_to_technicians(client, tier1, name):
    client.force_login(tier1)
    response = client.get(reverse(name))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_changed_matrix_cell_sets_new_tickets_priority(admin_user):
    # given: the administrator makes low impact x high urgency critical
    PriorityRule.objects.filter(impact=Level.LOW, urgency=Level.HIGH).update(
        priority=Priority.CRITICAL
    )
    # when / then
    assert services.priority_for(Level.LOW, Level.HIGH) == Priority.CRITICAL


def test_sqlite_database_runs_in_wal_mode(tmp_path):
    """The embedded database, opened with the app's own options, is in WAL mode."""
    from django.db.utils import ConnectionHandler

    from tierline import settings as production

    if "sqlite" not in production.DATABASES["default"]["ENGINE"]:
        pytest.skip("the app runs on PostgreSQL here (TIERLINE_DATABASE_URL)")
    handler = ConnectionHandler(
        {"default": {**production.DATABASES["default"], "NAME": tmp_path / "wal.sqlite3"}}
    )
    connection = handler["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
    finally:
        connection.close()


def category_form(category, parent) -> dict:
    return {
        "name": category.name,
        "parent": parent.pk,
        "default_team": "",
        "description": "",
        "is_active": "on",
    }


def test_a_category_made_its_own_parent_gets_a_message_not_a_500(client, admin_user):
    # given a category
    from tierline.desk.models import Category

    printers = Category.objects.create(name="Printers (admin test)")
    client.force_login(admin_user)
    url = reverse("admin:desk_category_change", args=[printers.pk])
    # when the administrator makes it its own parent
    response = client.post(url, category_form(printers, printers))
    # then the form says why and nothing changed
    assert response.status_code == 200
    assert "can&#x27;t sit under itself" in response.content.decode()
    printers.refresh_from_db()
    assert printers.parent_id is None


def test_a_category_put_under_its_own_subcategory_is_refused(client, admin_user):
    from tierline.desk.models import Category

    hardware = Category.objects.create(name="Hardware (admin test)")
    laptops = Category.objects.create(name="Laptops", parent=hardware)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:desk_category_change", args=[hardware.pk]), category_form(hardware, laptops)
    )
    assert response.status_code == 200
    assert "can&#x27;t sit under itself" in response.content.decode()
    hardware.refresh_from_db()
    assert hardware.parent_id is None


# --- the priority matrix: one 3 × 3 grid --------------------------------------------------


MATRIX = reverse("admin:desk_priorityrule_changelist")


def grid(**changes: int) -> dict[str, int]:
    """The matrix form's data: every cell as it is now, with `changes` (cell_<impact>_<urgency>)."""
    data = {
        f"cell_{rule.impact}_{rule.urgency}": rule.priority for rule in PriorityRule.objects.all()
    }
    return {**data, **changes}


def test_the_matrix_is_one_labelled_grid_of_selects(client, admin_user):
    # given
    client.force_login(admin_user)
    # when
    page = client.get(MATRIX).content.decode()
    # then: three urgency columns, three impact rows, nine labelled selects
    table = re.search(r'<table class="priority-matrix">.*?</table>', page, re.DOTALL)[0]
    assert "Priority by impact (rows) and urgency (columns)" in table
    assert re.findall(r'<th scope="col">(.*?)</th>', table) == [
        "High urgency",
        "Medium urgency",
        "Low urgency",
    ]
    assert re.findall(r'<th scope="row">(.*?)</th>', table) == [
        "High impact",
        "Medium impact",
        "Low impact",
    ]
    assert table.count("<select") == 9
    assert '<label class="visually-hidden" for="id_cell_1_3">High impact × Low urgency</label>' in (
        page
    )
    assert 'name="cell_3_1"' in page


def test_the_matrix_grid_saves_the_changed_cells_with_a_history_entry(client, admin_user):
    # given
    from tierline.core.history import history_of

    client.force_login(admin_user)
    cell = f"cell_{Level.LOW}_{Level.HIGH}"
    # when: low impact × high urgency becomes critical
    response = client.post(MATRIX, grid(**{cell: Priority.CRITICAL}), follow=True)
    # then
    assert response.status_code == 200
    assert "Priority matrix saved: 1 cell changed." in response.content.decode()
    rule = PriorityRule.objects.get(impact=Level.LOW, urgency=Level.HIGH)
    assert rule.priority == Priority.CRITICAL
    assert services.priority_for(Level.LOW, Level.HIGH) == Priority.CRITICAL
    entry = history_of(rule).get()
    assert (entry.actor, entry.field, entry.old_value, entry.new_value) == (
        admin_user,
        "priority",
        "Medium",
        "Critical",
    )
    assert entry.summary == "Low impact × High urgency"
    assert PriorityRule.objects.count() == 9


@pytest.mark.parametrize("bad", ["9", "", "P1", "1; DROP TABLE"])
def test_the_matrix_grid_refuses_a_bad_cell_with_a_message_and_saves_nothing(
    client, admin_user, bad
):
    # given
    client.force_login(admin_user)
    before = grid()
    # when: one cell is garbled, another changed
    data = grid(**{f"cell_{Level.HIGH}_{Level.LOW}": Priority.LOW})
    data[f"cell_{Level.MEDIUM}_{Level.MEDIUM}"] = bad
    response = client.post(MATRIX, data)
    # then
    assert response.status_code == 200
    text = response.content.decode()
    assert "The priority matrix was not saved" in text
    assert "Choose a priority for Medium impact × Medium urgency." in text
    assert grid() == before


def test_a_missing_matrix_row_is_put_back_by_the_grid(client, admin_user):
    # given: a cell's row was deleted (the desk uses the default for it)
    PriorityRule.objects.filter(impact=Level.HIGH, urgency=Level.HIGH).delete()
    client.force_login(admin_user)
    data = grid(**{f"cell_{Level.HIGH}_{Level.HIGH}": Priority.HIGH})
    # when
    client.post(MATRIX, data)
    # then
    assert PriorityRule.objects.get(impact=Level.HIGH, urgency=Level.HIGH).priority == (
        Priority.HIGH
    )


def test_the_matrix_cells_are_not_added_or_deleted_one_by_one(client, admin_user):
    client.force_login(admin_user)
    rule = PriorityRule.objects.first()
    assert client.get(reverse("admin:desk_priorityrule_add")).status_code == 403
    assert client.get(reverse("admin:desk_priorityrule_delete", args=[rule.pk])).status_code == 403
    change = client.get(reverse("admin:desk_priorityrule_change", args=[rule.pk]))
    assert change.status_code == 302 and change["Location"] == MATRIX
