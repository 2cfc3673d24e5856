"""A request shared with a colleague reaches that colleague and nobody else, in the portal and
the API; only its requester changes who it is shared with (each refusal changes nothing)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.desk import factories as desk_factories
from tests.people.factories import UserFactory
from tierline.core.history import history_of
from tierline.desk import services

pytestmark = pytest.mark.django_db


def api_ticket_url(ticket) -> str:
    return reverse("api-ticket-detail", args=[ticket.number])


def test_a_colleague_it_was_not_shared_with_gets_404_in_the_portal_and_the_api(
    client, api, employee, employee2
):
    # given: shared with employee2, not with the outsider
    ticket = desk_factories.ticket(employee, subject="Salary question")
    ticket.shared_with.add(employee2)
    outsider = UserFactory(username="outsider")
    client.force_login(outsider)
    # when / then: nothing of it, anywhere
    assert client.get(reverse("portal:ticket", args=[ticket.number])).status_code == 404
    reply = client.post(
        reverse("portal:ticket_action", args=[ticket.number, "reply"]), {"body": "hi"}
    )
    assert reply.status_code == 404
    assert "Salary question" not in client.get(reverse("portal:home")).content.decode()
    assert api(outsider).get(api_ticket_url(ticket)).status_code == 404
    listed = api(outsider).get(reverse("api-ticket-list")).json()["results"]
    assert ticket.number not in [t["number"] for t in listed]
    # while the colleague it was shared with reads it through the API as a requester
    seen = api(employee2).get(api_ticket_url(ticket))
    assert seen.status_code == 200 and seen.json()["subject"] == "Salary question"
    assert "team" not in seen.json()


def test_a_colleague_cannot_share_further_or_remove_a_share(client, employee, employee2):
    # given
    ticket = desk_factories.ticket(employee)
    ticket.shared_with.add(employee2)
    third = UserFactory(username="third", first_name="Third", last_name="Person")
    client.force_login(employee2)
    # when
    share = client.post(
        reverse("portal:ticket_action", args=[ticket.number, "share"]), {"colleague": third.pk}
    )
    unshare = client.post(
        reverse("portal:ticket_action", args=[ticket.number, "unshare"]),
        {"colleague": employee2.pk},
    )
    # then: refused (they read it, so 403), nothing changed, no history
    assert share.status_code == unshare.status_code == 403
    assert list(ticket.shared_with.all()) == [employee2]
    assert not history_of(ticket).filter(action__in=["shared", "unshared"]).exists()


def test_an_outsider_cannot_share_someone_elses_request(client, employee, employee2):
    # given
    ticket = desk_factories.ticket(employee)
    client.force_login(employee2)
    # when: sharing it with themselves, to read it
    response = client.post(
        reverse("portal:ticket_action", args=[ticket.number, "share"]),
        {"colleague": employee2.pk},
    )
    # then
    assert response.status_code == 404
    assert not ticket.shared_with.exists()


def test_a_shared_colleague_does_not_read_internal_notes(client, api, employee, employee2, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    services.add_message(ticket=ticket, by=tier1, body="Internal: check HR system", internal=True)
    services.add_message(ticket=ticket, by=tier1, body="Public: on my way")
    ticket.shared_with.add(employee2)
    client.force_login(employee2)
    # when
    html = client.get(reverse("portal:ticket", args=[ticket.number])).content.decode()
    replies = api(employee2).get(reverse("api-ticket-replies", args=[ticket.number])).json()
    # then: the public reply, never the note
    bodies = [r["body"] for r in replies]
    assert "Public: on my way" in html and bodies == ["Public: on my way"]
    assert "check HR system" not in html
