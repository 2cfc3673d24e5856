"""Mailboxes, the raw messages that arrive, and what became of each one."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Messages per sender per hour before the rest are held for review (a mailbox can change it).
DEFAULT_RATE_LIMIT = 30


def _lines(text: str) -> list[str]:
    return [line.strip().lower() for line in (text or "").splitlines() if line.strip()]


class Mailbox(models.Model):
    """An address (and its aliases) that the help desk receives mail at, with its rules for
    senders it does not know."""

    class Policy(models.TextChoices):
        ACCEPT = "accept", _("Accept: open a ticket as a new requester")
        HOLD = "hold", _("Hold for review")
        REJECT = "reject", _("Reject")

    name = models.CharField(_("name"), max_length=100, unique=True)
    addresses = models.TextField(
        _("addresses"),
        help_text=_("The mailbox's address and its aliases, one per line."),
    )
    policy = models.CharField(
        _("unknown senders"),
        max_length=10,
        choices=Policy.choices,
        default=Policy.HOLD,
        help_text=_("What happens to mail from an unknown sender outside the allowed domains."),
    )
    allowed_domains = models.TextField(
        _("allowed domains"),
        blank=True,
        help_text=_(
            "One per line (example.com). An unknown sender from one of them becomes a new "
            "requester."
        ),
    )
    rate_limit_per_hour = models.PositiveIntegerField(
        _("messages per sender per hour"),
        default=DEFAULT_RATE_LIMIT,
        help_text=_("Past this many messages in an hour, a sender's mail is held for review."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return self.name

    @property
    def address_list(self) -> list[str]:
        return _lines(self.addresses)

    @property
    def domain_list(self) -> list[str]:
        return [domain.lstrip("@") for domain in _lines(self.allowed_domains)]


class RawMessage(models.Model):
    """A message exactly as it arrived, stored on disk under its SHA-256 before anything is
    read from it. The same bytes, or the same Message-ID, are one row."""

    class Source(models.TextChoices):
        SPOOL = "spool", _("SMTP/LMTP spool")
        IMAP = "imap", _("IMAP")
        INGEST = "ingest", _("tierline mail ingest")

    sha256 = models.CharField(max_length=64, unique=True, editable=False)
    path = models.CharField(_("stored as"), max_length=200, editable=False)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    message_id = models.CharField(_("Message-ID"), max_length=998, blank=True, db_index=True)
    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="raw_messages"
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    envelope_sender = models.CharField(
        _("envelope sender"), max_length=998, blank=True, null=True, default=None
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    # Arrivals of the same message after the first (another mailbox, a resent batch).
    duplicates = models.PositiveIntegerField(_("arrived again"), default=0)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("raw message")
        constraints = [
            # The same mail twice (two mailboxes, a retried fetch) is one entry.
            models.UniqueConstraint(
                fields=["message_id"],
                condition=~models.Q(message_id=""),
                name="rawmessage_one_per_message_id",
            )
        ]

    def __str__(self) -> str:
        return self.message_id or self.sha256[:12]


class Inbound(models.Model):
    """What became of one raw message: a new ticket, a reply on one, ignored, held or
    quarantined, each with its reason. Pending until processed (then once, with the ticket)."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        NEW_TICKET = "new", _("New ticket")
        REPLY = "reply", _("Reply on a ticket")
        IGNORED = "ignored", _("Ignored")
        HELD = "held", _("Held for review")
        QUARANTINED = "quarantined", _("Quarantined")

    raw = models.OneToOneField(RawMessage, on_delete=models.PROTECT, related_name="inbound")
    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.PENDING
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    sender = models.CharField(_("from"), max_length=320, blank=True, db_index=False)
    sender_name = models.CharField(_("from (name)"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    cc = models.JSONField(_("cc"), default=list, blank=True)
    in_reply_to = models.JSONField(_("in reply to"), default=list, blank=True)
    # The text the timeline shows (quoted history trimmed) and the HTML part as it came.
    text = models.TextField(_("text"), blank=True)
    html = models.TextField(_("HTML part"), blank=True)
    notes = models.JSONField(_("notes"), default=list, blank=True)
    bounced_address = models.CharField(_("bounced address"), max_length=320, blank=True)
    ticket = models.ForeignKey(
        "desk.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ticket_message = models.ForeignKey(
        "desk.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("inbound message")
        indexes = [
            # The per-sender rate limit: a sender's messages of the last hour.
            models.Index(fields=["sender", "created_at"], name="inbound_sender_idx"),
            models.Index(fields=["outcome", "created_at"], name="inbound_outcome_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sender or '?'}: {self.subject or '(no subject)'}"

    @property
    def line(self) -> str:
        """The outcome as `tierline mail ingest` prints it: `new TL-000123`, `reply TL-000123`,
        `ignored: <reason>`, `held: <reason>`, `quarantined: <reason>`."""
        number = self.ticket.number if self.ticket_id and self.ticket else "?"
        if self.outcome == self.Outcome.NEW_TICKET:
            return f"new {number}"
        if self.outcome == self.Outcome.REPLY:
            return f"reply {number}"
        return f"{self.outcome}: {self.reason}"


# --- outbound mail (mail/outbound.py) ---------------------------------------------------------


class MailTemplate(models.Model):
    """The words of one kind of outgoing mail, editable in the admin. Rendered with Django's
    template engine from plain values only: the subject and text as they are, the HTML with
    autoescape. An event with no row here uses the default in `mail/outbound_templates.py`."""

    key = models.CharField(_("sent for"), max_length=40, unique=True)
    subject = models.CharField(_("subject"), max_length=300)
    text = models.TextField(_("plain text"))
    html = models.TextField(
        _("HTML"),
        blank=True,
        help_text=_("Optional. Left empty, the HTML part is the plain text with its links."),
    )
    is_active = models.BooleanField(
        _("send"), default=True, help_text=_("Untick to send no mail for this event.")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("mail template")
        verbose_name_plural = _("mail templates")

    def __str__(self) -> str:
        return self.key


class Outbox(models.Model):
    """One message to send: rendered when queued, sent by the worker (`tierline mail send`, the
    `mail-send` job), retried with back-off; a failure is kept with its reason."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    to = models.CharField(_("to"), max_length=320)
    subject = models.CharField(_("subject"), max_length=500)
    text = models.TextField(_("plain text"))
    html = models.TextField(_("HTML"), blank=True)
    # Extra headers (name -> value), checked when queued: no CR or LF in any.
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    # The ticket's public files sent with it (desk Attachment ids), read when sent.
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=250, unique=True)
    in_reply_to = models.CharField(_("In-Reply-To"), max_length=998, blank=True)
    references = models.TextField(_("References"), blank=True)
    template = models.CharField(_("template"), max_length=40, blank=True)
    # What the mail is about ("reply:message:42"): queued once, however often its event is heard.
    key = models.CharField(max_length=100, null=True, blank=True, unique=True, editable=False)
    ticket = models.ForeignKey(
        "desk.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.CharField(_("last error"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("queued"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("outgoing mail")
        verbose_name_plural = _("outbox")
        indexes = [
            # The sender's question: what is queued and due, oldest first.
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            models.Index(fields=["ticket", "created_at"], name="outbox_ticket_idx"),
            # The rejection reply's limit: one per address per day.
            models.Index(fields=["to", "template", "created_at"], name="outbox_to_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"


# --- IMAP intake (mail/imap.py) -------------------------------------------------------------

IMAP_FOLDER_MAX = 200


class OAuthGrant(models.Model):
    """A mailbox's sign-in by OAuth2 (XOAUTH2), for Microsoft 365 and Google, which turned basic
    authentication off. Secrets and tokens are sealed (mail/sealing.py); the access token is
    refreshed by `mail/oauth.py` when it nears its end; a grant that can't be refreshed (revoked,
    expired, a wrong secret) says so here, on the mailbox's poll and on the health page."""

    class Provider(models.TextChoices):
        MICROSOFT = "microsoft", _("Microsoft 365 (MSAL)")
        GOOGLE = "google", _("Google")
        GENERIC = "generic", _("Another OAuth2 server")

    class Flow(models.TextChoices):
        CLIENT_CREDENTIALS = "client_credentials", _("App credentials (client ID and secret)")
        REFRESH_TOKEN = "refresh_token", _("A person's sign-in (refresh token)")

    name = models.CharField(_("name"), max_length=100, unique=True)
    provider = models.CharField(_("provider"), max_length=20, choices=Provider.choices)
    flow = models.CharField(
        _("how Tierline signs in"),
        max_length=20,
        choices=Flow.choices,
        default=Flow.CLIENT_CREDENTIALS,
    )
    token_url = models.URLField(
        _("authority or token address"),
        max_length=500,
        blank=True,
        help_text=_(
            "Microsoft: the authority, https://login.microsoftonline.com/<tenant ID>. Google: "
            "blank for https://oauth2.googleapis.com/token. Another server: its token endpoint."
        ),
    )
    client_id = models.CharField(_("client ID"), max_length=200)
    client_secret = models.CharField(_("client secret"), max_length=2000, blank=True)
    scope = models.CharField(
        _("scope"),
        max_length=500,
        blank=True,
        help_text=_("Blank: the provider's mail scope."),
    )
    refresh_token = models.TextField(_("refresh token"), blank=True)
    access_token = models.TextField(blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_refreshed_at = models.DateTimeField(
        _("last refreshed"), null=True, blank=True, editable=False
    )
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("OAuth2 sign-in")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_provider_display()})"


class ImapAccount(models.Model):
    """Where a mailbox's mail is fetched from by IMAP, what is done with a message once its
    ticket is committed, and how the last poll went. The password is sealed (mail/sealing.py)
    and write-only in the admin."""

    class Security(models.TextChoices):
        TLS = "tls", _("TLS (port 993)")
        STARTTLS = "starttls", _("STARTTLS (port 143)")

    class IdleState(models.TextChoices):
        CONNECTING = "connecting", _("Connecting")
        WATCHING = "watching", _("Watching (IDLE)")
        RECONNECTING = "reconnecting", _("Reconnecting after an error")
        UNSUPPORTED = "unsupported", _("The server offers no IDLE: polled")
        STOPPED = "stopped", _("Stopped")

    class After(models.TextChoices):
        MOVE = "move", _("Move it to a folder")
        SEEN = "seen", _("Mark it read (\\Seen) and leave it")
        DELETE = "delete", _("Delete it")

    mailbox = models.OneToOneField(Mailbox, on_delete=models.CASCADE, related_name="imap")
    host = models.CharField(_("IMAP server"), max_length=253)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(
        _("encryption"), max_length=10, choices=Security.choices, default=Security.TLS
    )
    trusted_certificate = models.TextField(
        _("trusted certificate (PEM)"),
        blank=True,
        help_text=_(
            "Only for a server whose certificate comes from your own authority: its PEM "
            "certificate (or the authority's). Blank trusts the system's authorities."
        ),
    )
    username = models.CharField(_("username"), max_length=320)
    password = models.CharField(_("password"), max_length=500, blank=True)
    oauth = models.ForeignKey(
        OAuthGrant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="imap_accounts",
        verbose_name=_("sign in with OAuth2"),
        help_text=_("Set: XOAUTH2 with this grant's token, and the password is not used."),
    )
    folder = models.CharField(_("folder"), max_length=IMAP_FOLDER_MAX, default="INBOX")
    poll_minutes = models.PositiveIntegerField(_("poll every (minutes)"), default=1)
    after = models.CharField(
        _("after its ticket is saved"), max_length=10, choices=After.choices, default=After.MOVE
    )
    move_to = models.CharField(
        _("move to folder"), max_length=IMAP_FOLDER_MAX, blank=True, default="Processed"
    )
    is_active = models.BooleanField(_("fetch"), default=True)
    # Bookkeeping: the folder's UIDVALIDITY and the highest UID stored under it.
    uidvalidity = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.PositiveBigIntegerField(default=0, editable=False)
    next_poll_at = models.DateTimeField(default=timezone.now, editable=False)
    polling_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_poll_at = models.DateTimeField(_("last poll"), null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(
        _("last successful poll"), null=True, blank=True, editable=False
    )
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True, editable=False)
    notes = models.TextField(_("notes"), blank=True, editable=False)
    # The IDLE watcher's heartbeat (mail/idle.py), read by the health page in another process.
    # It is also the watcher's lease: only the watcher named in `idle_by` (host, pid, watcher
    # number) writes it; another one (a second worker) stands by until it is stale or stopped.
    idle_state = models.CharField(
        _("IDLE watcher"), max_length=12, choices=IdleState.choices, blank=True, editable=False
    )
    idle_heartbeat_at = models.DateTimeField(
        _("IDLE heartbeat"), null=True, blank=True, editable=False
    )
    idle_since = models.DateTimeField(
        _("IDLE watching since"), null=True, blank=True, editable=False
    )
    idle_by = models.CharField(
        _("IDLE watcher process"), max_length=200, blank=True, editable=False
    )
    idle_error = models.TextField(_("IDLE last error"), blank=True, editable=False)
    idle_error_at = models.DateTimeField(
        _("IDLE last error at"), null=True, blank=True, editable=False
    )
    # A watcher standing by (another holds the lease) says so here at each of its rounds, never
    # in the lease's own columns: the health page and the admin name it while it is fresh.
    idle_standby_by = models.CharField(
        _("IDLE standby process"), max_length=200, blank=True, editable=False
    )
    idle_standby_at = models.DateTimeField(
        _("IDLE standby heard"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("IMAP account")

    def __str__(self) -> str:
        return f"{self.username}@{self.host}:{self.port}/{self.folder}"


class ImapMessage(models.Model):
    """One UID of one IMAP folder (under one UIDVALIDITY): stored, processed, then settled on
    the server (moved, flagged or deleted). Committed as stored before any flag changes."""

    class State(models.TextChoices):
        STORED = "stored", _("Stored, not yet processed")
        PROCESSED = "processed", _("Processed, not yet moved or flagged")
        DONE = "done", _("Done")

    account = models.ForeignKey(ImapAccount, on_delete=models.CASCADE, related_name="messages")
    uidvalidity = models.PositiveBigIntegerField()
    uid = models.PositiveBigIntegerField()
    raw = models.ForeignKey(RawMessage, on_delete=models.PROTECT, related_name="imap_messages")
    sha256 = models.CharField(max_length=64)
    message_id = models.CharField(max_length=998, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.STORED)
    stored_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["account", "uidvalidity", "uid"]
        verbose_name = _("IMAP message")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "uidvalidity", "uid"], name="imapmessage_one_per_uid"
            )
        ]
        indexes = [models.Index(fields=["account", "state"], name="imapmessage_state_idx")]

    def __str__(self) -> str:
        return f"UID {self.uid} ({self.uidvalidity})"


# --- notifications: watchers, the in-app inbox, preferences, webhooks (issue 9, point 8) -----


class NotificationKind(models.TextChoices):
    """What a notification is about; the order of `KIND_RANK` picks one when a transaction
    gives a person several reasons to hear about the same ticket."""

    NEW_TICKET = "new_ticket", _("New ticket for my team")
    ASSIGNED = "assigned", _("Assigned to me")
    REPLY = "reply", _("Reply on my ticket or a ticket I watch")
    MENTION = "mention", _("Mentioned in an internal note")
    ESCALATED = "escalated", _("Escalated to my team")
    RESOLVED = "resolved", _("Resolved")
    REOPENED = "reopened", _("Reopened")
    WORK_ORDER = "work_order", _("Work order scheduled for me")
    # Told by the service targets through core.notifications (mail hears no desk event of them).
    SLA_AT_RISK = "sla_at_risk", _("Service target at risk")
    SLA_BREACHED = "sla_breached", _("Service target breached")
    SLA_PAGED = "sla_paged", _("Paged as the on-call technician")


class NotificationChannel(models.TextChoices):
    IN_APP = "in_app", _("In the app")
    EMAIL = "email", _("In the app and by email")
    NONE = "none", _("Not at all")


class Watcher(models.Model):
    """A person who follows a ticket: told of its replies, resolution and reopening. CC'd
    people of inbound mail and colleagues added by a technician (the people a requester
    shares a request with follow it through the desk's sharing)."""

    ticket = models.ForeignKey("desk.Ticket", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("people.User", on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(
        "people.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["ticket", "created_at", "pk"]
        verbose_name = _("watcher")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "person"], name="watcher_once_per_ticket")
        ]

    def __str__(self) -> str:
        return f"{self.person} watches {self.ticket_id}"


class Notification(models.Model):
    """One thing one person is told, in their in-app inbox (and by email if they chose)."""

    recipient = models.ForeignKey("people.User", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("event"), max_length=20, choices=NotificationKind.choices)
    ticket = models.ForeignKey(
        "desk.Ticket", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    text = models.CharField(_("text"), max_length=500)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        indexes = [
            # The inbox, newest first, and the unread count of the header (partial index).
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox_idx"),
            models.Index(
                fields=["recipient", "ticket"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.text


class NotificationPreference(models.Model):
    """A person's choice of channel for one kind of event; no row means the default
    (`notify.DEFAULT_CHANNELS`)."""

    person = models.ForeignKey("people.User", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("event"), max_length=20, choices=NotificationKind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=NotificationChannel.choices)

    class Meta:
        ordering = ["person", "kind"]
        verbose_name = _("notification preference")
        constraints = [
            models.UniqueConstraint(fields=["person", "kind"], name="preference_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.kind} -> {self.channel}"


class NotificationEmail(models.Model):
    """An email a notification asks for, "to send": the outbound SMTP sender (mail/outbound.py)
    is not in this tree yet; `notify.send_email` is the one place to wire it."""

    notification = models.OneToOneField(
        Notification, on_delete=models.CASCADE, related_name="email"
    )
    to = models.CharField(_("to"), max_length=320)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification email")

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"


class Webhook(models.Model):
    """A receiver told of desk events by a signed JSON POST (HMAC-SHA256 of the body with the
    secret, in `X-Tierline-Signature: sha256=<hex>`)."""

    class Format(models.TextChoices):
        GENERIC = "generic", _("Generic JSON")
        SLACK = "slack", _("Slack (incoming webhook)")
        TEAMS = "teams", _("Microsoft Teams (incoming webhook)")

    name = models.CharField(_("name"), max_length=100, unique=True)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("secret"), max_length=200, blank=True)
    events = models.JSONField(
        _("events"),
        default=list,
        blank=True,
        help_text=_("Event names (TicketOpened, Resolved...); empty means every ticket event."),
    )
    format = models.CharField(
        _("format"), max_length=10, choices=Format.choices, default=Format.GENERIC
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook")

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One POST to one webhook, sent by the `mail-webhooks` job, retried with back-off."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed for good")

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("event"), max_length=50)
    payload = models.JSONField(_("payload"))
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="pending"),
                name="webhook_delivery_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} -> {self.webhook_id} ({self.state})"
