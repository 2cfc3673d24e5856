"""A NUL character in a ticket number (a crawler's `/desk/tickets/TL-%00/`) reached
PostgreSQL, which refuses NUL in a parameter: a 500 on the ticket page, the knowledge base's
"link an article" and "turn into an article". `desk.permissions.ticket_for` now answers 404,
as for any number that does not exist; the knowledge list's words drop what can't be typed."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/desk/tickets/TL-%00/"),
        ("get", "/knowledge/new/?ticket=TL-%00"),
        ("post", "/knowledge/tickets/TL-%00/link/"),
        ("post", "/knowledge/tickets/TL-%00/unlink/1/"),
    ],
)
def test_a_nul_in_a_ticket_number_is_a_404(client, tier1, method, url):
    client.force_login(tier1)
    response = getattr(client, method)(url, {"article": "KB-1"} if method == "post" else None)
    assert response.status_code == 404


def test_a_nul_in_the_knowledge_search_words_is_ignored(client, tier1):
    client.force_login(tier1)
    assert client.get("/knowledge/", {"q": "printer\x00jam"}).status_code == 200
