"""Change records: a change request, who must approve it, and what it touches (tickets and
assets). Only `changes.services` writes these rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    STANDARD = "standard", _("Standard")  # pre-approved: a known, low-risk routine
    NORMAL = "normal", _("Normal")  # every named approver must approve
    EMERGENCY = "emergency", _("Emergency")  # may be implemented first, with the reason why


class Risk(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SCHEDULED = "scheduled", _("Scheduled")
    IN_PROGRESS = "in_progress", _("In progress")
    IMPLEMENTED = "implemented", _("Implemented")
    FAILED = "failed", _("Failed")
    ROLLED_BACK = "rolled_back", _("Rolled back")
    CANCELLED = "cancelled", _("Cancelled")


class Decision(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ChangeRequest(models.Model):
    """A planned change to the estate, from its draft to its result."""

    number = models.CharField(_("number"), max_length=20, unique=True, null=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.NORMAL)
    risk = models.CharField(_("risk"), max_length=20, choices=Risk.choices, default=Risk.MEDIUM)
    impact = models.TextField(_("impact"), blank=True)
    plan = models.TextField(_("plan"), blank=True)
    rollback_plan = models.TextField(_("rollback plan"), blank=True)
    window_start = models.DateTimeField(_("window starts"), null=True, blank=True)
    window_end = models.DateTimeField(_("window ends"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("implementer"),
    )
    emergency_reason = models.TextField(_("why before approval"), blank=True)
    result = models.TextField(_("implementation result"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        indexes = [
            models.Index(fields=["status", "-created_at"], name="changes_status_created"),
            models.Index(fields=["window_start", "window_end"], name="changes_window"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_start__isnull=True)
                | models.Q(window_end__isnull=True)
                | models.Q(window_end__gt=models.F("window_start")),
                name="changes_window_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number or f'CHG #{self.pk}'} {self.title}"


class ChangeApproval(models.Model):
    """One named approver's decision on a change."""

    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(
        _("decision"), max_length=20, choices=Decision.choices, default=Decision.PENDING
    )
    comment = models.TextField(_("comment"), blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        constraints = [
            models.UniqueConstraint(fields=["change", "approver"], name="changes_approver_once")
        ]

    def __str__(self) -> str:
        return f"{self.change_id}: {self.approver_id} {self.decision}"


class ChangeTicket(models.Model):
    """A ticket a change answers or touches. The changes app owns the link."""

    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="ticket_links")
    ticket = models.ForeignKey("desk.Ticket", on_delete=models.CASCADE, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-linked_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["change", "ticket"], name="changes_ticket_link_once")
        ]

    def __str__(self) -> str:
        return f"{self.change_id} ↔ {self.ticket_id}"


class ChangeAsset(models.Model):
    """An asset a change touches, by id: the changes app may not import the assets app (they
    are both domain apps), so the link is a plain integer, not a foreign key."""

    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="asset_links")
    asset_id = models.PositiveIntegerField(_("asset id"), db_index=True)
    linked_at = models.DateTimeField(default=timezone.now)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["asset_id"]
        constraints = [
            models.UniqueConstraint(fields=["change", "asset_id"], name="changes_asset_link_once")
        ]

    def __str__(self) -> str:
        return f"{self.change_id} ↔ asset {self.asset_id}"
