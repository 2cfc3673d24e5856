"""The estate: assets (hardware and licences), what the agent found on them, and the agents
that report them. Only `assets.services` and `assets.agent` write these rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AssetType(models.Model):
    """A kind of asset: laptop, desktop, monitor, printer, phone, server, software licence…"""

    name = models.CharField(_("name"), max_length=60, unique=True)
    reported_by_agent = models.BooleanField(
        _("reported by the agent"),
        default=False,
        help_text=_("Assets the endpoint agent creates get the first type with this set."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("asset type")
        verbose_name_plural = _("asset types")

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    """The lifecycle, in order."""

    ORDERED = "ordered", _("Ordered")
    IN_STOCK = "in_stock", _("In stock")
    DEPLOYED = "deployed", _("Deployed")
    IN_REPAIR = "in_repair", _("In repair")
    RETIRED = "retired", _("Retired")
    DISPOSED = "disposed", _("Disposed")


class Asset(models.Model):
    """One thing the help desk looks after. The inventory columns (hostname to security) are
    written by the agent's reports; the rest by people."""

    tag = models.CharField(_("asset tag"), max_length=40, blank=True)
    asset_type = models.ForeignKey(
        AssetType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assets",
        verbose_name=_("type"),
    )
    hostname = models.CharField(_("hostname"), max_length=253, blank=True)
    serial = models.CharField(_("serial number"), max_length=100, blank=True)
    make = models.CharField(_("make"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True)
    supplier = models.CharField(_("supplier"), max_length=100, blank=True)
    purchase_date = models.DateField(_("purchase date"), null=True, blank=True)
    purchase_cost = models.DecimalField(
        _("purchase cost"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    warranty_end = models.DateField(_("warranty ends"), null=True, blank=True)
    location = models.ForeignKey(
        "people.Location",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("location"),
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.IN_STOCK
    )
    needs_review = models.BooleanField(
        _("needs review"),
        default=False,
        help_text=_("Created by an agent report that matched no asset."),
    )
    # What the agent found (the last report that changed something).
    os_name = models.CharField(_("operating system"), max_length=100, blank=True)
    os_version = models.CharField(_("OS version"), max_length=100, blank=True)
    hardware = models.JSONField(_("hardware"), default=dict, blank=True)
    accounts = models.JSONField(_("local accounts"), default=list, blank=True)
    security = models.JSONField(_("security posture"), default=dict, blank=True)
    uptime_seconds = models.PositiveBigIntegerField(_("uptime (seconds)"), null=True, blank=True)
    inventory_at = models.DateTimeField(_("inventory changed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["tag", "hostname", "pk"]
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        constraints = [
            models.UniqueConstraint(
                fields=["tag"], condition=~models.Q(tag=""), name="assets_asset_tag_unique"
            )
        ]
        indexes = [
            models.Index(fields=["serial"], name="assets_asset_serial_idx"),
            models.Index(fields=["hostname"], name="assets_asset_hostname_idx"),
            models.Index(fields=["assigned_to", "status"], name="assets_asset_person_idx"),
        ]

    def __str__(self) -> str:
        return self.tag or self.hostname or self.serial or f"Asset {self.pk}"


class NetworkAddress(models.Model):
    """A MAC address the agent saw on an asset: how a report finds its asset when there is no
    readable serial."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="macs")
    mac = models.CharField(_("MAC address"), max_length=17, db_index=True)

    class Meta:
        ordering = ["mac"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "mac"], name="assets_mac_once_per_asset")
        ]

    def __str__(self) -> str:
        return self.mac


class InstalledSoftware(models.Model):
    """One installed package or application, as the agent last reported it."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="software")
    name = models.CharField(_("name"), max_length=200)
    version = models.CharField(_("version"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=20, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("installed software")
        verbose_name_plural = _("installed software")
        constraints = [
            models.UniqueConstraint(fields=["asset", "name"], name="assets_software_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()


class SoftwareCount(models.Model):
    """How many devices have a package at a version: the estate report's "software by install
    count" reads these (a few thousand rows) instead of grouping every `InstalledSoftware` row.
    Kept by `assets.software_counts` in the same transaction as the software rows change; a
    row that falls to zero stays (the report skips it)."""

    name = models.CharField(_("name"), max_length=200)
    version = models.CharField(_("version"), max_length=100, blank=True)
    installs = models.IntegerField(_("installs"), default=0)

    class Meta:
        verbose_name = _("software install count")
        verbose_name_plural = _("software install counts")
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="assets_software_count_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}: {self.installs}".strip()


class ChangeKind(models.TextChoices):
    """What the agent saw change on a device (`assets.SystemChange.kind`)."""

    INVENTORIED = "inventoried", _("First inventory")
    SOFTWARE_INSTALLED = "software_installed", _("Software installed")
    SOFTWARE_REMOVED = "software_removed", _("Software removed")
    SOFTWARE_UPGRADED = "software_upgraded", _("Software upgraded")
    OS = "os", _("Operating system changed")
    KERNEL = "kernel", _("Kernel changed")
    HOSTNAME = "hostname", _("Hostname changed")
    MEMORY = "memory", _("Memory changed")
    CPU = "cpu", _("CPU changed")
    DISK_ADDED = "disk_added", _("Disk added")
    DISK_REMOVED = "disk_removed", _("Disk removed")
    DISK_RESIZED = "disk_resized", _("Disk resized")
    NIC_ADDED = "nic_added", _("Network interface added")
    NIC_REMOVED = "nic_removed", _("Network interface removed")


class SystemChange(models.Model):
    """One change the agent saw on a device between two reports: the asset's change log.
    Written only by `assets.agent` (never edited); a row per change, so the estate's changes
    can be listed and filtered by kind and time (`/assets/changes/`)."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="system_changes")
    kind = models.CharField(_("kind"), max_length=20, choices=ChangeKind.choices)
    item = models.CharField(_("item"), max_length=200, blank=True)
    before = models.CharField(_("before"), max_length=255, blank=True)
    after = models.CharField(_("after"), max_length=255, blank=True)
    seen_at = models.DateTimeField(_("seen"), default=timezone.now)
    device = models.ForeignKey(
        "AgentDevice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reported by"),
    )
    sequence = models.BigIntegerField(_("report number"), default=0)

    class Meta:
        ordering = ["-seen_at", "-pk"]
        verbose_name = _("system change")
        verbose_name_plural = _("system changes")
        indexes = [
            models.Index(fields=["asset", "-seen_at", "-id"], name="assets_change_asset_idx"),
            models.Index(fields=["-seen_at", "-id"], name="assets_change_seen_idx"),
            models.Index(fields=["kind", "-seen_at", "-id"], name="assets_change_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.kind} {self.item}".strip()


class AssetTicket(models.Model):
    """A ticket about an asset. The assets app owns the link; the desk knows nothing of it."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="ticket_links")
    ticket = models.ForeignKey("desk.Ticket", on_delete=models.CASCADE, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-linked_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "ticket"], name="assets_ticket_link_once")
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} ↔ {self.ticket_id}"


class EnrolmentToken(models.Model):
    """A one-time token an agent swaps for its own credential (`tierline agent-token`).
    Only its SHA-256 is kept."""

    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("starts with"), max_length=12)
    created_at = models.DateTimeField(_("issued"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("agent enrolment token")
        verbose_name_plural = _("agent enrolment tokens")

    def __str__(self) -> str:
        return f"{self.prefix}…"


class AgentDevice(models.Model):
    """One enrolled agent: its credential (SHA-256 only), the last sequence number it sent (a
    report must carry a higher one) and the hash of its last inventory (an unchanged report
    costs one UPDATE of this row)."""

    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("starts with"), max_length=12)
    asset = models.ForeignKey(
        Asset, on_delete=models.SET_NULL, null=True, blank=True, related_name="agents"
    )
    enrolled_at = models.DateTimeField(_("enrolled"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_sequence = models.BigIntegerField(default=0)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    report_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-enrolled_at"]
        verbose_name = _("enrolled agent")
        verbose_name_plural = _("enrolled agents")

    def __str__(self) -> str:
        return f"agent {self.prefix}…"


class Condition(models.TextChoices):
    """What the status board flags on a device (`assets.health`)."""

    DISK_FULL = "disk_full", _("Disk nearly full")
    OFFLINE = "offline", _("Offline too long")
    PENDING_UPDATES = "pending_updates", _("Pending updates")
    FAILED_CHECKS = "failed_checks", _("Failed security checks")


class ConditionRule(models.Model):
    """Whether a health condition opens a ticket by itself (the `assets-health` job). An
    administrator chooses; a condition with no row opens nothing."""

    condition = models.CharField(
        _("condition"), max_length=20, choices=Condition.choices, unique=True
    )
    opens_ticket = models.BooleanField(
        _("opens a ticket"),
        default=False,
        help_text=_(
            "When a device meets this condition the assets user opens one ticket about it, "
            "and resolves it when the condition clears (if no person has taken it)."
        ),
    )

    class Meta:
        ordering = ["condition"]
        verbose_name = _("health condition rule")
        verbose_name_plural = _("health condition rules")

    def __str__(self) -> str:
        return str(Condition(self.condition).label)


class ConditionTicket(models.Model):
    """The ticket a condition opened on an asset: at most one uncleared row per asset and
    condition, which is what keeps the job from opening a second ticket."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="condition_tickets")
    condition = models.CharField(_("condition"), max_length=20, choices=Condition.choices)
    ticket = models.ForeignKey("desk.Ticket", on_delete=models.CASCADE, related_name="+")
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    cleared_at = models.DateTimeField(_("cleared"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name = _("condition ticket")
        verbose_name_plural = _("condition tickets")
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "condition"],
                condition=models.Q(cleared_at__isnull=True),
                name="assets_condition_ticket_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.condition} → {self.ticket_id}"


class ImportBatch(models.Model):
    """An uploaded CSV file, parsed and checked: the preview a person confirms. The rows are
    kept here (not in the page) so a confirmation applies exactly what was previewed."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    rows = models.JSONField(_("rows"), default=list)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    all_or_nothing = models.BooleanField(_("all or nothing"), default=False)
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("asset import")
        verbose_name_plural = _("asset imports")

    def __str__(self) -> str:
        return f"{self.filename or 'import'} ({self.created_at:%Y-%m-%d %H:%M})"


class RelationKind(models.TextChoices):
    """How one asset stands to another, read from the first: "A is installed on B"."""

    INSTALLED_ON = "installed_on", _("is installed on")
    ATTACHED_TO = "attached_to", _("is attached to")
    CONNECTED_TO = "connected_to", _("is connected to")
    PART_OF = "part_of", _("is part of")
    DEPENDS_ON = "depends_on", _("depends on")


class AssetRelation(models.Model):
    """One asset's relation to another (software on a device, a device on a switch, a monitor
    on a desk). Never to itself, never twice; which kinds may form a cycle is
    `services.CYCLES_ALLOWED`. Only `assets.services` writes these rows."""

    from_asset = models.ForeignKey(
        Asset, on_delete=models.CASCADE, related_name="relations_out", verbose_name=_("asset")
    )
    to_asset = models.ForeignKey(
        Asset, on_delete=models.CASCADE, related_name="relations_in", verbose_name=_("related to")
    )
    kind = models.CharField(_("relation"), max_length=20, choices=RelationKind.choices)
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["kind", "pk"]
        verbose_name = _("asset relation")
        verbose_name_plural = _("asset relations")
        constraints = [
            models.UniqueConstraint(
                fields=["from_asset", "to_asset", "kind"], name="assets_relation_once"
            ),
            models.CheckConstraint(
                condition=~models.Q(from_asset=models.F("to_asset")),
                name="assets_relation_not_to_itself",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_asset} {self.get_kind_display()} {self.to_asset}"


class DiagnosticKind(models.TextChoices):
    """The allow-list: each kind is one function in the agent (`tierline_agent.diagnostics`),
    never a command the server sends."""

    DISK_USAGE = "disk_usage", _("Disk usage")
    PING = "ping", _("Reachability: ping")
    DNS = "dns", _("Reachability: DNS lookup")
    HTTP = "http", _("Reachability: HTTP GET")
    NETWORK = "network", _("Network configuration")
    TOP_PROCESSES = "top_processes", _("Top processes")


class DiagnosticState(models.TextChoices):
    PENDING = "pending", _("Waiting for the agent")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed on the device")
    # No answer within DIAGNOSTIC_TTL: marked by the `assets-health` job, the row kept.
    EXPIRED = "expired", _("Expired")


class DiagnosticRequest(models.Model):
    """A technician's request that an asset's agent run one allow-listed diagnostic, and its
    result. Only `assets.diagnostics` writes these rows."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="diagnostics")
    ticket = models.ForeignKey(
        "desk.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("diagnostic"), max_length=20, choices=DiagnosticKind.choices)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=DiagnosticState.choices,
        default=DiagnosticState.PENDING,
    )
    answered_by = models.ForeignKey(
        AgentDevice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("diagnostic request")
        verbose_name_plural = _("diagnostic requests")
        indexes = [models.Index(fields=["asset", "state"], name="assets_diagnostic_pending_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.asset_id} ({self.state})"

    @property
    def expired(self) -> bool:
        """Expired: marked so by the job, or still pending past its time (not yet swept)."""
        return self.state == DiagnosticState.EXPIRED or (
            self.state == DiagnosticState.PENDING and self.expires_at <= timezone.now()
        )


# The security checks' models live in their own module (assets.compliance_models).
from tierline.assets.compliance_models import (  # noqa: E402, F401
    ApprovedAccount,
    ComplianceSnapshot,
    ComplianceState,
    PolicyResult,
    SecurityPolicy,
    SupportedOS,
)
