"""Reading the knowledge base: who reads what, the lists the pages show, counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from tierline.core.articles import ArticleText
from tierline.core.inputs import parse_id
from tierline.knowledge.models import Article, ArticleVersion, Audience, Category, TicketLink

# "Due for review" lists what is overdue and what falls due within this many days.
REVIEW_HORIZON_DAYS = 14


def can_write(user: Any) -> bool:
    """Write, edit, restore and link articles: the help desk (technicians, leads, admins)."""
    return bool(user.is_authenticated and getattr(user, "is_staff_member", False))


def readable_articles(user: Any) -> QuerySet[Article]:
    """Every article the user may read: the help desk reads all, anyone else the public ones."""
    articles = Article.objects.select_related("category")
    if can_write(user):
        return articles
    return articles.filter(audience=Audience.PUBLIC)


def can_read(user: Any, article: Article) -> bool:
    return can_write(user) or (user.is_authenticated and article.audience == Audience.PUBLIC)


def article_for(user: Any, pk: Any) -> Article:
    """The article with this id if the user may read it; a 404 otherwise (an internal article's
    existence is not told to a requester)."""
    article_id = parse_id(pk)
    article = None
    if article_id is not None:
        articles = readable_articles(user).select_related("updated_by", "source_ticket")
        article = articles.filter(pk=article_id).first()
    if article is None:
        raise Http404("No such article.")
    return article


def article_list(
    user: Any,
    *,
    category_id: int | None = None,
    audience: str = "",
    words: str = "",
    due_for_review: bool = False,
    today: date | None = None,
) -> QuerySet[Article]:
    """The technicians' list, filtered. `words` matches the title and body (every word, in
    any order); the search index (knowledge/search*) replaces it when it lands."""
    articles = readable_articles(user)
    if category_id:
        articles = articles.filter(category_id=category_id)
    if audience in Audience.values:
        articles = articles.filter(audience=audience)
    for word in words.split()[:10]:
        articles = articles.filter(Q(title__icontains=word) | Q(body__icontains=word))
    if due_for_review:
        horizon = (today or timezone.localdate()) + timedelta(days=REVIEW_HORIZON_DAYS)
        articles = articles.filter(review_by__lte=horizon).order_by("review_by", "id")
    return articles


def public_shelves(user: Any) -> list[tuple[Category | None, list[Article]]]:
    """Public articles by category, for the portal's help page: categories by name, the
    uncategorised last."""
    shelves: dict[int | None, list[Article]] = {}
    categories: dict[int | None, Category | None] = {None: None}
    for article in (
        readable_articles(user)
        .filter(audience=Audience.PUBLIC)
        .order_by("category__name", "title", "id")
    ):
        shelves.setdefault(article.category_id, []).append(article)
        categories[article.category_id] = article.category
    ordered = sorted(shelves, key=lambda key: (key is None, categories[key].name if key else ""))
    return [(categories[key], shelves[key]) for key in ordered]


@dataclass(frozen=True)
class FeedbackCounts:
    helped: int
    did_not_help: int
    mine: bool | None  # the reader's own answer, None when they gave none

    @property
    def total(self) -> int:
        return self.helped + self.did_not_help


def feedback_counts(article: Article, user: Any) -> FeedbackCounts:
    """How many said the article helped and how many said it did not, in one query."""
    counts = article.feedback.aggregate(
        helped=Count("id", filter=Q(helpful=True)),
        did_not_help=Count("id", filter=Q(helpful=False)),
    )
    mine = None
    if user.is_authenticated:
        mine = article.feedback.filter(person=user).values_list("helpful", flat=True).first()
    return FeedbackCounts(counts["helped"], counts["did_not_help"], mine)


def versions_of(article: Article) -> QuerySet[ArticleVersion]:
    """Every saved version, newest first."""
    return article.versions.select_related("saved_by").order_by("-number")


def version_of(article: Article, number: Any) -> ArticleVersion:
    wanted = parse_id(number)
    version = versions_of(article).filter(number=wanted).first() if wanted else None
    if version is None:
        raise Http404("No such version.")
    return version


def linked_articles(ticket_id: int) -> list[TicketLink]:
    """The articles a ticket was solved with, oldest link first, with the article loaded."""
    return list(
        TicketLink.objects.filter(ticket_id=ticket_id)
        .select_related("article", "linked_by")
        .order_by("linked_at", "id")
    )


def linked_ticket_count(article: Article) -> int:
    return article.ticket_links.count()


def categories() -> QuerySet[Category]:
    return Category.objects.order_by("name")


def article_texts(ids: Sequence[int] | None) -> list[ArticleText]:
    """The articles' text for other apps (the `core.articles` source): all when `ids` is None."""
    rows = Article.objects.order_by("pk")
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return [
        ArticleText(
            id=a.pk,
            reference=a.reference,
            title=a.title,
            body=a.body,
            is_public=a.is_public,
            desk_url=reverse("knowledge:article", args=[a.pk]),
            portal_url=reverse("portal:help_article", args=[a.pk]) if a.is_public else "",
        )
        for a in rows.only("pk", "title", "body", "audience")
    ]
