"""Cross-cutting API behaviour (tierline.core.api and the wiring): sign-in, error mapping, the
OpenAPI schema and the docs page under the Content-Security-Policy."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.core.tokens import issue_token

pytestmark = pytest.mark.django_db


def test_token_header_signs_in(api, employee):
    ticket = desk_factories.ticket(employee)
    response = api(employee).get("/api/v1/tickets/")
    assert response.status_code == 200
    assert response.json()["results"][0]["number"] == ticket.number


def test_token_signs_in_as_its_owner_with_their_own_rows(api, employee, employee2):
    # given: each person's ticket
    mine, theirs = desk_factories.ticket(employee), desk_factories.ticket(employee2)
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
    issue_token(user=employee)
    # when
    response = APIClient().get("/api/v1/tickets/", HTTP_AUTHORIZATION=header)
    # then
    assert response.status_code == 401
    assert response.json()["detail"]


def test_token_of_an_inactive_user_is_refused(employee):
    # given
    _, key = issue_token(user=employee)
    employee.is_active = False
    employee.save()
    # when
    response = APIClient().get("/api/v1/tickets/", HTTP_AUTHORIZATION=f"Token {key}")
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
    assert client.post("/api/v1/tickets/", {"subject": "x"}, format="json").status_code == 401


def test_session_sign_in_works_and_posts_need_csrf(employee):
    # given: a browser session, as the docs page uses
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(employee)
    # when / then
    assert client.get("/api/v1/tickets/").status_code == 200
    response = client.post("/api/v1/tickets/", {"subject": "x", "description": "y"}, format="json")
    assert response.status_code == 403  # no CSRF token


def test_service_errors_are_json_never_500(api, employee, tier1):
    # given: a closed ticket
    ticket = desk_factories.ticket(employee)
    client = api(tier1)
    client.post(
        f"/api/v1/tickets/{ticket.number}/resolve/",
        {"resolution_code": "fixed", "body": "x"},
        format="json",
    )
    api(employee).post(f"/api/v1/tickets/{ticket.number}/confirm/")
    # when
    response = client.post(
        f"/api/v1/tickets/{ticket.number}/replies/", {"body": "more"}, format="json"
    )
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


def _drf_way(serializer_class):
    """The same serializer done DRF's own way: fields built and bound per instance, DRF's
    to_representation."""
    from rest_framework import serializers

    return type(
        f"Drf{serializer_class.__name__}",
        (serializer_class,),
        {
            "get_fields": lambda self: serializers.ModelSerializer.get_fields(self),
            "to_representation": lambda self, obj: serializers.Serializer.to_representation(
                self, obj
            ),
        },
    )


def test_output_serializers_answer_as_drf_builds_them(employee, employee2, tier1):
    from tierline.core.history import history_of
    from tierline.desk import services
    from tierline.desk.api.serializers import (
        HistoryEntrySerializer,
        MessageSerializer,
        TicketSerializer,
    )
    from tierline.desk.models import Category, ResolutionCode
    from tierline.people.api.serializers import PersonSerializer

    # given: a bare ticket, and one with everything set (assignee, category, parent, resolved)
    bare = desk_factories.ticket(employee)
    parent = desk_factories.ticket(employee2)
    full = services.create_child(
        parent=parent,
        by=tier1,
        subject="Order a toner",
        description="Two black cartridges.",
        team=people_factories.team(1),
    )
    full.category = Category.objects.create(name="Printers")
    full.save()
    services.take(ticket=full, by=tier1)
    services.add_message(ticket=full, by=tier1, body="Ordered.", time_spent_minutes=5)
    services.resolve(
        ticket=full,
        by=tier1,
        resolution_code=ResolutionCode.objects.filter(is_active=True).first(),
        body="Delivered.",
        time_spent_minutes=10,
    )
    # Other apps' fields (core.api_extras: sla's state and due times) come on top of the
    # model fields, which DRF's own way does not know: compare the rest, and see them there.
    from tierline.core.api_extras import extra_fields

    extras = set(extra_fields("desk.ticket"))

    def own(data):
        assert extras <= set(data)
        return {name: value for name, value in data.items() if name not in extras}

    # when / then: the same data as DRF's own way, row by row and as a list
    for ticket in (bare, full):
        assert own(TicketSerializer(ticket).data) == _drf_way(TicketSerializer)(ticket).data
    assert TicketSerializer(full).data["assignee"] == tier1.username
    assert TicketSerializer(full).data["parent"] == parent.number
    assert TicketSerializer(full).data["resolved_at"] is not None
    assert TicketSerializer(full).data["requester_name"] == str(employee2)
    assert [own(row) for row in TicketSerializer([bare, full], many=True).data] == [
        _drf_way(TicketSerializer)(bare).data,
        _drf_way(TicketSerializer)(full).data,
    ]
    for message in full.messages.all():
        assert MessageSerializer(message).data == _drf_way(MessageSerializer)(message).data
    for entry in history_of(full):
        assert HistoryEntrySerializer(entry).data == _drf_way(HistoryEntrySerializer)(entry).data
    assert PersonSerializer(tier1).data == _drf_way(PersonSerializer)(tier1).data
    # and each instance that asks for its fields binds its own copies
    a, b = TicketSerializer(bare), TicketSerializer(full)
    assert a.fields["requester_name"] is not b.fields["requester_name"]
    assert a.fields["requester_name"].parent is a


def test_output_serializer_refuses_a_writable_field():
    from tierline.core.api import OutputSerializer
    from tierline.people.models import Team

    class Writable(OutputSerializer):
        class Meta:
            model = Team
            fields = ["name"]

    with pytest.raises(TypeError, match="must be read-only"):
        Writable().fields  # noqa: B018 - building the fields is what raises
