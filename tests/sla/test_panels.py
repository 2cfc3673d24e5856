"""The countdown on the ticket page, through the desk's side slot."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.sla import factories
from tierline.desk import services as desk_services
from tierline.desk.choices import Priority, Status

pytestmark = pytest.mark.django_db


def page(user, ticket) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("desk:ticket", args=[ticket.number]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_ticket_page_shows_the_countdown_to_the_desk(employee, tier1):
    factories.policy(
        on=factories.calendar(zone="UTC", hours={}), targets={Priority.MEDIUM: (60, None, 480)}
    )
    ticket = desk_factories.ticket(employee)
    html = page(tier1, ticket)
    assert 'data-panel="sla.countdown"' in html
    assert 'data-sla-state="on_track"' in html
    assert "First response" in html and "Resolution" in html


def test_an_overdue_target_reads_overdue(employee, tier1):
    factories.policy(on=factories.always_open(), targets={Priority.MEDIUM: (60, None, None)})
    ticket = desk_factories.ticket(employee, created_at=timezone.now() - timedelta(hours=3))
    html = page(tier1, ticket)
    assert 'data-sla-state="breached"' in html
    assert "overdue by" in html


def test_a_waiting_ticket_reads_paused(employee, tier1):
    factories.policy(on=factories.always_open())
    ticket = desk_factories.ticket(employee)
    desk_services.change_status(ticket=ticket, by=tier1, status=Status.WAITING_REQUESTER)
    assert 'data-sla-state="paused"' in page(tier1, ticket)


def test_no_policy_no_panel(employee, tier1):
    ticket = desk_factories.ticket(employee)
    assert "sla.countdown" not in page(tier1, ticket)
