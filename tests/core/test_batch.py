"""core.batch: reads kept for one batch of work, and work deferred to its end."""

from __future__ import annotations

import logging

import pytest

from tierline.core import batch


def _counter():
    calls = []

    def read() -> int:
        calls.append(1)
        return len(calls)

    return read, calls


def test_outside_a_batch_every_memo_reads_again():
    read, calls = _counter()
    assert [batch.memo("t:key", read), batch.memo("t:key", read)] == [1, 2]
    assert not batch.active()


def test_inside_a_batch_a_key_is_read_once_and_forgotten_when_it_ends():
    read, calls = _counter()
    with batch.scope():
        assert batch.active()
        assert [batch.memo("t:key", read), batch.memo("t:key", read)] == [1, 1]
        with batch.scope():  # a scope inside a scope is the same one
            assert batch.memo("t:key", read) == 1
    assert len(calls) == 1
    with batch.scope():
        assert batch.memo("t:key", read) == 2


def test_a_batch_that_fails_keeps_nothing():
    read, calls = _counter()
    with pytest.raises(RuntimeError), batch.scope():
        batch.memo("t:key", read)
        raise RuntimeError("rolled back")
    with batch.scope():
        assert batch.memo("t:key", read) == 2


def test_remember_sets_a_key_only_inside_a_batch():
    batch.remember("t:key", "outside")
    assert batch.memo("t:key", lambda: "read") == "read"
    with batch.scope():
        batch.remember("t:key", "kept")
        assert batch.memo("t:key", lambda: "read") == "kept"


def test_deferred_work_is_flushed_once_per_key_when_the_batch_ends_in_order():
    flushed = []
    with batch.scope():
        assert batch.defer("t:a", 1, lambda items: flushed.append(("a", items)))
        assert batch.defer("t:b", 2, lambda items: flushed.append(("b", items)))
        assert batch.defer("t:a", 3, lambda items: flushed.append(("a", items)))
        assert flushed == []
    assert flushed == [("a", [1, 3]), ("b", [2])]


def test_outside_a_batch_nothing_is_deferred():
    assert batch.defer("t:a", 1, lambda items: pytest.fail("not deferred")) is False


def test_deferred_work_is_flushed_when_the_batch_fails_and_a_failing_flush_is_logged(caplog):
    flushed = []

    def broken(items: list) -> None:
        raise OSError("unreachable")

    with pytest.raises(RuntimeError), caplog.at_level(logging.ERROR), batch.scope():
        batch.defer("t:broken", 1, broken)
        batch.defer("t:ok", 2, flushed.append)
        raise RuntimeError("the batch failed after the commit")
    assert flushed == [[2]]
    assert "t:broken (1 items) failed" in caplog.text
