"""Mail's checks on the health page (core/health.py): quarantined and held mail, mail that could
not be sent, mailboxes that cannot be read, the IMAP IDLE watchers, webhooks that gave up."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from tierline.core.health import Finding, admin_url, counted, register_check
from tierline.mail import idle
from tierline.mail.models import ImapAccount, Inbound, OAuthGrant, Outbox, WebhookDelivery


def quarantine() -> Finding:
    """Mail that could not be read into a ticket waits in quarantine: never dropped, but nobody
    sees it until an admin looks (`tierline mail reprocess` tries again)."""
    quarantined = Inbound.objects.filter(outcome=Inbound.Outcome.QUARANTINED).count()
    held = Inbound.objects.filter(outcome=Inbound.Outcome.HELD).count()
    if not quarantined and not held:
        return Finding("ok", "No mail is quarantined or held for review.", count=0)
    parts = []
    if quarantined:
        parts.append(counted(quarantined, "message is quarantined", "messages are quarantined"))
    if held:
        parts.append(counted(held, "message is held for review", "messages are held for review"))
    outcome = "quarantined" if quarantined else "held"
    return Finding(
        "warning",
        "; ".join(parts) + ".",
        count=quarantined + held,
        url=admin_url("mail_inbound_changelist", f"outcome__exact={outcome}"),
    )


def outbox() -> Finding:
    failed = Outbox.objects.filter(status=Outbox.Status.FAILED).count()
    late = Outbox.objects.filter(
        status=Outbox.Status.QUEUED, next_attempt_at__lt=timezone.now() - timedelta(minutes=15)
    ).count()
    url = admin_url("mail_outbox_changelist", "status__exact=failed")
    if failed:
        return Finding(
            "warning", counted(failed, "message", "messages") + " could not be sent.", failed, url
        )
    if late:
        return Finding(
            "warning",
            counted(late, "message has", "messages have") + " waited over 15 minutes to be sent.",
            late,
            admin_url("mail_outbox_changelist", "status__exact=queued"),
        )
    return Finding("ok", "Outgoing mail is flowing.", count=0)


def mailboxes() -> Finding:
    """A mailbox whose last poll failed after its last success cannot be read: its mail waits on
    the server (nothing is lost) until the admin fixes it (password, grant, certificate)."""
    active = ImapAccount.objects.filter(is_active=True)
    failing = list(
        active.filter(last_error_at__isnull=False)
        .filter(Q(last_success_at__isnull=True) | Q(last_success_at__lt=F("last_error_at")))
        .select_related("mailbox")
    )
    if failing:
        names = ", ".join(f"{a.username}@{a.host}" for a in failing[:5])
        return Finding(
            "error",
            f"Cannot read {counted(len(failing), 'mailbox', 'mailboxes')}: {names}. "
            "Their mail waits on the server.",
            count=len(failing),
            url=admin_url("mail_mailbox_changelist"),
        )
    count = active.count()
    return Finding("ok", f"{counted(count, 'IMAP mailbox', 'IMAP mailboxes')} read fine.", count=0)


def grants() -> Finding:
    """An OAuth2 sign-in (Microsoft 365, Google) that was refused: expired, revoked, a wrong
    secret. The mailboxes that use it stop reading until an admin signs in again."""
    refused = list(
        OAuthGrant.objects.exclude(last_error="").filter(imap_accounts__is_active=True).distinct()
    )
    if refused:
        names = ", ".join(grant.name for grant in refused[:5])
        return Finding(
            "error",
            f"{counted(len(refused), 'OAuth2 sign-in was', 'OAuth2 sign-ins were')} refused: "
            f"{names}. Sign in again (`tierline mail oauth-signin`) or fix the grant; the mail "
            "waits on the server.",
            count=len(refused),
            url=admin_url("mail_oauthgrant_changelist"),
        )
    return Finding("ok", "Every OAuth2 sign-in in use works.", count=0)


def ago(when: datetime | None, now: datetime) -> str:
    """How long ago, in plain words: `20 s ago`, `12 min ago`, `3 h ago`, `never`."""
    if when is None:
        return "never"
    seconds = max(int((now - when).total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def _watched(account: ImapAccount, now: datetime) -> str:
    text = f"{account.mailbox.name} (heartbeat {ago(account.idle_heartbeat_at, now)}"
    if account.idle_by:
        text += f" from {account.idle_by}"
    if account.idle_state == ImapAccount.IdleState.CONNECTING:
        text += ", connecting"
    if account.idle_error and account.idle_error_at:
        text += f"; last error {ago(account.idle_error_at, now)}: {account.idle_error[:150]}"
    if standby := idle.standby_of(account, now):
        text += f"; standing by: {standby}, heard {ago(account.idle_standby_at, now)}"
    return text + ")"


def idle_watchers(now: datetime | None = None) -> Finding:
    """The IMAP IDLE watchers (mail/idle.py), from the heartbeats they write on their accounts
    (the watchers run in the worker or `tierline mail idle`, this page in another process):
    which mailbox is watched, by which watcher (host, pid), its last heartbeat and last error.
    One watcher per account writes it (the heartbeat is its lease; another stands by and
    writes nothing), so a fresh heartbeat is that watcher's own word. With TIERLINE_MAIL_IDLE
    on, a mailbox whose watcher has not written a heartbeat for `idle.STALE` is "not running":
    its mail still comes, at each poll."""
    now = now or timezone.now()
    accounts = list(
        ImapAccount.objects.filter(is_active=True, mailbox__is_active=True)
        .select_related("mailbox")
        .order_by("mailbox__name")
    )
    if not accounts:
        return Finding("ok", "No IMAP mailbox to watch.", count=0)
    watching, reconnecting, polled, not_running = [], [], [], []
    for account in accounts:
        alive = idle.heard_lately(account, now)
        if account.idle_state == ImapAccount.IdleState.UNSUPPORTED:
            polled.append(account)
        elif alive and account.idle_state in (
            ImapAccount.IdleState.WATCHING,
            ImapAccount.IdleState.CONNECTING,  # the first seconds of a watcher taking over
        ):
            watching.append(account)
        elif alive and account.idle_state == ImapAccount.IdleState.RECONNECTING:
            reconnecting.append(account)
        else:
            not_running.append(account)
    url = admin_url("mail_mailbox_changelist")
    minutes = int(idle.STALE.total_seconds() // 60)
    if idle.enabled() and not_running:
        names = ", ".join(
            f"{a.mailbox.name} (last heartbeat {ago(a.idle_heartbeat_at, now)})"
            for a in not_running[:5]
        )
        return Finding(
            "warning",
            f"IMAP IDLE is on (TIERLINE_MAIL_IDLE) but no watcher has reported for {minutes} "
            f"minutes for {counted(len(not_running), 'mailbox', 'mailboxes')}: {names}. Is "
            "`tierline worker` running? Their mail comes at each poll meanwhile.",
            count=len(not_running),
            url=url,
        )
    if reconnecting:
        names = "; ".join(_watched(a, now) for a in reconnecting[:5])
        return Finding(
            "warning",
            f"The IDLE watcher of {counted(len(reconnecting), 'mailbox is', 'mailboxes are')} "
            f"reconnecting: {names}. Their mail comes at each poll meanwhile.",
            count=len(reconnecting),
            url=url,
        )
    if not watching:
        if polled:
            return Finding(
                "ok",
                f"No IDLE watcher: {counted(len(polled), 'mailbox offers', 'mailboxes offer')} "
                "no IDLE; read at each poll.",
                count=0,
            )
        return Finding(
            "ok",
            "IMAP IDLE is off (TIERLINE_MAIL_IDLE): mailboxes are read at each poll.",
            count=0,
        )
    summary = "Watched by IDLE: " + "; ".join(_watched(a, now) for a in watching[:5])
    if len(watching) > 5:
        summary += f"; and {len(watching) - 5} more"
    if polled:
        names = ", ".join(a.mailbox.name for a in polled[:5])
        summary += f". Read at each poll (the server offers no IDLE): {names}"
    return Finding("ok", summary + ".", count=0)


def webhooks() -> Finding:
    since = timezone.now() - timedelta(days=1)
    failed = WebhookDelivery.objects.filter(
        state=WebhookDelivery.State.FAILED, created_at__gte=since
    ).count()
    if failed:
        return Finding(
            "warning",
            f"{counted(failed, 'webhook delivery', 'webhook deliveries')} gave up in the last day.",
            count=failed,
            url=admin_url("mail_webhookdelivery_changelist", "state__exact=failed"),
        )
    return Finding("ok", "No webhook delivery gave up in the last day.", count=0)


def register_checks() -> None:
    register_check("mail.quarantine", "Quarantined mail", quarantine, order=40)
    register_check("mail.mailboxes", "Mailboxes (IMAP)", mailboxes, order=41)
    register_check("mail.oauth", "Mailbox sign-ins (OAuth2)", grants, order=42)
    register_check("mail.idle", "Mailbox watchers (IMAP IDLE)", idle_watchers, order=42)
    register_check("mail.outbox", "Outgoing mail", outbox, order=42)
    register_check("mail.webhooks", "Webhooks", webhooks, order=43)
