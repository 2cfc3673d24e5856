"""Ticket numbers stay unique when many tickets are opened at once."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection

from tests.people.factories import UserFactory
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


@pytest.mark.django_db
def test_numbers_past_a_million_keep_every_digit(employee):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL writes the number in the INSERT itself; SQLite uses Python's.")
    # given: the next id is 1,000,000
    sequence = "pg_get_serial_sequence('desk_ticket', 'id')"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT nextval({sequence})")
        (was,) = cursor.fetchone()
        cursor.execute(f"SELECT setval({sequence}, 999999)")
    try:
        # when
        ticket = services.open_ticket(requester=employee, subject="Dock", description="No video.")
    finally:  # a sequence ignores the test's rollback: put it back for the tests after this
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT setval({sequence}, %s)", [was])
    # then
    assert ticket.pk == 1_000_000
    assert ticket.number == "TL-1000000" == services.ticket_number(ticket.pk)
    assert Ticket.objects.get(pk=ticket.pk).number == "TL-1000000"
