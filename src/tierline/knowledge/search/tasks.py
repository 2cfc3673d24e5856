"""The indexing tasks the desk's events queue (after commit). Each takes ids and is safe to
run twice: it rebuilds the document from the rows stored now."""

from __future__ import annotations

from django_tasks import task

from tierline.knowledge.search import index


@task()
def index_ticket(ticket_id: int) -> bool:
    return index.index_ticket(ticket_id)


@task()
def index_message(message_id: int) -> bool:
    return index.index_message(message_id)
