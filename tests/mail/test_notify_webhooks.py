"""Webhooks against a real HTTP receiver on loopback (http.server in a thread): signed JSON per
event, Slack and Teams shapes, retried with back-off, and a slow or unreachable receiver never
slows the desk."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from tests.desk import factories as desk_factories
from tierline.desk import services as desk
from tierline.mail import webhooks
from tierline.mail.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "s3cret-for-tests"


class Receiver:
    """A loopback HTTP server that records what it is sent; `status` and `delay` say how it
    answers."""

    def __init__(self, *, status: int = 200, delay: float = 0.0) -> None:
        self.status, self.delay = status, delay
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.received.append((dict(self.headers.items()), body))
                if outer.delay:
                    time.sleep(outer.delay)
                self.send_response(outer.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def hook(url: str, **kwargs) -> Webhook:
    return Webhook.objects.create(name=kwargs.pop("name", "ops"), url=url, secret=SECRET, **kwargs)


def test_each_event_is_one_signed_json_post_sent_by_the_job(receiver, employee, tier1):
    hook(receiver.url, events=["TicketOpened", "TicketAssigned"])
    # when a ticket is opened and taken
    ticket = desk_factories.ticket(employee)
    desk.take(ticket=ticket, by=tier1)
    # then nothing was sent in the desk's requests: two deliveries wait for the job
    assert receiver.received == []
    assert WebhookDelivery.objects.filter(state="pending").count() == 2
    # when the job runs
    assert webhooks.deliver_due() == (2, 0)
    # then the receiver has both, each signed with the secret over its exact body
    assert [json.loads(body)["event"] for _, body in receiver.received] == [
        "TicketOpened",
        "TicketAssigned",
    ]
    for headers, body in receiver.received:
        assert headers["Content-Type"] == "application/json"
        assert webhooks.verify(SECRET, body, headers["X-Tierline-Signature"])
        assert not webhooks.verify("wrong", body, headers["X-Tierline-Signature"])
    opened = json.loads(receiver.received[0][1])
    assert opened["ticket"]["number"] == ticket.number
    assert opened["data"]["requester_id"] == employee.pk
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"sent"}
    # and running the job again sends nothing twice
    assert webhooks.deliver_due() == (0, 0)
    assert len(receiver.received) == 2


def test_internal_note_bodies_never_leave_by_webhook(receiver, employee, tier1):
    hook(receiver.url, events=["MessageAdded"])
    ticket = desk_factories.ticket(employee)
    desk.add_message(ticket=ticket, by=tier1, body="Password is hunter2", internal=True)
    webhooks.deliver_due()
    [(_, body)] = receiver.received
    assert b"hunter2" not in body
    assert json.loads(body)["data"]["internal"] is True


def test_slack_and_teams_get_the_shapes_their_incoming_webhooks_take(receiver, employee):
    hook(receiver.url, name="slack", format=Webhook.Format.SLACK, events=["TicketOpened"])
    hook(receiver.url, name="teams", format=Webhook.Format.TEAMS, events=["TicketOpened"])
    ticket = desk_factories.ticket(employee, subject="Printer <on fire> & smoking")
    webhooks.deliver_due()
    bodies = sorted((json.loads(body) for _, body in receiver.received), key=len)
    slack, teams = bodies
    assert slack == {"text": f"New ticket: {ticket.number} Printer <on fire> & smoking"}
    assert teams["@type"] == "MessageCard" and teams["text"] == "Printer <on fire> & smoking"


def test_a_failing_receiver_is_tried_again_with_back_off_then_given_up(employee):
    with Receiver(status=500) as failing:
        hook(failing.url, events=["TicketOpened"])
        desk_factories.ticket(employee)
        # when the job runs and the receiver answers 500
        assert webhooks.deliver_due() == (0, 1)
        delivery = WebhookDelivery.objects.get()
        assert delivery.state == "pending" and delivery.attempts == 1
        assert "500" in delivery.last_error
        assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=50)
        # then it is not tried again before its time
        assert webhooks.deliver_due() == (0, 0)
        # and after each wait it is tried again, until it is given up
        for _ in range(2, webhooks.MAX_ATTEMPTS + 1):
            later = WebhookDelivery.objects.get().next_attempt_at + timedelta(seconds=1)
            assert webhooks.deliver_due(now=later) == (0, 1)
        delivery.refresh_from_db()
        assert delivery.state == "failed" and delivery.attempts == webhooks.MAX_ATTEMPTS
        assert len(failing.received) == webhooks.MAX_ATTEMPTS


def test_a_receiver_that_comes_back_gets_the_delivery(employee):
    with Receiver(status=503) as flaky:
        hook(flaky.url, events=["TicketOpened"])
        desk_factories.ticket(employee)
        webhooks.deliver_due()
        flaky.status = 204
        later = WebhookDelivery.objects.get().next_attempt_at + timedelta(seconds=1)
        assert webhooks.deliver_due(now=later) == (1, 0)
    assert WebhookDelivery.objects.get().state == "sent"


def test_a_slow_receiver_never_slows_the_desk_and_times_out_in_the_job(settings, employee, tier1):
    settings.TIERLINE_WEBHOOK_TIMEOUT = 0.5
    with Receiver(delay=3.0) as slow:
        hook(slow.url)
        # when the desk works a ticket
        started = time.monotonic()
        ticket = desk_factories.ticket(employee)
        desk.take(ticket=ticket, by=tier1)
        desk.add_message(ticket=ticket, by=tier1, body="On it.")
        desk_time = time.monotonic() - started
        # then the desk did not wait on the receiver
        assert desk_time < 2.0
        assert slow.received == []
        # and the job gives each POST the short timeout, and tries again later
        started = time.monotonic()
        sent, failed = webhooks.deliver_due(limit=1)
        assert (sent, failed) == (0, 1)
        assert time.monotonic() - started < 2.0
        delivery = WebhookDelivery.objects.filter(attempts=1).get()
        assert "timed out" in delivery.last_error.lower()
        assert delivery.state == "pending"


def test_a_receiver_that_is_down_is_recorded_and_the_desk_works_on(employee):
    # a port nobody listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hook(f"http://127.0.0.1:{port}/hook", events=["TicketOpened"])
    ticket = desk_factories.ticket(employee)
    assert ticket.pk is not None
    assert webhooks.deliver_due() == (0, 1)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "pending" and "refused" in delivery.last_error.lower()


def test_an_event_a_webhook_did_not_ask_for_is_not_sent(receiver, employee):
    hook(receiver.url, events=["Resolved"])
    desk_factories.ticket(employee)
    assert not WebhookDelivery.objects.exists()


def test_only_http_addresses_are_posted_to(employee):
    hook("http://127.0.0.1:9/x", events=["TicketOpened"])
    Webhook.objects.update(url="file:///etc/passwd")
    desk_factories.ticket(employee)
    assert webhooks.deliver_due() == (0, 1)
    assert "not an http(s) address" in WebhookDelivery.objects.get().last_error


def test_a_requesters_vip_flag_and_department_never_leave_by_webhook(receiver, employee):
    # TicketOpened carries them for the service-target clock; receivers are not told.
    hook(receiver.url, events=["TicketOpened"])
    desk_factories.ticket(employee)
    webhooks.deliver_due()
    [(_, body)] = receiver.received
    data = json.loads(body)["data"]
    assert data["requester_id"] == employee.pk and "created_at" in data
    assert not {"requester_vip", "requester_department_id"} & set(data)
