"""An agent's enrolment answered 500 to a server that sends no client address.

Enrolment is rate-limited by address (assets.api.views.AgentThrottle); without REMOTE_ADDR,
DRF's get_ident gives None and the cache key was "addr-" + None, a TypeError. Found by the
schemathesis run (tests/api/test_schemathesis.py) once the assets app's operations joined the
schema, the same fault core.throttling had (test_api_call_without_a_client_address.py).
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test.client import RequestFactory

from tierline.assets import agent
from tierline.wsgi import application

pytestmark = pytest.mark.django_db


def post_without_address(path: str, payload: dict) -> tuple[str, dict]:
    body = json.dumps(payload).encode()
    environ = RequestFactory()._base_environ(
        PATH_INFO=path,
        REQUEST_METHOD="POST",
        CONTENT_TYPE="application/json",
        CONTENT_LENGTH=str(len(body)),
    )
    environ["wsgi.input"] = io.BytesIO(body)
    del environ["REMOTE_ADDR"]
    started: list[str] = []
    # As Django's test client does: the request's end must not close the test's connection
    # (PostgreSQL would lose the test transaction with it).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        answer = b"".join(application(environ, lambda status, headers: started.append(status)))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return started[0], json.loads(answer)


def test_a_bad_enrolment_without_a_client_address_is_a_clear_refusal_not_a_500():
    status, answer = post_without_address("/api/v1/agent/enrol", {"token": "not-a-token"})
    assert status[:3] in {"400", "401", "403"}, (status, answer)


def test_a_good_enrolment_without_a_client_address_works():
    _token, key = agent.issue_enrolment_token()
    status, answer = post_without_address("/api/v1/agent/enrol", {"token": key})
    assert status.startswith("20"), (status, answer)
