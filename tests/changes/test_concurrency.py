"""Two approvers deciding at the same instant: the change's row is locked first, so the second
sees the first's decision and the change ends approved (not left waiting for nobody)."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.changes.factories import change, fresh
from tests.concurrency import run_together
from tierline.changes import services
from tierline.changes.models import ChangeApproval, Decision, Status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _real_concurrency():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip(
            "SQLite's in-memory test database raises 'table is locked' for concurrent "
            "threads; these run on PostgreSQL."
        )


def test_the_last_two_approvals_at_once_approve_the_change(tier1, tier2, tier3):
    # given
    c = change(tier1, approvers=(tier2, tier3))
    services.submit(change=c, by=tier1, version=None)
    approvals = {a.approver_id: a for a in ChangeApproval.objects.filter(change=c)}

    def approve(person):
        def job() -> None:
            approval = ChangeApproval.objects.select_related("change").get(
                pk=approvals[person.pk].pk
            )
            services.decide(approval=approval, by=person, decision=Decision.APPROVED)

        return job

    # when
    errors = run_together(approve(tier2), approve(tier3))
    # then
    assert errors == []
    assert fresh(c).status == Status.APPROVED
    assert set(ChangeApproval.objects.filter(change=c).values_list("decision", flat=True)) == {
        Decision.APPROVED
    }
