"""The ticket page's "other tickets" panel, and the list of all of a requester's tickets, show a
technician only the tickets desk.permissions lets them read: never a restricted team's."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories

pytestmark = pytest.mark.django_db


def test_a_restricted_teams_ticket_of_the_requester_is_not_shown_to_an_outsider(
    employee, tier1, tier2
):
    # given: an HR ticket of the requester (tier2 is in HR, tier1 is not), and a printer ticket
    hr = people_factories.restricted_team(members=[tier2])
    desk_factories.ticket(employee, team=hr, subject="Grievance about my manager")
    current = desk_factories.ticket(employee, subject="Printer jams")
    outsider, member = Client(), Client()
    outsider.force_login(tier1)
    member.force_login(tier2)
    url = reverse("desk:ticket", args=[current.number])
    all_url = reverse("desk:search") + f"?requester={employee.pk}"
    # when / then: the outsider sees neither its subject nor its number, the member does
    assert "Grievance" not in outsider.get(url).content.decode()
    assert "Grievance" not in outsider.get(all_url).content.decode()
    assert "Grievance" in member.get(url).content.decode()
    assert "Grievance" in member.get(all_url).content.decode()
