"""A ticket moved into a team out of its hours pages that team's on-call technician (issue 10
point 7): escalated at or above the team's page priority, once per ticket and team in
`paging.MOVE_PAGE_WINDOW`; against a real receiver on loopback, sent by the job only."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.mail.test_notify_webhooks import Receiver
from tests.people import factories as people_factories
from tests.sla import factories
from tests.sla.oncall_factories import closed_now, rota, shift, technicians
from tierline.core.history import history_of
from tierline.desk import services as desk_services
from tierline.desk.choices import Level
from tierline.sla import paging
from tierline.sla.models import Page

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "move-secret"


def urgent(requester):
    return desk_factories.ticket(requester, impact=Level.HIGH, urgency=Level.HIGH)


@pytest.fixture
def tier2_on_call():
    team = people_factories.team(2)
    [person] = technicians(2, 1, prefix="night2")
    shift(team, person, hours=4)  # on call from an hour ago for the next three hours
    return team, person


def test_an_urgent_ticket_escalated_into_a_team_out_of_hours_pages_its_on_call_once(
    employee, tier1, tier2, tier2_on_call
):
    team, person = tier2_on_call
    with Receiver() as receiver:
        # given: Tier 2 is out of hours and pages P1 tickets by email and webhook; Tier 1 has
        # no rota, so the new ticket pages nobody
        rota(team, calendar=closed_now(), page_webhook_url=receiver.url, page_webhook_secret=SECRET)
        ticket = urgent(employee)
        assert not Page.objects.exists()
        # when: it is escalated to Tier 2
        desk_services.escalate(ticket=ticket, by=tier1, summary="Restarted the print spooler.")
        # then: two pages wait for the job, nothing was sent in the request
        assert receiver.received == [] and mail.outbox == []
        assert Page.objects.filter(team=team, person=person, state="pending").count() == 2
        [entry] = history_of(ticket).filter(action="paged on-call")
        assert "by email and webhook" in entry.summary
        assert "moved to the team out of hours" in entry.summary
        # when: it goes back down and up again within the window
        ticket.refresh_from_db()
        desk_services.de_escalate(ticket=ticket, by=tier2, summary="Needs the user's login.")
        ticket.refresh_from_db()
        desk_services.escalate(ticket=ticket, by=tier1, summary="Login checked; still down.")
        # then: no second page for the same ticket and team
        assert Page.objects.count() == 2
        assert history_of(ticket).filter(action="paged on-call").count() == 1
        # and the job sends the two once
        assert paging.deliver_due() == (2, 0)
    [(_headers, body)] = receiver.received
    sent = json.loads(body)
    assert sent["ticket"]["number"] == ticket.number
    assert sent["on_call"]["username"] == person.username
    assert sent["reason"] == "P1 ticket moved to the team out of hours"
    [email] = mail.outbox
    assert email.to == [person.email]


def test_after_the_window_a_new_move_pages_again(employee, tier1, tier2_on_call):
    team, _ = tier2_on_call
    rota(team, calendar=closed_now())
    ticket = urgent(employee)
    desk_services.escalate(ticket=ticket, by=tier1, summary="Tried the usual.")
    assert Page.objects.count() == 1
    # when: the same check an hour and a bit later
    later = timezone.now() + paging.MOVE_PAGE_WINDOW + timedelta(minutes=1)
    # then: a second page
    assert len(paging.page_if_urgent_move(ticket_id=ticket.pk, at=later)) == 1


def test_a_move_in_business_hours_or_below_the_page_priority_pages_nobody(
    employee, tier1, tier2_on_call
):
    team, _ = tier2_on_call
    settings_row = rota(team, calendar=factories.always_open())
    # in hours: nobody
    desk_services.escalate(ticket=urgent(employee), by=tier1, summary="Tried the usual.")
    assert not Page.objects.exists()
    # out of hours, but a P3 ticket: nobody
    settings_row.calendar = closed_now()
    settings_row.save()
    desk_services.escalate(
        ticket=desk_factories.ticket(employee), by=tier1, summary="Tried the usual."
    )
    assert not Page.objects.exists()
    # a team that never pages: nobody
    settings_row.page_priority = None
    settings_row.save()
    desk_services.escalate(ticket=urgent(employee), by=tier1, summary="Tried the usual.")
    assert not Page.objects.exists()
