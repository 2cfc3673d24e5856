"""Help articles in the portal, as an employee reads them: shelves, one article, did this help?"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.knowledge import factories
from tierline.knowledge.models import Feedback

pytestmark = pytest.mark.django_db


def test_public_articles_by_category_and_internal_ones_left_out(client, tier1, employee):
    # given public articles on two shelves, one without, and an internal one
    factories.article(
        tier1, title="Connect to the guest Wi-Fi", category=factories.category("Network")
    )
    factories.article(tier1, title="Clear a paper jam", category=factories.category("Printing"))
    factories.article(tier1, title="Find your laptop's name")
    factories.internal_article(tier1, title="Restart the RADIUS server")
    client.force_login(employee)

    # when the employee opens Help articles
    page = client.get(reverse("portal:help")).content.decode()

    # then the public ones are there, on their shelves in order, the uncategorised last
    assert page.index("Network") < page.index("Printing") < page.index("Other topics")
    assert "Connect to the guest Wi-Fi" in page and "Clear a paper jam" in page
    assert "Restart the RADIUS server" not in page
    assert 'aria-current="page">Help articles</a>' in page


def test_an_article_reads_cleanly_and_takes_feedback_once_per_person(client, tier1, employee):
    # given a public article
    article = factories.article(tier1)
    client.force_login(employee)
    url = reverse("portal:help_article", args=[article.pk])

    # when the employee reads it
    page = client.get(url).content.decode()

    # then it is the rendered article, without the help desk's details
    assert '<h1 id="kb-title">Clear a paper jam on the floor 2 printer</h1>' in page
    assert "<h2>What you see</h2>" in page and "<li>Open the front door.</li>" in page
    assert "Internal" not in page and "version" not in page.lower().replace("<meta", "")
    assert "Did this help?" in page

    # when they answer yes, then change their mind
    feedback = reverse("portal:help_feedback", args=[article.pk])
    assert client.post(feedback, {"helpful": "yes"}).status_code == 302
    response = client.post(feedback, {"helpful": "no"}, follow=True)

    # then one answer counts, the last one, and they are pointed to the help desk
    assert Feedback.objects.get().helpful is False
    page = response.content.decode()
    assert "0 found it helpful, 1 did not." in page
    assert "Ask the help desk" in page


def test_feedback_with_junk_is_a_message_not_a_500(client, tier1, employee):
    article = factories.article(tier1)
    client.force_login(employee)
    response = client.post(
        reverse("portal:help_feedback", args=[article.pk]), {"helpful": "<b>"}, follow=True
    )
    assert response.status_code == 200
    assert "Answer yes or no." in response.content.decode()
    assert not Feedback.objects.exists()


def test_an_empty_help_page_says_where_to_go(client, employee):
    client.force_login(employee)
    page = client.get(reverse("portal:help")).content.decode()
    assert "No help articles yet" in page


def test_signed_out_visitors_are_sent_to_sign_in(client, tier1):
    article = factories.article(tier1)
    response = client.get(reverse("portal:help_article", args=[article.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
