"""Notifications tell nobody what they may not read: a requester never hears of an internal
note, a mention of someone who can't read the ticket tells them nothing, and the notice's text
carries no note body."""

from __future__ import annotations

import pytest

from tests.desk import factories as desk_factories
from tests.people.factories import restricted_team, technician
from tierline.desk import services as desk
from tierline.mail.models import Notification, Watcher

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_requester_is_never_notified_of_an_internal_note(employee, employee2, tier1):
    # given the requester, a colleague it is shared with, and the colleague as a watcher too
    ticket = desk_factories.ticket(employee)
    desk.share_ticket(ticket=ticket, by=employee, colleague=employee2)
    Watcher.objects.create(ticket=ticket, person=employee2)
    desk.take(ticket=ticket, by=tier1)
    Notification.objects.all().delete()
    # when a technician writes an internal note that even mentions them
    desk.add_message(
        ticket=ticket, by=tier1, body="@employee @employee2 secret: the VIP's laptop", internal=True
    )
    # then neither hears of it
    assert not Notification.objects.filter(recipient__in=[employee, employee2]).exists()


def test_a_mention_of_a_technician_who_can_t_read_the_ticket_tells_them_nothing(employee, tier1):
    # given an HR ticket (a restricted team) and a technician outside HR
    hr_member = technician(2, username="hr-tech")
    hr = restricted_team(members=(hr_member,))
    ticket = desk_factories.ticket(employee, team=hr)
    outsider = technician(2, username="outsider")
    # when an HR technician mentions the outsider (and a colleague in HR) in a note
    desk.add_message(
        ticket=ticket, by=hr_member, body="@outsider @lead ask about this", internal=True
    )
    # then the outsider is told nothing
    assert not Notification.objects.filter(recipient=outsider).exists()


def test_a_mention_of_a_technician_who_reads_the_ticket_tells_them(employee, lead):
    hr_member = technician(2, username="hr-tech")
    hr = restricted_team(members=(hr_member,))
    ticket = desk_factories.ticket(employee, team=hr)
    desk.add_message(ticket=ticket, by=hr_member, body="@lead please approve", internal=True)
    assert Notification.objects.filter(recipient=lead, kind="mention").exists()


def test_a_watcher_who_lost_access_is_not_told(employee, tier1):
    # given a technician watching a ticket that then moves to a restricted team
    hr_member = technician(2, username="hr-tech")
    hr = restricted_team(members=(hr_member,))
    ticket = desk_factories.ticket(employee)
    Watcher.objects.create(ticket=ticket, person=tier1)
    desk.escalate(ticket=ticket, by=tier1, summary="HR matter.", team=hr)
    Notification.objects.all().delete()
    # when the HR technician replies to the requester
    ticket.refresh_from_db()
    desk.add_message(ticket=ticket, by=hr_member, body="We'll call you.")
    # then the watcher who can no longer read it hears nothing
    assert not Notification.objects.filter(recipient=tier1).exists()
    assert Notification.objects.filter(recipient=employee).exists()


def test_the_notice_carries_no_message_body(employee, tier1):
    ticket = desk_factories.ticket(employee)
    desk.take(ticket=ticket, by=tier1)
    desk.add_message(ticket=ticket, by=tier1, body="The code is 4711.")
    assert not Notification.objects.filter(text__contains="4711").exists()
