"""The sla app's periodic jobs, registered when Django starts (SlaConfig.ready imports this)."""

from __future__ import annotations

from tierline.core.scheduler import every, register
from tierline.sla.tasks import (
    deliver_pages,
    deliver_rule_emails,
    sweep_targets,
    sweep_time_rules,
)


def enqueue_sweep_targets() -> object:
    # Enqueued, not called: with TIERLINE_TASKS=database the worker runs it; the immediate
    # backend runs it right here. The scheduler's lease runs it once a minute across servers.
    return sweep_targets.enqueue()


def enqueue_deliver_pages() -> object:
    # Pages go out from here, never from the request that opened the ticket.
    return deliver_pages.enqueue()


SWEEP_TARGETS = register("sla-sweep", schedule=every(minutes=1), run=enqueue_sweep_targets)
DELIVER_PAGES = register("sla-pages", schedule=every(minutes=1), run=enqueue_deliver_pages)


def enqueue_time_rules() -> object:
    return sweep_time_rules.enqueue()


def enqueue_rule_emails() -> object:
    return deliver_rule_emails.enqueue()


TIME_RULES = register("sla-rules", schedule=every(minutes=5), run=enqueue_time_rules)
RULE_EMAILS = register("sla-rule-emails", schedule=every(minutes=1), run=enqueue_rule_emails)
