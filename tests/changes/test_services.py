"""The change records' rules: the state machine, approvals, standard and emergency changes,
windows, stale edits and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tests.changes.factories import change, fresh
from tests.people.factories import technician
from tierline.changes import services
from tierline.changes.models import ChangeApproval, Decision, Kind, Status
from tierline.changes.services import ChangeError
from tierline.core.history import history_of

pytestmark = pytest.mark.django_db


def _statuses(c) -> list[tuple[str, str]]:
    return [
        (h.old_value, h.new_value)
        for h in history_of(c).order_by("pk")
        if h.action == "status changed"
    ]


def _approve_all(c) -> None:
    for approval in ChangeApproval.objects.filter(change=c).select_related("approver"):
        services.decide(approval=approval, by=approval.approver, decision=Decision.APPROVED)


def test_a_normal_change_walks_the_whole_path_with_an_entry_per_step(tier1, tier2, tier3):
    # given
    c = change(tier1, approvers=(tier2, tier3), owner=tier1)
    # when
    c = services.submit(change=c, by=tier1, version=c.version)
    _approve_all(c)
    c = services.schedule(change=fresh(c), by=tier1, version=fresh(c).version)
    c = services.start(change=c, by=tier1, version=c.version)
    c = services.finish(
        change=c, by=tier1, version=c.version, outcome=Status.IMPLEMENTED, result="Done."
    )
    # then
    assert fresh(c).status == Status.IMPLEMENTED and fresh(c).result == "Done."
    assert _statuses(c) == [
        ("Draft", "Submitted"),
        ("Submitted", "Approved"),
        ("Approved", "Scheduled"),
        ("Scheduled", "In progress"),
        ("In progress", "Implemented"),
    ]
    assert fresh(c).number == f"CHG-{c.pk:06d}"


@pytest.mark.parametrize(
    ("status", "call"),
    [
        (Status.DRAFT, "schedule"),
        (Status.DRAFT, "start"),
        (Status.DRAFT, "finish"),
        (Status.SUBMITTED, "submit"),
        (Status.SUBMITTED, "schedule"),
        (Status.IMPLEMENTED, "cancel"),
    ],
)
def test_moves_the_state_machine_does_not_allow_are_refused(tier1, tier2, lead, status, call):
    c = change(tier1, approvers=(tier2,))
    if status != Status.DRAFT:
        c = services.submit(change=c, by=tier1, version=None)
    if status == Status.IMPLEMENTED:
        _approve_all(c)
        services.schedule(change=fresh(c), by=tier1, version=None)
        services.start(change=fresh(c), by=tier1, version=None)
        services.finish(
            change=fresh(c), by=tier1, version=None, outcome=Status.IMPLEMENTED, result="ok"
        )
    before = fresh(c)
    kwargs = {"change": before, "by": lead if call == "cancel" else tier1, "version": None}
    if call == "finish":
        kwargs.update(outcome=Status.IMPLEMENTED, result="x")
    # when / then
    with pytest.raises(ChangeError) as refused:
        getattr(services, call)(**kwargs)
    assert "cannot become" in str(refused.value) or "starts once" in str(refused.value)
    assert fresh(c).status == before.status and fresh(c).version == before.version


def test_one_rejection_rejects_the_change(tier1, tier2, tier3):
    c = change(tier1, approvers=(tier2, tier3))
    services.submit(change=c, by=tier1, version=None)
    a2 = ChangeApproval.objects.get(change=c, approver=tier2)
    a3 = ChangeApproval.objects.get(change=c, approver=tier3)
    services.decide(approval=a2, by=tier2, decision=Decision.APPROVED, comment="Fine")
    assert fresh(c).status == Status.SUBMITTED  # one of two: still waiting
    # when
    services.decide(approval=a3, by=tier3, decision=Decision.REJECTED, comment="Not in Q4")
    # then
    assert fresh(c).status == Status.REJECTED
    assert ChangeApproval.objects.get(pk=a3.pk).comment == "Not in Q4"
    with pytest.raises(ChangeError):
        services.schedule(change=fresh(c), by=tier1, version=None)


def test_a_rejection_needs_a_comment_and_a_decision_is_made_once(tier1, tier2):
    c = change(tier1, approvers=(tier2,))
    services.submit(change=c, by=tier1, version=None)
    approval = ChangeApproval.objects.get(change=c)
    with pytest.raises(ChangeError, match="comment is required"):
        services.decide(approval=approval, by=tier2, decision=Decision.REJECTED, comment=" ")
    services.decide(approval=approval, by=tier2, decision=Decision.APPROVED)
    assert fresh(c).status == Status.APPROVED
    with pytest.raises(ChangeError, match="already approved"):
        services.decide(approval=approval, by=tier2, decision=Decision.REJECTED, comment="no")


def test_only_the_named_approver_decides(tier1, tier2, tier3, lead):
    c = change(tier1, approvers=(tier2,))
    services.submit(change=c, by=tier1, version=None)
    approval = ChangeApproval.objects.get(change=c)
    for someone in (tier1, tier3, lead):
        with pytest.raises(PermissionDenied):
            services.decide(approval=approval, by=someone, decision=Decision.APPROVED)
    assert ChangeApproval.objects.get(pk=approval.pk).decision == Decision.PENDING


def test_approvals_wait_for_submission(tier1, tier2):
    c = change(tier1, approvers=(tier2,))
    approval = ChangeApproval.objects.get(change=c)
    with pytest.raises(ChangeError, match="not awaiting approval"):
        services.decide(approval=approval, by=tier2, decision=Decision.APPROVED)


def test_a_standard_change_is_pre_approved(tier1):
    c = change(tier1, kind=Kind.STANDARD)
    services.submit(change=c, by=tier1, version=None)
    assert fresh(c).status == Status.APPROVED
    assert _statuses(c) == [("Draft", "Submitted"), ("Submitted", "Approved")]
    assert "Pre-approved" in history_of(c).order_by("-pk").first().summary


def test_a_normal_change_needs_approvers_and_plans_to_be_submitted(tier1):
    c = change(tier1)
    with pytest.raises(ChangeError, match="at least one approver"):
        services.submit(change=c, by=tier1, version=None)
    bare = change(tier1, kind=Kind.STANDARD, plan="")
    with pytest.raises(ChangeError, match="plan"):
        services.submit(change=bare, by=tier1, version=None)
    assert fresh(c).status == fresh(bare).status == Status.DRAFT


def test_an_emergency_change_goes_ahead_before_approval_with_the_reason(tier1, tier2):
    c = change(tier1, kind=Kind.EMERGENCY, approvers=(tier2,))
    services.submit(change=c, by=tier1, version=None)
    with pytest.raises(ChangeError, match="required"):
        services.start(change=fresh(c), by=tier1, version=None, reason="")
    # when
    services.start(change=fresh(c), by=tier1, version=None, reason="Ransomware <spreading>")
    # then
    assert fresh(c).status == Status.IN_PROGRESS
    assert fresh(c).emergency_reason == "Ransomware <spreading>"
    # its approver still decides, after the fact, and the change stays where it is
    approval = ChangeApproval.objects.get(change=c)
    services.decide(approval=approval, by=tier2, decision=Decision.APPROVED, comment="Right call")
    assert fresh(c).status == Status.IN_PROGRESS
    assert ChangeApproval.objects.get(pk=approval.pk).decision == Decision.APPROVED


def test_a_normal_change_cannot_start_before_approval(tier1, tier2):
    c = change(tier1, approvers=(tier2,))
    services.submit(change=c, by=tier1, version=None)
    with pytest.raises(ChangeError):
        services.start(change=fresh(c), by=tier1, version=None, reason="in a hurry")
    assert fresh(c).status == Status.SUBMITTED


def test_a_failed_change_is_rolled_back(tier1):
    c = change(tier1, kind=Kind.STANDARD)
    services.submit(change=c, by=tier1, version=None)
    services.schedule(change=fresh(c), by=tier1, version=None)
    services.start(change=fresh(c), by=tier1, version=None)
    services.finish(change=fresh(c), by=tier1, version=None, outcome=Status.FAILED, result="a")
    with pytest.raises(ChangeError, match="result is required"):
        services.finish(
            change=fresh(c), by=tier1, version=None, outcome=Status.ROLLED_BACK, result=""
        )
    services.finish(change=fresh(c), by=tier1, version=None, outcome=Status.ROLLED_BACK, result="b")
    assert fresh(c).status == Status.ROLLED_BACK and fresh(c).result == "a\n\nb"


def test_the_window_must_end_after_it_starts(tier1):
    start = timezone.now()
    with pytest.raises(ChangeError, match="end after it starts") as refused:
        change(tier1, window_start=start, window_end=start)
    assert refused.value.field == "window_end"
    with pytest.raises(ChangeError, match="or neither"):
        change(tier1, window_start=start, window_end=None)
    c = change(tier1)
    with pytest.raises(ChangeError, match="end after it starts"):
        services.update_change(
            change=c, by=tier1, version=c.version, window_end=c.window_start - timedelta(hours=1)
        )


def test_scheduling_needs_a_window(tier1):
    c = change(tier1, kind=Kind.STANDARD, window_start=None, window_end=None)
    services.submit(change=c, by=tier1, version=None)
    with pytest.raises(ChangeError, match="needs its window"):
        services.schedule(change=fresh(c), by=tier1, version=None)
    start = timezone.now() + timedelta(days=2)
    services.schedule(
        change=fresh(c),
        by=tier1,
        version=None,
        window_start=start,
        window_end=start + timedelta(hours=1),
    )
    assert fresh(c).status == Status.SCHEDULED and fresh(c).window_start == start


def test_a_stale_edit_is_refused_and_changes_nothing(tier1, tier2):
    c = change(tier1, title="First title")
    seen = c.version
    services.update_change(change=c, by=tier2, version=seen, title="Second title")
    # when: tier1 saves from the page they opened before tier2's edit
    with pytest.raises(ChangeError, match="after you opened it"):
        services.update_change(change=c, by=tier1, version=seen, title="Third title")
    # then
    assert fresh(c).title == "Second title"
    with pytest.raises(ChangeError, match="after you opened it"):
        services.submit(change=c, by=tier1, version=seen)


def test_edits_write_one_entry_per_field_and_only_drafts_are_edited(tier1, tier2):
    c = change(tier1, approvers=(tier2,), title="Old")
    services.update_change(change=c, by=tier1, version=c.version, title="New", risk="high")
    fields = {h.field for h in history_of(c) if h.action == "changed"}
    assert fields == {"title", "risk"}
    services.submit(change=fresh(c), by=tier1, version=None)
    with pytest.raises(ChangeError, match="Only a draft"):
        services.update_change(change=fresh(c), by=tier1, version=None, title="Later")


def test_only_leads_and_admins_cancel(tier1, tier2, lead, admin_user):
    c = change(tier1, approvers=(tier2,))
    with pytest.raises(PermissionDenied):
        services.cancel(change=c, by=tier1, version=None)
    services.cancel(change=c, by=lead, version=None, reason="Superseded")
    assert fresh(c).status == Status.CANCELLED
    other = change(tier1)
    services.cancel(change=other, by=admin_user, version=None)
    assert fresh(other).status == Status.CANCELLED


def test_requesters_create_nothing_and_are_no_approvers(tier1, employee):
    with pytest.raises(PermissionDenied):
        change(employee)
    with pytest.raises(ChangeError, match="not an approver"):
        change(tier1, approvers=(employee,))


def test_bad_text_is_refused_with_the_field(tier1):
    with pytest.raises(ChangeError, match="title") as refused:
        change(tier1, title="Bad\x07bell")
    assert refused.value.field == "title"
    with pytest.raises(ChangeError, match="title is required"):
        change(tier1, title="   ")
    with pytest.raises(ChangeError, match="Unknown kind"):
        change(tier1, kind="whenever")
    assert not services.ChangeRequest.objects.exists()


def test_links_to_tickets_and_assets(tier1, employee):
    from tests.desk import factories as desk_factories

    c = change(tier1)
    ticket = desk_factories.ticket(requester=employee)
    assert services.link_ticket(change=c, ticket=ticket, by=tier1) is True
    assert services.link_ticket(change=c, ticket=ticket, by=tier1) is False
    from tests.assets import factories as asset_factories

    laptop = asset_factories.asset(tag="LT-42")
    assert services.link_asset(change=c, asset_id=laptop.pk, by=tier1) is True
    with pytest.raises(ChangeError):
        services.link_asset(change=c, asset_id=0, by=tier1)
    with pytest.raises(ChangeError, match="There is no asset #"):
        services.link_asset(change=c, asset_id=laptop.pk + 1000, by=tier1)
    actions = [h.action for h in history_of(c)]
    assert actions.count("ticket linked") == 1 and actions.count("asset linked") == 1


def test_a_second_technician_approves_in_the_same_database_order(tier1):
    # the approvers are kept in the order named, each once
    a, b = technician(2, username="ap-a"), technician(3, username="ap-b")
    c = change(tier1, approvers=(b, a, b))
    assert [x.approver_id for x in ChangeApproval.objects.filter(change=c)] == [b.pk, a.pk]
