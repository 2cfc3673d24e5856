"""A mailbox's IMAP settings in the admin: checked field by field, the password write-only,
and the last poll's error on the mailbox's page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.mail.factories import mailbox
from tierline.mail import sealing
from tierline.mail.models import ImapAccount, Mailbox

pytestmark = pytest.mark.django_db

SECRET = "s3cret-imap-password"


def form_data(box: Mailbox, account: ImapAccount | None = None, **imap: str) -> dict[str, str]:
    data = {
        "name": box.name,
        "addresses": box.addresses,
        "policy": box.policy,
        "allowed_domains": box.allowed_domains,
        "rate_limit_per_hour": str(box.rate_limit_per_hour),
        "is_active": "on",
        "imap-TOTAL_FORMS": "1",
        "imap-INITIAL_FORMS": "1" if account else "0",
        "imap-MIN_NUM_FORMS": "0",
        "imap-MAX_NUM_FORMS": "1",
        "imap-0-mailbox": str(box.pk),
        "imap-0-id": str(account.pk) if account else "",
        "imap-0-is_active": "on",
        "imap-0-host": "imap.example.org",
        "imap-0-port": "993",
        "imap-0-security": "tls",
        "imap-0-trusted_certificate": "",
        "imap-0-username": "helpdesk@example.org",
        "imap-0-password": "",
        "imap-0-folder": "INBOX",
        "imap-0-poll_minutes": "1",
        "imap-0-after": "move",
        "imap-0-move_to": "Processed",
    }
    data.update({f"imap-0-{name}": value for name, value in imap.items()})
    return data


def change_url(box: Mailbox) -> str:
    return reverse("admin:mail_mailbox_change", args=[box.pk])


def test_an_admin_adds_imap_settings_to_a_mailbox(client, admin_user):
    box = mailbox()
    client.force_login(admin_user)
    response = client.post(change_url(box), form_data(box, password=SECRET))
    assert response.status_code == 302, response.content.decode()[:2000]
    account = ImapAccount.objects.get(mailbox=box)
    assert (account.host, account.username) == ("imap.example.org", "helpdesk@example.org")
    assert sealing.unseal(account.password) == SECRET


def test_a_new_account_needs_a_password(client, admin_user):
    box = mailbox()
    client.force_login(admin_user)
    response = client.post(change_url(box), form_data(box))
    assert response.status_code == 200
    assert "The IMAP password is required." in response.content.decode()
    assert not ImapAccount.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("move_to", "INBOX", "Processed mail must go to another folder than the one read."),
        ("move_to", "", "Name the folder processed mail is moved to."),
        ("folder", "INBOX\r\nA1 DELETE INBOX", "A folder name cannot hold control characters"),
        ("port", "70000", "A port is a number from 1 to 65535."),
        ("poll_minutes", "0", "Poll every 1 to 1440 minutes."),
        ("host", "imap example", "A server name has no spaces or control characters."),
        ("trusted_certificate", "not a certificate", "This is not a PEM certificate."),
    ],
)
def test_bad_settings_get_a_clear_message_not_a_500(client, admin_user, field, value, message):
    box = mailbox()
    client.force_login(admin_user)
    response = client.post(change_url(box), form_data(box, password=SECRET, **{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImapAccount.objects.exists()


def test_the_last_error_is_shown_on_the_mailbox_page_and_in_the_list(client, admin_user):
    box = mailbox()
    ImapAccount.objects.create(
        mailbox=box,
        host="imap.example.org",
        username="helpdesk",
        password=sealing.seal(SECRET),
        last_error="sign-in as helpdesk refused: [AUTHENTICATIONFAILED] <nope>",
        last_error_at=timezone.now(),
    )
    client.force_login(admin_user)
    page = client.get(change_url(box)).content.decode()
    assert "sign-in as helpdesk refused: [AUTHENTICATIONFAILED] &lt;nope&gt;" in page
    listing = client.get(reverse("admin:mail_mailbox_changelist")).content.decode()
    assert "error: sign-in as helpdesk refused" in listing


def test_the_uid_bookkeeping_is_listed_read_only(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("admin:mail_imapmessage_changelist")).status_code == 200
    assert client.get(reverse("admin:mail_imapmessage_add")).status_code == 403


# --- the IDLE watcher's heartbeat, read-only, in plain words ---------------------------------


def imap_account(box: Mailbox, **fields) -> ImapAccount:
    return ImapAccount.objects.create(
        mailbox=box,
        host="imap.example.org",
        username="helpdesk",
        password=sealing.seal(SECRET),
        **fields,
    )


def test_the_mailbox_page_says_when_no_idle_watcher_has_reported(client, admin_user):
    box = mailbox()
    imap_account(box)
    client.force_login(admin_user)
    response = client.get(change_url(box))
    assert response.status_code == 200
    page = response.content.decode()
    assert "IDLE watcher" in page
    assert "No IDLE watcher has reported: the mailbox is read at each poll." in page
    assert "Stale:" not in page
    listing = client.get(reverse("admin:mail_mailbox_changelist")).content.decode()
    assert "no watcher" in listing


def test_the_mailbox_page_shows_a_watching_watcher_read_only(client, admin_user):
    box = mailbox()
    now = timezone.now()
    since = now - timedelta(hours=2)
    account = imap_account(
        box,
        idle_state=ImapAccount.IdleState.WATCHING,
        idle_since=since,
        idle_heartbeat_at=now - timedelta(seconds=20),
        idle_by="desk-1 pid 812 watcher 1",
        idle_error="IDLE: the server closed the connection <bye>",
        idle_error_at=since,
    )
    client.force_login(admin_user)
    page = client.get(change_url(box)).content.decode()
    assert "Watching (IDLE)" in page
    assert f"Watching since: {since:%Y-%m-%d %H:%M:%S} UTC" in page
    assert "Last heard: " in page and "s ago) · by: desk-1 pid 812 watcher 1" in page
    assert "the server closed the connection &lt;bye&gt;" in page
    assert "Stale:" not in page
    # and none of it is a field: posting the form does not change the heartbeat
    assert 'name="imap-0-idle_by"' not in page and 'name="imap-0-idle_state"' not in page
    response = client.post(change_url(box), form_data(box, account))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ImapAccount.objects.get(pk=account.pk).idle_by == "desk-1 pid 812 watcher 1"
    listing = client.get(reverse("admin:mail_mailbox_changelist")).content.decode()
    assert "watching (idle), last heard " in listing


def test_the_mailbox_page_names_a_watcher_standing_by_while_it_is_fresh(client, admin_user):
    box = mailbox()
    now = timezone.now()
    account = imap_account(
        box,
        idle_state=ImapAccount.IdleState.WATCHING,
        idle_since=now - timedelta(hours=1),
        idle_heartbeat_at=now - timedelta(seconds=20),
        idle_by="desk-1 pid 812 watcher 1",
        idle_standby_by="desk-2 pid <9> watcher 1",
        idle_standby_at=now - timedelta(seconds=10),
    )
    client.force_login(admin_user)
    page = client.get(change_url(box)).content.decode()
    assert "Standing by to take over: desk-2 pid &lt;9&gt; watcher 1 (heard " in page
    # a standby note older than STALE is a watcher that has gone: not shown
    ImapAccount.objects.filter(pk=account.pk).update(idle_standby_at=now - timedelta(minutes=6))
    page = client.get(change_url(box)).content.decode()
    assert "Standing by" not in page


def test_a_watcher_not_heard_from_for_too_long_is_shown_stale(client, admin_user):
    box = mailbox()
    now = timezone.now()
    imap_account(
        box,
        idle_state=ImapAccount.IdleState.WATCHING,
        idle_since=now - timedelta(hours=3),
        idle_heartbeat_at=now - timedelta(minutes=12),
        idle_by="desk-2 pid 99 watcher 1",
    )
    client.force_login(admin_user)
    page = client.get(change_url(box)).content.decode()
    assert "Stale: not heard from for over 5 minutes; the watcher is not running" in page
    assert "12 min ago" in page
    listing = client.get(reverse("admin:mail_mailbox_changelist")).content.decode()
    assert "stale: last heard 12 min ago" in listing
