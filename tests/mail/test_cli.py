"""`tierline mail ingest PATH...` and `tierline mail reprocess`: one line per message,
`<path>: <outcome>`, exit 0 when every message got an outcome."""

from __future__ import annotations

import pytest

from tests.mail.factories import mail, mailbox
from tierline import cli
from tierline.desk.models import Ticket
from tierline.mail.models import Inbound

pytestmark = pytest.mark.django_db


def test_ingest_files_and_a_maildir_prints_one_line_each(capsys, tmp_path, employee):
    # given two message files and a Maildir with one new and one seen message
    mailbox()
    first = tmp_path / "first.eml"
    first.write_bytes(mail(subject="Screen flickers"))
    bounce = tmp_path / "bounce.eml"
    bounce.write_bytes(mail(sender="MAILER-DAEMON@mx.example.net", subject="Undelivered"))
    maildir = tmp_path / "Maildir"
    for part in ("cur", "new", "tmp"):
        (maildir / part).mkdir(parents=True)
    (maildir / "new" / "1.host").write_bytes(mail(subject="Keyboard", message_id="<k@c>"))
    (maildir / "cur" / "2.host:2,S").write_bytes(mail(subject="Keyboard", message_id="<k@c>"))
    # when they are ingested
    code = cli.main(["mail", "ingest", str(first), str(bounce), str(maildir)])
    # then one line per message, each with its outcome
    out = capsys.readouterr().out.splitlines()
    tickets = list(Ticket.objects.order_by("pk").values_list("number", flat=True))
    assert out == [
        f"{first}: new {tickets[0]}",
        f"{bounce}: ignored: from mailer-daemon@ (a mail system)",
        f"{maildir / 'new' / '1.host'}: new {tickets[1]}",
        f"{maildir / 'cur' / '2.host:2,S'}: ignored: duplicate of <k@c>",
    ]
    assert code == 0


def test_ingest_again_makes_nothing_twice(capsys, tmp_path, employee):
    mailbox()
    path = tmp_path / "m.eml"
    path.write_bytes(mail())
    assert cli.main(["mail", "ingest", str(path)]) == 0
    assert cli.main(["mail", "ingest", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith(f"{path}: ignored: duplicate of <")
    assert Ticket.objects.count() == 1


def test_a_path_that_cannot_be_read_fails_the_run_with_its_reason(capsys, tmp_path, employee):
    mailbox()
    good = tmp_path / "ok.eml"
    good.write_bytes(mail())
    missing = tmp_path / "nope.eml"
    code = cli.main(["mail", "ingest", str(missing), str(good)])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{missing}: not read: no such file or folder"
    assert out[1].startswith(f"{good}: new TL-")
    assert code == 1


def test_an_unknown_mailbox_is_a_clear_error(capsys, tmp_path):
    code = cli.main(["mail", "ingest", "--mailbox", "Nope", str(tmp_path)])
    assert code == 2
    assert "No mailbox named “Nope”." in capsys.readouterr().err


def test_reprocess_releases_held_mail_when_asked(capsys, tmp_path, employee):
    mailbox()
    path = tmp_path / "stranger.eml"
    path.write_bytes(mail(sender="stranger@elsewhere.net"))
    cli.main(["mail", "ingest", str(path)])
    assert cli.main(["mail", "reprocess"]) == 0
    assert Inbound.objects.get().outcome == Inbound.Outcome.HELD
    assert cli.main(["mail", "reprocess", "--held"]) == 0
    out = capsys.readouterr().out
    assert Inbound.objects.get().outcome == Inbound.Outcome.NEW_TICKET
    assert "Processed 1 message(s) again." in out
