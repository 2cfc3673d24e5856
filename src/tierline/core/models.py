"""Shared building blocks: the append-only history every app writes to, and the state of
periodic jobs."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class HistoryEntry(models.Model):
    """One recorded change: who did what to which record, and the field's old and new value.

    Rows are only ever added. A ticket that is merged or marked as spam keeps its trail.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    created_at = models.DateTimeField(_("when"), db_index=True)
    action = models.CharField(_("action"), max_length=40)
    field = models.CharField(_("field"), max_length=60, blank=True)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)
    summary = models.TextField(_("summary"), blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["content_type", "object_id", "created_at"], name="history_target_idx"
            )
        ]
        verbose_name = _("history entry")
        verbose_name_plural = _("history entries")

    def __str__(self) -> str:
        if self.field:
            return f"{self.action}: {self.field} {self.old_value!r} -> {self.new_value!r}"
        return self.action


class ScheduledJob(models.Model):
    """The shared state of one periodic job (`core.scheduler`): when it is next due, and which
    scheduler holds it now.

    Every scheduler on every machine reads these rows; the one whose conditional UPDATE takes the
    lease runs the job. A lease that ran out (`leased_until` past) belonged to a runner that died.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    schedule = models.CharField(_("schedule"), max_length=200, blank=True)
    next_run_at = models.DateTimeField(_("next run"))
    leased_by = models.CharField(_("leased by"), max_length=200, blank=True)
    leased_until = models.DateTimeField(_("leased until"), null=True, blank=True)
    last_started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")

    def __str__(self) -> str:
        return f"{self.name} ({self.schedule})" if self.schedule else self.name


class ApiToken(models.Model):
    """A key a script signs in to the API with (`Authorization: Token <key>`).

    Only the key's SHA-256 digest is stored: the key is shown once, when it is issued
    (`tierline token USER`), and a copy of the database signs no one in. A token can expire and
    be revoked (from the person's page in Configuration); both are kept, for the record.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("person"),
    )
    name = models.CharField(_("name"), max_length=60, blank=True)
    prefix = models.CharField(
        _("starts with"),
        max_length=12,
        help_text=_("The key's first characters, to tell it apart."),
    )
    digest = models.CharField(_("SHA-256 of the key"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("issued"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name}".strip()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )


class IdempotencyKey(models.Model):
    """A one-time key and the answer its request got: a request sent twice is answered twice
    but done once (an `Idempotency-Key` header on the API, a form token on the "new ticket"
    forms). Kept `core.idempotency.KEEP` (24 hours); a scheduled job deletes older ones."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(_("scope"), max_length=200)
    key = models.CharField(_("key"), max_length=255)
    fingerprint = models.CharField(_("fingerprint of the request"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    response = models.JSONField(_("response"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "scope", "key"], name="core_idempotency_key_once_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
