"""An internal knowledge base article is for the help desk only: a requester who guesses its
id gets a 404 on every door (the portal, the help desk pages, feedback), the same answer as for
an article that does not exist, so its existence is not told."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.knowledge import factories
from tierline.knowledge import services
from tierline.knowledge.models import Feedback

pytestmark = pytest.mark.django_db


def test_a_requester_can_not_read_an_internal_article(client, tier1, employee):
    # given an internal article and a public one
    internal = factories.internal_article(tier1, body="The admin password is in the safe.")
    public = factories.article(tier1)
    client.force_login(employee)

    # then every page of the internal one is a 404, like a missing article's
    for name in ("portal:help_article", "knowledge:article", "knowledge:history"):
        response = client.get(reverse(name, args=[internal.pk]))
        assert response.status_code == 404, name
        assert "admin password" not in response.content.decode()
    missing = client.get(reverse("portal:help_article", args=[999999]))
    assert missing.status_code == 404
    for name in ("portal:help_feedback", "knowledge:feedback"):
        assert client.post(reverse(name, args=[internal.pk]), {"helpful": "yes"}).status_code == 404
    assert not Feedback.objects.exists()

    # and it is on no list the requester sees, while the public one is
    page = client.get(reverse("portal:help")).content.decode()
    assert public.title in page and internal.title not in page


def test_an_article_made_internal_leaves_the_portal(client, tier1, employee):
    # given a public article an employee has read
    article = factories.article(tier1)
    client.force_login(employee)
    assert client.get(reverse("portal:help_article", args=[article.pk])).status_code == 200

    # when the help desk makes it internal
    services.update_article(
        article_id=article.pk,
        by=tier1,
        title=article.title,
        body=article.body,
        category=None,
        audience="internal",
        review_by=None,
        expected_version=1,
    )

    # then it is a 404 for the employee
    assert client.get(reverse("portal:help_article", args=[article.pk])).status_code == 404


def test_the_help_desk_does_not_see_internal_articles_in_the_portal(client, tier1):
    # The portal shows what employees see: a technician previewing it gets the same 404.
    internal = factories.internal_article(tier1)
    client.force_login(tier1)
    assert client.get(reverse("portal:help_article", args=[internal.pk])).status_code == 404


def test_the_search_never_finds_an_internal_article_for_a_requester(tier1, employee):
    from tierline.knowledge.search import queries

    # given: an internal and a public article sharing a word
    internal = factories.internal_article(tier1, title="Spooler secrets", body="Spooler reset.")
    public = factories.article(tier1, title="Spooler stuck", body="Ask the help desk.")
    # then: the help desk finds both, a requester only the public one, whatever kind is asked
    assert {h.object_id for h in queries.search(tier1, "spooler").hits} == {internal.pk, public.pk}
    for kinds in (None, ("article",)):
        hits = queries.search(employee, "spooler", kinds=kinds).hits
        assert [(h.kind, h.object_id) for h in hits] == [("article", public.pk)]
    # and once the public one is made internal, the requester finds nothing
    services.update_article(
        article_id=public.pk,
        by=tier1,
        title=public.title,
        body=public.body,
        category=None,
        audience="internal",
        review_by=None,
        expected_version=1,
    )
    assert queries.search(employee, "spooler").hits == []
    assert queries.search(employee, "secrets").hits == []
