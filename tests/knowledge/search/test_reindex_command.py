"""`tierline search reindex` builds the index again from the stored rows."""

from __future__ import annotations

import pytest

from tests.desk import factories as desk_factories
from tierline import cli
from tierline.desk import services
from tierline.knowledge.models_search import SearchDocument
from tierline.knowledge.search import queries

pytestmark = pytest.mark.django_db


def test_reindex_indexes_tickets_messages_and_people(capsys, employee, tier1):
    # given: tickets and a note made without the index hearing of them (never committed)
    ticket = desk_factories.ticket(employee, subject="Projector bulb blown")
    services.add_message(ticket=ticket, by=tier1, body="Ordered a spare lamp.", internal=True)
    assert not SearchDocument.objects.exists()
    # when
    assert cli.main(["search", "reindex"]) == 0
    # then: it says what it did, and the words find the ticket and the note
    out = capsys.readouterr().out
    assert "Indexed 1 ticket(s)" in out
    hits = queries.search(tier1, "lamp").hits
    assert [(h.kind, h.internal, h.ticket.number) for h in hits] == [
        ("message", True, ticket.number)
    ]
    assert [h.ticket.number for h in queries.search(tier1, "projector bulbs").hits][:1] == [
        ticket.number
    ]


def test_search_without_a_subcommand_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["search"])
    assert exit_info.value.code == 2
