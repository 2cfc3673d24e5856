"""Fixtures for every test: the people of a small help desk, and API clients."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.apps import apps
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.people.factories import UserFactory, technician
from tierline.core.tokens import issue_token
from tierline.desk.defaults import install_desk_defaults
from tierline.people.defaults import install_default_teams
from tierline.people.models import User


@pytest.fixture(autouse=True, scope="session")
def _no_assistant_thread_from_wsgi():
    """No request through tierline.wsgi's application starts the assistant's thread, not even
    one made by a module- or session-scoped fixture before any test's own settings apply (the
    schemathesis schema is read that way: a thread started then ran the whole suite, embedding
    into other tests' databases). tests/assist/test_wsgi_background.py turns it on."""
    from django.conf import settings as django_settings

    django_settings.TIERLINE["ASSIST_BACKGROUND"] = False


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    # Argon2 is slow on purpose; the suite hashes thousands of passwords. Production keeps
    # Argon2 (tests/core/test_security.py proves it with the real settings).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Rate limits and cached lookups start afresh: no test spends another's API budget.
    cache.clear()
    # A test that calls tierline.wsgi's application starts no assistant thread in its process
    # (tests/assist/test_wsgi_background.py turns it on).
    settings.TIERLINE = {**settings.TIERLINE, "ASSIST_BACKGROUND": False}


@pytest.fixture(autouse=True)
def _default_rows(request):
    """The teams, categories, matrix and codes the migrations create.

    A transactional test (live server, threads) empties every table when it ends; this puts the
    defaults back for whatever runs next, so no test depends on the order of the suite.
    """
    uses_db = request.node.get_closest_marker("django_db") is not None or {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if not uses_db:
        return
    request.getfixturevalue("_django_db_helper")
    install_default_teams(apps)
    install_desk_defaults(apps)


@pytest.fixture
def employee(db) -> User:
    return UserFactory(username="employee", first_name="Erin", last_name="Employee")


@pytest.fixture
def employee2(db) -> User:
    return UserFactory(username="employee2", first_name="Omar", last_name="Other")


@pytest.fixture
def tier1(db) -> User:
    return technician(1, username="tier1", first_name="Tess", last_name="One")


@pytest.fixture
def tier2(db) -> User:
    return technician(2, username="tier2", first_name="Theo", last_name="Two")


@pytest.fixture
def tier3(db) -> User:
    return technician(3, username="tier3", first_name="Thea", last_name="Three")


@pytest.fixture
def lead(db) -> User:
    return UserFactory(username="lead", role=User.Role.LEAD, first_name="Lee", last_name="Lead")


@pytest.fixture
def admin_user(db) -> User:
    return UserFactory(username="admin", role=User.Role.ADMIN, is_staff=True, is_superuser=True)


def api_key(user: User) -> str:
    """A key for `user`: the first one issued in this test, kept on the user object."""
    key = getattr(user, "_test_api_key", None)
    if key is None:
        key = user._test_api_key = issue_token(user=user)[1]
    return key


@pytest.fixture
def api() -> Callable[[User | None], APIClient]:
    """api(user) -> a client signing in as scripts do, with an `Authorization: Token ...` header;
    api(None) -> an anonymous client."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
        return client

    return make
