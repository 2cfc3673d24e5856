"""A work order handed to someone who cannot read its ticket (issue 8, point 6): a clear
refusal, nothing saved. It used to save the change and then answer 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.desk import services
from tierline.people.models import User

pytestmark = pytest.mark.django_db


def restricted_work_order(employee):
    """A visit for an HR Systems (restricted) ticket, by an HR member."""
    hr_member = people_factories.technician(2, username="hana")
    team = people_factories.restricted_team(members=(hr_member,))
    lead = people_factories.UserFactory(username="lead-wo", role=User.Role.LEAD)
    ticket = desk_factories.ticket(employee, team=team, by=lead)
    start = timezone.now() + timedelta(days=1)
    work_order = services.create_work_order(
        ticket=ticket,
        by=lead,
        technician=hr_member,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
    )
    return work_order, lead


def test_a_work_order_handed_to_someone_who_cannot_read_its_ticket_is_refused(employee, tier2):
    # given a visit for a restricted ticket, and a Tier 2 technician outside that team
    work_order, lead = restricted_work_order(employee)
    version = work_order.version
    # when the lead hands the visit to the outsider
    with pytest.raises(ValidationError) as refused:
        services.update_work_order(work_order=work_order, by=lead, technician=tier2)
    # then the reason is given and nothing changed
    assert "can't read" in " ".join(refused.value.messages)
    work_order.refresh_from_db()
    assert work_order.technician.username == "hana"
    assert work_order.version == version


def test_the_work_order_form_shows_the_refusal_instead_of_a_500(client, employee, tier2):
    work_order, lead = restricted_work_order(employee)
    client.force_login(lead)
    start = timezone.now() + timedelta(days=2)
    response = client.post(
        reverse("desk:work_order_action", args=[work_order.number, "update"]),
        {
            "technician": tier2.pk,
            "scheduled_start": start.strftime("%Y-%m-%dT%H:%M"),
            "scheduled_end": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "version": work_order.version,
        },
    )
    assert response.status_code in (200, 400)
    assert "can&#x27;t read" in response.content.decode()
    work_order.refresh_from_db()
    assert work_order.technician.username == "hana"
