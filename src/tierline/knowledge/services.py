"""Every change to the knowledge base: one function each, one transaction each.

An article is saved with its version: each save (creating, editing, restoring) adds one
`ArticleVersion` holding what the article says after it, so the versions are its whole history
and an earlier one can be shown and restored. Each save also writes the article's search
document, in the same transaction. An edit carries the version its page showed; a
stale one is refused, naming who saved in between.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tierline.core import events
from tierline.core.articles import ArticleSaved
from tierline.core.errors import StaleEdit
from tierline.core.inputs import date_in_range
from tierline.core.text import normalise_text
from tierline.desk import permissions as perms
from tierline.desk import services as desk_services
from tierline.desk.models import Ticket
from tierline.knowledge.models import (
    BODY_MAX,
    TITLE_MAX,
    Article,
    ArticleVersion,
    Audience,
    Category,
    Feedback,
    TicketLink,
)
from tierline.knowledge.queries import can_read, can_write
from tierline.knowledge.search import index as search_index

NOTE_MAX = 200


def _ensure_writer(by: Any) -> None:
    if not can_write(by):
        raise PermissionDenied("Only the help desk writes knowledge base articles.")


def _checked(
    *, title: str, body: str, audience: str, review_by: date | None, note: str
) -> dict[str, Any]:
    """The fields as stored, or a ValidationError naming every field that is wrong."""
    errors: dict[str, str] = {}
    try:
        title = normalise_text(title, label="The title", multiline=False).strip()
    except ValidationError as exc:
        errors["title"] = exc.messages[0]
    else:
        if not title:
            errors["title"] = "An article needs a title."
        elif len(title) > TITLE_MAX:
            errors["title"] = (
                f"A title is at most {TITLE_MAX} characters (this one has {len(title)})."
            )
    try:
        body = normalise_text(body, label="The article").rstrip()
    except ValidationError as exc:
        errors["body"] = exc.messages[0]
    else:
        if not body.strip():
            errors["body"] = "An article needs some text."
        elif len(body) > BODY_MAX:
            errors["body"] = (
                f"An article is at most {BODY_MAX:,} characters (this one has {len(body):,}): "
                "split it into several articles."
            )
    if audience not in Audience.values:
        errors["audience"] = "Choose public or internal."
    if not date_in_range(review_by):
        errors["review_by"] = "Choose a review date between 1970 and 2999."
    try:
        note = normalise_text(note, label="What changed", multiline=False).strip()[:NOTE_MAX]
    except ValidationError as exc:
        errors["note"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    return {
        "title": title,
        "body": body,
        "audience": audience,
        "review_by": review_by,
        "note": note,
    }


def _keep_version(article: Article, by: Any, note: str) -> ArticleVersion:
    return ArticleVersion.objects.create(
        article=article,
        number=article.version,
        title=article.title,
        body=article.body,
        category_name=article.category.name if article.category else "",
        audience=article.audience,
        review_by=article.review_by,
        note=note,
        saved_by=by,
        saved_at=article.updated_at,
    )


@transaction.atomic
def create_article(
    *,
    by: Any,
    title: str,
    body: str,
    category: Category | None = None,
    audience: str = Audience.INTERNAL,
    review_by: date | None = None,
    source_ticket: Ticket | None = None,
) -> Article:
    """A new article, as version 1. Made from a resolved ticket, the ticket is linked to it
    ("solved with this article")."""
    _ensure_writer(by)
    fields = _checked(title=title, body=body, audience=audience, review_by=review_by, note="")
    if source_ticket is not None and not perms.can_note_ticket(by, source_ticket):
        raise PermissionDenied("You can't read that ticket as the help desk.")
    now = timezone.now()
    article = Article.objects.create(
        title=fields["title"],
        body=fields["body"],
        category=category,
        audience=fields["audience"],
        review_by=fields["review_by"],
        source_ticket=source_ticket,
        created_by=by,
        updated_by=by,
        created_at=now,
        updated_at=now,
    )
    note = f"Written from ticket {source_ticket.number}" if source_ticket else "Written"
    _keep_version(article, by, note)
    search_index.index_article(article.pk)
    events.publish(ArticleSaved(article_id=article.pk))
    if source_ticket is not None:
        _link(ticket=source_ticket, article=article, by=by)
    return article


def _locked(article_id: int, expected_version: int | None) -> Article:
    # Only the article's row is locked: PostgreSQL can't lock the nullable side of the join.
    article = (
        Article.objects.select_for_update(of=("self",))
        .select_related("category")
        .get(pk=article_id)
    )
    if expected_version is not None and article.version != expected_version:
        raise StaleEdit(
            f"{article.updated_by} saved this article (version {article.version}) while you "
            f"were editing version {expected_version}. Your text was not saved: reload, then "
            "apply your change again.",
            current={"version": article.version, "title": article.title},
        )
    return article


@transaction.atomic
def update_article(
    *,
    article_id: int,
    by: Any,
    title: str,
    body: str,
    category: Category | None,
    audience: str,
    review_by: date | None,
    expected_version: int | None,
    note: str = "",
) -> Article:
    """Save an edit as the next version. Refused (StaleEdit) when someone saved since the
    page was loaded at `expected_version`; nothing is saved when nothing changed."""
    _ensure_writer(by)
    fields = _checked(title=title, body=body, audience=audience, review_by=review_by, note=note)
    article = _locked(article_id, expected_version)
    unchanged = (
        article.title == fields["title"]
        and article.body == fields["body"]
        and article.category_id == (category.pk if category else None)
        and article.audience == fields["audience"]
        and article.review_by == fields["review_by"]
    )
    if unchanged:
        return article
    return _save_version(
        article,
        by,
        title=fields["title"],
        body=fields["body"],
        category=category,
        audience=fields["audience"],
        review_by=fields["review_by"],
        note=fields["note"] or "Edited",
    )


def _save_version(article: Article, by: Any, *, note: str, **values: Any) -> Article:
    for name, value in values.items():
        setattr(article, name, value)
    article.version += 1
    article.updated_by = by
    article.updated_at = timezone.now()
    article.save()
    _keep_version(article, by, note)
    search_index.index_article(article.pk)
    events.publish(ArticleSaved(article_id=article.pk))
    return article


@transaction.atomic
def restore_version(
    *, article_id: int, by: Any, number: int, expected_version: int | None = None
) -> Article:
    """Make an earlier version current again, saved as a new version (the one it replaces
    stays in the history). The category comes back by name when it still exists."""
    _ensure_writer(by)
    article = _locked(article_id, expected_version)
    old = ArticleVersion.objects.filter(article=article, number=number).first()
    if old is None:
        raise ValidationError(f"This article has no version {number}.")
    if old.number == article.version:
        raise ValidationError(f"Version {number} is already the current one.")
    category = (
        Category.objects.filter(name=old.category_name).first() if old.category_name else None
    )
    return _save_version(
        article,
        by,
        title=old.title,
        body=old.body,
        category=category,
        audience=old.audience,
        review_by=old.review_by,
        note=f"Restored version {old.number}",
    )


def give_feedback(*, article: Article, by: Any, helpful: bool) -> Feedback:
    """Record "did this help?": one answer per person and article; answering again changes it."""
    if not can_read(by, article):
        raise PermissionDenied("You can't read that article.")
    values = {"helpful": bool(helpful), "answered_at": timezone.now()}
    try:
        with transaction.atomic():
            feedback, _ = Feedback.objects.update_or_create(
                article=article, person=by, defaults=values
            )
    except IntegrityError:
        # Two answers at once from the same person (a double click): the second one updates.
        with transaction.atomic():
            feedback = Feedback.objects.select_for_update().get(article=article, person=by)
            Feedback.objects.filter(pk=feedback.pk).update(**values)
            feedback.refresh_from_db()
    return feedback


def _link(*, ticket: Ticket, article: Article, by: Any) -> TicketLink:
    link, created = TicketLink.objects.get_or_create(
        ticket=ticket, article=article, defaults={"linked_by": by}
    )
    if created:
        desk_services.record_on_ticket(
            ticket_id=ticket.pk,
            by=by,
            action="article linked",
            summary=f"Solved with {article.reference}: {article.title}",
        )
    return link


@transaction.atomic
def link_ticket(*, ticket: Ticket, article: Article, by: Any) -> TicketLink:
    """ "Solved with this article": link the ticket to the article (once; linking again is a
    no-op). A history entry on the ticket names the article."""
    _ensure_writer(by)
    if not perms.can_note_ticket(by, ticket):
        raise PermissionDenied("You can't work on that ticket as the help desk.")
    return _link(ticket=ticket, article=article, by=by)


@transaction.atomic
def unlink_ticket(*, ticket: Ticket, article: Article, by: Any) -> None:
    """Remove a link made by mistake; the ticket's history says so."""
    _ensure_writer(by)
    if not perms.can_note_ticket(by, ticket):
        raise PermissionDenied("You can't work on that ticket as the help desk.")
    deleted, _ = TicketLink.objects.filter(ticket=ticket, article=article).delete()
    if deleted:
        desk_services.record_on_ticket(
            ticket_id=ticket.pk,
            by=by,
            action="article unlinked",
            summary=f"No longer linked to {article.reference}: {article.title}",
        )


def draft_from_ticket(ticket: Ticket) -> dict[str, str]:
    """A new article's title and body from a resolved ticket: the problem as the requester
    described it and the resolution the help desk wrote. Nothing is saved."""
    resolution = ticket.resolution_note.strip() or "(Describe how it was solved.)"
    body = f"## The problem\n\n{ticket.description.strip()}\n\n## The solution\n\n{resolution}\n"
    return {"title": ticket.subject, "body": body}
