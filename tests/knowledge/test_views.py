"""The help desk's knowledge base pages, as a technician uses them; what a requester can't reach."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from tests.core.test_markdown import tags_in
from tests.desk import factories as desk_factories
from tests.knowledge import factories
from tests.people import factories as people_factories
from tierline.desk import services as desk_services
from tierline.knowledge import services
from tierline.knowledge.models import BODY_MAX, Article, Feedback, TicketLink

pytestmark = pytest.mark.django_db


def test_write_read_edit_and_restore_an_article(client, tier1):
    # given a technician who writes an article in Markdown
    client.force_login(tier1)
    category = factories.category("Email")
    response = client.post(
        reverse("knowledge:new"),
        {
            "title": "Outlook keeps asking for a password",
            "body": "## Fix\n\n1. Close Outlook.\n2. Open **Credential Manager**.",
            "category": category.pk,
            "audience": "public",
            "review_by": "2027-01-31",
        },
    )
    article = Article.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("knowledge:article", args=[article.pk])

    # when they read it, the Markdown is rendered
    page = client.get(reverse("knowledge:article", args=[article.pk])).content.decode()
    assert "<h2>Fix</h2>" in page
    assert "<strong>Credential Manager</strong>" in page
    assert "0 found it helpful, 0 did not." in page

    # when they edit it, then restore version 1 from the history
    client.post(
        reverse("knowledge:edit", args=[article.pk]),
        {
            "title": "Outlook asks for a password",
            "body": "Call us.",
            "audience": "public",
            "version": 1,
            "note": "Shorter",
        },
    )
    history = client.get(reverse("knowledge:history", args=[article.pk])).content.decode()
    assert "Shorter" in history and "Restore version 1" in history
    old = client.get(reverse("knowledge:version", args=[article.pk, 1])).content.decode()
    assert "<strong>Credential Manager</strong>" in old
    client.post(reverse("knowledge:restore", args=[article.pk, 1]), {"version": 2})

    # then the article reads as version 1 did, as version 3
    article.refresh_from_db()
    assert (article.version, article.title) == (3, "Outlook keeps asking for a password")
    assert article.category == category


def test_a_stale_edit_shows_a_message_and_keeps_the_typed_text(client, tier1, tier2):
    article = factories.article(tier1)
    services.update_article(
        article_id=article.pk,
        by=tier2,
        title="Newer",
        body="Newer.",
        category=None,
        audience="public",
        review_by=None,
        expected_version=1,
    )
    client.force_login(tier1)
    response = client.post(
        reverse("knowledge:edit", args=[article.pk]),
        {"title": "Mine", "body": "My text.", "audience": "public", "version": 1},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "saved this article (version 2)" in page
    assert "My text." in page
    assert Article.objects.get().title == "Newer"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "", "body": "Text."}, "This field is required."),
        ({"title": "   ", "body": "Text."}, "This field is required."),
        ({"title": "Title", "body": "x" * (BODY_MAX + 1)}, "at most 100000 characters"),
        ({"title": "Title", "body": "Text.", "review_by": "9999-12-31"}, "1970"),
        ({"title": "Title", "body": "Text.", "category": "99999999999999999999"}, "valid choice"),
    ],
)
def test_bad_input_gets_a_clear_message_not_a_500(client, tier1, data, message):
    client.force_login(tier1)
    response = client.post(reverse("knowledge:new"), {"audience": "internal", **data})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Article.objects.exists()


def test_script_in_markdown_never_reaches_the_page(client, tier1):
    # given an article whose Markdown carries script, handlers and a javascript: link
    article = factories.article(
        tier1,
        body=(
            "<script>alert(1)</script>\n\n"
            '<img src=x onerror="alert(2)">\n\n'
            "[click](javascript:alert(3)) and [ok](https://example.org)\n\n"
            "<a href='javascript:alert(4)'>raw</a>"
        ),
    )
    client.force_login(tier1)

    # when the article is shown to the help desk and in the portal
    for url in (
        reverse("knowledge:article", args=[article.pk]),
        reverse("portal:help_article", args=[article.pk]),
    ):
        page = client.get(url).content.decode()

        # then none of it runs: typed HTML shows as text, the bad link is not a link
        tags = tags_in(page)
        assert not [tag for tag, _ in tags if tag == "img"]
        assert not [attrs for _, attrs in tags if dict(attrs).get("href", "").startswith("java")]
        assert not [attrs for _, attrs in tags if any(n.startswith("on") for n, _ in attrs)]
        scripts = [dict(attrs).get("src", "") for tag, attrs in tags if tag == "script"]
        assert all(src.startswith("/static/") for src in scripts)  # the page's own, no inline
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "[click](javascript:alert(3))" in page
        assert '<a href="https://example.org" rel="noopener noreferrer nofollow">ok</a>' in page


def test_a_requester_gets_404_on_every_help_desk_page(client, tier1, employee):
    article = factories.article(tier1)
    ticket = desk_factories.ticket(requester=employee)
    client.force_login(employee)
    for url in (
        reverse("knowledge:list"),
        reverse("knowledge:new"),
        reverse("knowledge:article", args=[article.pk]),
        reverse("knowledge:edit", args=[article.pk]),
        reverse("knowledge:history", args=[article.pk]),
        reverse("knowledge:version", args=[article.pk, 1]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("knowledge:restore", args=[article.pk, 1])).status_code == 404
    link = reverse("knowledge:ticket_link", args=[ticket.number])
    assert client.post(link, {"article": article.pk}).status_code == 404
    assert not TicketLink.objects.exists()


@pytest.mark.parametrize("pk", ["0", "abc", "99999999999999999999", "²"])
def test_junk_ids_are_404(client, tier1, pk):
    client.force_login(tier1)
    assert client.get(f"/knowledge/{pk}/").status_code == 404
    assert client.get(f"/knowledge/{pk}/versions/{pk}/").status_code == 404


def test_list_filters_and_the_review_tab(client, tier1):
    factories.article(tier1, title="Printer jams", category=factories.category("Printing"))
    factories.internal_article(tier1, title="VPN server restart", review_by=date(2020, 1, 1))
    client.force_login(tier1)
    everything = client.get(reverse("knowledge:list")).content.decode()
    assert "Printer jams" in everything and "VPN server restart" in everything
    words = client.get(reverse("knowledge:list"), {"q": "jams printer"}).content.decode()
    assert "Printer jams" in words and "VPN server restart" not in words
    review = client.get(reverse("knowledge:list"), {"tab": "review"}).content.decode()
    assert "VPN server restart" in review and "Printer jams" not in review
    internal = client.get(reverse("knowledge:list"), {"audience": "internal"}).content.decode()
    assert "VPN server restart" in internal and "Printer jams" not in internal


def test_feedback_from_the_article_page_counts_once_per_person(client, tier1, tier2):
    article = factories.article(tier1)
    client.force_login(tier2)
    url = reverse("knowledge:feedback", args=[article.pk])
    client.post(url, {"helpful": "yes"})
    client.post(url, {"helpful": "no"})
    assert client.post(url, {"helpful": "maybe"}).status_code == 302
    page = client.get(reverse("knowledge:article", args=[article.pk])).content.decode()
    assert "0 found it helpful, 1 did not." in page
    assert Feedback.objects.get().helpful is False


def test_ticket_panel_links_articles_and_turns_a_resolved_ticket_into_one(client, tier1, employee):
    # given a ticket worked by a technician, and an internal article
    ticket = desk_factories.ticket(requester=employee, description="Mail won't sync on my phone.")
    article = factories.internal_article(tier1)
    client.force_login(tier1)
    page_url = reverse("desk:ticket", args=[ticket.number])

    # the panel shows on the ticket page; "Turn into an article" waits for the resolution
    page = client.get(page_url).content.decode()
    assert 'data-panel="knowledge.ticket_articles"' in page
    assert "Turn into an article" not in page

    # when they link the article by its reference
    link = reverse("knowledge:ticket_link", args=[ticket.number])
    assert client.post(link, {"article": article.reference.lower()}).status_code == 302
    assert client.post(link, {"article": "KB-99999999"}).status_code == 302
    assert client.post(link, {"article": "nonsense"}).status_code == 302
    page = client.get(page_url).content.decode()
    assert f"{article.reference}</a> {escape(article.title)}" in page
    assert list(TicketLink.objects.values_list("article", flat=True)) == [article.pk]

    # when the ticket is resolved, it can become an article, prefilled
    desk_services.resolve(
        ticket=ticket, by=tier1, resolution_code="fixed", body="Re-added the mail account."
    )
    page = client.get(page_url).content.decode()
    assert "Turn into an article" in page
    form = client.get(reverse("knowledge:new"), {"ticket": ticket.number}).content.decode()
    assert "Mail won&#x27;t sync on my phone." in form
    assert "Re-added the mail account." in form

    # the requester sees no panel on their own request
    client.force_login(employee)
    portal = client.get(reverse("portal:ticket", args=[ticket.number])).content.decode()
    assert "knowledge.ticket_articles" not in portal
    # nor the history entry naming the (internal) article
    assert "Solved with" not in portal and escape(article.title) not in portal


def test_an_open_ticket_can_not_become_an_article(client, tier1):
    ticket = desk_factories.ticket()
    client.force_login(tier1)
    response = client.get(reverse("knowledge:new"), {"ticket": ticket.number})
    assert response.status_code == 403
    assert client.get(reverse("knowledge:new"), {"ticket": "TL-nope"}).status_code == 404


def test_a_restricted_teams_ticket_can_not_be_linked_or_drafted_by_an_outsider(
    client, tier1, tier2
):
    # given an HR ticket, resolved by a member of the restricted team
    hr = people_factories.restricted_team(members=(tier2,))
    ticket = desk_factories.ticket(team=hr, description="Salary letter for Jo Bloggs.")
    desk_services.resolve(ticket=ticket, by=tier2, resolution_code="fixed", body="Sent to Jo.")
    article = factories.internal_article(tier1)

    # when a technician outside the team tries to link it or draft an article from it
    client.force_login(tier1)
    link = client.post(
        reverse("knowledge:ticket_link", args=[ticket.number]), {"article": article.pk}
    )
    draft = client.get(reverse("knowledge:new"), {"ticket": ticket.number})

    # then both are 404 and nothing of the ticket is shown
    assert link.status_code == 404 and draft.status_code == 404
    assert "Salary" not in draft.content.decode()
    assert not TicketLink.objects.exists()

    # while the team's member sees the panel and may draft it
    client.force_login(tier2)
    page = client.get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    assert "Turn into an article" in page
    draft = client.get(reverse("knowledge:new"), {"ticket": ticket.number}).content.decode()
    assert "Salary letter for Jo Bloggs." in draft


def test_the_list_pages_cost_the_same_for_5_or_30_articles(client, tier1, employee):
    # given articles in several categories
    shelves = [factories.category(name) for name in ("Email", "Printing", "Network")]

    def queries_for(url: str, user) -> int:
        client.force_login(user)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    for n in range(5):
        factories.article(tier1, title=f"Article {n}", category=shelves[n % 3])
    few = (queries_for("/knowledge/", tier1), queries_for("/portal/help/", employee))
    for n in range(5, 30):
        factories.article(tier1, title=f"Article {n}", category=shelves[n % 3])
    many = (queries_for("/knowledge/", tier1), queries_for("/portal/help/", employee))

    # then the number of queries does not grow with the articles
    assert many == few
    assert max(many) <= 12
