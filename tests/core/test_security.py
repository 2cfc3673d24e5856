"""Security basics help desks have been burnt by: hashing, login floods, headers, CSV, sanitising."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.urls import reverse

from tests.people.factories import UserFactory
from tierline.core.csv_export import safe_cell
from tierline.core.sanitise import clean_text, render_html_from_mail

pytestmark = pytest.mark.django_db


def test_passwords_are_hashed_with_argon2(settings):
    from tierline import settings as production

    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    user = UserFactory()
    assert identify_hasher(user.password).algorithm == "argon2"


def test_login_flood_is_locked_out(client):
    # given
    UserFactory(username="victim", password=factory_password())
    # when: more failed attempts than the limit
    for _ in range(5):
        client.post(reverse("login"), {"username": "victim", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "victim", "password": factory_password()})
    # then: even the right password is refused for now
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content


def factory_password() -> str:
    return "pw-for-tests-1"


def test_login_works_with_the_right_password(client):
    UserFactory(username="someone", password=factory_password())
    response = client.post(
        reverse("login"), {"username": "someone", "password": factory_password()}
    )
    assert response.status_code == 302


def test_pages_send_csp_and_nosniff(client):
    response = client.get(reverse("login"))
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_anonymous_is_sent_to_login(client):
    for name in ("desk:queue", "portal:home"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.parametrize("cell", ['=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)"])
def test_csv_cells_that_start_a_formula_are_escaped(cell):
    assert safe_cell(cell) == "'" + cell


def test_csv_plain_cells_are_kept():
    assert safe_cell("Printer jams") == "Printer jams"
    assert safe_cell(None) == ""


def test_mail_html_sanitiser_removes_scripts_and_handlers():
    dirty = (
        '<p onclick="x()">Hi <a href="javascript:alert(1)">link</a><script>alert(1)</script></p>'
    )
    clean = render_html_from_mail(dirty)
    assert "script" not in clean and "onclick" not in clean and "javascript:" not in clean
    assert "<p>Hi <a" in clean


def test_a_file_name_loses_markup_but_is_not_escaped():
    assert clean_text("<b>Printer</b> & scanner.pdf") == "Printer & scanner.pdf"
