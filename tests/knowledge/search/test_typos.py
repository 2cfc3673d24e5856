"""Typo tolerance: a word the index lacks is replaced by its nearest known word when nothing
matches as typed (pg_trgm on PostgreSQL, first letter and difflib on SQLite)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.desk import factories as desk_factories
from tierline.desk import services
from tierline.knowledge.models_search import SearchWord
from tierline.knowledge.search import backends, index, queries, words

pytestmark = pytest.mark.django_db


@pytest.fixture
def printer(committed, employee):
    with committed():
        return desk_factories.ticket(
            employee, subject="Printer offline", description="The toner light blinks."
        )


def test_the_index_remembers_its_words(printer):
    known = set(SearchWord.objects.values_list("word", flat=True))
    assert {"printer", "offline", "toner", "light", "blinks"} <= known
    # digits and one- or two-letter words are not kept
    assert not any(word.isdigit() or len(word) < 3 for word in known)


def test_a_typo_finds_the_word_meant(printer, tier1):
    results = queries.search(tier1, "pinter")
    assert results.corrected == "printer"
    assert [h.ticket.number for h in results.hits if h.kind == "ticket"] == [printer.number]
    # two words, one mistyped
    results = queries.search(tier1, "tonr light")
    assert results.corrected == "toner light"
    assert printer.number in {h.ticket.number for h in results.hits if h.ticket}


def test_a_known_word_or_a_match_is_never_corrected(printer, tier1):
    assert queries.search(tier1, "printer").corrected is None
    # "light" is known; nothing matches "light scanner", and "scanner" is nowhere near a word
    results = queries.search(tier1, "light xqzvw")
    assert results.corrected is None and results.hits == []


def test_the_correction_keeps_visibility(committed, printer, tier1, employee, employee2):
    # a requester who may not read the ticket finds nothing, and is offered no word
    results = queries.search(employee2, "pinter")
    assert results.hits == [] and results.corrected is None
    # a word only an internal note holds is never offered to the requester
    with committed():
        services.add_message(
            ticket=printer, by=tier1, body="Fraudulent toner order.", internal=True
        )
    assert queries.search(employee, "fraudulnt").corrected is None
    assert queries.search(tier1, "fraudulnt").corrected == "fraudulent"


def test_the_page_says_what_it_searched(printer, client, tier1):
    client.force_login(tier1)
    page = client.get(reverse("knowledge:search"), {"q": "pinter"}).content.decode()
    assert "Nothing matches “pinter”" in page and "?q=printer" in page
    assert printer.number in page


def test_nearest_on_both_databases(printer):
    assert words.nearest("printr") == "printer"
    assert words.nearest("zzzzzz") is None
    assert words.nearest("ab") is None
    expected = backends.is_postgres()
    assert backends.has_trigrams() is expected


def test_reindex_builds_the_words_again(printer):
    SearchWord.objects.all().delete()
    index.reindex_all()
    assert SearchWord.objects.filter(word="printer").exists()


def test_without_trigrams_the_first_letter_serves(printer, tier1, monkeypatch):
    # PostgreSQL without pg_trgm takes SQLite's way: same first letter, about the same length
    monkeypatch.setattr(backends, "similar_words", lambda word, limit: None)
    assert words.nearest("pinter") == "printer"
    assert queries.search(tier1, "pinter").corrected == "printer"


def test_a_refused_extension_warns_and_leaves_the_index_out():
    from django.db import DatabaseError, connection

    class RefusingEditor:
        class connection:  # noqa: N801 (stands in for the schema editor's connection)
            vendor = "postgresql"
            alias = connection.alias

        def execute(self, sql):
            raise DatabaseError("permission denied to create extension")

    with pytest.warns(UserWarning, match="pg_trgm could not be created"):
        assert backends.create_trigram_index(RefusingEditor()) is False
