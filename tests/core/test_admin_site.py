"""The admin's front page is Tierline's configuration: sections as the README names them, and
the system's tables (login lockouts, background tasks, scheduled jobs) one link away."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

SYSTEM_TABLES = [
    "admin:axes_accessattempt_changelist",
    "admin:axes_accesslog_changelist",
    "admin:axes_accessfailurelog_changelist",
    "admin:django_tasks_database_dbtaskresult_changelist",
    "admin:core_scheduledjob_changelist",
    "admin:auth_group_changelist",
]
CONFIGURATION = [
    "admin:people_user_changelist",
    "admin:people_team_changelist",
    "admin:people_department_changelist",
    "admin:people_location_changelist",
    "admin:people_skill_changelist",
    "admin:desk_category_changelist",
    "admin:desk_priorityrule_changelist",
    "admin:desk_resolutioncode_changelist",
]


def test_the_front_page_shows_configuration_by_section_and_no_system_table(client, admin_user):
    # given
    client.force_login(admin_user)
    # when
    page = client.get(reverse("admin:index")).content.decode()
    # then: the sections, in the README's words, and every configuration table
    assert page.index("People &amp; teams") < page.index("Desk settings") < page.index("System")
    assert "Priority matrix" in page
    for name in CONFIGURATION:
        assert f'href="{reverse(name)}"' in page, name
    # and no login-lockout, task or job table, only the link to them
    for name in SYSTEM_TABLES:
        assert f'href="{reverse(name)}"' not in page, name
    assert f'href="{reverse("admin:system")}"' in page


def test_the_system_page_lists_the_system_tables_and_each_opens(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("admin:system")).content.decode()
    for name in SYSTEM_TABLES:
        assert f'href="{reverse(name)}"' in page, name
        assert client.get(reverse(name)).status_code == 200, name
    assert 'href="' + reverse("admin:desk_category_changelist") + '"' not in page


def test_the_system_page_is_for_the_admin_only(client, tier1):
    client.force_login(tier1)
    response = client.get(reverse("admin:system"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_app_pages_still_open(client, admin_user):
    client.force_login(admin_user)
    for label in ("people", "desk", "axes"):
        assert client.get(reverse("admin:app_list", args=[label])).status_code == 200
