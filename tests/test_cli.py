"""The `tierline` command: each subcommand, and bad input giving a clear message, not a traceback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from tests.factories import ticket
from tierline import cli
from tierline.desk import services
from tierline.desk.models import Status, Ticket
from tierline.people.models import User

pytestmark = pytest.mark.django_db


def test_init_noinput_without_password_creates_no_admin(capsys, monkeypatch):
    # given
    monkeypatch.delenv("TIERLINE_ADMIN_PASSWORD", raising=False)
    # when
    code = cli.main(["init", "--noinput", "--quiet"])
    # then
    assert code == 0
    assert not User.objects.filter(is_superuser=True).exists()
    assert "No administrator was created" in capsys.readouterr().out


def test_init_noinput_with_password_creates_admin_once(capsys, monkeypatch):
    # given
    monkeypatch.setenv("TIERLINE_ADMIN_PASSWORD", "a-long-admin-secret-42")
    # when
    first = cli.main(["init", "--noinput", "--quiet"])
    second = cli.main(["init", "--noinput", "--quiet"])
    # then
    assert (first, second) == (0, 0)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.role == User.Role.ADMIN
    assert admin.check_password("a-long-admin-secret-42")
    assert User.objects.count() == 1
    assert "already exists" in capsys.readouterr().out


def test_createadmin_refuses_a_weak_password(capsys, monkeypatch):
    # given
    monkeypatch.setenv("TIERLINE_ADMIN_PASSWORD", "password")
    # when
    code = cli.main(["createadmin", "--noinput", "--username", "boss"])
    # then
    assert code == 2
    assert "Password refused" in capsys.readouterr().err
    assert not User.objects.filter(username="boss").exists()


def test_demo_small_then_again_is_idempotent(capsys):
    # when
    first = cli.main(["demo", "--people", "40", "--tickets", "60", "--seed", "3"])
    tickets = Ticket.objects.count()
    second = cli.main(["demo", "--people", "40", "--tickets", "60"])
    # then
    assert (first, second) == (0, 0)
    assert tickets >= 60
    assert Ticket.objects.count() == tickets
    out = capsys.readouterr().out
    assert "Demo data already loaded" in out
    for username in ("admin", "tier1", "tier2", "tier3", "lead", "employee", "employee2"):
        assert username in out


def test_token_prints_the_same_token_twice(capsys, tier1):
    # when
    assert cli.main(["token", "tier1"]) == 0
    assert cli.main(["token", "tier1"]) == 0
    # then
    first, second = capsys.readouterr().out.split()
    assert first == second == Token.objects.get(user=tier1).key


def test_token_for_unknown_user_exits_2_with_a_message(capsys):
    # when
    code = cli.main(["token", "nobody-here"])
    # then
    assert code == 2
    captured = capsys.readouterr()
    assert "No user named “nobody-here”" in captured.err
    assert "Traceback" not in captured.err


def test_worker_once_closes_an_old_resolved_ticket(capsys, employee, tier1):
    # given
    old = ticket(employee)
    services.take(ticket=old, by=tier1)
    services.resolve(ticket=old, by=tier1, resolution_code="fixed", body="Restarted the spooler.")
    Ticket.objects.filter(pk=old.pk).update(resolved_at=timezone.now() - timedelta(days=30))
    # when
    code = cli.main(["worker", "--once"])
    # then
    assert code == 0
    old.refresh_from_db()
    assert old.status == Status.CLOSED and not old.is_open
    assert "close-resolved-tickets" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["no-such-command"],
        ["serve", "--port", "99999"],
        ["serve", "--port", "eighty"],
        ["demo", "--tickets", "0"],
        ["worker", "--interval", "-1"],
        [],
    ],
)
def test_bad_input_exits_2_with_usage(argv, capsys):
    # when
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    # then
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: tierline" in err
    assert "Traceback" not in err
