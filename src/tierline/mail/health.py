"""Mail's checks on the health page (core/health.py): quarantined and held mail, mail that could
not be sent, mailboxes that cannot be read, webhooks that gave up."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone

from tierline.core.health import Finding, admin_url, counted, register_check
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
    register_check("mail.outbox", "Outgoing mail", outbox, order=42)
    register_check("mail.webhooks", "Webhooks", webhooks, order=43)
