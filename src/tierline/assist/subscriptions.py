"""What the assist app hears of the desk: a new ticket is triaged, and compared with its
requester's open tickets and the last minutes' tickets, after it commits; a solved ticket and a
saved article (the knowledge base's ArticleSaved, through core) are embedded for the suggested
answers."""

from __future__ import annotations

from django_tasks.backends.immediate import ImmediateBackend

from tierline.assist import background
from tierline.assist.tasks import embed_article, embed_ticket, find_duplicates, triage_ticket
from tierline.core import events
from tierline.core.articles import ArticleSaved
from tierline.desk.events import Closed, Resolved, TicketOpened


def on_ticket_opened(event: TicketOpened) -> None:
    triage_ticket.enqueue(ticket_id=event.ticket_id, opened_category_id=event.category_id)


def compare_new_ticket(event: TicketOpened) -> None:
    # A handler of its own: a failure here retries this, never the triage.
    find_duplicates.enqueue(ticket_id=event.ticket_id)


def _in_background(job: object, **kwargs: int) -> bool:
    """Under TIERLINE_TASKS=immediate a queued task runs in the request, which would wait on
    the model's first load (0.3-3 s) and on the embedding: in a server process the assistant's
    thread (assist.background) does it instead. Elsewhere a worker runs the task anyway."""
    return isinstance(embed_ticket.get_backend(), ImmediateBackend) and background.hand_over(
        job, **kwargs
    )


def embed_solved_ticket(event: Resolved | Closed) -> None:
    # Resolved, then Closed (the answer may have been edited meanwhile: an unchanged text is
    # not embedded again); a reopened ticket keeps its row and is never suggested while open.
    from tierline.assist import answers

    if not _in_background(answers.embed_ticket, ticket_id=event.ticket_id):
        embed_ticket.enqueue(ticket_id=event.ticket_id)


def embed_saved_article(event: ArticleSaved) -> None:
    from tierline.assist import answers

    if not _in_background(answers.embed_article, article_id=event.article_id):
        embed_article.enqueue(article_id=event.article_id)


def subscribe_all() -> None:
    """Subscribe the handlers (safe to call twice: core.events ignores a repeat)."""
    events.subscribe(TicketOpened, on_ticket_opened, when="commit")
    events.subscribe(TicketOpened, compare_new_ticket, when="commit")
    events.subscribe(Resolved, embed_solved_ticket, when="commit")
    events.subscribe(Closed, embed_solved_ticket, when="commit")
    events.subscribe(ArticleSaved, embed_saved_article, when="commit")
