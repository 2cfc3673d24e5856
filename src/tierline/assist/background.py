"""The assistant's thread in a server or worker process: the model and the suggestions' index
loaded off the request, and, under TIERLINE_TASKS=immediate, the embedding of solved tickets
and saved articles done there instead of in the request that queued it.

`tierline serve` starts it in each gunicorn worker (post_worker_init) with `corpus=True`;
`tierline worker` with `corpus=False` (it embeds, it never ranks). Any other WSGI server
(uwsgi, mod_wsgi, gunicorn run by hand) serves `tierline.wsgi.application`, which starts it
with `corpus=True` at the first request of each process (`on_first_request`): not at import,
since a server may import the application in a master that forks its workers afterwards (a
thread does not cross a fork, and one loading then left the children stuck on an import
lock). The thread loads the embedding model (0.3-3 s), auto-triage's models and the int8 copy
of the embedding model when a triage model is trained (under a second), then the in-memory
index of the stored rows (6 s to a minute at 100,000), then runs the jobs handed to it one
after the other. Meanwhile a request is not
held: a suggestion over more than `answers.LOAD_INLINE_ROWS` rows gets none until the index is
there, and a resolve's embedding waits in the thread's queue.

Not started (tests, management commands, `TIERLINE_ASSIST_BACKGROUND=0`): nothing is handed
over; the tasks run as queued.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)

_jobs: queue.Queue[tuple[Callable[..., Any], dict[str, Any]]] = queue.Queue()
_thread: threading.Thread | None = None
_start_lock = threading.Lock()
# The process whose first request (on_first_request) asked for the thread: one ask per process.
_served_pid: int | None = None

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def start(*, corpus: bool) -> bool:
    """Start this process's assistant thread (once); False when it runs already, or when
    there is nothing to load (embeddings off, or the model not installed)."""
    global _thread
    from tierline.assist import answers

    if not answers.enabled():
        return False
    with _start_lock:
        if _thread is not None and _thread.is_alive():
            return False
        _thread = threading.Thread(
            target=_run, kwargs={"corpus": corpus}, name="assist-background", daemon=True
        )
        _thread.start()
    return True


def on_first_request(app: WSGIApp) -> WSGIApp:
    """`app`, starting this process's assistant thread (corpus=True) at its first request:
    once per process (a forked worker asks again, a thread never crosses a fork), never a
    second thread where one runs (`tierline serve` started it in post_worker_init), and not
    when TIERLINE["ASSIST_BACKGROUND"] is off (the test suite). The request is not held."""

    def served(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        global _served_pid
        pid = os.getpid()
        if _served_pid != pid:
            _served_pid = pid  # first: one ask per process, whatever follows
            if settings.TIERLINE.get("ASSIST_BACKGROUND", True):
                try:
                    start(corpus=True)
                except Exception:
                    log.exception("Starting the assistant's thread failed.")
        return app(environ, start_response)

    return served


def running() -> bool:
    return _thread is not None and _thread.is_alive()


def hand_over(job: Callable[..., Any], **kwargs: Any) -> bool:
    """Queue `job(**kwargs)` for the assistant's thread, if it runs; False: the caller runs
    or enqueues it itself."""
    if not running():
        return False
    _jobs.put((job, kwargs))
    return True


def wait(timeout: float | None = None) -> bool:
    """Block until every job handed over so far is done (tests, shutdown); False on timeout."""
    done = threading.Event()
    _jobs.put((done.set, {}))
    return done.wait(timeout)


def stop(timeout: float | None = None) -> None:
    """End the thread once the jobs handed over so far are done (tests)."""
    global _thread
    thread = _thread
    if thread is None:
        return
    _jobs.put((_stop, {}))
    thread.join(timeout)
    _thread = None


def _stop() -> None:
    """The job that ends the thread (recognised by identity, never called)."""


def _run(*, corpus: bool) -> None:
    from tierline.assist import answers, embedding, services

    try:
        embedding.encoder()
        # Auto-triage's models and its int8 copy of the embedding model (0.4 s), so that the
        # process's first new ticket does not load them in its request.
        if services.models_in_use() is not None and services.meaning_on():
            embedding.triage_encoder()
        if corpus:
            answers.corpus().load_here()
    except Exception:
        log.exception("Loading the assistant's model or index failed.")
    finally:
        connection.close()
    while True:
        job, kwargs = _jobs.get()
        if job is _stop:
            return
        try:
            job(**kwargs)
        except Exception:
            log.exception("The assistant's background job %s failed.", job.__qualname__)
        finally:
            connection.close()  # this thread's own connection: none is held between jobs
