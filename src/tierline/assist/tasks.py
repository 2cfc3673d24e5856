"""Background jobs of the assistant. Each takes ids and is safe to run twice."""

from __future__ import annotations

from django_tasks import task

from tierline.assist import duplicates, services


@task()
def triage_ticket(ticket_id: int, opened_category_id: int | None = None) -> int:
    """Triage one new ticket; returns how many fields the assistant applied."""
    return len(services.triage(ticket_id=ticket_id, opened_category_id=opened_category_id).applied)


@task()
def retrain_models() -> int:
    """Train the triage models on the resolved tickets; returns the new version (0: none)."""
    trained = services.retrain()
    return trained.model.version if trained.model else 0


@task()
def find_duplicates(ticket_id: int) -> int:
    """Compare a new ticket with its requester's open ones and the last minutes' tickets;
    returns how many duplicates it suggested (a burst is stored as a cluster)."""
    return len(duplicates.find_duplicates(ticket_id=ticket_id).duplicates)


@task()
def embed_ticket(ticket_id: int) -> bool:
    """Embed a solved ticket for the suggested answers; True if it was (re)embedded."""
    from tierline.assist import answers

    return answers.embed_ticket(ticket_id=ticket_id)


@task()
def embed_article(article_id: int) -> bool:
    """Embed an article as it reads now for the suggested answers."""
    from tierline.assist import answers

    return answers.embed_article(article_id=article_id)
