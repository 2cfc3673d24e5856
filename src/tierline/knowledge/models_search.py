"""The search index: one row per thing a person can find (a ticket, a reply or note, a person,
a knowledge base article).

The row holds the text as it was when indexed (`title`, `body`) and what visibility needs
(`ticket_id`, `internal`). The full-text structures sit beside it, created by the migration
for each database (see knowledge/search/backends.py): on SQLite an FTS5 table kept in step by
triggers, on PostgreSQL a generated tsvector column with a GIN index. Only the knowledge app
writes these rows (knowledge/search/index.py), after the desk's transactions commit.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SearchDocument(models.Model):
    """What the search finds, in one table so one query ranks every kind together."""

    class Kind(models.TextChoices):
        TICKET = "ticket", _("Ticket")
        MESSAGE = "message", _("Reply or note")
        PERSON = "person", _("Person")
        ARTICLE = "article", _("Article")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    object_id = models.BigIntegerField(_("object id"))
    # The ticket a ticket or message document belongs to; null for people.
    ticket_id = models.BigIntegerField(null=True, blank=True)
    # An internal note: matched only for those who read its ticket as a technician; an
    # internal article: only by the help desk.
    internal = models.BooleanField(default=False)
    title = models.CharField(_("title"), max_length=400)
    body = models.TextField(_("text"), blank=True)
    indexed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "object_id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="searchdoc_kind_object_uniq")
        ]
        indexes = [models.Index(fields=["ticket_id"], name="searchdoc_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}: {self.title[:60]}"


class SearchWord(models.Model):
    """A word the index holds (as written, lower case), for "did you mean": a typed word the
    index lacks is matched to its nearest (knowledge/search/words.py). On PostgreSQL a trigram
    index (pg_trgm) serves the nearest words, when the extension could be created."""

    word = models.CharField(_("word"), max_length=40, unique=True)

    def __str__(self) -> str:
        return self.word
