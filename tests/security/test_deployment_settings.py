"""Regression tests for the deployment gaps a review found (issue 8, point 5, in part; point 6, CSV).

Settings are read once per process, so each check runs in a fresh Python process with the
environment a deployment would have.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.core.csv_export import safe_cell
from tierline.desk import services


def run_python(code: str, data_dir: Path | str, cwd: Path | None = None, **env: str) -> dict:
    """Run `code` with Django set up in a new process; it prints one JSON object."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TIERLINE_") and k != "DJANGO_SETTINGS_MODULE"
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="tierline.settings", TIERLINE_DATA_DIR=str(data_dir), **env
    )
    script = "import django, json\ndjango.setup()\n" + textwrap.dedent(code)
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1]) | {"stderr": result.stderr}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_dir_is_created_private_with_a_private_secret_key(tmp_path):
    # given a data dir that does not exist yet
    data_dir = tmp_path / "new" / "data"
    # when Tierline starts and migrates its SQLite database there
    run_python(
        """
        from django.core.management import call_command
        call_command("migrate", verbosity=0)
        print(json.dumps({}))
        """,
        data_dir,
    )
    # then only its own user can read any of it
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "secret_key") == 0o600
    assert mode(data_dir / "tierline.sqlite3") == 0o600


@pytest.mark.django_db
def test_attachments_are_written_readable_by_tierline_only(employee):
    ticket = desk_factories.ticket(requester=employee)
    [attachment] = services.add_attachments(
        ticket=ticket, by=employee, uploads=[SimpleUploadedFile("log.txt", b"printer log")]
    )
    assert mode(Path(attachment.file.path)) == 0o600


def test_testserver_is_not_an_allowed_host_outside_tests(tmp_path):
    seen = run_python(
        """
        from django.conf import settings
        print(json.dumps({"hosts": settings.ALLOWED_HOSTS}))
        """,
        tmp_path,
    )
    assert "testserver" not in seen["hosts"]
    assert seen["hosts"] == ["127.0.0.1", "localhost"]


def test_with_https_on_plain_http_is_redirected_and_hsts_is_sent(tmp_path):
    seen = run_python(
        """
        from django.core.management import call_command
        from django.test import Client
        call_command("migrate", verbosity=0)
        client = Client(HTTP_HOST="localhost")
        plain = client.get("/accounts/login/")
        secure = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
        print(json.dumps({
            "plain": [plain.status_code, plain.get("Location", "")],
            "hsts": secure.get("Strict-Transport-Security", ""),
            "secure_status": secure.status_code,
        }))
        """,
        tmp_path,
        TIERLINE_HTTPS="1",
    )
    assert seen["plain"] == [301, "https://localhost/accounts/login/"]
    assert seen["secure_status"] == 200
    assert seen["hsts"] == "max-age=31536000"


def test_without_https_nothing_redirects(tmp_path):
    seen = run_python(
        """
        from django.conf import settings
        print(json.dumps({"redirect": settings.SECURE_SSL_REDIRECT,
                          "hsts": settings.SECURE_HSTS_SECONDS}))
        """,
        tmp_path,
    )
    assert seen == {"redirect": False, "hsts": 0, "stderr": ""}


@pytest.mark.django_db
def test_signed_in_pages_are_sent_no_store(client, employee, tier1):
    ticket = desk_factories.ticket(requester=employee)
    client.force_login(employee)
    for url in (reverse("portal:home"), reverse("portal:ticket", args=[ticket.number])):
        assert "no-store" in client.get(url)["Cache-Control"]
    client.force_login(tier1)
    assert "no-store" in client.get(reverse("desk:ticket", args=[ticket.number]))["Cache-Control"]


def test_a_refusal_is_logged_as_one_line_without_a_traceback(tmp_path):
    seen = run_python(
        """
        import logging
        from django.core.exceptions import PermissionDenied
        from django.test import RequestFactory
        from django.utils.log import log_response
        request = RequestFactory().get("/desk/tickets/TL-000001/")
        from django.http import HttpResponseForbidden
        try:
            raise PermissionDenied("Only the help desk working this ticket can do that.")
        except PermissionDenied:
            import sys
            log_response("Forbidden (Permission denied): %s", request.path,
                         response=HttpResponseForbidden(), request=request,
                         exception=sys.exc_info()[1])
        print(json.dumps({}))
        """,
        tmp_path,
    )
    lines = [line for line in seen["stderr"].splitlines() if line.strip()]
    assert lines == ["Forbidden (Permission denied): /desk/tickets/TL-000001/"]


@pytest.mark.parametrize(
    "cell",
    [
        'Printer; =HYPERLINK("http://evil")',
        "Name;+1",
        "a\t=1+1",
        "ok; @SUM(A1)",
    ],
)
def test_csv_cells_with_a_formula_after_a_separator_are_escaped(cell):
    assert safe_cell(cell) == "'" + cell


def test_csv_cells_with_separators_but_no_formula_are_kept():
    assert safe_cell("Printer; scanner\tfloor 2") == "Printer; scanner\tfloor 2"


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["[" * 100_000, '{"a":' * 5_000 + "1" + "}" * 5_000])
def test_deeply_nested_json_is_refused_with_400_not_500(api, employee, body):
    response = api(employee).post("/api/v1/tickets/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper than" in response.json()["detail"]


@pytest.mark.django_db
def test_brackets_inside_strings_do_not_count_as_nesting(api, employee):
    subject = "[" * 40 + " printer " + "{" * 40
    response = api(employee).post(
        "/api/v1/tickets/",
        data={"subject": subject, "description": "It jams."},
        format="json",
    )
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_json_with_nan_is_still_refused(api, employee):
    response = api(employee).post(
        "/api/v1/tickets/", data='{"subject": NaN}', content_type="application/json"
    )
    assert response.status_code == 400


@pytest.mark.django_db
def test_the_api_is_rate_limited_per_token(api, employee, employee2, settings):
    # given a budget of 3 requests a minute per token
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    original = SimpleRateThrottle.THROTTLE_RATES
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "3/min"},
    }
    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        mine, theirs = api(employee), api(employee2)
        # when one token spends it
        answers = [mine.get("/api/v1/tickets/").status_code for _ in range(4)]
        # then its fourth request waits, with a Retry-After, and another token is unaffected
        assert answers == [200, 200, 200, 429]
        assert int(mine.get("/api/v1/tickets/")["Retry-After"]) > 0
        assert theirs.get("/api/v1/tickets/").status_code == 200
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original


@pytest.mark.django_db
def test_login_flood_from_many_addresses_locks_the_account(client):
    # given an account
    people_factories.UserFactory(username="victim2", password="pw-for-tests-1")
    # when five different addresses each guess once
    for n in range(5):
        client.post(
            reverse("login"),
            {"username": "victim2", "password": "wrong"},
            REMOTE_ADDR=f"203.0.113.{n + 1}",
        )
    # then a sixth address with the right password is refused for now
    response = client.post(
        reverse("login"),
        {"username": "victim2", "password": "pw-for-tests-1"},
        REMOTE_ADDR="203.0.113.99",
    )
    assert response.status_code == 429


def test_a_shared_sticky_data_dir_such_as_tmp_keeps_its_permissions(tmp_path):
    """TIERLINE_DATA_DIR=/tmp once turned /tmp into 0700, locking every other user and service
    (Dovecot's auth process among them) out of it: a shared, sticky folder is never chmodded."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    run_python("print(json.dumps({}))", shared)
    assert mode(shared) == 0o1777


def test_an_empty_data_dir_setting_means_the_default_not_the_working_directory(tmp_path):
    """`TIERLINE_DATA_DIR=` (set but empty) resolved to the working directory: a run from a checkout
    wrote `secret_key` and `tierline.sqlite3` into its root, and they were committed. Empty now
    means the default, `var` under the working directory."""
    run_python("print(json.dumps({}))", "", cwd=tmp_path)
    assert not (tmp_path / "secret_key").exists()
    assert not (tmp_path / "tierline.sqlite3").exists()
    assert (tmp_path / "var" / "secret_key").is_file()
    assert mode(tmp_path / "var" / "secret_key") == 0o600
