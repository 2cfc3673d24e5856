"""Background jobs of service targets. Each is safe to run twice."""

from __future__ import annotations

from django_tasks import task

from tierline.sla import assignment, paging, rules, services


@task()
def sweep_targets() -> int:
    """Record the targets newly at risk or breached (history entries on their tickets)."""
    return services.sweep()


@task()
def route_new_ticket(ticket_id: int) -> None:
    """Auto-assign a new ticket in its team, and page who is on call if it is urgent and out of
    hours (the pages are rows: the `sla-pages` job sends them)."""
    assignment.auto_assign(ticket_id=ticket_id)
    paging.page_if_urgent(ticket_id=ticket_id)


@task()
def assign_moved_ticket(ticket_id: int) -> None:
    """A ticket escalated (or de-escalated) to a team: assign it there, and page the team's
    on-call technician if it is urgent and the team is out of hours (once per team)."""
    assignment.auto_assign(ticket_id=ticket_id)
    paging.page_if_urgent_move(ticket_id=ticket_id)


@task()
def deliver_pages() -> tuple[int, int]:
    """Send the pages that are due; (sent, failed)."""
    return paging.deliver_due()


@task()
def run_ticket_rules(ticket_id: int, trigger: str) -> int:
    """The rules of `trigger` (created or updated) on one ticket; how many fired."""
    return len(rules.run_rules(ticket_id=ticket_id, trigger=trigger))


@task()
def sweep_time_rules() -> int:
    """Fire the time rules on the tickets that have waited long enough."""
    return rules.sweep_time_rules()


@task()
def deliver_rule_emails() -> tuple[int, int]:
    """Send the rule emails that are due; (sent, failed)."""
    return rules.deliver_emails()
