"""Asset types and assets in Configuration. People's edits go through `assets.services`, so
each changed field is one history entry; the agent's columns are shown, not edited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tierline.assets import compliance, relations, services
from tierline.assets.compliance_models import PolicyKind
from tierline.assets.models import (
    AgentDevice,
    ApprovedAccount,
    Asset,
    AssetRelation,
    AssetType,
    ConditionRule,
    ConditionTicket,
    DiagnosticRequest,
    SecurityPolicy,
    Status,
    SupportedOS,
    SystemChange,
)
from tierline.assets.tasks import evaluate_compliance
from tierline.core.admin import ReadOnlyAdmin
from tierline.core.inputs import parse_id
from tierline.core.text import normalise_text


@admin.register(AssetType)
class AssetTypeAdmin(admin.ModelAdmin):
    section = "Assets"
    list_display = ["name", "reported_by_agent"]


class AssetForm(forms.ModelForm):
    """Typed text is refused here, next to its field, for what the service would refuse (the
    admin builds its own form class from this one, so the check is in clean_*, not validators)."""

    class Meta:
        model = Asset
        fields = [*services.EDITABLE, "needs_review"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name in services.TEXT_FIELDS:
            value = cleaned.get(name)
            if isinstance(value, str):
                label = str(Asset._meta.get_field(name).verbose_name).capitalize()
                try:
                    normalise_text(value, label=label, multiline=False)
                except ValidationError as error:
                    self.add_error(name, error)
        return cleaned


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    section = "Assets"
    form = AssetForm
    list_display = ["__str__", "asset_type", "hostname", "serial", "status", "needs_review"]
    list_filter = ["asset_type", "status", "needs_review"]
    search_fields = ["tag", "hostname", "serial"]
    fields = [*services.EDITABLE, "status", "needs_review"]
    readonly_fields = ["status"]

    def save_model(self, request: Any, obj: Asset, form: Any, change: bool) -> None:
        values = {name: form.cleaned_data.get(name) for name in services.EDITABLE}
        values = {
            k: ("" if v is None and k in services.TEXT_FIELDS else v) for k, v in values.items()
        }
        try:
            if change:
                asset = Asset.objects.get(pk=obj.pk)
                services.update_asset(asset=asset, by=request.user, **values)
                if asset.needs_review != form.cleaned_data.get("needs_review"):
                    services.set_needs_review(
                        asset=asset,
                        value=bool(form.cleaned_data.get("needs_review")),
                        by=request.user,
                    )
            else:
                created = services.create_asset(by=request.user, status=Status.IN_STOCK, **values)
                obj.pk = created.pk
        except services.AssetError as error:
            messages.error(request, str(error))


@admin.register(AgentDevice)
class AgentDeviceAdmin(admin.ModelAdmin):
    section = "Assets"
    list_display = ["__str__", "asset", "enrolled_at", "last_seen_at", "revoked_at"]
    readonly_fields = [
        "prefix",
        "asset",
        "enrolled_at",
        "last_seen_at",
        "last_sequence",
        "revoked_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request: Any) -> bool:
        return False


@admin.register(ConditionRule)
class ConditionRuleAdmin(admin.ModelAdmin):
    """Which health conditions of the status board open a ticket by themselves."""

    section = "Assets"
    list_display = ["condition", "opens_ticket"]
    list_editable = ["opens_ticket"]


@admin.register(ConditionTicket)
class ConditionTicketAdmin(admin.ModelAdmin):
    """The tickets the health job opened (read only: the job keeps them)."""

    section = "Assets"
    list_display = ["asset", "condition", "ticket", "opened_at", "cleared_at"]
    list_filter = ["condition"]
    readonly_fields = ["asset", "condition", "ticket", "opened_at", "cleared_at"]
    fields = readonly_fields

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


# ---- security checks (assets.compliance) ------------------------------------------------------


def _policies_changed() -> None:
    """Mark the change (in the admin's transaction) and queue the job that evaluates every
    device again, after the commit: compliance itself imports no task."""
    compliance.policies_changed()
    transaction.on_commit(evaluate_compliance.enqueue)


class _ChangesPolicies:
    """Any saved or deleted row here changes what the checks say: the compliance job
    evaluates every device again after the commit."""

    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        _policies_changed()

    def delete_model(self, request: Any, obj: Any) -> None:
        super().delete_model(request, obj)  # type: ignore[misc]
        _policies_changed()

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        _policies_changed()


def _text_errors(form: forms.ModelForm, names: tuple[str, ...], cleaned: dict[str, Any]) -> None:
    for name in names:
        value = cleaned.get(name)
        if isinstance(value, str) and value:
            label = str(form._meta.model._meta.get_field(name).verbose_name).capitalize()
            try:
                normalise_text(value, label=label, multiline=False)
            except ValidationError as error:
                form.add_error(name, error)


class SecurityPolicyForm(forms.ModelForm):
    """A policy's definition is checked for its kind: the days for "updates applied within N
    days", the names or patterns for "no banned software", and nothing that the kind ignores."""

    class Meta:
        model = SecurityPolicy
        fields = [
            "name",
            "kind",
            "enabled",
            "severity",
            "asset_types",
            "departments",
            "max_days",
            "banned",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        _text_errors(self, ("name",), cleaned)
        kind = cleaned.get("kind")
        days = cleaned.get("max_days")
        banned = compliance.patterns_of(cleaned.get("banned") or "")
        if kind == PolicyKind.UPDATES:
            if days is None or not 1 <= days <= 3650:
                self.add_error(
                    "max_days", "Updates applied within N days needs N, from 1 to 3650 days."
                )
        elif days is not None:
            self.add_error("max_days", "Days are only for “Updates applied within N days”.")
        if kind == PolicyKind.BANNED_SOFTWARE:
            if not banned:
                self.add_error(
                    "banned", "No banned software needs at least one name or pattern, one a line."
                )
            for problem in compliance.pattern_errors(banned, what="names or patterns"):
                self.add_error("banned", problem)
        elif banned:
            self.add_error("banned", "Banned software is only for “No banned software”.")
        if cleaned.get("banned") is not None:
            cleaned["banned"] = "\n".join(banned)
        return cleaned


@admin.register(SecurityPolicy)
class SecurityPolicyAdmin(_ChangesPolicies, admin.ModelAdmin):
    section = "Assets"
    form = SecurityPolicyForm
    list_display = ["name", "kind", "enabled", "severity", "updated_at"]
    list_filter = ["kind", "enabled", "severity"]
    filter_horizontal = ["asset_types", "departments"]

    def save_model(self, request: Any, obj: SecurityPolicy, form: Any, change: bool) -> None:
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


class SupportedOSForm(forms.ModelForm):
    class Meta:
        model = SupportedOS
        fields = ["name", "version_from", "version_to", "label", "ends_on", "note"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        _text_errors(self, ("name", "label", "note"), cleaned)
        low, high = cleaned.get("version_from"), cleaned.get("version_to")
        if isinstance(low, str) and isinstance(high, str):
            for problem in compliance.version_errors(low.strip(), high.strip()):
                self.add_error("version_to" if "after" in problem else None, problem)
            cleaned["version_from"], cleaned["version_to"] = low.strip(), high.strip()
        return cleaned


@admin.register(SupportedOS)
class SupportedOSAdmin(_ChangesPolicies, admin.ModelAdmin):
    """The table "OS still supported" reads: releases and the day their support ends."""

    section = "Assets"
    form = SupportedOSForm
    list_display = ["label", "name", "version_from", "version_to", "ends_on"]
    list_filter = ["name"]


class ApprovedAccountForm(forms.ModelForm):
    class Meta:
        model = ApprovedAccount
        fields = ["name", "asset_type", "department"]

    def clean_name(self) -> str:
        name = (self.cleaned_data.get("name") or "").strip()
        problems = compliance.pattern_errors([name], what="names")
        if problems:
            raise ValidationError(problems)
        return name


@admin.register(ApprovedAccount)
class ApprovedAccountAdmin(_ChangesPolicies, admin.ModelAdmin):
    """Administrator accounts "no unapproved admin accounts" allows: everywhere, on one asset
    type, or for one department."""

    section = "Assets"
    form = ApprovedAccountForm
    list_display = ["name", "asset_type", "department"]
    list_filter = ["asset_type", "department"]


class AssetRelationForm(forms.ModelForm):
    """The relation's rules (`assets.relations`), refused on the form, next to its fields."""

    class Meta:
        model = AssetRelation
        fields = ["from_asset", "kind", "to_asset"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        first, second, kind = (cleaned.get(k) for k in ("from_asset", "to_asset", "kind"))
        if first is not None and second is not None and kind:
            try:
                relations.check_relation(from_asset=first, to_asset=second, kind=kind)
            except relations.RelationError as error:
                raise ValidationError(str(error)) from None
        return cleaned


@admin.register(AssetRelation)
class AssetRelationAdmin(admin.ModelAdmin):
    """Relations between assets: added and removed (through `assets.relations`, so both
    assets' histories say so), never edited in place."""

    section = "Assets"
    form = AssetRelationForm
    list_display = ["from_asset", "kind", "to_asset", "created_at", "created_by"]
    list_filter = ["kind"]
    search_fields = [
        "from_asset__tag",
        "from_asset__hostname",
        "to_asset__tag",
        "to_asset__hostname",
    ]
    autocomplete_fields = ["from_asset", "to_asset"]

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: Any, obj: AssetRelation, form: Any, change: bool) -> None:
        try:
            created = relations.add_relation(
                from_asset=obj.from_asset, to_asset=obj.to_asset, kind=obj.kind, by=request.user
            )
        except relations.RelationError as error:  # someone added it meanwhile
            messages.error(request, str(error))
            return
        obj.pk = created.pk

    def delete_model(self, request: Any, obj: AssetRelation) -> None:
        relations.remove_relation(relation_id=obj.pk, asset=obj.from_asset, by=request.user)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        for relation in queryset.select_related("from_asset"):
            self.delete_model(request, relation)


@admin.register(DiagnosticRequest)
class DiagnosticRequestAdmin(admin.ModelAdmin):
    """Diagnostics technicians asked for, and what the agents answered (read only)."""

    section = "Assets"
    list_display = ["asset", "kind", "state", "ticket", "requested_by", "requested_at"]
    list_filter = ["kind", "state"]
    readonly_fields = [
        "asset",
        "ticket",
        "kind",
        "parameters",
        "requested_by",
        "requested_at",
        "expires_at",
        "state",
        "answered_by",
        "completed_at",
        "result",
        "error",
    ]
    fields = readonly_fields

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


# ---- the change log (assets.SystemChange, written only by assets.agent) ------------------------


class ChangedAssetFilter(admin.SimpleListFilter):
    """By asset: the assets of the latest changes (a few, read along the `seen` index, never a
    DISTINCT over the whole log), and the asset chosen. Any other asset is found by the search
    (its tag or hostname), or by `?asset=<id>`."""

    title = "asset"
    parameter_name = "asset"
    RECENT_ROWS = 500  # rows read for the choices
    CHOICES = 20

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        ids: list[int] = []
        recent = SystemChange.objects.order_by("-seen_at", "-pk").values_list(
            "asset_id", flat=True
        )[: self.RECENT_ROWS]
        for asset_id in recent:
            if asset_id not in ids:
                ids.append(asset_id)
            if len(ids) == self.CHOICES:
                break
        chosen = parse_id(self.value())
        if chosen is not None and chosen not in ids:
            ids.insert(0, chosen)
        found = {asset.pk: str(asset) for asset in Asset.objects.filter(pk__in=ids)}
        return [(str(pk), found[pk]) for pk in ids if pk in found]

    def queryset(self, request: Any, queryset: QuerySet) -> QuerySet:
        if self.value() in (None, ""):
            return queryset
        chosen = parse_id(self.value())
        # Not a number a database holds: nothing matches (not a 500).
        return queryset.none() if chosen is None else queryset.filter(asset_id=chosen)


@admin.register(SystemChange)
class SystemChangeAdmin(ReadOnlyAdmin):
    """The change log the agents' reports wrote: read only, for everyone (the agent is its only
    writer; a row is what a device reported, not something to correct)."""

    section = "Assets"
    list_display = ["seen_at", "asset", "kind", "item", "before", "after", "sequence"]
    list_filter = ["kind", ChangedAssetFilter, ("seen_at", admin.DateFieldListFilter)]
    # "=tag": exact (any case); "^hostname": its beginning; the text anywhere in what changed.
    search_fields = ["=asset__tag", "^asset__hostname", "item", "before", "after"]
    search_help_text = "An asset's tag or the beginning of its hostname, or text of the change."
    list_select_related = ["asset"]
    # The log is the largest table of the app: no second COUNT(*) of the unfiltered rows.
    show_full_result_count = False
    readonly_fields = [
        "asset",
        "kind",
        "item",
        "before",
        "after",
        "seen_at",
        "device",
        "sequence",
    ]
    fields = readonly_fields
    actions = None
