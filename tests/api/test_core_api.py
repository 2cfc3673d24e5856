"""Cross-cutting API behaviour (tierline.core.api and the wiring): sign-in, error mapping, the
OpenAPI schema and the docs page under the Content-Security-Policy."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories

pytestmark = pytest.mark.django_db


def test_token_header_signs_in(api, employee):
    ticket = factories.ticket(employee)
    response = api(employee).get("/api/v1/tickets/")
    assert response.status_code == 200
    assert response.json()["results"][0]["number"] == ticket.number


def test_token_signs_in_as_its_owner_with_their_own_rows(api, employee, employee2):
    # given: each person's ticket
    mine, theirs = factories.ticket(employee), factories.ticket(employee2)
    # when
    response = api(employee).get("/api/v1/tickets/")
    # then: the token's owner, no one else
    numbers = [row["number"] for row in response.json()["results"]]
    assert numbers == [mine.number] and theirs.number not in numbers


@pytest.mark.parametrize(
    "header",
    [
        "Token not-a-real-key",
        "Token " + "0" * 40,
        "Token ' OR '1'='1",
        "Token",
        "Token two words",
        "Token abc\x00def",
        "Token " + "k" * 300,
        "Bearer abc",
    ],
)
def test_bad_token_headers_answer_401_with_a_reason(header, employee):
    # given: a real token exists, so an unknown one is not found by accident
    Token.objects.create(user=employee)
    # when
    response = APIClient().get("/api/v1/tickets/", HTTP_AUTHORIZATION=header)
    # then
    assert response.status_code == 401
    assert response.json()["detail"]


def test_token_of_an_inactive_user_is_refused(employee):
    # given
    token = Token.objects.create(user=employee)
    employee.is_active = False
    employee.save()
    # when
    response = APIClient().get("/api/v1/tickets/", HTTP_AUTHORIZATION=f"Token {token.key}")
    # then
    assert response.status_code == 401
    assert response.json()["detail"] == "User inactive or deleted."


def test_no_token_answers_401(api):
    response = api(None).get("/api/v1/tickets/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_invalid_token_answers_401(employee):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/tickets/").status_code == 401
    assert client.post("/api/v1/tickets/", {"subject": "x"}).status_code == 401


def test_session_sign_in_works_and_posts_need_csrf(employee):
    # given: a browser session, as the docs page uses
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(employee)
    # when / then
    assert client.get("/api/v1/tickets/").status_code == 200
    response = client.post("/api/v1/tickets/", {"subject": "x", "description": "y"})
    assert response.status_code == 403  # no CSRF token


def test_service_errors_are_json_never_500(api, employee, tier1):
    # given: a closed ticket
    ticket = factories.ticket(employee)
    client = api(tier1)
    client.post(
        f"/api/v1/tickets/{ticket.number}/resolve/", {"resolution_code": "fixed", "body": "x"}
    )
    api(employee).post(f"/api/v1/tickets/{ticket.number}/confirm/")
    # when
    response = client.post(f"/api/v1/tickets/{ticket.number}/replies/", {"body": "more"})
    # then
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "closed" in response.json()["non_field_errors"][0]


def test_schema_generates_without_warnings():
    # --fail-on-warn raises on any warning or error of drf-spectacular
    out = io.StringIO()
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out
    )
    assert '"/api/v1/tickets/"' in out.getvalue()


def test_schema_view_serves_every_endpoint(employee):
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/tickets/",
        "/api/v1/tickets/{number}/",
        "/api/v1/tickets/{number}/escalate/",
        "/api/v1/tickets/{number}/replies/",
        "/api/v1/tickets/{number}/history/",
        "/api/v1/people/",
        "/api/v1/teams/",
        "/api/v1/categories/",
        "/api/v1/work-orders/",
        "/api/v1/work-orders/{number}/complete/",
        "/api/v1/calls/",
    ):
        assert path in paths


def test_docs_page_runs_under_the_csp():
    # given
    client = APIClient()
    # when
    page = client.get("/api/docs/")
    # then: no inline script or style, every script from /static/ or the split view's own URL
    assert page.status_code == 200
    csp = page["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    html = page.content.decode()
    assert "<style" not in html and " style=" not in html
    scripts = re.findall(r"<script([^>]*)>", html)
    sources = [re.search(r'src="([^"]+)"', attrs).group(1) for attrs in scripts]
    assert len(sources) == len(scripts)  # every <script> has a src: none is inline
    assert all(src.startswith(("/static/", "/api/docs/?")) for src in sources)
    init_script = client.get(next(s for s in sources if s.startswith("/api/docs/")))
    assert init_script.status_code == 200
    assert init_script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in init_script.content.decode()


# --- OutputSerializer: fields built once per class --------------------------------------------


def test_output_serializer_answers_as_drf_builds_it(employee, employee2):
    from rest_framework import serializers

    from tierline.desk.api.serializers import TicketSerializer

    class BuiltEachTime(TicketSerializer):
        def get_fields(self):
            return serializers.ModelSerializer.get_fields(self)

    first, second = factories.ticket(employee), factories.ticket(employee2)
    a, b = TicketSerializer(first), TicketSerializer(second)
    # Each instance binds its own copies: a method field calls its own serializer.
    assert a.fields["requester_name"] is not b.fields["requester_name"]
    assert a.fields["requester_name"].parent is a
    assert a.data == BuiltEachTime(first).data
    assert b.data == BuiltEachTime(second).data
    assert a.data["requester"] == employee.username
    assert b.data["requester"] == employee2.username
    many = TicketSerializer([first, second], many=True).data
    assert [row["number"] for row in many] == [first.number, second.number]


def test_output_serializer_refuses_a_writable_field():
    from tierline.core.api import OutputSerializer
    from tierline.people.models import Team

    class Writable(OutputSerializer):
        class Meta:
            model = Team
            fields = ["name"]

    with pytest.raises(TypeError, match="must be read-only"):
        Writable().fields  # noqa: B018 - building the fields is what raises
