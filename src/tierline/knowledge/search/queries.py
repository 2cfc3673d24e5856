"""Reading the search index: the lists' ticket filter and the ranked search page.

Visibility is the desk's (`desk.permissions`): a ticket, reply or note is found only by who
may read its ticket, an internal note only by who reads its ticket as a technician, and
people only by the help desk; an article as the knowledge base says (`readable_articles`: an
internal one only by the help desk).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import (
    BigIntegerField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from tierline.desk import permissions as perms
from tierline.desk.models import Ticket
from tierline.desk.services import ticket_number
from tierline.knowledge.models import Article
from tierline.knowledge.models_search import SearchDocument
from tierline.knowledge.queries import readable_articles
from tierline.knowledge.search import backends, terms, words
from tierline.people import queries as people_queries

Kind = SearchDocument.Kind
TICKET_KINDS = (Kind.TICKET.value, Kind.MESSAGE.value)
# The newest this many readable matches are ranked (the rest of a common word's matches are
# never scored): a search answers in bounded time however much matches.
WINDOW = 500
PAGE = 50
HIT_TICKET_FIELDS = (
    "number",
    "subject",
    "status",
    "requester__first_name",
    "requester__last_name",
    "requester__username",
    "requester__email",
)
# SQLite's lists: from this many matching documents on, a ticket is asked per row (see
# ticket_text_filter) rather than every match collected first.
DENSE = 2000
# PostgreSQL's lists: up to this many matching documents, their tickets' ids are read first
# (one bounded query, backends.few_matching) and the list looks only at those; past it the
# planner chooses, from statistics that are then right.
FEW = 5000


def _parse(text: str) -> terms.Terms:
    return terms.parse(text, prefix=settings.TIERLINE["TICKET_PREFIX"])


def ticket_text_filter(text: str, user) -> Q:
    """The `Q` over tickets the queues' text filter and the API's `q` apply (core.search).

    A ticket matches by its number, or when every word is in its number, subject,
    description or requester, or in one of its replies; or in one of its internal notes, for
    those who read the ticket as a technician. A subquery, except on PostgreSQL when few
    documents match (at most FEW, counted first): then the ids of their tickets.
    """
    parsed = _parse(text)
    numbered = _numbered(text.strip(), parsed)
    if parsed.empty:
        return Q(pk__in=numbered)
    param = backends.match_param(parsed)
    staff = user is not None and perms.is_staff_member(user)
    hidden = perms.hidden_team_ids(user) if staff else []
    # One subquery when the user reads every note it may match (the usual case), so the
    # database chooses how to join it (walk the queue's order, or collect the matches).
    internal = None if staff and not hidden else False
    if not backends.is_postgres() and backends.has_many_matches(parsed, DENSE):
        # SQLite, a common word: the list walks its own order and asks per ticket (EXISTS on
        # its documents, against the matches' row ids read once), stopping at the page's end,
        # instead of collecting and sorting every matching ticket. PostgreSQL's planner makes
        # that choice itself, from its statistics.
        # (`id + 0`: else SQLite probes the index once per match for every ticket, instead of
        # reading the ticket's few documents and looking each up among the matches.)
        documents = SearchDocument.objects.alias(
            plain_id=ExpressionWrapper(F("id") + 0, output_field=BigIntegerField())
        ).filter(
            ticket_id=OuterRef("pk"),
            kind__in=TICKET_KINDS,
            plain_id__in=RawSQL(backends.matching_rowids_sql(), [param]),  # noqa: S611 (only %s takes typed text)
        )
        if internal is False:
            documents = documents.filter(internal=False)
        wanted = Q(Exists(documents))
        if numbered:  # SQLite walks the list's order and asks per row anyway
            wanted |= Q(pk__in=numbered)
    elif (few := _few_ticket_ids(parsed, kinds=TICKET_KINDS, internal=internal)) is not None:
        # PostgreSQL, few matches (counted first): the list looks up those tickets alone,
        # whatever the planner guessed of the words' frequency.
        wanted = _among(few | set(numbered))
    else:
        # The numbered ticket joins the matches inside the one subquery: `IN (...) OR id = 17`
        # made PostgreSQL walk all 1,000,000 tickets with the matches hashed (9 s); the text is
        # then one token, a number, which few documents hold.
        found = RawSQL(  # noqa: S611 (only %s takes typed text; the ids are ints from the database)
            backends.matching_ids_sql(kinds=TICKET_KINDS, internal=internal)
            + "".join(f" UNION ALL SELECT {int(pk)}" for pk in numbered),
            [param],
        )
        wanted = Q(pk__in=found)
    if hidden:
        few_notes = _few_ticket_ids(parsed, kinds=(Kind.MESSAGE.value,), internal=True)
        if few_notes is not None:
            notes = _among(few_notes)
        else:
            notes = Q(
                pk__in=RawSQL(  # noqa: S611 (only %s takes typed text)
                    backends.matching_ids_sql(kinds=(Kind.MESSAGE,), internal=True), [param]
                )
            )
        wanted |= notes & (~Q(team_id__in=hidden) | Q(assignee_id=user.pk))
    return wanted


def _among(ids: set[int]) -> Q:
    """The tickets of these ids: one array parameter (`unnest`), not one per id (5,000 ids as
    `IN (...)` took 20 ms more to plan and join than the array at 1,000,000 tickets)."""
    if not ids:
        return Q(pk__in=[])
    return Q(pk__in=RawSQL("SELECT unnest(%s::bigint[])", [sorted(ids)]))  # noqa: S611 (ints from the database, one parameter)


def _few_ticket_ids(
    parsed: terms.Terms, *, kinds: tuple[str, ...], internal: bool | None
) -> set[int] | None:
    """PostgreSQL: the ids of the tickets of the matching documents when at most FEW documents
    match (see backends.few_matching); None when more do, and on SQLite (which counts with
    has_many_matches)."""
    if not backends.is_postgres():
        return None
    rows = backends.few_matching(parsed, kinds=kinds, internal=internal, bound=FEW)
    if rows is None:
        return None
    return {ticket_id for _, ticket_id in rows if ticket_id is not None}


def _numbered(typed: str, parsed: terms.Terms) -> list[int]:
    """The ids of the tickets whose number is `typed` ("TL-12" for TL-000012), read first by
    the number's unique index: none for text that is no ticket's number. Never an OR of the
    number beside the text's subquery: PostgreSQL could then no longer walk the list's index
    and probe each ticket's documents, and collected every match of the words instead
    ("bench17 printer" over 1,000,000 tickets: 0.7 s)."""
    if not any(ch.isdigit() for ch in typed) or any(ch.isspace() for ch in typed):
        return []  # a ticket number has digits and no space
    # As typed, upper or lower case (numbers are made upper case: "tl-000012" finds TL-000012):
    # exact forms the unique index answers, where "any case" read the whole table.
    numbers = {typed, typed.upper(), typed.lower()}
    if parsed.ticket_pk is not None:
        numbers.add(ticket_number(parsed.ticket_pk))
    return list(Ticket.objects.filter(number__in=numbers).values_list("pk", flat=True)[:10])


def corrected_text(text: str) -> str | None:
    """The lists' "did you mean" (core.search): `text` with each word the index lacks replaced
    by its nearest known word, or None when no word changes (a ticket number or an email
    address is never corrected). The caller searches again with it and offers it only when
    that finds tickets the person may read: the word table holds the words of internal notes
    and articles too, and a correction alone must not tell they exist."""
    parsed = _parse(text)
    if parsed.empty or parsed.ticket_pk is not None or parsed.email:
        return None
    return words.corrected(parsed.words)


def _readable_documents(
    user, *, kinds: tuple[str, ...], statuses: tuple[str, ...] | None
) -> QuerySet[SearchDocument]:
    """The documents of these kinds `user` may find, as the desk's permissions say, asked per
    document (EXISTS on its ticket's primary key) so the database checks only the matches it
    walks. Statuses keep tickets (and their replies) in them, and leave people out."""
    staff = perms.is_staff_member(user)
    hidden = perms.hidden_team_ids(user) if staff else []
    ticket = Ticket.objects.filter(pk=OuterRef("ticket_id"))
    on_tickets = Q(kind__in=TICKET_KINDS)
    if not staff or hidden or statuses:
        # A help desk member who reads every ticket needs no per-ticket check (a document
        # never outlives its ticket, and search() drops a hit whose ticket it can't load).
        readable = perms.visible_tickets(user, ticket)
        if statuses:
            readable = readable.filter(status__in=statuses)
        on_tickets &= Exists(readable)
    if not staff:
        on_tickets &= Q(internal=False)
    elif hidden:
        on_tickets &= Q(internal=False) | Exists(perms.technician_tickets(user, ticket))
    wanted = on_tickets
    if staff and not statuses:
        wanted |= Q(kind=Kind.PERSON) & Exists(
            people_queries.everyone().filter(pk=OuterRef("object_id"))
        )
    if user.is_authenticated and not statuses:
        # The knowledge base's own rule: the help desk reads every article, anyone else the
        # public ones (and the document's `internal` agrees, in case the two ever drift).
        article = readable_articles(user).filter(pk=OuterRef("object_id"))
        on_articles = Q(kind=Kind.ARTICLE) & Exists(article)
        if not staff:
            on_articles &= Q(internal=False)
        wanted |= on_articles
    return SearchDocument.objects.filter(wanted, kind__in=kinds)


def _where(queryset: QuerySet) -> tuple[str, list]:
    """The WHERE of `queryset` as SQL over its table by name, and its parameters."""
    query = queryset.query
    sql, params = query.get_compiler(using=queryset.db).compile(query.where)
    return sql or "1=1", list(params)


def mark(raw: str) -> SafeString:
    """A snippet as HTML: escaped whole, then the engine's match marks become <mark>."""
    html = escape(raw).replace(backends.START, "<mark>").replace(backends.STOP, "</mark>")
    return mark_safe(html)  # noqa: S308 (escaped on the line above; only our marks added)


@dataclass
class Hit:
    kind: str
    object_id: int
    rank: float
    ticket: Ticket | None = None
    person: object | None = None
    article: Article | None = None
    internal: bool = False
    ticket_id: int | None = None
    title: SafeString = field(default_factory=lambda: mark_safe(""))
    snippet: SafeString = field(default_factory=lambda: mark_safe(""))


@dataclass
class Results:
    terms: terms.Terms
    hits: list[Hit]
    exact_ticket: Ticket | None = None
    exact_person: object | None = None
    # Nothing matched the words as typed: these are the words searched instead ("printer"
    # for "pinter"), and the hits are theirs.
    corrected: str | None = None


def search(
    user,
    text: str,
    *,
    kinds: tuple[str, ...] | None = None,
    statuses: tuple[str, ...] | None = None,
    limit: int = PAGE,
    correct: bool = True,
) -> Results:
    """The ranked matches `user` may read, best first, with marked snippets.

    A ticket number or an email address alone finds that ticket or person first
    (`exact_ticket`, `exact_person`). `kinds`: ticket, message, person, article; `statuses`
    keep the tickets (and their replies) in these statuses (people and articles have none).
    When nothing matches and `correct`, each word the index lacks is replaced by its nearest
    known word and the search runs again with those (`corrected`).
    """
    parsed = _parse(text)
    staff = perms.is_staff_member(user)
    kinds = tuple(kinds or Kind.values)
    if not staff:
        kinds = tuple(k for k in kinds if k != Kind.PERSON)
    results = Results(terms=parsed, hits=[])
    if parsed.ticket_pk is not None:
        number = ticket_number(parsed.ticket_pk)
        results.exact_ticket = perms.visible_tickets(user).filter(number=number).first()
    if parsed.email and staff:
        results.exact_person = people_queries.person_by_email(parsed.email)
    if parsed.empty or not kinds:
        return results
    # No count first here (as the lists do, ticket_text_filter): the planner collects a rare
    # word's matches from the GIN index itself ("tl-17" 8-33 ms at 1,000,000 tickets), and a
    # pre-count of 5,000 matches doubled the page's time (50 ms to 156).
    rows = backends.ranked(
        parsed,
        where=_where(_readable_documents(user, kinds=kinds, statuses=statuses)),
        window=WINDOW,
        limit=limit,
    )
    kept = [
        (doc_id, Hit(kind=kind, object_id=object_id, rank=rank, internal=internal, ticket_id=tid))
        for doc_id, kind, object_id, tid, internal, rank in rows
    ]
    if not kept and correct and results.exact_ticket is None:
        better = words.corrected(parsed.words)
        if better is not None:
            again = search(user, better, kinds=kinds, statuses=statuses, limit=limit, correct=False)
            # Offered only with hits the user may read: the word list holds words of notes and
            # internal articles too, and a correction alone must not tell that they exist.
            if again.hits:
                results.hits, results.corrected = again.hits, better
            return results

    wanted = {hit.ticket_id for _, hit in kept if hit.ticket_id is not None}
    # Only what a hit shows (number, subject, status, requester): a ticket row is wide.
    tickets = (
        Ticket.objects.filter(pk__in=wanted)
        .select_related("requester")
        .only(*HIT_TICKET_FIELDS)
        .in_bulk()
    )
    people = people_queries.everyone().in_bulk(
        [hit.object_id for _, hit in kept if hit.kind == Kind.PERSON]
    )
    articles = Article.objects.select_related("category").in_bulk(
        [hit.object_id for _, hit in kept if hit.kind == Kind.ARTICLE]
    )
    for _, hit in kept:
        if hit.kind == Kind.PERSON:
            hit.person = people.get(hit.object_id)
        elif hit.kind == Kind.ARTICLE:
            hit.article = articles.get(hit.object_id)
        else:
            hit.ticket = tickets.get(hit.ticket_id)
    kept = [
        (doc_id, hit)
        for doc_id, hit in kept
        if hit.ticket is not None or hit.person is not None or hit.article is not None
    ]

    marked = backends.snippets(parsed, [doc_id for doc_id, _ in kept])
    for doc_id, hit in kept:
        title, body = marked.get(doc_id, ("", ""))
        hit.title, hit.snippet = mark(title), mark(body)
        results.hits.append(hit)
    return results
