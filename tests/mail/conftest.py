"""The mail tests' IMAP server: one private Dovecot for the session (tests/mail/dovecot.py)."""

from __future__ import annotations

import os

import pytest

from tests.mail import dovecot as dovecot_server

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def server():
    """A running Dovecot; skipped with the reason where it cannot run (failed under CI)."""
    why = dovecot_server.available()
    if why:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    instance = dovecot_server.Dovecot(password=PASSWORD, users=100).start()
    yield instance
    instance.stop()


@pytest.fixture
def user(server) -> str:
    """An IMAP user of the test's own, with an empty mail store."""
    return server.new_user()
