"""Knowledge base articles: written in Markdown, public (the portal) or internal (the help desk),
every save kept as a version, read with "did this help?" feedback and linked from tickets."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TITLE_MAX = 200
# About 40 printed pages: longer is not an article, and a huge body would slow every page.
BODY_MAX = 100_000


class Audience(models.TextChoices):
    PUBLIC = "public", _("Public: employees read it in the portal")
    INTERNAL = "internal", _("Internal: the help desk only")


class Category(models.Model):
    """A shelf of the knowledge base ("Printing", "Accounts and passwords")."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("article category")
        verbose_name_plural = _("article categories")

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    """One article as it reads now; its earlier states are its `versions`."""

    title = models.CharField(_("title"), max_length=TITLE_MAX)
    body = models.TextField(_("body (Markdown)"), max_length=BODY_MAX)
    category = models.ForeignKey(
        Category,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("category"),
    )
    audience = models.CharField(
        _("who may read it"), max_length=10, choices=Audience.choices, default=Audience.INTERNAL
    )
    review_by = models.DateField(_("review by"), null=True, blank=True)
    # Raised by every save; an edit carries the version its page showed (a stale one is refused).
    version = models.PositiveIntegerField(default=1, editable=False)
    source_ticket = models.ForeignKey(
        "desk.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("article")
        indexes = [
            models.Index(fields=["audience", "category", "title"], name="article_shelf_idx"),
            models.Index(fields=["review_by", "id"], name="article_review_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"KB-{self.pk}"

    @property
    def is_public(self) -> bool:
        return self.audience == Audience.PUBLIC


class ArticleVersion(models.Model):
    """What an article said after one save. The newest version is the article as it is now;
    restoring an old one saves it again as a new version, so nothing is ever lost."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField(max_length=BODY_MAX)
    category_name = models.CharField(max_length=80, blank=True)
    audience = models.CharField(max_length=10, choices=Audience.choices)
    review_by = models.DateField(null=True, blank=True)
    note = models.CharField(_("what changed"), max_length=200, blank=True)
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="article_version_unique")
        ]

    def __str__(self) -> str:
        return f"KB-{self.article_id} version {self.number}"


class Feedback(models.Model):
    """One person's answer to "did this help?" for one article; answering again changes it."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    helpful = models.BooleanField()
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-answered_at"]
        verbose_name_plural = _("feedback")
        constraints = [
            models.UniqueConstraint(fields=["article", "person"], name="feedback_one_per_person")
        ]

    def __str__(self) -> str:
        return f"KB-{self.article_id}: {'helped' if self.helpful else 'did not help'}"


class TicketLink(models.Model):
    """ "Solved with this article": a ticket and an article that answered it."""

    ticket = models.ForeignKey("desk.Ticket", on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="ticket_links")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["linked_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "article"], name="ticket_article_link_unique")
        ]
        indexes = [models.Index(fields=["article", "linked_at"], name="article_links_idx")]

    def __str__(self) -> str:
        return f"ticket {self.ticket_id} solved with KB-{self.article_id}"


# The search index's models live in models_search.py (the search helper's), guided
# troubleshooting's in models_guides.py; joined here.
from tierline.knowledge.models_guides import (  # noqa: E402, F401
    Guide,
    GuideAnswer,
    GuideRun,
    GuideStep,
)
from tierline.knowledge.models_search import SearchDocument  # noqa: E402, F401
