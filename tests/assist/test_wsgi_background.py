"""Any WSGI server that imports tierline.wsgi (uwsgi, mod_wsgi, gunicorn by hand) gets the
assistant's thread, started at the first request of each process: once, never beside the one
`tierline serve` started, and never where TIERLINE["ASSIST_BACKGROUND"] is off."""

from __future__ import annotations

import threading
from wsgiref.util import setup_testing_defaults

import pytest

from tierline.assist import answers, background

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread_body(monkeypatch):
    """The assistant's thread for real (start()'s lock and liveness check), its body a wait:
    no model is loaded. Yields the calls start() made to it; stopped after."""
    calls: list[dict] = []
    release = threading.Event()

    def body(**kwargs):
        calls.append(kwargs)
        release.wait(timeout=60)

    monkeypatch.setattr(background, "_run", body)
    monkeypatch.setattr(answers, "enabled", lambda: True)
    monkeypatch.setattr(background, "_served_pid", None)
    yield calls
    release.set()
    if background._thread is not None:
        background._thread.join(timeout=60)
    background._thread = None


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def environ(path: str = "/") -> dict:
    env = {"PATH_INFO": path}
    setup_testing_defaults(env)
    return env


def call(app) -> bytes:
    return b"".join(app(environ(), lambda *a: None))


def test_the_first_request_of_a_process_starts_the_thread_once(settings, thread_body):
    # given: a server's application, the thread allowed
    settings.TIERLINE = {**settings.TIERLINE, "ASSIST_BACKGROUND": True}
    app = background.on_first_request(hello)
    # when: requests come, two at once and more after
    first = [threading.Thread(target=call, args=(app,)) for _ in range(2)]
    for thread in first:
        thread.start()
    for thread in first:
        thread.join(timeout=60)
    assert call(app) == b"hello"
    # then: one thread, started once, with the suggestions' index (it serves)
    assert background.running()
    assert thread_body == [{"corpus": True}]


def test_a_forked_worker_starts_its_own(settings, thread_body, monkeypatch):
    # given: the parent served a request (its thread runs), then forked: the child has none
    settings.TIERLINE = {**settings.TIERLINE, "ASSIST_BACKGROUND": True}
    app = background.on_first_request(hello)
    call(app)
    parent_thread = background._thread
    monkeypatch.setattr(background, "_thread", None)  # a thread never crosses a fork
    monkeypatch.setattr(background, "_served_pid", -1)  # the parent's pid, not this process's
    # when: the child's first request
    call(app)
    # then: the child started its own
    assert background._thread is not parent_thread and background.running()
    assert thread_body == [{"corpus": True}, {"corpus": True}]
    background._thread = parent_thread  # both released and joined by the fixture
    thread_body.clear()


def test_under_tierline_serve_no_second_thread(settings, thread_body):
    # given: `tierline serve`'s post_worker_init started the thread
    settings.TIERLINE = {**settings.TIERLINE, "ASSIST_BACKGROUND": True}
    assert background.start(corpus=True)
    started = background._thread
    # when: the worker serves tierline.wsgi's application
    from tierline.wsgi import application

    application(environ("/health/live"), lambda *a: None)
    # then: the same thread, started once
    assert background._thread is started
    assert thread_body == [{"corpus": True}]


def test_off_in_tests_and_when_turned_off(thread_body):
    # given: the test suite's setting (tests/conftest.py: off), as TIERLINE_ASSIST_BACKGROUND=0
    from tierline.wsgi import application

    # when: a request through tierline.wsgi's application
    application(environ("/health/live"), lambda *a: None)
    # then: no thread
    assert not background.running()
    assert thread_body == []
