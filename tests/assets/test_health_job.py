"""The `assets-health` job: a chosen condition opens one ticket per device, as the assets
system user; when it clears, the job resolves that ticket, unless a person took it."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tests.assets import factories
from tierline.assets import jobs, services
from tierline.assets.models import (
    AgentDevice,
    Asset,
    AssetTicket,
    Condition,
    ConditionRule,
    ConditionTicket,
)
from tierline.core.history import history_of
from tierline.core.scheduler import Scheduler, every, registered_jobs
from tierline.desk import services as desk_services
from tierline.desk.choices import Channel, Status
from tierline.desk.models import Ticket

pytestmark = pytest.mark.django_db


def choose(*conditions: str) -> None:
    ConditionRule.objects.filter(condition__in=conditions).update(opens_ticket=True)


def free_disk(asset: Asset, gib: int) -> None:
    # what the agent's next report writes (assets.agent), here directly
    asset.hardware = {
        "disks": [{"mount": "/", "total_bytes": 500 * 2**30, "free_bytes": gib * 2**30}]
    }
    asset.save(update_fields=["hardware"])


def test_the_job_is_registered_and_every_condition_has_a_rule_off_by_default():
    assert jobs.SWEEP_HEALTH in registered_jobs()
    assert jobs.SWEEP_HEALTH.schedule == every(minutes=15)
    assert set(ConditionRule.objects.values_list("condition", flat=True)) == set(Condition.values)
    assert not ConditionRule.objects.filter(opens_ticket=True).exists()


def test_nothing_opens_until_an_administrator_chooses_a_condition():
    factories.device(tag="FULL-1", free_gib=5)
    assert services.sweep_health()["opened"] == 0
    assert not Ticket.objects.exists()


def test_a_condition_opens_one_ticket_and_a_rerun_opens_no_second():
    # given
    choose(Condition.DISK_FULL)
    full = factories.device(tag="FULL-1", free_gib=5, hostname="ws-0042")
    factories.device(tag="FINE-1")
    # when
    first = services.sweep_health()
    second = services.sweep_health()
    # then
    assert first["opened"] == 1 and second["opened"] == 0
    ticket = Ticket.objects.get()
    assert ticket.subject == "FULL-1: disk nearly full"
    assert "/ 1% free" in ticket.description and ticket.channel == Channel.AGENT
    assert ticket.requester.is_system and ticket.requester.username == "tierline-assets"
    assert history_of(ticket).get(action="opened").actor.username == "tierline-assets"
    assert AssetTicket.objects.filter(asset=full, ticket=ticket).exists()
    assert ConditionTicket.objects.get().ticket == ticket


def test_the_table_refuses_a_second_open_row_for_the_same_asset_and_condition():
    choose(Condition.DISK_FULL)
    full = factories.device(tag="FULL-1", free_gib=5)
    services.sweep_health()
    row = ConditionTicket.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        ConditionTicket.objects.create(asset=full, condition=row.condition, ticket=row.ticket)


def test_when_the_condition_clears_the_job_resolves_its_ticket(employee):
    # given: an open condition ticket
    choose(Condition.DISK_FULL, Condition.PENDING_UPDATES)
    full = factories.device(tag="FULL-1", free_gib=5)
    services.sweep_health()
    ticket = Ticket.objects.get()
    # when: the disk was cleaned up
    free_disk(full, 200)
    counts = services.sweep_health()
    # then
    ticket.refresh_from_db()
    assert counts["resolved"] == 1
    assert ticket.status == Status.RESOLVED and "condition cleared" in ticket.resolution_note
    assert ConditionTicket.objects.get().cleared_at is not None
    # and when it comes back, it is a new ticket
    free_disk(full, 1)
    assert services.sweep_health()["opened"] == 1
    assert Ticket.objects.count() == 2


def test_a_ticket_a_person_took_is_left_open_with_a_note(tier1):
    # given: a technician took the ticket
    choose(Condition.OFFLINE)
    quiet = factories.device(tag="QUIET-1", seen_hours_ago=100)
    services.sweep_health()
    ticket = Ticket.objects.get()
    desk_services.take(ticket=ticket, by=tier1)
    # when: the device reports again
    AgentDevice.objects.filter(asset=quiet).update(last_seen_at=ticket.created_at)
    counts = services.sweep_health()
    # then
    ticket.refresh_from_db()
    assert counts == {"opened": 0, "resolved": 0, "noted": 1, "failed": 0}
    assert ticket.is_open and ticket.assignee == tier1
    note = history_of(ticket).get(action="condition cleared")
    assert "Left open: a person works this ticket" in note.summary
    assert note.actor.username == "tierline-assets"
    assert services.sweep_health() == {"opened": 0, "resolved": 0, "noted": 0, "failed": 0}


def test_a_ticket_a_person_closed_is_not_reopened_or_doubled(tier1):
    choose(Condition.FAILED_CHECKS)
    factories.firewall_policy()
    factories.device(tag="FW-1", security={"firewall": "off"})
    services.sweep_health()
    ticket = Ticket.objects.get()
    desk_services.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="Done.")
    # the condition is still met: no second ticket while the first's row is open
    assert services.sweep_health()["opened"] == 0
    assert Ticket.objects.count() == 1


def test_a_retired_device_clears_its_condition():
    choose(Condition.PENDING_UPDATES)
    patched = factories.device(tag="P-1", security={"pending_updates": 3})
    services.sweep_health()
    Asset.objects.filter(pk=patched.pk).update(status="retired")
    assert services.sweep_health()["resolved"] == 1
    assert "left the status board" in Ticket.objects.get().resolution_note


def test_the_scheduler_runs_the_sweep_once_across_schedulers():
    choose(Condition.DISK_FULL)
    factories.device(tag="FULL-1", free_gib=5)
    one, two = Scheduler([jobs.SWEEP_HEALTH]), Scheduler([jobs.SWEEP_HEALTH])
    assert one.run_due() + two.run_due() == ["assets-health"]
    assert Ticket.objects.count() == 1


def test_an_automatic_assignment_is_not_a_person_taking_the_ticket(tier1):
    from tierline.people.services import system_user

    choose(Condition.DISK_FULL)
    full = factories.device(tag="FULL-1", free_gib=5)
    services.sweep_health()
    ticket = Ticket.objects.get()
    desk_services.assign(ticket=ticket, by=system_user("sla"), assignee=tier1)
    free_disk(full, 200)
    assert services.sweep_health()["resolved"] == 1
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
