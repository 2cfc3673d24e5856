"""The same message arriving twice at the same instant (two listeners, two mailboxes, a retried
fetch) makes one entry and one ticket."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.concurrency import run_together
from tests.mail.factories import mail, mailbox
from tierline.desk.models import Ticket
from tierline.mail import services
from tierline.mail.models import Inbound, RawMessage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _real_concurrency():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("SQLite's in-memory test database can't take concurrent writers.")


def test_the_same_bytes_at_once_make_one_ticket(employee):
    mailbox()
    raw = mail(subject="Laptop won't boot")
    results: list[str] = []
    errors = run_together(*[lambda: results.append(services.receive(raw).line)] * 3)
    assert errors == []
    assert sorted(line.split(" ")[0] for line in results) == ["ignored:", "ignored:", "new"]
    assert (Ticket.objects.count(), RawMessage.objects.count(), Inbound.objects.count()) == (
        1,
        1,
        1,
    )


def test_the_same_message_id_in_two_mailboxes_at_once_makes_one_ticket(employee):
    help_box, it_box = mailbox(), mailbox(name="IT", addresses="it@example.org")
    copies = [
        (mail(message_id="<one@client.example>", headers={"Delivered-To": address}), box)
        for address, box in (("help@example.org", help_box), ("it@example.org", it_box))
    ]
    errors = run_together(*[lambda r=r, b=b: services.receive(r, mailbox=b) for r, b in copies])
    assert errors == []
    assert (Ticket.objects.count(), RawMessage.objects.count()) == (1, 1)
    assert RawMessage.objects.get().duplicates == 1
