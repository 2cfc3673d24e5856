"""Bulk actions and the API's take and reopen are refused when made from a stale read
(issue 8, point 2, the rest).

Regression of: the queue's bulk assign / status change and the API's `take/` and `reopen/`
changed a ticket without checking the version the user saw, so a colleague's assignment or
status move made in between was overwritten silently. The queue now carries each row's version:
if any ticked ticket changed since the page loaded, nothing at all is changed and each stale
ticket is named with its current values. `take/` and `reopen/` accept a `version` and answer 409
with the current values.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.desk import factories as desk_factories
from tierline.core.history import history_of
from tierline.desk import services
from tierline.desk.models import Status, Ticket

pytestmark = pytest.mark.django_db

QUEUE = reverse("desk:queue")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_related("team", "assignee").get(pk=ticket.pk)


def queue_versions(html: str) -> dict[str, str]:
    """The hidden `version-<id>` inputs of the queue's bulk form."""
    return dict(re.findall(r'<input type="hidden" name="(version-\d+)" value="(\d+)"', html))


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- the queue's bulk actions ----------------------------------------------------------------


def test_the_queue_carries_each_rows_version(tier1):
    # given
    a, b = desk_factories.ticket(subject="A"), desk_factories.ticket(subject="B")
    services.take(ticket=fresh(b), by=tier1)
    # when
    html = signed_in(tier1).get(QUEUE, {"queue": "all"}).content.decode()
    # then
    versions = queue_versions(html)
    assert versions[f"version-{a.pk}"] == str(fresh(a).version)
    assert versions[f"version-{b.pk}"] == str(fresh(b).version)


def test_a_bulk_assign_from_a_stale_queue_changes_nothing_and_names_the_current_values(tier1, lead):
    # given: tier1 loads the queue with two new tickets ...
    a, b = desk_factories.ticket(subject="A"), desk_factories.ticket(subject="B")
    client = signed_in(tier1)
    loaded = queue_versions(client.get(QUEUE, {"queue": "all"}).content.decode())
    # ... then the lead takes B and moves it on
    services.take(ticket=fresh(b), by=lead)
    services.change_status(ticket=fresh(b), by=lead, status=Status.IN_PROGRESS)
    a_before, b_before = fresh(a), fresh(b)

    # when: tier1 ticks both and assigns them to themself
    response = client.post(
        reverse("desk:bulk"),
        {"ids": [a.pk, b.pk], "action": "assign", "assignee": "me", "next": QUEUE, **loaded},
        follow=True,
    )

    # then: neither changed (not even the current one), B named with its values now
    a_after, b_after = fresh(a), fresh(b)
    assert (a_after.assignee, a_after.version) == (None, a_before.version)
    assert (b_after.assignee, b_after.version) == (lead, b_before.version)
    assert b_after.status == Status.IN_PROGRESS
    assert history_of(a).filter(action="assigned").count() == 0
    texts = messages_of(response)
    assert not any("assigned to" in t for t in texts)
    refusal = next(t for t in texts if t.startswith("Nothing was changed"))
    assert f"{b.number} is now “In progress”" in refusal
    assert "assignee “Lee Lead”" in refusal
    assert a.number not in refusal


def test_a_bulk_status_change_from_a_stale_queue_changes_nothing(tier1, lead):
    # given
    a, b = desk_factories.ticket(subject="A"), desk_factories.ticket(subject="B")
    services.take(ticket=fresh(a), by=tier1)
    services.take(ticket=fresh(b), by=tier1)
    client = signed_in(tier1)
    loaded = queue_versions(client.get(QUEUE, {"queue": "all"}).content.decode())
    services.change_status(ticket=fresh(a), by=lead, status=Status.WAITING_THIRD_PARTY)

    # when
    response = client.post(
        reverse("desk:bulk"),
        {"ids": [a.pk, b.pk], "action": "status", "status": "in_progress", **loaded},
        follow=True,
    )

    # then
    assert fresh(a).status == Status.WAITING_THIRD_PARTY
    assert fresh(b).status == Status.OPEN
    assert any(f"{a.number} is now “Waiting on third party”" in t for t in messages_of(response))


def test_a_bulk_action_from_a_current_queue_is_done(tier1):
    # given
    a, b = desk_factories.ticket(subject="A"), desk_factories.ticket(subject="B")
    client = signed_in(tier1)
    loaded = queue_versions(client.get(QUEUE, {"queue": "all"}).content.decode())
    # when
    response = client.post(
        reverse("desk:bulk"),
        {"ids": [a.pk, b.pk], "action": "assign", "assignee": "me", **loaded},
        follow=True,
    )
    # then
    assert fresh(a).assignee == tier1 and fresh(b).assignee == tier1
    assert any("2 tickets assigned to" in t for t in messages_of(response))


def test_a_garbled_row_version_is_a_message_not_a_500(tier1):
    # given
    ticket = desk_factories.ticket()
    client = signed_in(tier1)
    # when
    response = client.post(
        reverse("desk:bulk"),
        {"ids": [ticket.pk], "action": "assign", "assignee": "me", f"version-{ticket.pk}": "²"},
        follow=True,
    )
    # then
    assert response.status_code == 200
    assert any("garbled ticket version" in t for t in messages_of(response))
    assert fresh(ticket).assignee is None


# --- the API's take and reopen ----------------------------------------------------------------


def test_the_api_refuses_a_take_from_a_stale_read_with_409_and_the_current_values(api, tier1, lead):
    # given: tier1's script read the ticket; then the lead took it
    ticket = desk_factories.ticket()
    url = f"/api/v1/tickets/{ticket.number}/"
    read = api(tier1).get(url).json()
    services.take(ticket=fresh(ticket), by=lead)

    # when
    response = api(tier1).post(url + "take/", {"version": read["version"]}, format="json")

    # then
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "stale"
    assert body["current"]["assignee"] == "lead"
    assert body["current"]["version"] == fresh(ticket).version
    assert fresh(ticket).assignee == lead


def test_the_api_takes_from_a_current_read_and_without_a_version(api, tier1, tier2):
    # given
    first, second = desk_factories.ticket(), desk_factories.ticket()
    read = api(tier1).get(f"/api/v1/tickets/{first.number}/").json()
    # when
    with_version = api(tier1).post(
        f"/api/v1/tickets/{first.number}/take/", {"version": read["version"]}, format="json"
    )
    without = api(tier1).post(f"/api/v1/tickets/{second.number}/take/")
    # then
    assert with_version.status_code == 200 and with_version.json()["assignee"] == "tier1"
    assert without.status_code == 200 and fresh(second).assignee == tier1


@pytest.mark.parametrize("version", ["two", 0, -1, [1]])
def test_the_api_take_refuses_a_bad_version_with_400(api, tier1, version):
    ticket = desk_factories.ticket()
    response = api(tier1).post(
        f"/api/v1/tickets/{ticket.number}/take/", {"version": version}, format="json"
    )
    assert response.status_code == 400 and "version" in response.json()
    assert fresh(ticket).assignee is None


def resolved(tier1) -> Ticket:
    ticket = desk_factories.ticket()
    services.take(ticket=fresh(ticket), by=tier1)
    services.resolve(
        ticket=fresh(ticket), by=tier1, resolution_code="fixed", body="Replaced the toner."
    )
    return fresh(ticket)


def test_the_api_refuses_a_reopen_from_a_stale_read(api, tier1, lead):
    # given: the client read the resolved ticket; then the lead reopened and resolved it again
    ticket = resolved(tier1)
    url = f"/api/v1/tickets/{ticket.number}/"
    read = api(tier1).get(url).json()
    services.reopen(ticket=fresh(ticket), by=lead, reason="Still jams.")
    services.resolve(ticket=fresh(ticket), by=lead, resolution_code="fixed", body="New rollers.")
    before = fresh(ticket)

    # when
    response = api(tier1).post(
        url + "reopen/", {"reason": "Jams again.", "version": read["version"]}, format="json"
    )

    # then: refused, nothing written
    assert response.status_code == 409
    assert response.json()["current"]["status"] == Status.RESOLVED
    after = fresh(ticket)
    assert (after.status, after.version) == (Status.RESOLVED, before.version)
    assert not ticket.messages.filter(body="Jams again.").exists()


def test_the_api_reopens_from_a_current_read(api, tier1):
    ticket = resolved(tier1)
    response = api(tier1).post(
        f"/api/v1/tickets/{ticket.number}/reopen/",
        {"reason": "Jams again.", "version": ticket.version},
        format="json",
    )
    assert response.status_code == 200 and fresh(ticket).status == Status.OPEN


def test_the_reopen_dialog_of_a_stale_page_is_refused(tier1, lead):
    # given: tier1 opened the Reopen dialog; then the lead reopened and resolved it again
    ticket = resolved(tier1)
    client = signed_in(tier1)
    url = reverse("desk:ticket_action", args=[ticket.number, "reopen"])
    dialog = client.get(url).content.decode()
    version = re.search(r'name="version" value="(\d+)"', dialog)[1]
    services.reopen(ticket=fresh(ticket), by=lead, reason="Still jams.")
    services.resolve(ticket=fresh(ticket), by=lead, resolution_code="fixed", body="New rollers.")

    # when
    response = client.post(url, {"reason": "Jams again.", "version": version})

    # then
    assert response.status_code == 400
    assert "your change was not saved" in response.content.decode()
    assert fresh(ticket).status == Status.RESOLVED
