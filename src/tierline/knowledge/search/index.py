"""Writing the search index: one document per ticket, per reply or note, per person, per
knowledge base article (written by the article's own save, knowledge/services.py).

Each function reads the fresh rows by id (it runs after the desk's transaction committed, from
a task) and writes that one document, or deletes it when the row is gone. Safe to run twice,
in any order: the document is rebuilt from what is stored now. Reads the desk's and people's
rows, never writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from django.db import transaction

from tierline.desk.models import Message, Ticket
from tierline.knowledge.models import Article, Audience
from tierline.knowledge.models_search import SearchDocument, SearchWord
from tierline.knowledge.search import backends, words
from tierline.knowledge.search.backends import START, STOP
from tierline.people import queries as people_queries

Kind = SearchDocument.Kind
BATCH = 1000


def _clean(text: str) -> str:
    # The match marks must never come from stored text (core.text refuses control characters
    # already; mail-parsed text is cleaned too). Belt and braces.
    return (text or "").replace(START, " ").replace(STOP, " ")


def _person_words(person) -> str:
    if person is None:
        return ""
    return " ".join(
        part
        for part in (person.get_full_name(), person.email, person.username, person.phone)
        if part
    )


def ticket_document(ticket: Ticket) -> SearchDocument:
    return SearchDocument(
        kind=Kind.TICKET,
        object_id=ticket.pk,
        ticket_id=ticket.pk,
        internal=False,
        title=_clean(f"{ticket.number or ''} {ticket.subject}".strip())[:400],
        # The requester's name and email: "the printer of Jane Doe" finds her ticket.
        body=_clean(f"{ticket.description}\n{_person_words(ticket.requester)}"),
    )


def message_document(message: Message) -> SearchDocument:
    ticket = message.ticket
    return SearchDocument(
        kind=Kind.MESSAGE,
        object_id=message.pk,
        ticket_id=message.ticket_id,
        internal=message.internal,
        title=_clean(f"{ticket.number or ''} {ticket.subject}".strip())[:400],
        body=_clean(message.body),
    )


def person_document(person) -> SearchDocument:
    return SearchDocument(
        kind=Kind.PERSON,
        object_id=person.pk,
        ticket_id=None,
        internal=False,
        title=_clean(person.get_full_name() or person.username)[:400],
        body=_clean(_person_words(person)),
    )


def article_document(article: Article) -> SearchDocument:
    return SearchDocument(
        kind=Kind.ARTICLE,
        object_id=article.pk,
        ticket_id=None,
        internal=article.audience != Audience.PUBLIC,
        title=_clean(f"{article.reference} {article.title}")[:400],
        body=_clean(article.body),
    )


_STORED = ("ticket_id", "internal", "title", "body")


def _save(document: SearchDocument) -> None:
    # Most events leave a document as it was (a reply re-indexes its ticket, and the
    # requester's person document with it): one read then, no write. Its words were
    # remembered when it was written (here, or by reindex_all, the only one to forget words).
    stored = (
        SearchDocument.objects.filter(kind=document.kind, object_id=document.object_id)
        .values_list(*_STORED)
        .first()
    )
    if stored == tuple(getattr(document, name) for name in _STORED):
        return
    words.remember(words.words_of(document.title, document.body))
    SearchDocument.objects.update_or_create(
        kind=document.kind,
        object_id=document.object_id,
        defaults={
            "ticket_id": document.ticket_id,
            "internal": document.internal,
            "title": document.title,
            "body": document.body,
        },
    )


def _forget(kind: str, object_id: int) -> None:
    SearchDocument.objects.filter(kind=kind, object_id=object_id).delete()


@transaction.atomic
def index_ticket(ticket_id: int) -> bool:
    """The ticket's document, and its requester's. False if the ticket is gone."""
    ticket = Ticket.objects.select_related("requester").filter(pk=ticket_id).first()
    if ticket is None:
        _forget(Kind.TICKET, ticket_id)
        SearchDocument.objects.filter(kind=Kind.MESSAGE, ticket_id=ticket_id).delete()
        return False
    document = ticket_document(ticket)
    _save(document)
    # Its replies and notes show the ticket's number and subject as their title.
    SearchDocument.objects.filter(kind=Kind.MESSAGE, ticket_id=ticket_id).exclude(
        title=document.title
    ).update(title=document.title)
    if ticket.requester is not None:
        _save(person_document(ticket.requester))
    return True


@transaction.atomic
def index_message(message_id: int) -> bool:
    """A reply's or note's document. False if the message is gone."""
    message = Message.objects.select_related("ticket").filter(pk=message_id).first()
    if message is None:
        _forget(Kind.MESSAGE, message_id)
        return False
    _save(message_document(message))
    return True


@transaction.atomic
def index_person(person_id: int) -> bool:
    person = people_queries.everyone().filter(pk=person_id).first()
    if person is None:
        _forget(Kind.PERSON, person_id)
        return False
    _save(person_document(person))
    return True


@transaction.atomic
def index_article(article_id: int) -> bool:
    """An article's document, called in the transaction that saves it. False if it is gone."""
    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        _forget(Kind.ARTICLE, article_id)
        return False
    _save(article_document(article))
    return True


def _batches(queryset, build: Callable) -> Iterator[list[SearchDocument]]:
    batch: list[SearchDocument] = []
    for row in queryset.iterator(chunk_size=BATCH):
        batch.append(build(row))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def is_missing() -> bool:
    """True when there are tickets and no index at all: rows stored before the index existed
    (an upgrade) or loaded in bulk. `tierline init` and the demo build it then."""
    return not SearchDocument.objects.exists() and Ticket.objects.exists()


def reindex_all(progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Build the whole index again from the stored rows (`tierline search reindex`).

    One transaction: searches keep answering from the old index until the new one commits.
    """
    sources: Iterable[tuple[str, object, Callable]] = (
        (Kind.PERSON, people_queries.everyone().order_by("pk"), person_document),
        (Kind.TICKET, Ticket.objects.select_related("requester").order_by("pk"), ticket_document),
        (
            Kind.MESSAGE,
            Message.objects.select_related("ticket").order_by("pk"),
            message_document,
        ),
        (Kind.ARTICLE, Article.objects.order_by("pk"), article_document),
    )
    counts: dict[str, int] = {}
    known: set[str] = set()
    with transaction.atomic():
        SearchDocument.objects.all().delete()
        SearchWord.objects.all().delete()
        for kind, queryset, build in sources:
            counts[kind] = 0
            for batch in _batches(queryset, build):
                SearchDocument.objects.bulk_create(batch)
                for document in batch:
                    known |= words.words_of(document.title, document.body)
                counts[kind] += len(batch)
                if progress:
                    progress(kind, counts[kind])
        words.remember(known)
    backends.analyze()
    return counts
