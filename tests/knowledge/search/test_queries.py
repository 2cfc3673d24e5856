"""The search index and its queries: the same expectations on SQLite FTS5 and PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.core import search as core_search
from tierline.desk import services
from tierline.desk.filters import TicketFilter
from tierline.desk.models import Status, Ticket
from tierline.knowledge.models_search import SearchDocument, SearchWord
from tierline.knowledge.search import index, queries

pytestmark = pytest.mark.django_db


def found(user, text: str) -> list[str]:
    """The numbers of the tickets the lists' text filter keeps for `user`."""
    qs = TicketFilter({"q": text}, queryset=Ticket.objects.all(), request=_Request(user)).qs
    return sorted(qs.values_list("number", flat=True))


class _Request:
    def __init__(self, user):
        self.user = user


@pytest.fixture
def paper_jam(committed, employee):
    with committed():
        return desk_factories.ticket(
            employee,
            subject="Paper jam in the second drawer",
            description="The printer on floor 3 stops with a red light.",
        )


@pytest.fixture(params=["few matches", "many matches"])
def either_path(request, monkeypatch):
    """When many documents match, SQLite's lists ask per ticket (queries.DENSE) and
    PostgreSQL's planner chooses (past queries.FEW; below it, the matches are read first)."""
    if request.param == "many matches":
        monkeypatch.setattr(queries, "DENSE", 1)
        monkeypatch.setattr(queries, "FEW", 0)


def test_words_match_in_any_order_and_form(paper_jam, tier1, either_path):
    # given: a ticket about a paper jam (the printer named only in its description)
    # when / then: every word counts, in any order, any form; a missing word does not match
    for text in ("paper jam", "jam paper", "printer jam", "Jammed PRINTERS", "the printers"):
        assert found(tier1, text) == [paper_jam.number], text
    assert found(tier1, "scanner jam") == []


def test_replies_and_the_requester_are_searched(committed, paper_jam, tier1, employee, either_path):
    # given: a reply on the ticket
    with committed():
        services.add_message(ticket=paper_jam, by=tier1, body="Replaced the fuser assembly.")
    employee.refresh_from_db()
    # when / then: the reply's words, the requester's name and email find the ticket
    assert found(tier1, "fuser assemblies") == [paper_jam.number]
    assert found(tier1, employee.last_name) == [paper_jam.number]
    assert found(tier1, employee.email) == [paper_jam.number]
    assert found(employee, "fuser") == [paper_jam.number]


def test_a_ticket_number_matches_its_ticket(paper_jam, tier1):
    assert found(tier1, paper_jam.number) == [paper_jam.number]
    assert found(tier1, paper_jam.number.lower()) == [paper_jam.number]
    assert found(tier1, str(paper_jam.pk)) == [paper_jam.number]


def test_a_changed_subject_is_indexed_again(committed, paper_jam, tier1):
    # given / when: the subject changes after commit
    with committed():
        services.change_fields(ticket=paper_jam, by=tier1, subject="Toner smears")
    # then: the new words find it, the old subject's do not (the description still says printer)
    assert found(tier1, "toner smear") == [paper_jam.number]
    assert found(tier1, "drawer") == []


def test_a_new_status_filters_the_page(committed, paper_jam, tier1):
    # given: a second, resolved ticket about a jam
    with committed():
        other = desk_factories.ticket(subject="Jam again", description="Printer jam.")
        services.take(ticket=other, by=tier1)
    # when / then: the status filter keeps the open one, kinds keep tickets only
    hits = queries.search(tier1, "jam", statuses=(Status.NEW,)).hits
    assert {h.ticket.number for h in hits} == {paper_jam.number}
    kinds = {h.kind for h in queries.search(tier1, "jam", kinds=("ticket",)).hits}
    assert kinds == {"ticket"}


def test_ranking_puts_the_title_match_first(committed, tier1):
    # given: "VPN" in one subject, and only once deep in another's description
    with committed():
        body = desk_factories.ticket(subject="Laptop is slow", description="Also the vpn once.")
        title = desk_factories.ticket(subject="VPN drops every hour", description="Since Monday.")
    # when
    hits = [h for h in queries.search(tier1, "vpn").hits if h.kind == "ticket"]
    # then
    assert [h.ticket.number for h in hits] == [title.number, body.number]


def test_snippets_are_escaped_and_marked(committed, tier1):
    # given: markup typed into a subject and a description (stored as typed)
    with committed():
        desk_factories.ticket(
            subject="<script>alert(1)</script> scanner",
            description="The scanner shows <b>error</b> & stops.",
        )
    # when
    hit = next(h for h in queries.search(tier1, "scanner").hits if h.kind == "ticket")
    # then: everything typed is escaped; only the matches are marked (PostgreSQL's
    # ts_headline leaves tag-like words out of an excerpt; SQLite keeps them, escaped)
    assert "&lt;script&gt;" in hit.title and "<script>" not in hit.title
    assert "<mark>scanner</mark>" in hit.title
    assert "error" in hit.snippet and "&amp; stops" in hit.snippet and "<b>" not in hit.snippet
    assert "<mark>scanner</mark>" in hit.snippet


def test_people_are_found_by_the_help_desk_only(committed, tier1, employee):
    # given
    person = people_factories.UserFactory(
        first_name="Zoltan", last_name="Kertesz", phone="555 0199"
    )
    index.index_person(person.pk)
    # when / then
    hits = queries.search(tier1, "kertesz").hits
    assert [(h.kind, h.person.pk) for h in hits] == [("person", person.pk)]
    assert [h.person.pk for h in queries.search(tier1, "0199").hits] == [person.pk]
    assert queries.search(employee, "kertesz").hits == []


def test_an_email_or_a_number_goes_straight_to_its_person_or_ticket(paper_jam, tier1, employee):
    results = queries.search(tier1, f"  {employee.email.upper()} ")
    assert results.exact_person == employee
    assert queries.search(tier1, paper_jam.number).exact_ticket == paper_jam


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        '"',
        "AND OR NOT",
        "((jam",
        "jam*",
        "NEAR(paper jam)",
        "title:paper",
        "-paper",
        "x" * 5000,
        "papier bourré 😀",
        "打印机 卡纸",
        "<script>",
        "%_\\",
        "a the of",
    ],
)
def test_any_text_is_a_query_never_an_error(paper_jam, tier1, text):
    # when: odd text reaches both the list filter and the page's search
    listed = found(tier1, text)
    results = queries.search(tier1, text)
    # then: an answer (operators typed are only words), never a database error
    assert set(listed) <= {paper_jam.number}
    assert {h.ticket.number for h in results.hits if h.ticket} <= {paper_jam.number}


def test_operators_typed_are_words(paper_jam, tier1):
    assert found(tier1, "-paper") == [paper_jam.number]
    assert found(tier1, "jam* OR scanner") == []  # "or" is a stop word, scanner is required
    assert found(tier1, "(paper) AND jam") == [paper_jam.number]


def test_reindex_builds_the_index_again(paper_jam, tier1):
    # given: an index emptied (a restored backup, a new install)
    SearchDocument.objects.all().delete()
    assert found(tier1, "printer jam") == []
    # when
    counts = index.reindex_all()
    # then
    assert counts["ticket"] == 1 and counts["message"] >= 0 and counts["person"] >= 1
    assert found(tier1, "printer jam") == [paper_jam.number]


def test_without_the_index_the_lists_match_a_substring(paper_jam, tier1):
    # given: no provider registered (the knowledge app not installed)
    core_search.unregister_ticket_text_filter()
    try:
        # then: the old substring match answers
        assert found(tier1, "paper jam") == [paper_jam.number]
        assert found(tier1, "jam paper") == []
    finally:
        core_search.register_ticket_text_filter(queries.ticket_text_filter)


def test_registering_something_not_callable_is_refused():
    with pytest.raises(TypeError):
        core_search.register_ticket_text_filter("not a function")  # type: ignore[arg-type]


def test_an_unchanged_document_is_read_not_written_again(paper_jam, employee):
    # given: the ticket and its requester indexed; the ticket's document made stale
    document = SearchDocument.objects.get(kind=SearchDocument.Kind.TICKET, object_id=paper_jam.pk)
    SearchDocument.objects.filter(pk=document.pk).update(body="stale")
    person = SearchDocument.objects.get(kind=SearchDocument.Kind.PERSON, object_id=employee.pk)
    before = person.indexed_at, person.body
    # when: the ticket is indexed again
    with CaptureQueriesContext(connection) as queries_run:
        assert index.index_ticket(paper_jam.pk)
    # then: the changed document is written again as the rows say, the unchanged one kept
    document.refresh_from_db()
    assert "red light" in document.body and document.body != "stale"
    person.refresh_from_db()
    assert (person.indexed_at, person.body) == before
    written = [
        q["sql"]
        for q in queries_run.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
        and SearchWord._meta.db_table in q["sql"]
    ]
    assert len(written) == 1  # the ticket's words; the person's were known
