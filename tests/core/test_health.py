"""The health page: admins see every app's checks; a monitor gets ok or 503 and nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tierline.core import health
from tierline.core.models import ScheduledJob

pytestmark = pytest.mark.django_db


def test_the_live_probe_tells_a_stranger_only_that_the_database_answers(client):
    answer = client.get(reverse("health-live"))
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_the_live_probe_is_503_when_the_database_does_not_answer(client, monkeypatch):
    monkeypatch.setattr(health, "database_answers", lambda: False)
    answer = client.get(reverse("health-live"))
    assert answer.status_code == 503
    assert answer.json() == {"status": "error"}


@pytest.mark.parametrize("who", ["employee", "tier1", "lead"])
def test_the_page_is_for_administrators_only(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("health")).status_code == 403
    assert client.get(reverse("health") + "?format=json").status_code == 403


def test_a_stranger_is_sent_to_sign_in(client):
    answer = client.get(reverse("health"))
    assert answer.status_code == 302 and "/accounts/login/" in answer.url


def test_an_admin_sees_every_check_with_its_state(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("health")).content.decode()
    for label in ("Database", "Data directory", "Background tasks", "Scheduled jobs"):
        assert label in page
    assert f"{connection.vendor} answers" in page
    assert "Quarantined mail" in page  # the mail app's, through the seam


def test_the_json_lists_the_checks_and_the_worst_state(client, admin_user):
    client.force_login(admin_user)
    body = client.get(reverse("health") + "?format=json").json()
    keys = [c["key"] for c in body["checks"]]
    assert keys[:4] == ["core.database", "core.disk", "core.tasks", "core.jobs"]
    assert body["status"] == health.overall(
        [
            health.Result(c["key"], c["label"], health.Finding(c["state"], ""), 0)
            for c in body["checks"]
        ]
    )


def test_a_check_that_raises_is_an_error_and_the_others_still_run(client, admin_user):
    def broken() -> health.Finding:
        raise RuntimeError("secret detail <b>")

    health.register_check("test.broken", "Broken <check>", broken, order=-1)
    try:
        client.force_login(admin_user)
        body = client.get(reverse("health") + "?format=json").json()
        page = client.get(reverse("health")).content.decode()
    finally:
        health._checks.pop("test.broken")
    first = body["checks"][0]
    assert first["state"] == "error"
    assert first["summary"] == "The check itself failed (RuntimeError)."
    assert "secret detail" not in page
    assert "Broken &lt;check&gt;" in page
    assert body["status"] == "error"
    assert len(body["checks"]) > 1


def test_a_failing_or_overdue_job_is_a_warning(admin_user):
    now = timezone.now()
    ScheduledJob.objects.create(name="sweep", next_run_at=now, last_error="boom")
    finding = health._jobs()
    assert finding.state == "warning" and "sweep" in finding.summary
    ScheduledJob.objects.filter(name="sweep").update(
        last_error="", next_run_at=now - timedelta(hours=1)
    )
    finding = health._jobs()
    assert finding.state == "warning" and "Overdue" in finding.summary
    ScheduledJob.objects.filter(name="sweep").update(next_run_at=now + timedelta(minutes=1))
    assert health._jobs().state == "ok"


def test_a_nearly_full_disk_is_a_warning_then_an_error(monkeypatch):
    class Usage:
        total = 100 * 2**30
        free = 8 * 2**30

    monkeypatch.setattr(health.shutil, "disk_usage", lambda where: Usage)
    assert health._disk().state == "warning"
    Usage.free = 1 * 2**30
    assert health._disk().state == "error"
    Usage.free = 50 * 2**30
    assert health._disk().state == "ok"


def test_the_admins_front_page_links_the_health_page(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("health")}"' in page


def test_a_bad_check_registration_is_refused():
    with pytest.raises(ValueError):
        health.register_check("", "Nothing", lambda: health.Finding("ok", ""))
