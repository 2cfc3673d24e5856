"""The clock never stops the desk: a calendar that can't be used leaves a ticket without due
times (logged), and the clock commits or rolls back with the ticket's own change."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.desk import factories as desk_factories
from tests.sla import factories
from tierline.desk.models import Ticket
from tierline.sla.models import BusinessHours, TicketClock
from tierline.sla.queries import state_of

pytestmark = pytest.mark.django_db


def test_a_calendar_left_with_no_hours_does_not_stop_a_ticket_opening(employee, caplog):
    # given: a calendar whose hours were all deleted outside the admin's checks
    calendar = factories.calendar()
    factories.policy(on=calendar)
    BusinessHours.objects.filter(calendar=calendar).delete()
    calendar.save()  # a new version of the row: built again
    # when
    ticket = desk_factories.ticket(employee)
    # then: opened, with a clock but no due times, and the error logged
    clock = TicketClock.objects.get(ticket=ticket)
    assert clock.first_response_due is None and clock.next_check_at is None
    assert state_of(clock) == "on_track"
    assert "can't be used" in caplog.text


def test_the_clock_rolls_back_with_the_ticket(employee):
    factories.policy(on=factories.always_open())
    with pytest.raises(RuntimeError), transaction.atomic():
        ticket = desk_factories.ticket(employee)
        assert TicketClock.objects.filter(ticket=ticket).exists()
        raise RuntimeError("the request failed after opening")
    assert not Ticket.objects.filter(pk=ticket.pk).exists()
    assert not TicketClock.objects.filter(ticket_id=ticket.pk).exists()
