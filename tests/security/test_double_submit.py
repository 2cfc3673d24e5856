"""A double-submitted form or API create makes one ticket (issue 8, point 2).

Regression of: a double click on the portal's "Send", a resend after a timeout, or a script
retrying a POST opened the same ticket twice. The portal's and the desk's "new ticket" forms
carry a one-time token; the API's creates take an `Idempotency-Key` header (same key and body:
the first answer replayed; another body: 422). Keys are kept 24 hours, then a job forgets them.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.concurrency import run_together
from tests.desk import factories as desk_factories
from tierline.core import idempotency
from tierline.core.models import IdempotencyKey
from tierline.core.scheduler import registered_jobs
from tierline.desk import services
from tierline.desk.models import Call, Message, Ticket

REQUEST = {"subject": "VPN drops every hour", "description": "Since Monday.", "urgency": 2}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_token(html: str) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', html)
    assert match, "the form carries no one-time token"
    return match[1]


def needs_real_concurrency() -> None:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("SQLite's in-memory test database can't take concurrent writers.")


# --- the portal -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_portal_form_sent_twice_opens_one_request(employee):
    # given: the form as shown
    client = signed_in(employee)
    token = form_token(client.get(reverse("portal:new")).content.decode())

    # when: sent twice (a double click, a resend)
    first = client.post(reverse("portal:new"), {**REQUEST, "form_token": token})
    second = client.post(reverse("portal:new"), {**REQUEST, "form_token": token}, follow=True)

    # then: one request; the second answer leads to it and says so
    ticket = Ticket.objects.get(requester=employee)
    assert first.status_code == 302 and first["Location"].endswith(f"/{ticket.number}/")
    assert second.redirect_chain[-1][0] == first["Location"]
    assert f"This request was already sent: it is {ticket.number}." in second.content.decode()


@pytest.mark.django_db
def test_each_portal_form_shown_opens_its_own_request(employee):
    # given: two forms, each shown with its own token
    client = signed_in(employee)
    tokens = {form_token(client.get(reverse("portal:new")).content.decode()) for _ in range(2)}
    assert len(tokens) == 2

    # when
    for token in tokens:
        client.post(reverse("portal:new"), {**REQUEST, "form_token": token})

    # then
    assert Ticket.objects.filter(requester=employee).count() == 2


@pytest.mark.django_db
def test_a_used_portal_form_sent_with_other_content_is_refused_and_renewed(employee):
    # given: a form sent once, then edited (the browser's Back) and sent again
    client = signed_in(employee)
    token = form_token(client.get(reverse("portal:new")).content.decode())
    client.post(reverse("portal:new"), {**REQUEST, "form_token": token})

    # when
    response = client.post(
        reverse("portal:new"), {**REQUEST, "subject": "Also the printer", "form_token": token}
    )

    # then: said plainly, nothing opened; the form now carries a new token, so sending it
    # again opens the other request
    assert response.status_code == 400
    html = response.content.decode()
    assert "This form was already sent" in html
    assert Ticket.objects.filter(requester=employee).count() == 1
    renewed = form_token(html)
    assert renewed != token
    client.post(
        reverse("portal:new"), {**REQUEST, "subject": "Also the printer", "form_token": renewed}
    )
    assert Ticket.objects.filter(requester=employee).count() == 2


@pytest.mark.django_db
def test_a_refused_portal_form_keeps_its_token_free_for_the_corrected_one(employee):
    # given: a first submission refused (no subject)
    client = signed_in(employee)
    token = form_token(client.get(reverse("portal:new")).content.decode())
    refused = client.post(reverse("portal:new"), {**REQUEST, "subject": "", "form_token": token})
    assert refused.status_code == 400

    # when: corrected and sent with the same form
    response = client.post(reverse("portal:new"), {**REQUEST, "form_token": token})

    # then
    assert response.status_code == 302
    assert Ticket.objects.filter(requester=employee).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_portal_form_sent_twice_at_the_same_moment_opens_one_request(employee):
    needs_real_concurrency()
    # given
    token = form_token(signed_in(employee).get(reverse("portal:new")).content.decode())
    clients = [signed_in(employee), signed_in(employee)]
    answers: list[int] = []

    # when: both submissions race
    errors = run_together(
        *[
            lambda c=c: answers.append(
                c.post(reverse("portal:new"), {**REQUEST, "form_token": token}).status_code
            )
            for c in clients
        ]
    )

    # then
    assert not errors, errors
    assert answers == [302, 302]
    assert Ticket.objects.filter(requester=employee).count() == 1


# --- the desk -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_desks_new_ticket_form_sent_twice_opens_one_ticket(tier1, employee):
    # given
    client = signed_in(tier1)
    token = form_token(client.get(reverse("desk:ticket_create")).content.decode())
    data = {
        "requester": employee.email,
        "subject": "Monitor flickers",
        "description": "Since the move",
        "impact": 3,
        "urgency": 2,
        "channel": "phone",
        "form_token": token,
    }

    # when
    first = client.post(reverse("desk:ticket_create"), data)
    second = client.post(reverse("desk:ticket_create"), data)

    # then
    ticket = Ticket.objects.get(requester=employee)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("desk:ticket", args=[ticket.number])


# --- the API --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_api_create_retried_with_its_key_opens_one_ticket_and_replays_the_answer(api, employee):
    # given
    client = api(employee)

    # when: the same request twice with one key
    first = client.post("/api/v1/tickets/", REQUEST, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post("/api/v1/tickets/", REQUEST, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    # then: one ticket; the same answer, marked as replayed
    assert Ticket.objects.filter(requester=employee).count() == 1
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first


@pytest.mark.django_db
def test_an_api_key_reused_with_another_body_is_refused(api, employee):
    # given
    client = api(employee)
    client.post("/api/v1/tickets/", REQUEST, format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    # when
    response = client.post(
        "/api/v1/tickets/",
        {**REQUEST, "subject": "Another thing"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )

    # then
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_conflict"
    assert "already used for a different request" in response.json()["detail"]
    assert Ticket.objects.filter(requester=employee).count() == 1


@pytest.mark.django_db
def test_api_keys_belong_to_their_user_and_a_failed_create_frees_its_key(api, employee, employee2):
    # given: a create refused for its body
    refused = api(employee).post(
        "/api/v1/tickets/", {**REQUEST, "subject": ""}, format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    assert refused.status_code == 400

    # when: corrected with the same key; and another person happens to pick the same key
    mine = api(employee).post(
        "/api/v1/tickets/", REQUEST, format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    theirs = api(employee2).post(
        "/api/v1/tickets/", REQUEST, format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )

    # then: each made their own
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["number"] != theirs.json()["number"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", " padded ", "x" * 256, "naïve"])
def test_a_malformed_idempotency_key_is_a_clear_400(api, employee, key):
    # when
    response = api(employee).post(
        "/api/v1/tickets/", REQUEST, format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    # then
    assert response.status_code == 400
    assert "printable" in response.json()["Idempotency-Key"][0]
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_replies_calls_and_work_orders_created_once_per_key(api, tier1, tier2):
    # given: a ticket at Tier 2 (who open work orders)
    ticket = desk_factories.ticket()
    services.escalate(ticket=ticket, by=tier1, summary="Tried the usual.")
    reply = {"body": "Rebooted the router.", "time_spent_minutes": 5}
    call = {"outcome": "solved", "caller_name": "Front desk", "duration_seconds": 120}
    start = timezone.now() + timedelta(days=1)
    visit = {
        "ticket": ticket.number,
        "scheduled_start": start.isoformat(),
        "scheduled_end": (start + timedelta(hours=1)).isoformat(),
        "technician": tier2.username,
    }
    client = api(tier2)

    # when: each sent twice with its key
    for _ in range(2):
        replied = client.post(
            f"/api/v1/tickets/{ticket.number}/replies/",
            reply,
            format="json",
            HTTP_IDEMPOTENCY_KEY="reply-1",
        )
        logged = client.post("/api/v1/calls/", call, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
        visited = api(tier2).post(
            "/api/v1/work-orders/", visit, format="json", HTTP_IDEMPOTENCY_KEY="w-1"
        )
        assert (replied.status_code, logged.status_code, visited.status_code) == (201, 201, 201)

    # then: one of each; the time counted once
    assert Message.objects.filter(ticket=ticket, body=reply["body"]).count() == 1
    assert Call.objects.filter(caller_name="Front desk").count() == 1
    assert ticket.work_orders.count() == 1
    assert Ticket.objects.get(pk=ticket.pk).time_spent_minutes == 5


@pytest.mark.django_db(transaction=True)
def test_an_api_create_sent_twice_at_the_same_moment_opens_one_ticket(api, employee):
    needs_real_concurrency()
    # given
    clients = [api(employee), api(employee)]
    answers: list = []

    # when
    errors = run_together(
        *[
            lambda c=c: answers.append(
                c.post("/api/v1/tickets/", REQUEST, format="json", HTTP_IDEMPOTENCY_KEY="race")
            )
            for c in clients
        ]
    )

    # then: both answered 201 with the same ticket, one of them replayed
    assert not errors, errors
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["number"] == answers[1].json()["number"]
    assert sorted(a.get("Idempotent-Replayed", "") for a in answers) == ["", "true"]
    assert Ticket.objects.filter(requester=employee).count() == 1


# --- keeping keys -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_keys_are_forgotten_after_a_day_by_a_scheduled_job(api, employee):
    # given: a key used 25 hours ago and one used now
    client = api(employee)
    client.post("/api/v1/tickets/", REQUEST, format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    client.post("/api/v1/tickets/", REQUEST, format="json", HTTP_IDEMPOTENCY_KEY="new")
    job = next(j for j in registered_jobs() if j.name == "forget-idempotency-keys")

    # when
    job.run()

    # then: the old one is gone, so the same key now opens a new ticket
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    again = client.post("/api/v1/tickets/", REQUEST, format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Ticket.objects.filter(requester=employee).count() == 3


@pytest.mark.django_db
def test_an_expired_key_is_not_replayed_even_before_the_job_runs(api, employee):
    # given
    client = api(employee)
    client.post("/api/v1/tickets/", REQUEST, format="json", HTTP_IDEMPOTENCY_KEY="stale")
    IdempotencyKey.objects.update(created_at=timezone.now() - idempotency.KEEP - timedelta(1))

    # when
    again = client.post("/api/v1/tickets/", REQUEST, format="json", HTTP_IDEMPOTENCY_KEY="stale")

    # then
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Ticket.objects.filter(requester=employee).count() == 2
