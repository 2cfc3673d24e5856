"""Ticket numbers stay unique when many tickets are opened at once."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection

from tests.factories import UserFactory
from tierline.desk import services
from tierline.desk.models import Ticket

THREADS = 8
PER_THREAD = 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_open_ticket_gives_distinct_numbers():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip(
            "SQLite's in-memory test database serialises writers through a shared cache that "
            "raises 'table is locked' for concurrent threads; this runs on PostgreSQL."
        )
    # given
    requesters = [UserFactory() for _ in range(THREADS)]
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def open_many(requester) -> None:
        try:
            start.wait()
            for i in range(PER_THREAD):
                services.open_ticket(
                    requester=requester, subject=f"Laptop {i} won't boot", description="Black."
                )
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=open_many, args=(r,)) for r in requesters]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # then
    assert not errors, errors
    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert len(numbers) == THREADS * PER_THREAD
    assert len(set(numbers)) == len(numbers)
    assert all(re.fullmatch(r"TL-\d{6}", n) for n in numbers)
