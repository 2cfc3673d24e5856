"""The API schema answered 500 to a server that sends no client address.

REMOTE_ADDR is optional in WSGI; without it (and without X-Forwarded-For) DRF's get_ident gives
None and the rate limit's cache key was "addr-" + None. The schema, open to anyone, is throttled
by address, so it failed; other anonymous calls are refused (401) before the rate limit is asked.
Found by the schemathesis run (tests/api/test_schemathesis.py), which loads the schema so.
"""

from __future__ import annotations

import json

import pytest
from django.test.client import RequestFactory

from tierline.wsgi import application

pytestmark = pytest.mark.django_db


def call_without_address(path: str) -> tuple[str, bytes]:
    environ = RequestFactory()._base_environ(PATH_INFO=path, REQUEST_METHOD="GET")
    del environ["REMOTE_ADDR"]
    started: list[str] = []
    body = b"".join(application(environ, lambda status, headers: started.append(status)))
    return started[0], body


def test_the_schema_downloads_without_a_client_address():
    status, body = call_without_address("/api/schema/")
    assert status.startswith("200")
    assert body.startswith(b"openapi:")


def test_an_anonymous_api_call_without_a_client_address_is_still_refused():
    status, body = call_without_address("/api/v1/tickets/")
    assert status.startswith("401")
    assert "detail" in json.loads(body)
