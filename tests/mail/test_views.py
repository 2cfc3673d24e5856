"""An email's original and its .eml, one click from the ticket, for the help desk only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.mail.factories import mail, mailbox
from tierline.mail import services

pytestmark = pytest.mark.django_db

HTML = (
    "<p>Outlook <b>crashes</b></p><script>alert('x')</script>"
    "<img src=x onerror=alert(1)><a href='javascript:alert(1)'>click</a>"
)


@pytest.fixture
def inbound(employee):
    mailbox()
    return services.receive(mail(body=None, html=HTML, subject="Outlook <crashes>")).inbound


def test_a_technician_reads_the_original_with_its_html_sanitised(client, tier1, inbound):
    client.force_login(tier1)
    response = client.get(reverse("mail:original", args=[inbound.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<b>crashes</b>" in page
    assert "alert" not in page and "onerror" not in page and "javascript:" not in page
    assert "Outlook &lt;crashes&gt;" in page


def test_a_technician_downloads_the_raw_message(client, tier1, inbound):
    client.force_login(tier1)
    response = client.get(reverse("mail:eml", args=[inbound.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == f'attachment; filename="email-{inbound.pk}.eml"'
    assert b"<script>alert('x')</script>" in response.content


@pytest.mark.parametrize("name", ["mail:original", "mail:eml"])
def test_a_requester_gets_a_404(client, employee, inbound, name):
    client.force_login(employee)
    assert client.get(reverse(name, args=[inbound.pk])).status_code == 404


@pytest.mark.parametrize("url", ["/mail/emails/99999999999999999999/", "/mail/emails/0.eml"])
def test_an_impossible_id_is_a_404(client, lead, url):
    client.force_login(lead)
    assert client.get(url).status_code == 404


def test_mail_on_no_ticket_is_for_leads_only(client, tier1, lead, employee):
    held = services.receive(mail(sender="stranger@elsewhere.net")).inbound
    client.force_login(tier1)
    assert client.get(reverse("mail:original", args=[held.pk])).status_code == 404
    client.force_login(lead)
    assert client.get(reverse("mail:original", args=[held.pk])).status_code == 200


def test_the_ticket_page_links_its_emails_for_the_help_desk(client, tier1, employee, inbound):
    ticket = inbound.ticket
    client.force_login(tier1)
    page = client.get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    assert reverse("mail:original", args=[inbound.pk]) in page
    assert reverse("mail:eml", args=[inbound.pk]) in page
    client.force_login(employee)
    portal = client.get(reverse("desk:ticket", args=[ticket.number]), follow=True)
    assert reverse("mail:eml", args=[inbound.pk]) not in portal.content.decode()


def test_the_admin_shows_raw_and_inbound_messages_read_only(client, admin_user, inbound):
    client.force_login(admin_user)
    for name in ("rawmessage", "inbound", "mailbox"):
        assert client.get(reverse(f"admin:mail_{name}_changelist")).status_code == 200
    change = client.get(reverse("admin:mail_inbound_change", args=[inbound.pk]))
    assert change.status_code == 200
    assert reverse("mail:eml", args=[inbound.pk]) in change.content.decode()
    assert client.get(reverse("admin:mail_inbound_add")).status_code == 403


def test_the_admin_releases_a_held_message(client, admin_user, employee):
    mailbox()
    held = services.receive(mail(sender="stranger@elsewhere.net")).inbound
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:mail_inbound_changelist"),
        {"action": "process_again", "_selected_action": [held.pk]},
        follow=True,
    )
    assert response.status_code == 200
    held.refresh_from_db()
    assert held.outcome == "new"
