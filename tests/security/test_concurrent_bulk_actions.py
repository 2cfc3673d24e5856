"""Two bulk actions over the same tickets at once: one is done whole, the other changes nothing.

Regression of: a bulk action acted on each ticket as it was, so two technicians assigning the
same ticked tickets from their queues at the same moment each overwrote the other's
assignments, leaving some tickets with one and some with the other. Each bulk action now locks
its tickets' rows in id order (no deadlock, whatever order they were ticked in) and checks the
versions its queue showed.
"""

from __future__ import annotations

import pytest
from django.db import connection

from tests.concurrency import run_together
from tests.desk import factories as desk_factories
from tierline.desk import services
from tierline.desk.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _real_concurrency():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip(
            "SQLite's in-memory test database raises 'table is locked' for concurrent "
            "threads; these run on PostgreSQL."
        )


def test_two_simultaneous_bulk_assigns_of_the_same_tickets_do_not_mix(tier1, lead):
    # given: three new tickets, both queues loaded (each ticked in its own order)
    tickets = [desk_factories.ticket(subject=f"Ticket {n}") for n in range(3)]
    versions = {t.pk: Ticket.objects.get(pk=t.pk).version for t in tickets}
    results = {}

    def assign_all(who, order):
        chosen = [Ticket.objects.select_related("team", "assignee").get(pk=t.pk) for t in order]
        results[who.username] = services.bulk_assign(
            tickets=chosen, by=who, assignee=who, versions=versions
        )

    # when
    errors = run_together(
        lambda: assign_all(tier1, tickets), lambda: assign_all(lead, list(reversed(tickets)))
    )

    # then: one did all three, the other none, and was told which tickets changed
    assert not errors, errors
    done = {name: result.done for name, result in results.items()}
    winner = next(name for name, numbers in done.items() if numbers)
    loser = next(name for name in done if name != winner)
    assert len(done[winner]) == 3 and done[loser] == []
    assert set(results[loser].stale) == {t.number for t in Ticket.objects.filter(pk__in=versions)}
    assignees = {t.assignee.username for t in Ticket.objects.filter(pk__in=versions)}
    assert assignees == {winner}
