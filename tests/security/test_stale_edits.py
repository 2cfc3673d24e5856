"""An edit from a stale page is refused with the current values (issue 8, point 2).

Regression of: the status select on a ticket page loaded before a colleague's change silently
overwrote it (the form carried no version). Status, priority, team and assignee changes now
carry the version (and what their page showed); a stale one is refused, names what changed and
shows every value as it is now; the API answers 409 with the current values in its body.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.desk import factories as desk_factories
from tierline.core.history import history_of
from tierline.desk import services
from tierline.desk.models import Level, Status, Ticket

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def act(ticket: Ticket, action: str) -> str:
    return reverse("desk:ticket_action", args=[ticket.number, action])


def hidden_inputs(html: str, action_url: str) -> dict[str, str]:
    """The hidden inputs of the form posting to `action_url` on a page."""
    form = re.search(
        rf'<form[^>]*action="{re.escape(action_url)}"[^>]*>(.*?)</form>', html, re.DOTALL
    )
    assert form, f"no form posting to {action_url}"
    return dict(re.findall(r'<input type="hidden" name="(version|seen)" value="([^"]*)"', form[1]))


def unescape(html: str) -> str:
    return html.replace("&amp;", "&").replace("&quot;", '"').replace("&#x27;", "'")


def test_the_status_select_of_a_stale_page_does_not_overwrite_a_colleagues_change(tier1, lead):
    # given: tier1 has the page open (the status select carries what it showed)
    ticket = desk_factories.ticket()
    services.take(ticket=ticket, by=tier1)
    client = signed_in(tier1)
    page = client.get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    loaded = hidden_inputs(page, act(ticket, "status"))
    assert loaded["version"] == str(Ticket.objects.get(pk=ticket.pk).version)
    # ... when the lead moves it to "In progress"
    services.change_status(ticket=Ticket.objects.get(pk=ticket.pk), by=lead, status="in_progress")

    # when: tier1's select asks for "Waiting on requester"
    response = client.post(
        act(ticket, "status"), {"status": Status.WAITING_REQUESTER, **unescape_all(loaded)}
    )

    # then: refused, what changed named, current values shown; the lead's change stands
    assert response.status_code == 400
    text = response.content.decode()
    assert "your change was not saved" in text
    assert "status is now “In progress” (your page showed “Open”)" in text
    assert "assignee “Tess One”" in text
    assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS
    assert history_of(ticket).filter(field="status", new_value="Waiting on requester").count() == 0
    # and the page it answers with carries the current version, so trying again works
    again = hidden_inputs(text, act(ticket, "status"))
    assert again["version"] == str(Ticket.objects.get(pk=ticket.pk).version)
    response = client.post(
        act(ticket, "status"), {"status": Status.WAITING_REQUESTER, **unescape_all(again)}
    )
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).status == Status.WAITING_REQUESTER


def unescape_all(values: dict[str, str]) -> dict[str, str]:
    return {name: unescape(value) for name, value in values.items()}


def test_a_current_page_changes_the_status(tier1):
    # given
    ticket = desk_factories.ticket()
    services.take(ticket=ticket, by=tier1)
    ticket = Ticket.objects.get(pk=ticket.pk)

    # when
    response = signed_in(tier1).post(
        act(ticket, "status"), {"status": Status.IN_PROGRESS, "version": ticket.version}
    )

    # then
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS


@pytest.mark.parametrize(
    ("action", "data", "changed"),
    [
        ("take", {}, "assignee is now “Lee Lead”"),
        ("assign", {"assignee": ""}, "assignee is now “Lee Lead”"),
        ("escalate", {"summary": "Reinstalled the driver."}, "assignee is now “Lee Lead”"),
        (
            "resolve",
            {"resolution_code": "fixed", "body": "Driver reinstalled."},
            "status is now “Open” (your page showed “New”)",
        ),
        (
            "fields",
            {"subject": "Printer", "impact": Level.HIGH, "urgency": Level.HIGH},
            "assignee is now “Lee Lead”",
        ),
    ],
)
def test_assign_take_escalate_and_fields_from_a_stale_dialog_are_refused(
    tier1, lead, action, data, changed
):
    # given: tier1 opened the dialog; then the lead took the ticket
    ticket = desk_factories.ticket()
    client = signed_in(tier1)
    if action == "take":
        html = client.get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    else:
        html = client.get(act(ticket, action)).content.decode()
    loaded = hidden_inputs(html, act(ticket, action))
    services.take(ticket=Ticket.objects.get(pk=ticket.pk), by=lead)

    # when
    response = client.post(act(ticket, action), {**data, **unescape_all(loaded)})

    # then: refused, named; the lead still has it at Tier 1
    assert response.status_code == 400
    assert changed in response.content.decode()
    current = Ticket.objects.get(pk=ticket.pk)
    assert current.assignee == lead and current.tier == 1 and current.subject != "Printer"
    assert current.status == Status.OPEN


def test_the_api_answers_a_stale_status_change_409_with_the_current_values(api, tier1, lead):
    # given: the client read version N; then the lead moved the ticket and took it
    ticket = desk_factories.ticket()
    url = f"/api/v1/tickets/{ticket.number}/"
    read = api(tier1).get(url).json()
    services.take(ticket=Ticket.objects.get(pk=ticket.pk), by=lead)
    services.change_status(ticket=Ticket.objects.get(pk=ticket.pk), by=lead, status="in_progress")

    # when
    response = api(tier1).patch(
        url, {"status": Status.WAITING_REQUESTER, "version": read["version"]}, format="json"
    )

    # then
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "stale"
    now = Ticket.objects.get(pk=ticket.pk)
    assert body["current"]["version"] == now.version != read["version"]
    assert body["current"]["status"] == Status.IN_PROGRESS
    assert body["current"]["assignee"] == "lead"
    assert body["current"]["priority"] == now.priority
    assert now.status == Status.IN_PROGRESS


@pytest.mark.parametrize(
    "change", [{"assignee": None}, {"impact": Level.HIGH}, {"status": Status.IN_PROGRESS}]
)
def test_the_api_refuses_priority_and_assignee_changes_from_a_stale_read(api, tier1, change):
    # given
    ticket = desk_factories.ticket()
    url = f"/api/v1/tickets/{ticket.number}/"
    read = api(tier1).get(url).json()
    services.take(ticket=Ticket.objects.get(pk=ticket.pk), by=tier1)

    # when
    response = api(tier1).patch(url, {**change, "version": read["version"]}, format="json")

    # then: nothing changed since the take
    assert response.status_code == 409
    assert response.json()["current"]["assignee"] == "tier1"
    now = Ticket.objects.get(pk=ticket.pk)
    assert (now.assignee, now.impact, now.status) == (tier1, Level.MEDIUM, Status.OPEN)


def test_the_api_refuses_an_escalation_from_a_stale_read(api, tier1, lead):
    # given
    ticket = desk_factories.ticket()
    url = f"/api/v1/tickets/{ticket.number}/"
    read = api(tier1).get(url).json()
    services.take(ticket=Ticket.objects.get(pk=ticket.pk), by=lead)

    # when
    response = api(tier1).post(
        url + "escalate/", {"summary": "Tried it all.", "version": read["version"]}, format="json"
    )

    # then
    assert response.status_code == 409
    assert response.json()["current"]["team"] == ticket.team_id
    assert Ticket.objects.get(pk=ticket.pk).tier == 1
