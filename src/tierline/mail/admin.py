"""The mail app in the admin: mailboxes to configure; raw messages and their outcomes to read
(never to edit), each with its original and its .eml one click away."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from tierline.mail import services
from tierline.mail.models import Inbound, Mailbox, RawMessage, Webhook, WebhookDelivery


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ("name", "policy", "rate_limit_per_hour", "is_active")
    list_filter = ("policy", "is_active")
    search_fields = ("name", "addresses")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of what arrived: shown, never added, changed or deleted by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(RawMessage)
class RawMessageAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "message_id", "size", "source", "mailbox", "duplicates")
    list_filter = ("source", "mailbox")
    search_fields = ("message_id", "sha256")
    readonly_fields = ("download",)

    @admin.display(description="raw message")
    def download(self, obj: RawMessage) -> str:
        inbound = Inbound.objects.filter(raw=obj).only("pk").first()
        if inbound is None:
            return "—"
        return format_html('<a href="{}">Download .eml</a>', reverse("mail:eml", args=[inbound.pk]))


@admin.register(Inbound)
class InboundAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "sender", "subject", "outcome", "reason", "ticket", "attempts")
    list_filter = ("outcome", "mailbox")
    search_fields = ("sender", "subject", "raw__message_id", "ticket__number")
    list_select_related = ("ticket",)
    readonly_fields = ("links",)
    actions = ("process_again",)

    @admin.display(description="original")
    def links(self, obj: Inbound) -> str:
        return format_html(
            '<a href="{}">Show the original</a> · <a href="{}">Download .eml</a>',
            reverse("mail:original", args=[obj.pk]),
            reverse("mail:eml", args=[obj.pk]),
        )

    @admin.action(description="Process again (quarantined: retry; held: release)")
    def process_again(self, request: HttpRequest, queryset: QuerySet[Inbound]) -> None:
        done = [services.release(inbound=inbound, by=request.user) for inbound in queryset]
        for inbound in done:
            messages.info(request, f"{inbound.sender or inbound.pk}: {inbound.line}")


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Receivers told of desk events by a signed JSON POST."""

    list_display = ("name", "url", "format", "is_active")
    list_filter = ("format", "is_active")
    search_fields = ("name", "url")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """Each POST: sent, waiting for its next try (with the last error), or failed for good."""

    list_display = ("created_at", "webhook", "event", "state", "attempts", "last_error")
    list_filter = ("state", "webhook")
