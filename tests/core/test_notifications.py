"""The notification seam (`core.notifications`): a notice goes to the one registered deliverer;
none registered, a refusal or a failure answers False so the caller falls back."""

from __future__ import annotations

import pytest

from tierline.core import notifications


@pytest.fixture
def restore_deliverer():
    held = notifications.deliverer()
    yield
    notifications.register_deliverer(held)


def test_a_notice_goes_to_the_registered_deliverer(restore_deliverer):
    got = []
    notifications.register_deliverer(lambda notice: got.append(notice) or True)
    assert notifications.notify(recipients=[3, 1, 3, None], kind="k", ticket_id=7, text="Hi")
    assert got == [notifications.Notice(recipient_ids=(1, 3), kind="k", ticket_id=7, text="Hi")]


def test_no_deliverer_a_refusal_or_a_failure_answers_false(restore_deliverer, caplog):
    notifications.register_deliverer(None)
    assert notifications.notify(recipients=[1], kind="k", ticket_id=None, text="x") is False
    notifications.register_deliverer(lambda notice: False)
    assert notifications.notify(recipients=[1], kind="k", ticket_id=None, text="x") is False

    def broken(notice):
        raise RuntimeError("down")

    notifications.register_deliverer(broken)
    assert notifications.notify(recipients=[1], kind="k", ticket_id=None, text="x") is False
    assert "deliverer failed" in caplog.text


def test_the_mail_app_registers_its_deliverer():
    from tierline.mail import notify

    assert notifications.deliverer() is notify.deliver_notice
