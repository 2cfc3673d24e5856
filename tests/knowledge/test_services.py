"""Writing the knowledge base: versions, restore, stale edits, feedback, links, bad input."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.desk import factories as desk_factories
from tests.knowledge import factories
from tierline.core.errors import StaleEdit
from tierline.core.models import HistoryEntry
from tierline.desk import services as desk_services
from tierline.knowledge import queries, services
from tierline.knowledge.models import (
    BODY_MAX,
    Article,
    ArticleVersion,
    Audience,
    Feedback,
    TicketLink,
)

pytestmark = pytest.mark.django_db


def resolve(ticket, by, note: str) -> None:
    desk_services.resolve(ticket=ticket, by=by, resolution_code="fixed", body=note)
    ticket.refresh_from_db()


def edit(article: Article, by, **changes) -> Article:
    values = {
        "title": article.title,
        "body": article.body,
        "category": article.category,
        "audience": article.audience,
        "review_by": article.review_by,
        "expected_version": article.version,
    }
    values.update(changes)
    return services.update_article(article_id=article.pk, by=by, **values)


def test_every_save_keeps_a_version_and_restore_brings_an_old_one_back(tier1, tier2):
    # given an article edited twice
    article = factories.article(tier1, title="Paper jam", body="Open the door.")
    article = edit(article, tier2, body="Open the front door.", note="Which door")
    article = edit(article, tier1, title="Clear a paper jam", body="Call us.")

    # then three versions hold what each save said, newest first
    versions = list(queries.versions_of(article))
    assert [(v.number, v.title, v.body) for v in versions] == [
        (3, "Clear a paper jam", "Call us."),
        (2, "Paper jam", "Open the front door."),
        (1, "Paper jam", "Open the door."),
    ]
    assert versions[1].note == "Which door" and versions[1].saved_by == tier2

    # when version 1 is restored
    restored = services.restore_version(article_id=article.pk, by=tier2, number=1)

    # then it is the current text, saved as version 4; nothing was lost
    assert (restored.version, restored.title, restored.body) == (4, "Paper jam", "Open the door.")
    assert ArticleVersion.objects.filter(article=article).count() == 4
    assert queries.versions_of(restored).first().note == "Restored version 1"


def test_a_stale_edit_is_refused_and_changes_nothing(tier1, tier2):
    # given two technicians who opened the article at version 1; the first saves
    article = factories.article(tier1)
    edit(article, tier2, body="Newer text.")

    # when the second saves from the page they loaded at version 1
    with pytest.raises(StaleEdit) as refused:
        edit(article, tier1, body="My text.", expected_version=1)

    # then they are told who saved in between, and the newer text stands
    assert "saved this article (version 2)" in refused.value.messages[0]
    assert Article.objects.get(pk=article.pk).body == "Newer text."


def test_saving_without_a_change_adds_no_version(tier1):
    article = factories.article(tier1)
    again = edit(article, tier1)
    assert again.version == 1
    assert article.versions.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "   ", "An article needs a title."),
        ("title", "x" * 201, "A title is at most 200 characters"),
        ("title", "Two\nlines", "The title must be on one line"),
        ("body", "\n  \n", "An article needs some text."),
        ("body", "x" * (BODY_MAX + 1), "split it into several articles"),
        ("body", "bad \x00 byte", "The article contains"),
        ("audience", "everyone", "Choose public or internal."),
        ("review_by", date(1900, 1, 1), "between 1970 and 2999"),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_the_field(tier1, field, value, message):
    # given an article's fields with one of them wrong
    values = {"title": "Printer", "body": "Restart it.", "audience": Audience.PUBLIC}
    values[field] = value

    # when it is saved, then the field is named and nothing is stored
    with pytest.raises(ValidationError) as refused:
        services.create_article(by=tier1, **values)
    assert message in " ".join(refused.value.message_dict[field])
    assert not Article.objects.exists()


def test_text_is_stored_as_typed(tier1):
    article = factories.article(tier1, title="<DeviceNotFound> & co", body="Type `<b>` here.\r\n")
    article.refresh_from_db()
    assert article.title == "<DeviceNotFound> & co"
    assert article.body == "Type `<b>` here."


def test_a_requester_can_not_write_articles(employee):
    with pytest.raises(PermissionDenied):
        factories.article(employee)
    assert not Article.objects.exists()


def test_feedback_is_one_answer_per_person_and_can_be_changed(tier1, employee, employee2):
    # given a public article that two people answer
    article = factories.article(tier1)
    services.give_feedback(article=article, by=employee, helpful=True)
    services.give_feedback(article=article, by=employee2, helpful=True)

    # when one of them answers again, the other way
    services.give_feedback(article=article, by=employee2, helpful=False)

    # then each person counts once, with their last answer
    counts = queries.feedback_counts(article, employee2)
    assert (counts.helped, counts.did_not_help, counts.mine) == (1, 1, False)
    assert Feedback.objects.filter(article=article).count() == 2


def test_a_requester_can_not_give_feedback_on_an_internal_article(tier1, employee):
    article = factories.internal_article(tier1)
    with pytest.raises(PermissionDenied):
        services.give_feedback(article=article, by=employee, helpful=True)
    assert not Feedback.objects.exists()


def test_linking_a_ticket_is_once_and_written_in_the_ticket_history(tier1):
    # given a ticket and an article
    ticket = desk_factories.ticket()
    article = factories.article(tier1)

    # when it is linked twice, then unlinked
    services.link_ticket(ticket=ticket, article=article, by=tier1)
    services.link_ticket(ticket=ticket, article=article, by=tier1)
    assert [link.article for link in queries.linked_articles(ticket.pk)] == [article]
    services.unlink_ticket(ticket=ticket, article=article, by=tier1)

    # then the link is gone and the ticket's history tells both
    assert not TicketLink.objects.exists()
    actions = list(
        HistoryEntry.objects.filter(object_id=ticket.pk, action__startswith="article")
        .order_by("id")
        .values_list("action", "summary")
    )
    assert actions == [
        ("article linked", f"Solved with {article.reference}: {article.title}"),
        ("article unlinked", f"No longer linked to {article.reference}: {article.title}"),
    ]


def test_an_article_from_a_resolved_ticket_has_its_resolution_and_is_linked(tier1):
    # given a resolved ticket
    ticket = desk_factories.ticket(subject="Outlook asks for my password", description="Again.")
    resolve(ticket, tier1, "Removed the old credential from Windows.")

    # when it becomes an article, from the draft
    draft = services.draft_from_ticket(ticket)
    article = services.create_article(by=tier1, source_ticket=ticket, **draft)

    # then the problem and the solution are in it, and the ticket is linked
    assert article.title == "Outlook asks for my password"
    assert "## The problem\n\nAgain." in article.body
    assert "## The solution\n\nRemoved the old credential from Windows." in article.body
    assert article.source_ticket == ticket
    assert TicketLink.objects.filter(ticket=ticket, article=article).exists()
    assert article.versions.get().note == f"Written from ticket {ticket.number}"


def test_due_for_review_lists_overdue_and_soon_due_articles_first_due_first(tier1):
    today = date(2026, 6, 1)
    late = factories.article(tier1, title="Late", review_by=date(2026, 5, 1))
    soon = factories.article(tier1, title="Soon", review_by=date(2026, 6, 10))
    factories.article(tier1, title="Later", review_by=date(2026, 9, 1))
    factories.article(tier1, title="Never")
    due = queries.article_list(tier1, due_for_review=True, today=today)
    assert list(due) == [late, soon]
