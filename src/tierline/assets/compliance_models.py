"""Security checks: the policies an administrator sets, the supported operating systems and
approved administrator accounts they read, each device's result per policy, and a daily
snapshot per department for the trend. Only `assets.compliance` writes the results and
snapshots; the admin edits the rest. Imported at the end of `assets.models`."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PolicyKind(models.TextChoices):
    FIREWALL = "firewall", _("Firewall on")
    DISK_ENCRYPTION = "disk_encryption", _("Disk encrypted")
    ANTIVIRUS = "antivirus", _("Antivirus on")
    SCREEN_LOCK = "screen_lock", _("Screen lock on")
    OS_SUPPORTED = "os_supported", _("OS still supported")
    UPDATES = "updates", _("Updates applied within N days")
    ADMIN_ACCOUNTS = "admin_accounts", _("No unapproved admin accounts")
    BANNED_SOFTWARE = "banned_software", _("No banned software")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class Outcome(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    UNKNOWN = "unknown", _("Unknown")


class SecurityPolicy(models.Model):
    """One security check. Applies to every device, or only to the chosen asset types and
    departments (the assigned person's)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("check"), max_length=20, choices=PolicyKind.choices)
    enabled = models.BooleanField(_("on"), default=True)
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM
    )
    asset_types = models.ManyToManyField(
        "assets.AssetType",
        blank=True,
        related_name="+",
        verbose_name=_("asset types"),
        help_text=_("Only devices of these types; none chosen: every type."),
    )
    departments = models.ManyToManyField(
        "people.Department",
        blank=True,
        related_name="+",
        verbose_name=_("departments"),
        help_text=_("Only devices assigned to people of these departments; none chosen: all."),
    )
    max_days = models.PositiveIntegerField(
        _("days"),
        null=True,
        blank=True,
        help_text=_("Updates applied within N days: N (1 to 3650)."),
    )
    banned = models.TextField(
        _("banned software"),
        blank=True,
        help_text=_(
            "No banned software: one package name per line; * matches any characters and ? "
            "one (e.g. teamviewer*). Any case."
        ),
    )
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("security policy")
        verbose_name_plural = _("security policies")

    def __str__(self) -> str:
        return self.name


class SupportedOS(models.Model):
    """An operating system release and the day its vendor's support ends. A device's OS
    matches when its name starts with `name` (any case) and its version lies between the two
    versions (compared number by number; `12` covers 12.4)."""

    name = models.CharField(_("OS name"), max_length=100)
    version_from = models.CharField(_("from version"), max_length=40)
    version_to = models.CharField(_("to version"), max_length=40)
    label = models.CharField(_("release"), max_length=100)
    ends_on = models.DateField(_("support ends"))
    note = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        ordering = ["name", "version_from"]
        verbose_name = _("supported operating system")
        verbose_name_plural = _("supported operating systems")

    def __str__(self) -> str:
        return self.label


class ApprovedAccount(models.Model):
    """An administrator account allowed on devices: everywhere, or only on one asset type or
    for one department."""

    name = models.CharField(
        _("account"),
        max_length=100,
        help_text=_("A local account name; * matches any characters (e.g. admin-*). Any case."),
    )
    asset_type = models.ForeignKey(
        "assets.AssetType",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only on type"),
    )
    department = models.ForeignKey(
        "people.Department",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only for department"),
    )

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("approved admin account")
        verbose_name_plural = _("approved admin accounts")

    def __str__(self) -> str:
        return self.name


class PolicyResult(models.Model):
    """A device's current result for one policy, with the reason in plain words."""

    asset = models.ForeignKey("assets.Asset", on_delete=models.CASCADE, related_name="checks")
    policy = models.ForeignKey(SecurityPolicy, on_delete=models.CASCADE, related_name="results")
    outcome = models.CharField(_("result"), max_length=10, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=500)
    checked_at = models.DateTimeField(_("checked"), default=timezone.now)
    since = models.DateTimeField(_("result since"), default=timezone.now)

    class Meta:
        ordering = ["policy__name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "policy"], name="assets_result_once")
        ]
        indexes = [models.Index(fields=["policy", "outcome"], name="assets_result_outcome_idx")]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.policy_id} {self.outcome}"


class ComplianceSnapshot(models.Model):
    """One day's counts for one department (null: devices with no department) and one
    policy (null: the devices that passed every policy that applies): the trend. The job
    replaces the day's rows whole, in one transaction."""

    day = models.DateField(_("day"))
    department = models.ForeignKey(
        "people.Department", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    policy = models.ForeignKey(
        SecurityPolicy, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    devices = models.PositiveIntegerField(default=0)
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "pk"]
        indexes = [models.Index(fields=["day"], name="assets_snapshot_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.department_id} {self.policy_id}"


class ComplianceState(models.Model):
    """One row: when the policies last changed and when every device was last evaluated
    against them (the job evaluates again when the first is newer, or a day has passed)."""

    policies_changed_at = models.DateTimeField(default=timezone.now)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"policies changed {self.policies_changed_at:%Y-%m-%d %H:%M}"
