"""Error pages: the site's own under /desk and /portal, JSON under /api."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from tierline.core.views import server_error

pytestmark = pytest.mark.django_db


def test_an_unknown_ticket_gets_the_sites_404_page(client, tier1):
    client.force_login(tier1)
    response = client.get(reverse("desk:ticket", args=["TL-999999"]))
    assert response.status_code == 404
    body = response.content.decode()
    assert "We couldn't find that page" in body
    assert 'href="/"' in body


def test_a_refusal_gets_the_403_page_with_its_reason(client, employee):
    client.force_login(employee)
    response = client.get(reverse("desk:escalation_report"))
    assert response.status_code == 403
    assert "Reports are for the help desk." in response.content.decode()


@pytest.mark.parametrize("path", ["/api/v1/nonexistent/", "/api/v1/teams/0.5/", "/api/nothing"])
def test_an_api_address_no_route_matches_answers_json_404(client, tier1, path):
    client.force_login(tier1)
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_a_server_error_is_json_under_the_api_and_a_page_elsewhere():
    api = server_error(RequestFactory().get("/api/v1/tickets/"))
    page = server_error(RequestFactory().get("/desk/"))
    assert api.status_code == page.status_code == 500
    assert api["Content-Type"] == "application/json"
    assert "Something went wrong on our side" in page.content.decode()
