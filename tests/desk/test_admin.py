"""Configuration lives in Django's admin: categories, teams, the priority matrix, resolution codes."""

from __future__ import annotations

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


def test_each_cell_of_the_matrix_is_named_for_its_row(client, admin_user):
    # given
    client.force_login(admin_user)
    # when
    html = client.get(reverse("admin:desk_priorityrule_changelist")).content.decode()
    # then: no select named only by its value (a screen reader heard "select, P3")
    assert html.count('aria-label="Priority: impact ') == PriorityRule.objects.count() == 9
    assert 'aria-label="Priority: impact High, urgency Low"' in html


def test_a_named_cell_still_saves_from_the_changelist(client, admin_user):
    # given
    client.force_login(admin_user)
    rules = list(PriorityRule.objects.order_by("pk"))
    data = {
        "form-TOTAL_FORMS": str(len(rules)),
        "form-INITIAL_FORMS": str(len(rules)),
        "_save": "Save",
    }
    for i, rule in enumerate(rules):
        data[f"form-{i}-id"] = str(rule.pk)
        data[f"form-{i}-priority"] = str(rule.priority)
    cell = next(i for i, r in enumerate(rules) if (r.impact, r.urgency) == (Level.LOW, Level.LOW))
    data[f"form-{cell}-priority"] = str(Priority.HIGH)
    # when
    response = client.post(reverse("admin:desk_priorityrule_changelist"), data)
    # then
    assert response.status_code == 302
    assert services.priority_for(Level.LOW, Level.LOW) == Priority.HIGH
