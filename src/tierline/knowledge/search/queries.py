"""Reading the search index: the lists' ticket filter and the ranked search page.

Visibility is the desk's (`desk.permissions`): a ticket, reply or note is found only by who
may read its ticket, an internal note only by who reads its ticket as a technician, and
people only by the help desk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from tierline.desk import permissions as perms
from tierline.desk.models import Ticket
from tierline.desk.services import ticket_number
from tierline.knowledge.models_search import SearchDocument
from tierline.knowledge.search import backends, terms
from tierline.people import queries as people_queries

Kind = SearchDocument.Kind
TICKET_KINDS = (Kind.TICKET.value, Kind.MESSAGE.value)
# The best this many matches are ranked; visibility and filters then keep the readable ones.
CANDIDATES = 500
PAGE = 50


def _parse(text: str) -> terms.Terms:
    return terms.parse(text, prefix=settings.TIERLINE["TICKET_PREFIX"])


def ticket_text_filter(text: str, user) -> Q:
    """The `Q` over tickets the queues' text filter and the API's `q` apply (core.search).

    A ticket matches by its number, or when every word is in its number, subject,
    description or requester, or in one of its replies; or in one of its internal notes, for
    those who read the ticket as a technician. Stays a subquery: no id list leaves the
    database.
    """
    parsed = _parse(text)
    by_number = Q(number__iexact=text.strip())
    if parsed.ticket_pk is not None:
        by_number |= Q(number=ticket_number(parsed.ticket_pk))
    if parsed.empty:
        return by_number
    param = backends.match_param(parsed)
    public = RawSQL(backends.matching_ids_sql(kinds=TICKET_KINDS, internal=False), [param])  # noqa: S611 (only %s takes typed text)
    wanted = by_number | Q(pk__in=public)
    if user is not None and perms.is_staff_member(user):
        notes = RawSQL(backends.matching_ids_sql(kinds=(Kind.MESSAGE,), internal=True), [param])  # noqa: S611 (only %s takes typed text)
        in_notes = Q(pk__in=notes)
        hidden = perms.hidden_team_ids(user)
        if hidden:
            in_notes &= ~Q(team_id__in=hidden) | Q(assignee_id=user.pk)
        wanted |= in_notes
    return wanted


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


def search(
    user,
    text: str,
    *,
    kinds: tuple[str, ...] | None = None,
    statuses: tuple[str, ...] | None = None,
    limit: int = PAGE,
) -> Results:
    """The ranked matches `user` may read, best first, with marked snippets.

    A ticket number or an email address alone finds that ticket or person first
    (`exact_ticket`, `exact_person`). `kinds`: ticket, message, person; `statuses` keep the
    tickets (and their replies) in these statuses (people have no status).
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
    rows = backends.ranked(parsed, kinds=kinds, limit=CANDIDATES)

    # Which candidates' tickets the user reads (ids only), then the rows of the kept hits alone.
    ticket_ids = {row[3] for row in rows if row[3] is not None}
    readable = perms.visible_tickets(user, Ticket.objects.filter(pk__in=ticket_ids))
    if statuses:
        readable = readable.filter(status__in=statuses)
    readable_ids = set(readable.order_by().values_list("pk", flat=True))
    as_technician = (
        set(
            perms.technician_tickets(user, Ticket.objects.filter(pk__in=readable_ids))
            .order_by()
            .values_list("pk", flat=True)
        )
        if staff
        else set()
    )
    person_ids = {row[2] for row in rows if row[1] == Kind.PERSON}
    if person_ids and not statuses:
        person_ids = set(
            people_queries.everyone().filter(pk__in=person_ids).values_list("pk", flat=True)
        )

    kept: list[tuple[int, Hit]] = []
    for doc_id, kind, object_id, ticket_id, internal, rank in rows:
        if kind == Kind.PERSON:
            if statuses or object_id not in person_ids:
                continue
        elif ticket_id not in readable_ids or (internal and ticket_id not in as_technician):
            continue
        hit = Hit(kind=kind, object_id=object_id, rank=rank, internal=internal, ticket_id=ticket_id)
        kept.append((doc_id, hit))
        if len(kept) == limit:
            break

    wanted = {hit.ticket_id for _, hit in kept if hit.kind != Kind.PERSON}
    tickets = Ticket.objects.filter(pk__in=wanted).select_related("requester").in_bulk()
    people = people_queries.everyone().in_bulk(
        [hit.object_id for _, hit in kept if hit.kind == Kind.PERSON]
    )
    for _, hit in kept:
        if hit.kind == Kind.PERSON:
            hit.person = people.get(hit.object_id)
        else:
            hit.ticket = tickets.get(hit.ticket_id)

    marked = backends.snippets(parsed, [doc_id for doc_id, _ in kept])
    for doc_id, hit in kept:
        title, body = marked.get(doc_id, ("", ""))
        hit.title, hit.snippet = mark(title), mark(body)
        results.hits.append(hit)
    return results
