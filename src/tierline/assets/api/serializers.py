"""What the assets API shows, and the strict shape of an agent's report."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from tierline.assets.models import Asset, SystemChange
from tierline.core.text import accepts_plain_text

MAX_SOFTWARE = 20_000
MAX_DISKS = 64
MAX_NICS = 64
MAX_ADDRESSES = 32
MAX_ACCOUNTS = 2_000
SOFTWARE_SOURCES = ["dpkg", "rpm", "registry", "macos-app", "other"]
MAC = r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$"


class AssetSerializer(serializers.ModelSerializer):
    asset_type = serializers.CharField(source="asset_type.name", read_only=True, default="")
    location = serializers.CharField(source="location.name", read_only=True, default="")
    assigned_to = serializers.CharField(source="assigned_to.username", read_only=True, default="")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Asset
        fields = [
            "id",
            "tag",
            "asset_type",
            "hostname",
            "serial",
            "make",
            "model",
            "status",
            "needs_review",
            "location",
            "assigned_to",
            "os_name",
            "os_version",
            "inventory_at",
            "url",
        ]
        read_only_fields = fields

    def get_url(self, asset: Asset) -> str:
        return f"/assets/{asset.pk}/"


class SystemChangeSerializer(serializers.ModelSerializer):
    """One row of the change log: what the agent saw change on a device, as a person reads it
    ("16 GiB" -> "32 GiB"), and the report that carried it."""

    asset_tag = serializers.CharField(source="asset.tag", read_only=True)
    asset_hostname = serializers.CharField(source="asset.hostname", read_only=True)
    asset_url = serializers.SerializerMethodField()

    class Meta:
        model = SystemChange
        fields = [
            "id",
            "asset",
            "asset_tag",
            "asset_hostname",
            "asset_url",
            "kind",
            "item",
            "before",
            "after",
            "seen_at",
            "sequence",
        ]
        read_only_fields = fields

    def get_asset_url(self, change: SystemChange) -> str:
        return f"/assets/{change.asset_id}/"


@accepts_plain_text()
class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not know: a report says exactly what the schema says."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                shown = ", ".join(str(k)[:40] for k in unknown[:5])
                raise serializers.ValidationError(
                    {"non_field_errors": [f"Unknown fields: {shown}."]}
                )
        return super().to_internal_value(data)


def text(max_length: int, *, required: bool = False) -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length,
        required=required,
        allow_blank=not required,
        default="" if not required else serializers.empty,
    )


def count(maximum: int = 2**62) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=maximum, required=False, allow_null=True)


class OsSerializer(StrictSerializer):
    name = text(100)
    version = text(100)
    kernel = text(100)


class CpuSerializer(StrictSerializer):
    model = text(200)
    cores = count(65_536)
    logical = count(65_536)


class DiskSerializer(StrictSerializer):
    mount = text(255, required=True)
    device = text(255)
    fs = text(40)
    total_bytes = count()
    free_bytes = count()


class NicSerializer(StrictSerializer):
    name = text(64, required=True)
    mac = serializers.RegexField(MAC, required=False, allow_blank=True, default="")
    addresses = serializers.ListField(
        child=text(64, required=True), max_length=MAX_ADDRESSES, required=False, default=list
    )


# What `core.text.normalise_text` refuses on one line: control characters (tab excepted) and
# unpaired surrogates (Unicode categories Cc and Cs).
_REFUSED = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")
_SOFTWARE_KEYS = frozenset(("name", "version", "source"))
_SOURCES = frozenset(SOFTWARE_SOURCES)


class SoftwareList(serializers.ListSerializer):
    """The software list: 1,500 rows of three fields each took DRF about 60 ms to validate
    field by field. A row of plain strings within the rules is taken in one loop, giving what
    SoftwareSerializer would give (text stripped, defaults filled); at the first row that is
    anything else, the whole list goes through SoftwareSerializer, for its exact errors."""

    def to_internal_value(self, data: Any) -> Any:
        rows = _plain_software(data)
        if rows is None:
            return super().to_internal_value(data)
        return rows


def _plain_software(data: Any) -> list[dict[str, str]] | None:
    """The rows as SoftwareSerializer would return them, or None when any row needs its full
    check (a refusal, or a value that is not a plain string)."""
    if not isinstance(data, list) or len(data) > MAX_SOFTWARE:
        return None
    rows = []
    search = _REFUSED.search
    for row in data:
        if type(row) is not dict or not row.keys() <= _SOFTWARE_KEYS:
            return None
        name, version, source = row.get("name"), row.get("version", ""), row.get("source")
        if type(name) is not str or type(version) is not str:
            return None
        name, version = name.strip(), version.strip()
        if not name or len(name) > 200 or len(version) > 100 or search(name) or search(version):
            return None
        if source is None:
            if "source" in row:
                return None
            source = "other"
        elif source not in _SOURCES or type(source) is not str:
            return None
        rows.append({"name": name, "version": version, "source": source})
    return rows


class SoftwareSerializer(StrictSerializer):
    name = text(200, required=True)
    version = text(100)
    source = serializers.ChoiceField(choices=SOFTWARE_SOURCES, required=False, default="other")

    class Meta:
        list_serializer_class = SoftwareList


class AccountSerializer(StrictSerializer):
    name = text(100, required=True)
    admin = serializers.BooleanField(required=False, default=False)


ON_OFF = ["on", "off", "unknown"]


class SecuritySerializer(StrictSerializer):
    firewall = serializers.ChoiceField(choices=ON_OFF, required=False, default="unknown")
    disk_encryption = serializers.ChoiceField(choices=ON_OFF, required=False, default="unknown")
    antivirus = serializers.ChoiceField(choices=ON_OFF, required=False, default="unknown")
    screen_lock = serializers.ChoiceField(choices=ON_OFF, required=False, default="unknown")
    pending_updates = count(1_000_000)
    last_update_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate_last_update_at(self, value: datetime | None) -> str | None:
        """When updates were last applied, as the agent's platform tells: not in the future
        (a day's clock skew allowed), not before 1990; kept as ISO 8601 text."""
        if value is None:
            return None
        if value > timezone.now() + timedelta(days=1):
            raise serializers.ValidationError("The last update time is in the future.")
        if value.year < 1990:
            raise serializers.ValidationError("The last update time is before 1990.")
        return value.isoformat()


class EnvelopeSerializer(serializers.Serializer):
    """What an unchanged report is checked for: its inventory was validated when first sent."""

    sequence = serializers.IntegerField(min_value=1, max_value=2**62)
    sent_at = serializers.DateTimeField()


class UnchangedReportSerializer(StrictSerializer):
    """A report that says "same inventory as my last one": the hash the server answered then."""

    sequence = serializers.IntegerField(min_value=1, max_value=2**62)
    sent_at = serializers.DateTimeField()
    inventory_hash = serializers.RegexField(r"^[0-9a-f]{64}$")
    uptime_seconds = count()


class ReportSerializer(StrictSerializer):
    """One inventory report. `sequence` goes up with every report of a device and `sent_at` is
    the agent's clock (within REPORT_WINDOW of ours): a copied report is refused."""

    sequence = serializers.IntegerField(min_value=1, max_value=2**62)
    sent_at = serializers.DateTimeField()
    agent_version = text(40)
    hostname = text(253, required=True)
    serial = text(100)
    make = text(100)
    model = text(100)
    os = OsSerializer(required=False)
    uptime_seconds = count()
    cpu = CpuSerializer(required=False)
    memory_bytes = count()
    disks = DiskSerializer(many=True, required=False, max_length=MAX_DISKS)
    nics = NicSerializer(many=True, required=False, max_length=MAX_NICS)
    software = SoftwareSerializer(many=True, required=False, max_length=MAX_SOFTWARE)
    accounts = AccountSerializer(many=True, required=False, max_length=MAX_ACCOUNTS)
    security = SecuritySerializer(required=False)

    def validate_software(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        names = [row["name"] for row in value]
        if len(set(names)) != len(names):
            seen: set[str] = set()
            twice = next(n for n in names if n in seen or seen.add(n))  # type: ignore[func-returns-value]
            raise serializers.ValidationError(f"The package “{twice[:60]}” is listed twice.")
        return value


class EnrolSerializer(StrictSerializer):
    token = serializers.CharField(max_length=64, min_length=8)


class EnrolledSerializer(serializers.Serializer):
    credential = serializers.CharField(read_only=True)
    report_url = serializers.CharField(read_only=True)


class ReportOutcomeSerializer(serializers.Serializer):
    asset_id = serializers.IntegerField(read_only=True)
    inventory_hash = serializers.CharField(read_only=True)
    changed = serializers.BooleanField(read_only=True)
    created = serializers.BooleanField(read_only=True)
    installed = serializers.IntegerField(read_only=True)
    removed = serializers.IntegerField(read_only=True)
    upgraded = serializers.IntegerField(read_only=True)
