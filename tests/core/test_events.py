"""The event seam: what a publisher hands to in-transaction and after-commit handlers."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from tierline.core import events


@dataclass(frozen=True, kw_only=True)
class ThingEvent(events.Event):
    thing_id: int


@dataclass(frozen=True, kw_only=True)
class ThingRenamed(ThingEvent):
    old_name: str
    new_name: str


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch):
    monkeypatch.setattr(events, "COMMIT_HANDLER_BACKOFF", 0)


def test_subscribe_refuses_what_is_not_an_event_or_a_kind_of_handler():
    with pytest.raises(TypeError, match="not an Event class"):
        events.subscribe(dict, print)
    with pytest.raises(ValueError, match="when must be one of transaction, commit"):
        events.subscribe(ThingEvent, print, when="later")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not callable"):
        events.subscribe(ThingEvent, "print")  # type: ignore[arg-type]
    assert events.handlers_for(ThingEvent) == []


def test_publish_refuses_what_is_not_an_event():
    with pytest.raises(TypeError, match="is not an Event"):
        events.publish({"thing_id": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cannot inherit non-frozen"):

        @dataclass
        class LooseEvent(events.Event):  # an event can't be made mutable
            thing_id: int


def test_an_event_is_frozen_and_keyword_only():
    event = ThingRenamed(thing_id=1, old_name="a", new_name="b")
    with pytest.raises(AttributeError):
        event.thing_id = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        ThingRenamed(1, "a", "b")  # type: ignore[misc]
    assert ThingRenamed.name() == "ThingRenamed"


@pytest.mark.django_db
def test_in_transaction_handler_runs_at_once_and_a_base_class_hears_its_subclasses():
    # given: one handler on the base class, one on the subclass
    heard: list[tuple[str, events.Event]] = []
    on_base = lambda e: heard.append(("base", e))  # noqa: E731
    on_renamed = lambda e: heard.append(("renamed", e))  # noqa: E731
    event = ThingRenamed(thing_id=7, old_name="a", new_name="b")
    with (
        events.subscribed(ThingEvent, on_base, when="transaction"),
        events.subscribed(ThingRenamed, on_renamed, when="transaction"),
    ):
        # when
        with transaction.atomic():
            events.publish(event)
            # then: heard before the transaction ends, own class first
            assert heard == [("renamed", event), ("base", event)]
        events.publish(ThingEvent(thing_id=8))
    assert heard[-1] == ("base", ThingEvent(thing_id=8))
    # and `subscribed` took them off again
    assert events.handlers_for(ThingRenamed) == []


@pytest.mark.django_db
def test_in_transaction_handler_that_raises_rolls_the_change_back():
    # given
    def refuse(event):
        raise RuntimeError("the clock could not start")

    # when
    with (
        events.subscribed(ThingEvent, refuse, when="transaction"),
        pytest.raises(RuntimeError, match="clock"),
        transaction.atomic(),
    ):
        Group.objects.create(name="written then undone")
        events.publish(ThingEvent(thing_id=1))
    # then
    assert not Group.objects.filter(name="written then undone").exists()


@pytest.mark.django_db
def test_after_commit_handler_waits_for_the_commit_and_is_skipped_on_rollback(
    django_capture_on_commit_callbacks,
):
    heard: list[events.Event] = []
    # after commit is the default
    with (
        events.subscribed(ThingEvent, heard.append),
        django_capture_on_commit_callbacks(execute=True),
    ):
        with transaction.atomic():
            events.publish(ThingEvent(thing_id=1))
            assert heard == []  # not yet: the transaction is still open
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            events.publish(ThingEvent(thing_id=2))
            1 / 0  # noqa: B018
    assert heard == [ThingEvent(thing_id=1)]


def test_after_commit_handler_is_retried_until_it_succeeds(caplog):
    # given: a handler that fails twice, then works
    calls: list[int] = []

    def flaky(event):
        calls.append(event.thing_id)
        if len(calls) < 3:
            raise ConnectionError("task store busy")

    subscription = events.Subscription(ThingEvent, flaky, "commit")
    # when
    with caplog.at_level(logging.WARNING, logger="tierline.core.events"):
        ok = events.run_after_commit(subscription, ThingEvent(thing_id=5))
    # then
    assert ok and calls == [5, 5, 5]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and "attempt 1 of 3" in warnings[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_after_commit_handler_that_keeps_failing_is_logged_as_an_error_with_the_event(caplog):
    calls: list[int] = []

    def broken(event):
        calls.append(event.thing_id)
        raise ConnectionError("task store down")

    with caplog.at_level(logging.WARNING, logger="tierline.core.events"):
        ok = events.run_after_commit(
            events.Subscription(ThingEvent, broken, "commit"), ThingEvent(thing_id=9)
        )
    assert not ok and len(calls) == events.COMMIT_HANDLER_ATTEMPTS
    (error,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "ThingEvent(thing_id=9)" in error.getMessage() and "3 times" in error.getMessage()
    assert error.exc_info is not None and "task store down" in str(error.exc_info[1])


@pytest.mark.django_db
def test_a_failing_after_commit_handler_does_not_stop_the_others(
    django_capture_on_commit_callbacks, caplog
):
    heard: list[events.Event] = []

    def broken(event):
        raise RuntimeError("webhook endpoint down")

    with (
        events.subscribed(ThingEvent, broken),
        events.subscribed(ThingEvent, heard.append),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        events.publish(ThingEvent(thing_id=3))
    assert heard == [ThingEvent(thing_id=3)]
    assert any(r.levelno == logging.ERROR for r in caplog.records)


def test_subscribe_works_as_a_decorator_and_twice_is_once():
    @events.subscribe(ThingEvent, when="transaction")
    def counted(event):
        counted.calls += 1

    counted.calls = 0
    try:
        events.subscribe(ThingEvent, counted, when="transaction")  # again: no second call
        events.publish(ThingEvent(thing_id=1))
        assert counted.calls == 1
    finally:
        events.unsubscribe(ThingEvent, counted)
    events.publish(ThingEvent(thing_id=2))
    assert counted.calls == 1


def test_capture_events_collects_what_is_published_inside_the_block_only():
    events.publish(ThingEvent(thing_id=0))
    with events.capture_events() as outer:
        events.publish(ThingEvent(thing_id=1))
        with events.capture_events() as inner:
            events.publish(ThingRenamed(thing_id=2, old_name="a", new_name="b"))
    events.publish(ThingEvent(thing_id=3))
    assert outer == [
        ThingEvent(thing_id=1),
        ThingRenamed(thing_id=2, old_name="a", new_name="b"),
    ]
    assert inner == [ThingRenamed(thing_id=2, old_name="a", new_name="b")]
