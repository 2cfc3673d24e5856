"""The composer's canned-response picker (works without JS) and the macro button."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.desk import factories as desk_factories
from tierline.desk import services
from tierline.desk.models import CannedResponse, Macro, ResolutionCode, Status

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_picking_a_response_fills_the_composer_without_js(employee, tier1):
    employee.first_name = "Ann"
    employee.save()
    ticket = desk_factories.ticket(employee, subject="<script>x</script>")
    response = services.save_canned_response(
        by=tier1, title="Looking", body="Hi {first_name}, looking at {subject}."
    )
    url = reverse("desk:ticket", args=[ticket.number])
    page = client_for(tier1).get(url).content.decode()
    assert 'class="canned-picker"' in page and f'<option value="{response.pk}"' in page
    page = client_for(tier1).get(url, {"canned": response.pk}).content.decode()
    assert "Hi Ann, looking at &lt;script&gt;x&lt;/script&gt;.</textarea>" in page


def test_someone_elses_personal_response_is_not_filled(employee, tier1, tier2):
    ticket = desk_factories.ticket(employee)
    theirs = services.save_canned_response(by=tier2, title="Theirs", body="Secret text")
    page = client_for(tier1).get(
        reverse("desk:ticket", args=[ticket.number]), {"canned": theirs.pk}
    )
    assert page.status_code == 200 and "Secret text" not in page.content.decode()


def test_typing_narrows_the_choices(tier1):
    services.save_canned_response(by=tier1, title="Password reset", body="a")
    services.save_canned_response(by=tier1, title="Printer driver", body="b")
    answer = client_for(tier1).get(reverse("desk:canned_options"), {"canned_q": "pass"})
    html = answer.content.decode()
    assert answer.status_code == 200
    assert "Password reset" in html and "Printer driver" not in html


def test_an_employee_gets_no_choices(employee):
    answer = client_for(employee).get(reverse("desk:canned_options"), {"canned_q": "x"})
    assert answer.status_code in (403, 302)


def test_the_macro_button_resolves_and_a_stale_page_is_refused(employee, tier1):
    ticket = desk_factories.ticket(employee)
    body = CannedResponse.objects.create(title="Done", body="Done, {first_name}.")
    macro = Macro.objects.create(
        name="Reset done", response=body, resolution_code=ResolutionCode.objects.first()
    )
    url = reverse("desk:ticket_action", args=[ticket.number, "macro"])
    page = client_for(tier1).get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    assert "Reset done (resolves:" in page
    stale = ticket.version
    services.change_status(ticket=ticket, by=tier1, status=Status.IN_PROGRESS)
    refused = client_for(tier1).post(url, {"macro": macro.pk, "version": stale})
    assert refused.status_code == 400
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    done = client_for(tier1).post(url, {"macro": macro.pk, "version": ticket.version})
    assert done.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_an_unknown_macro_is_a_clear_error_not_a_500(employee, tier1):
    ticket = desk_factories.ticket(employee)
    url = reverse("desk:ticket_action", args=[ticket.number, "macro"])
    answer = client_for(tier1).post(url, {"macro": "99999999999999999999", "version": "1"})
    assert answer.status_code == 400
    assert "No such macro." in answer.content.decode()
