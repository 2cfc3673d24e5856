"""What operators see of core in Django's admin: the periodic jobs and how they last ran."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tierline.core.models import ScheduledJob
from tierline.core.scheduler import Job, Scheduler, every

pytestmark = pytest.mark.django_db


def test_the_administrator_sees_each_job_and_its_last_error(client, admin_user):
    # given a job that failed
    def boom() -> None:
        raise RuntimeError("directory unreachable")

    Scheduler([Job("sync-directory", every(minutes=30), boom)]).run_due()
    client.force_login(admin_user)
    job = ScheduledJob.objects.get(name="sync-directory")
    # when
    listing = client.get(reverse("admin:core_scheduledjob_changelist"))
    page = client.get(reverse("admin:core_scheduledjob_change", args=[job.pk]))
    # then
    assert listing.status_code == 200 and "sync-directory" in listing.text
    assert page.status_code == 200 and "directory unreachable" in page.text
    assert client.get(reverse("admin:core_scheduledjob_add")).status_code == 403


def test_technicians_do_not_see_the_jobs(client, tier1):
    # given
    client.force_login(tier1)
    # when
    response = client.get(reverse("admin:core_scheduledjob_changelist"))
    # then
    assert response.status_code == 302 and "login" in response["Location"]
