"""The mail app in the admin: mailboxes to configure; raw messages and their outcomes to read
(never to edit), each with its original and its .eml one click away."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from tierline.mail import idle, imap, outbound, outbound_templates, sealing, services
from tierline.mail.health import ago
from tierline.mail.models import (
    ImapAccount,
    ImapMessage,
    Inbound,
    Mailbox,
    MailTemplate,
    OAuthGrant,
    Outbox,
    RawMessage,
    Webhook,
    WebhookDelivery,
)


class ImapAccountForm(forms.ModelForm):
    """The password is write-only: sealed when saved (`mail/sealing.py`), never sent back to the
    page; left blank, the saved one stays."""

    password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Never shown again. Leave blank to keep the one saved.",
    )

    class Meta:
        model = ImapAccount
        fields = (
            "is_active",
            "host",
            "port",
            "security",
            "trusted_certificate",
            "username",
            "password",
            "oauth",
            "folder",
            "poll_minutes",
            "after",
            "move_to",
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("oauth"):
            return cleaned  # XOAUTH2: the grant signs in, no password
        if not cleaned.get("password") and not (self.instance.pk and self.instance.password):
            self.add_error("password", "The IMAP password is required.")
        return cleaned

    def _post_clean(self) -> None:
        kept = self.instance.password
        super()._post_clean()
        typed = self.cleaned_data.get("password")
        self.instance.password = sealing.seal(typed) if typed else kept
        try:
            imap.validate_account(self.instance)
        except ValidationError as exc:
            self._update_errors(exc)


class OAuthGrantForm(forms.ModelForm):
    """The client secret and refresh token are write-only: sealed when saved, never sent back
    to the page; left blank, the saved ones stay."""

    client_secret = forms.CharField(
        label="client secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Never shown again. Leave blank to keep the one saved.",
    )
    token_url = forms.URLField(
        label="authority or token address",
        required=False,
        assume_scheme="https",
        max_length=500,
        help_text=OAuthGrant._meta.get_field("token_url").help_text,
    )
    refresh_token = forms.CharField(
        label="refresh token",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=(
            "Google: the refresh token of the mailbox's consent. Microsoft: leave blank and run "
            "`tierline mail oauth-signin --grant NAME` once (a device-code sign-in)."
        ),
    )

    class Meta:
        model = OAuthGrant
        fields = (
            "name",
            "provider",
            "flow",
            "token_url",
            "client_id",
            "client_secret",
            "scope",
            "refresh_token",
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        provider, flow = cleaned.get("provider"), cleaned.get("flow")
        has_secret = cleaned.get("client_secret") or (
            self.instance.pk and self.instance.client_secret
        )
        if flow == OAuthGrant.Flow.CLIENT_CREDENTIALS and not has_secret:
            self.add_error("client_secret", "App credentials need the client secret.")
        if provider == OAuthGrant.Provider.GOOGLE and flow != OAuthGrant.Flow.REFRESH_TOKEN:
            self.add_error(
                "flow", "Google mailboxes sign in with a person's consent (refresh token)."
            )
        if provider == OAuthGrant.Provider.GENERIC and not cleaned.get("token_url"):
            self.add_error("token_url", "Give the token server's address.")
        url = cleaned.get("token_url") or ""
        if provider == OAuthGrant.Provider.MICROSOFT and url and not url.startswith("https://"):
            self.add_error("token_url", "Microsoft's authority is an https:// address.")
        return cleaned

    def _post_clean(self) -> None:
        kept_secret, kept_refresh = self.instance.client_secret, self.instance.refresh_token
        super()._post_clean()
        secret = self.cleaned_data.get("client_secret")
        refresh = self.cleaned_data.get("refresh_token")
        self.instance.client_secret = sealing.seal(secret) if secret else kept_secret
        self.instance.refresh_token = sealing.seal(refresh) if refresh else kept_refresh
        if secret or refresh:  # new credentials: the token of the old ones is not kept
            self.instance.access_token = ""
            self.instance.expires_at = None


@admin.register(OAuthGrant)
class OAuthGrantAdmin(admin.ModelAdmin):
    form = OAuthGrantForm
    list_display = ("name", "provider", "flow", "state")
    readonly_fields = ("state",)

    @admin.display(description="state")
    def state(self, obj: OAuthGrant) -> str:
        if obj is None or obj.pk is None:
            return "Not used yet."
        if obj.last_error:
            return format_html(
                '<span class="errornote">Refused {}: {}</span>',
                f"{obj.last_error_at:%Y-%m-%d %H:%M} UTC" if obj.last_error_at else "",
                obj.last_error,
            )
        if obj.flow == OAuthGrant.Flow.REFRESH_TOKEN and not obj.refresh_token:
            return "Nobody has signed in yet."
        if obj.last_refreshed_at:
            return f"Token refreshed {obj.last_refreshed_at:%Y-%m-%d %H:%M} UTC"
        return "Not used yet."


def _utc(moment: object) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "never"


def idle_is_stale(account: ImapAccount, now: datetime | None = None) -> bool:
    """Whether a watcher said to be running (connecting, watching, reconnecting) has not
    been heard from for `idle.STALE`: it is not running any more."""
    if account.idle_state not in (
        ImapAccount.IdleState.CONNECTING,
        ImapAccount.IdleState.WATCHING,
        ImapAccount.IdleState.RECONNECTING,
    ):
        return False
    return not idle.heard_lately(account, now)


def idle_summary(account: ImapAccount) -> str:
    """One line for the mailbox list: the IDLE watcher's state and when it was last heard."""
    if not account.idle_state:
        return "no watcher"
    now = timezone.now()
    heard = ago(account.idle_heartbeat_at, now)
    if idle_is_stale(account, now):
        return f"stale: last heard {heard}"
    if account.idle_state == ImapAccount.IdleState.UNSUPPORTED:
        return "no IDLE on the server: polled"
    return f"{account.get_idle_state_display().lower()}, last heard {heard}"


def idle_status(account: ImapAccount | None) -> SafeString | str:
    """The IDLE watcher in plain words, read-only: what it is doing, since when, when it was
    last heard, by whom, and "stale" when it has been silent for `idle.STALE`."""
    if account is None or account.pk is None or not account.idle_state:
        return (
            "No IDLE watcher has reported: the mailbox is read at each poll. (Watchers run in "
            "`tierline worker` with TIERLINE_MAIL_IDLE=1, or in `tierline mail idle`.)"
        )
    now = timezone.now()
    state = account.get_idle_state_display()
    stale = ""
    if idle_is_stale(account, now):
        minutes = int(idle.STALE.total_seconds() // 60)
        stale = format_html(
            '<p class="errornote">Stale: not heard from for over {} minutes; the watcher is '
            "not running (mail comes at each poll meanwhile).</p>",
            minutes,
        )
    since = ""
    if account.idle_since and account.idle_state == ImapAccount.IdleState.WATCHING:
        since = format_html("Watching since: {} · ", _utc(account.idle_since))
    error = ""
    if account.idle_error:
        error = format_html(
            "<p>Last IDLE error ({}): {}</p>", _utc(account.idle_error_at), account.idle_error
        )
    standby = ""
    if name := idle.standby_of(account, now):
        standby = format_html(
            "<p>Standing by to take over: {} (heard {})</p>",
            name,
            ago(account.idle_standby_at, now),
        )
    return format_html(
        "{}<p>{}</p><p>{}Last heard: {} ({}) · by: {}</p>{}{}",
        stale,
        state,
        since,
        _utc(account.idle_heartbeat_at),
        ago(account.idle_heartbeat_at, now),
        account.idle_by or "—",
        error,
        standby,
    )


class ImapAccountInline(admin.StackedInline):
    model = ImapAccount
    form = ImapAccountForm
    extra = 0
    max_num = 1
    can_delete = True
    verbose_name = "IMAP fetching"
    verbose_name_plural = "IMAP fetching"
    readonly_fields = ("status", "idle_watcher")

    @admin.display(description="IDLE watcher")
    def idle_watcher(self, obj: ImapAccount) -> SafeString | str:
        return idle_status(obj)

    @admin.display(description="status")
    def status(self, obj: ImapAccount) -> str:
        if obj is None or obj.pk is None:
            return "Not polled yet."

        def when(moment: object) -> str:
            return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "never"

        error = ""
        if obj.last_error:
            error = format_html(
                '<p class="errornote">Last error ({}): {}</p>',
                when(obj.last_error_at),
                obj.last_error,
            )
        return format_html(
            "{}<p>Last poll: {} · last success: {} · UIDVALIDITY {} · last UID {}</p>{}",
            error,
            when(obj.last_poll_at),
            when(obj.last_success_at),
            obj.uidvalidity if obj.uidvalidity is not None else "—",
            obj.last_uid,
            format_html("<pre>{}</pre>", obj.notes) if obj.notes else "",
        )


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "policy",
        "rate_limit_per_hour",
        "is_active",
        "imap_status",
        "idle_watcher",
    )
    list_filter = ("policy", "is_active")
    search_fields = ("name", "addresses")
    inlines = (ImapAccountInline,)
    list_select_related = ("imap",)

    @admin.display(description="IMAP")
    def imap_status(self, obj: Mailbox) -> str:
        account = getattr(obj, "imap", None)
        if account is None:
            return "—"
        if account.last_error:
            return format_html('<span class="errornote">error: {}</span>', account.last_error)
        if account.last_success_at:
            return f"ok, {account.last_success_at:%Y-%m-%d %H:%M} UTC"
        return "not polled yet"

    @admin.display(description="IDLE")
    def idle_watcher(self, obj: Mailbox) -> str:
        account = getattr(obj, "imap", None)
        return "—" if account is None else idle_summary(account)


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


# --- outbound mail --------------------------------------------------------------------------


class MailTemplateForm(forms.ModelForm):
    """The words of one kind of mail; refused with the reason when they can't be rendered
    (a tag that is not allowed, an unknown placeholder, a syntax error)."""

    key = forms.ChoiceField(label="Sent for")

    class Meta:
        model = MailTemplate
        fields = ("key", "subject", "text", "html", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["key"].choices = [(k.key, k.label) for k in outbound_templates.KINDS.values()]
        key = self.initial.get("key") or self.data.get("key")
        kind = outbound_templates.KINDS.get(key or "")
        if kind is not None:
            names = ", ".join("{{ " + name + " }}" for name in kind.placeholders)
            self.fields["text"].help_text = f"Placeholders: {names}."
        elif not self.instance.pk:
            first = next(iter(outbound_templates.KINDS.values()))
            self.initial.setdefault("subject", first.subject)
            self.initial.setdefault("text", first.text)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("key") and data.get("subject") is not None and data.get("text") is not None:
            outbound_templates.validate(
                data["key"], subject=data["subject"], text=data["text"], html=data.get("html", "")
            )
        return data


@admin.register(MailTemplate)
class MailTemplateAdmin(admin.ModelAdmin):
    form = MailTemplateForm
    list_display = ("key", "subject", "is_active", "updated_at")


@admin.register(Outbox)
class OutboxAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "to", "subject", "status", "attempts", "last_error", "ticket")
    list_filter = ("status", "template")
    search_fields = ("to", "subject", "message_id", "ticket__number")
    list_select_related = ("ticket",)
    actions = ("send_again",)

    @admin.action(description="Queue again (failed messages)")
    def send_again(self, request: HttpRequest, queryset: QuerySet[Outbox]) -> None:
        count = outbound.requeue(queryset.values_list("pk", flat=True))
        messages.info(request, f"{count} message(s) queued again.")


@admin.register(ImapMessage)
class ImapMessageAdmin(ReadOnlyAdmin):
    """The UID bookkeeping of the IMAP fetcher: what was stored from which UID, and whether it
    was settled on the server."""

    list_display = ("account", "uidvalidity", "uid", "state", "message_id", "stored_at", "done_at")
    list_filter = ("state", "account")
    search_fields = ("message_id", "sha256")
    list_select_related = ("account",)


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
