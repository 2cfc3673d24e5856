"""A word few documents hold, among words every document holds ("tl-17": PostgreSQL reads it as
'tl' & '-17', and every ticket's number gives it 'tl'), finds exactly its tickets in the lists,
the API and the search page, on both databases and on both paths (matches read first, or the
list's own order walked)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.desk import factories as desk_factories
from tierline.desk import lists, services
from tierline.desk.filters import TicketFilter
from tierline.desk.models import Ticket
from tierline.knowledge.search import backends, queries, terms

pytestmark = pytest.mark.django_db

RARE = "xq-9041"  # not this site's ticket number: a word, cut as 'xq' & '-9041' by PostgreSQL


class _Request:
    def __init__(self, user):
        self.user = user


def found(user, text: str) -> list[str]:
    qs = TicketFilter({"q": text}, queryset=Ticket.objects.all(), request=_Request(user)).qs
    return sorted(qs.values_list("number", flat=True))


@pytest.fixture(params=["few matches", "many matches"])
def either_path(request, monkeypatch):
    if request.param == "many matches":
        monkeypatch.setattr(queries, "DENSE", 1)
        monkeypatch.setattr(queries, "FEW", 0)


@pytest.fixture
def desk(committed, employee, tier1):
    """Tickets that all hold the common words, one with the rare word in its subject, one with
    it in a reply, one in an internal note only, and one sharing only its first half."""
    with committed():
        common = [
            desk_factories.ticket(employee, subject=f"Badge reader {n} refused", description="xq")
            for n in range(6)
        ]
        subject = desk_factories.ticket(employee, subject=f"Badge reader {RARE.upper()} refused")
        replied = desk_factories.ticket(employee, subject="Badge reader at the gate")
        services.add_message(ticket=replied, by=tier1, body=f"Swapped for reader {RARE}.")
        noted = desk_factories.ticket(employee, subject="Badge reader in the lobby")
        services.add_message(ticket=noted, by=tier1, body=f"Serial {RARE} faulty.", internal=True)
        half = desk_factories.ticket(employee, subject="Badge reader XQ-9042 refused")
    return {"subject": subject, "replied": replied, "noted": noted, "half": half, "common": common}


def test_a_rare_word_among_common_ones_finds_exactly_its_tickets(
    desk, tier1, employee, api, either_path
):
    # given: the desk above (every ticket holds 'tl', 'badge', 'reader'; one in eight 'xq-9041')
    wanted = sorted(desk[k].number for k in ("subject", "replied", "noted"))
    # when / then: the lists' text filter, a technician: the subject, the reply and the note
    assert found(tier1, RARE) == wanted
    assert found(tier1, f"badge {RARE}") == wanted
    # the requester: not the internal note
    assert found(employee, RARE) == sorted(desk[k].number for k in ("subject", "replied"))
    # the API's first page, in the list's order
    response = api(tier1).get("/api/v1/tickets/", {"q": RARE, "sort": "-updated"})
    assert response.status_code == 200
    assert sorted(t["number"] for t in response.json()["results"]) == wanted
    # a lead's counted queue
    page, _ = lists.QUEUE.page(tier1, {"q": RARE})
    assert page.paginator.count == 3
    # the search page: the rare word's documents, never the half match
    hits = queries.search(tier1, RARE).hits
    assert sorted({h.ticket.number for h in hits}) == wanted
    assert found(tier1, "xq-9043") == []
    assert queries.search(tier1, "xq-9043").hits == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own path")
def test_postgres_reads_the_few_matches_first_and_leaves_many_to_its_planner(desk, tier1):
    # given: the desk above, and fresh statistics
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {backends.DOCS}")
    rare = terms.parse(RARE)
    kinds = queries.TICKET_KINDS
    # when: at most `bound` documents match, they are read (the ticket, the reply, the note)
    rows = backends.few_matching(rare, kinds=kinds, internal=None, bound=5)
    # then: exactly those documents
    assert rows is not None
    assert sorted(ticket_id for _, ticket_id in rows) == sorted(
        desk[k].pk for k in ("subject", "replied", "noted")
    )
    # and not the note for who may not read it
    public = backends.few_matching(rare, kinds=kinds, internal=False, bound=5)
    assert sorted(t for _, t in public) == sorted(desk[k].pk for k in ("subject", "replied"))
    # more than `bound`: None, and the list keeps the planner's subquery
    assert backends.few_matching(rare, kinds=kinds, internal=None, bound=2) is None
    assert queries.ticket_text_filter(RARE, tier1) == queries._among(
        {desk[k].pk for k in ("subject", "replied", "noted")}
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own path")
def test_postgres_leaves_a_word_its_statistics_call_common_to_its_planner(desk, tier1):
    # given: 'badge' in every document, and statistics that say so
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {backends.DOCS}")
    # when: a bound below the planner's estimate
    with CaptureQueriesContext(connection) as ran:
        rows = backends.few_matching(
            terms.parse("badge"), kinds=queries.TICKET_KINDS, internal=None, bound=3
        )
    # then: None, and only the plan was asked for: no match was read
    assert rows is None
    assert [q["sql"].split(" ", 1)[0] for q in ran.captured_queries] == ["EXPLAIN"]
