"""Knowledge base articles in the search index: written with each save, found on the search
page with a kind filter, and an internal one by the help desk only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.knowledge import factories
from tierline import cli
from tierline.knowledge import services
from tierline.knowledge.models_search import SearchDocument
from tierline.knowledge.search import index, queries

pytestmark = pytest.mark.django_db


def kinds_found(user, text: str, **kwargs) -> list[tuple[str, int]]:
    return [(h.kind, h.object_id) for h in queries.search(user, text, **kwargs).hits]


def test_a_new_article_is_found_at_once(tier1):
    # given: an article written through the service (its document in the same transaction)
    article = factories.article(tier1, title="Map a network drive", body="Open Explorer first.")
    # when / then: its title and body words find it, with its reference, marked
    hits = queries.search(tier1, "explorer drives").hits
    assert [(h.kind, h.object_id, h.internal) for h in hits] == [("article", article.pk, False)]
    assert hits[0].article == article
    assert f"KB-{article.pk}" in hits[0].title and "<mark>Explorer</mark>" in hits[0].snippet


def test_an_edit_replaces_the_words_and_a_restore_brings_them_back(tier1):
    article = factories.article(tier1, title="Reset the badge reader", body="Hold the red key.")
    services.update_article(
        article_id=article.pk,
        by=tier1,
        title="Reset the badge reader",
        body="Unplug it for ten seconds.",
        category=None,
        audience="public",
        review_by=None,
        expected_version=1,
    )
    assert kinds_found(tier1, "unplug") == [("article", article.pk)]
    assert kinds_found(tier1, "red key") == []
    services.restore_version(article_id=article.pk, by=tier1, number=1)
    assert kinds_found(tier1, "red key") == [("article", article.pk)]
    assert SearchDocument.objects.filter(kind="article").count() == 1


def test_the_kind_filter_keeps_articles_apart(committed, tier1, employee):
    from tests.desk import factories as desk_factories

    with committed():
        ticket = desk_factories.ticket(employee, subject="Toner smudges", description="Grey.")
    article = factories.article(tier1, title="Toner smudges on every page", body="Shake it.")
    assert set(kinds_found(tier1, "toner")) == {("ticket", ticket.pk), ("article", article.pk)}
    assert kinds_found(tier1, "toner", kinds=("article",)) == [("article", article.pk)]
    assert kinds_found(tier1, "toner", kinds=("ticket",)) == [("ticket", ticket.pk)]
    # a ticket status narrows to tickets: articles have none
    assert kinds_found(tier1, "toner", statuses=("new",)) == [("ticket", ticket.pk)]


def test_the_search_page_lists_and_filters_articles(client, tier1):
    article = factories.internal_article(tier1, title="Rotate the <VPN> certificate")
    client.force_login(tier1)
    url = reverse("knowledge:search")
    page = client.get(url, {"q": "certificate", "kind": "article"}).content.decode()
    assert reverse("knowledge:article", args=[article.pk]) in page
    assert "Internal article" in page and "&lt;VPN&gt;" in page and "<VPN>" not in page
    assert 'value="article" checked' in page
    # an unknown kind is ignored, not an error
    assert client.get(url, {"q": "certificate", "kind": "nonsense"}).status_code == 200


def test_reindex_includes_articles(capsys, tier1):
    public = factories.article(tier1)
    internal = factories.internal_article(tier1)
    SearchDocument.objects.all().delete()
    assert cli.main(["search", "reindex"]) == 0
    assert "2 article(s)" in capsys.readouterr().out
    docs = SearchDocument.objects.filter(kind="article").order_by("object_id")
    assert [(d.object_id, d.internal) for d in docs] == [(public.pk, False), (internal.pk, True)]


def test_a_vanished_article_is_never_shown(tier1):
    # given: an article whose row is gone while its document stayed (deleted in the admin)
    article = factories.article(tier1, title="Projector remote pairing", body="Press both.")
    from tierline.knowledge.models import Article, ArticleVersion

    ArticleVersion.objects.filter(article=article).delete()
    Article.objects.filter(pk=article.pk).delete()
    # then: the search shows nothing, and indexing it again drops the document
    assert kinds_found(tier1, "projector") == []
    assert index.index_article(article.pk) is False
    assert not SearchDocument.objects.filter(kind="article").exists()
