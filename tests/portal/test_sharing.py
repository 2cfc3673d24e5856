"""Sharing a request with a colleague from the portal: pick by name or email, they follow it and
reply, the requester removes them, the history names each change."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.desk import factories as desk_factories
from tests.people.factories import UserFactory
from tierline.core.history import history_of
from tierline.desk.models import Message, Ticket

pytestmark = pytest.mark.django_db


def ticket_url(ticket: Ticket) -> str:
    return reverse("portal:ticket", args=[ticket.number])


def action_url(ticket: Ticket, action: str) -> str:
    return reverse("portal:ticket_action", args=[ticket.number, action])


def test_requester_shares_by_email_and_the_colleague_follows_and_replies(
    client, employee, employee2
):
    # given
    ticket = desk_factories.ticket(employee, subject="Team printer")
    employee2.email = "omar@example.com"
    employee2.save()
    client.force_login(employee)
    # when
    response = client.post(action_url(ticket, "share"), {"colleague_lookup": "omar@example.com"})
    # then: shared, said so, and written in the history
    assert response.status_code == 302
    assert list(ticket.shared_with.all()) == [employee2]
    page = client.get(ticket_url(ticket)).content.decode()
    assert "is now shared with Omar Other" in page
    assert "Omar Other" in page and 'aria-label="Remove Omar Other"' in page
    entry = history_of(ticket).get(action="shared")
    assert (entry.actor, entry.field, entry.new_value) == (employee, "shared_with", "Omar Other")
    # and the colleague sees it in their portal and can reply
    client.force_login(employee2)
    home = client.get(reverse("portal:home")).content.decode()
    assert "Team printer" in home and "Asked by Erin Employee" in home
    assert client.get(ticket_url(ticket)).status_code == 200
    reply = client.post(action_url(ticket, "reply"), {"body": "Same here on floor 2."})
    assert reply.status_code == 302
    assert Message.objects.get(ticket=ticket, author=employee2).body == "Same here on floor 2."


def test_share_by_name_with_several_matches_asks_which_one(client, employee):
    # given: two people called Sam
    ticket = desk_factories.ticket(employee)
    first = UserFactory(username="sam.a", first_name="Sam", last_name="Able")
    second = UserFactory(username="sam.b", first_name="Sam", last_name="Baker")
    client.force_login(employee)
    # when
    response = client.post(action_url(ticket, "share"), {"colleague_lookup": "Sam"})
    # then: nothing shared, both offered as choices
    html = response.content.decode()
    assert response.status_code == 400
    assert "Several people match: pick one below." in html
    assert f'name="colleague" value="{first.pk}"' in html
    assert f'name="colleague" value="{second.pk}"' in html
    assert not ticket.shared_with.exists()
    # when she picks the second
    picked = client.post(
        action_url(ticket, "share"), {"colleague_lookup": "Sam", "colleague": second.pk}
    )
    # then
    assert picked.status_code == 302
    assert list(ticket.shared_with.all()) == [second]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Type at least two letters"),
        ("zzzz-nobody", "Nobody in the directory matches"),
    ],
)
def test_share_with_nobody_is_refused_clearly(client, employee, typed, message):
    # given
    ticket = desk_factories.ticket(employee)
    client.force_login(employee)
    # when
    response = client.post(action_url(ticket, "share"), {"colleague_lookup": typed})
    # then
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ticket.shared_with.exists()


@pytest.mark.parametrize("junk", ["abc", "99999999999999999999999", "-1"])
def test_share_with_a_junk_pick_is_refused_clearly(client, employee, junk):
    # given
    ticket = desk_factories.ticket(employee)
    client.force_login(employee)
    # when
    response = client.post(action_url(ticket, "share"), {"colleague": junk})
    # then
    assert response.status_code == 400
    assert "That person is not in the directory." in response.content.decode()


def test_sharing_with_yourself_or_an_inactive_person_is_refused(client, employee):
    # given
    ticket = desk_factories.ticket(employee)
    gone = UserFactory(username="gone", first_name="Gone", last_name="Away", is_active=False)
    client.force_login(employee)
    # when
    own = client.post(action_url(ticket, "share"), {"colleague": employee.pk})
    inactive = client.post(action_url(ticket, "share"), {"colleague": gone.pk})
    # then
    assert own.status_code == 400
    assert "This is your own request" in own.content.decode()
    assert inactive.status_code == 400
    assert "That person is not in the directory." in inactive.content.decode()
    assert not ticket.shared_with.exists()


def test_sharing_twice_changes_nothing_and_says_so(client, employee, employee2):
    # given
    ticket = desk_factories.ticket(employee)
    client.force_login(employee)
    client.post(action_url(ticket, "share"), {"colleague": employee2.pk})
    # when
    response = client.post(action_url(ticket, "share"), {"colleague": employee2.pk}, follow=True)
    # then
    assert "was already shared with Omar Other" in response.content.decode()
    assert ticket.shared_with.count() == 1
    assert history_of(ticket).filter(action="shared").count() == 1


def test_requester_removes_a_share_and_the_colleague_loses_the_request(client, employee, employee2):
    # given
    ticket = desk_factories.ticket(employee, subject="Team printer")
    client.force_login(employee)
    client.post(action_url(ticket, "share"), {"colleague": employee2.pk})
    # when
    response = client.post(action_url(ticket, "unshare"), {"colleague": employee2.pk}, follow=True)
    # then
    assert "is no longer shared with Omar Other" in response.content.decode()
    assert not ticket.shared_with.exists()
    entry = history_of(ticket).get(action="unshared")
    assert (entry.actor, entry.old_value) == (employee, "Omar Other")
    client.force_login(employee2)
    assert client.get(ticket_url(ticket)).status_code == 404
    assert "Team printer" not in client.get(reverse("portal:home")).content.decode()


def test_unshare_without_a_person_is_refused_clearly(client, employee):
    # given
    ticket = desk_factories.ticket(employee)
    client.force_login(employee)
    # when
    response = client.post(action_url(ticket, "unshare"), {})
    # then
    assert response.status_code == 400
    assert "Say whom to stop sharing with." in response.content.decode()


def test_the_desk_timeline_shows_who_shared_with_whom(client, employee, employee2, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    client.force_login(employee)
    client.post(action_url(ticket, "share"), {"colleague": employee2.pk})
    client.post(action_url(ticket, "unshare"), {"colleague": employee2.pk})
    # when
    client.force_login(tier1)
    html = client.get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    # then
    assert "shared it with <b>Omar Other</b>" in html
    assert "stopped sharing it with <b>Omar Other</b>" in html


def test_only_the_requester_is_offered_the_share_form(client, employee, employee2):
    # given
    ticket = desk_factories.ticket(employee)
    ticket.shared_with.add(employee2)
    # when
    client.force_login(employee)
    owner_html = client.get(ticket_url(ticket)).content.decode()
    client.force_login(employee2)
    colleague_html = client.get(ticket_url(ticket)).content.decode()
    # then
    assert action_url(ticket, "share") in owner_html
    assert action_url(ticket, "share") not in colleague_html
    assert action_url(ticket, "unshare") not in colleague_html
    assert "Omar Other" in colleague_html and "(you)" in colleague_html
