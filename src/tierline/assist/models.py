"""Auto-triage: the trained models (one row per training) and the suggestions on tickets; the
likely duplicates of a new ticket and the bursts of similar tickets (possible major incidents)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Target(models.TextChoices):
    """A field of a ticket the assistant predicts."""

    CATEGORY = "category", _("Category")
    TEAM = "team", _("Team")
    PRIORITY = "priority", _("Priority")


class TriageModel(models.Model):
    """One training of the triage models: the file holding them and what they learned from.

    The newest row is the one in use; older files stay until the next training removes them.
    """

    version = models.PositiveIntegerField(_("version"), unique=True)
    trained_at = models.DateTimeField(_("trained"), default=timezone.now)
    path = models.CharField(_("file"), max_length=500)
    examples = models.PositiveIntegerField(_("tickets learned from"), default=0)
    seconds = models.FloatField(_("training time (s)"), default=0)
    # Per target: {"labels": n, "examples": n} or {"skipped": "why"}.
    summary = models.JSONField(_("summary"), default=dict)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("triage model")

    def __str__(self) -> str:
        return f"Triage model v{self.version} ({self.examples} tickets)"


class Suggestion(models.Model):
    """What the assistant predicted for one field of a ticket and what became of it."""

    class State(models.TextChoices):
        PENDING = "pending", _("Suggested")
        APPLIED = "applied", _("Applied")
        DISMISSED = "dismissed", _("Dismissed")

    ticket = models.ForeignKey(
        "desk.Ticket", on_delete=models.CASCADE, related_name="triage_suggestions"
    )
    target = models.CharField(_("field"), max_length=12, choices=Target.choices)
    value = models.PositiveIntegerField(_("value"))  # a category id, a team id, a priority
    label = models.CharField(_("suggested"), max_length=300)
    confidence = models.FloatField(_("confidence"))
    model_version = models.PositiveIntegerField(_("model version"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    auto = models.BooleanField(_("applied by the assistant"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ticket", "target"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "target"], name="assist_one_suggestion_per_field"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_target_display()}: {self.label} ({self.confidence:.0%})"


class GlossaryTerm(models.Model):
    """A piece of IT jargon and a plain alternative, for the plain-language check.

    Matched whole words or phrases, in any case, with a plural; edited in the admin."""

    term = models.CharField(
        _("term"),
        max_length=80,
        help_text=_("The jargon as people write it: a word or a short phrase, e.g. “reboot”."),
    )
    plain = models.CharField(
        _("plain alternative"),
        max_length=200,
        help_text=_("What to write instead, in everyday words."),
    )
    note = models.CharField(
        _("note"),
        max_length=300,
        blank=True,
        help_text=_("Optional: when the term is fine, or how to explain it."),
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Only active terms are flagged.")
    )

    class Meta:
        ordering = [Lower("term")]
        verbose_name = _("glossary term")
        constraints = [
            models.UniqueConstraint(
                Lower("term"),
                name="assist_glossary_term_unique",
                violation_error_message=_("That term is already in the glossary."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.term} → {self.plain}"

    def clean(self) -> None:
        """Spaces tidied; a term needs a letter or digit (a lone "-" would match nothing)."""
        errors = {}
        self.term = " ".join((self.term or "").split())
        self.plain = " ".join((self.plain or "").split())
        self.note = " ".join((self.note or "").split())
        if self.term and not any(c.isalnum() for c in self.term):
            errors["term"] = _("A term needs at least one letter or digit.")
        if errors:
            raise ValidationError(errors)


class DuplicateSuggestion(models.Model):
    """A new ticket that reads like an open one of the same requester: offered for merge.

    Only a suggestion: a technician merges (through the desk's merge service) or dismisses it.
    """

    ticket = models.ForeignKey(
        "desk.Ticket", on_delete=models.CASCADE, related_name="duplicate_suggestions"
    )
    candidate = models.ForeignKey("desk.Ticket", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("similarity"))
    dismissed = models.BooleanField(_("not a duplicate"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ticket", "-score"]
        verbose_name = _("possible duplicate")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "candidate"], name="assist_one_duplicate_per_pair"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} may duplicate {self.candidate_id} ({self.score:.0%})"


class IncidentCluster(models.Model):
    """Similar tickets from different people in a short time: a possible major incident.

    Suggested when found; a technician groups them under one new ticket (accepted) or
    dismisses it. A ticket belongs to one cluster at most (ClusterMember's constraint), so a
    burst is grouped once, not once per ticket.
    """

    class Status(models.TextChoices):
        SUGGESTED = "suggested", _("Suggested")
        ACCEPTED = "accepted", _("Grouped as a major incident")
        DISMISSED = "dismissed", _("Dismissed")

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SUGGESTED
    )
    created_at = models.DateTimeField(_("found"), default=timezone.now)
    # The major incident ticket made when the cluster was accepted.
    parent_ticket = models.ForeignKey(
        "desk.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("possible major incident")
        indexes = [models.Index(fields=["status", "created_at"], name="assist_cluster_status_idx")]

    def __str__(self) -> str:
        return f"Possible major incident #{self.pk} ({self.get_status_display()})"


class ClusterMember(models.Model):
    """One ticket of a cluster, with how alike it reads to the others (mean cosine)."""

    cluster = models.ForeignKey(IncidentCluster, on_delete=models.CASCADE, related_name="members")
    ticket = models.ForeignKey("desk.Ticket", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("similarity"))
    added_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        ordering = ["cluster", "ticket"]
        constraints = [
            models.UniqueConstraint(fields=["ticket"], name="assist_ticket_in_one_cluster")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} in cluster {self.cluster_id}"


class Embedding(models.Model):
    """A resolved ticket's or an article's meaning as the embedding model reads it (384 float32
    numbers, little-endian bytes) and the text it was read from (the keyword side's too).

    Written after commit by the assistant (`assist.answers`); a ticket reopened keeps its row,
    and suggestions only ever show tickets resolved or closed now."""

    class Kind(models.TextChoices):
        TICKET = "ticket", _("Resolved ticket")
        ARTICLE = "article", _("Article")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    object_id = models.PositiveIntegerField(_("ticket or article id"))
    text = models.TextField(_("text read"))
    text_hash = models.CharField(max_length=64)
    vector = models.BinaryField()
    # An article's audience (a ticket's readers are asked of the desk at every suggestion).
    public = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="assist_one_embedding_each")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"


class TriageVector(models.Model):
    """Auto-triage's reading of a ticket's meaning (`embedding.triage_vectors`: 384 float32
    numbers, little-endian bytes), kept so that retraining reads it instead of computing it again.

    Written when the ticket is triaged at arrival, and by training for tickets without one;
    `text_hash` is of the text read and of how the vector was made (`embedding.TRIAGE_VECTOR`):
    a ticket whose text was edited since, or a vector made otherwise, is read again."""

    ticket = models.OneToOneField(
        "desk.Ticket", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    text_hash = models.CharField(max_length=64)
    vector = models.BinaryField()
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"triage vector of ticket {self.ticket_id}"


class Deflection(models.Model):
    """An employee said a suggestion solved their problem before sending a request: no ticket
    was opened. Counted per category in the deflection report."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    category = models.ForeignKey(
        "desk.Category", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    subject = models.CharField(_("subject typed"), max_length=200, blank=True)
    kind = models.CharField(_("solved by"), max_length=8, choices=Embedding.Kind.choices)
    object_id = models.PositiveIntegerField(_("ticket or article id"))
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Self-service: {self.subject or self.kind}"
