"""The assistant's thread in a server or worker process: the model and the suggestions' index
loaded off the request, and, under TIERLINE_TASKS=immediate, the embedding of solved tickets
and saved articles done there instead of in the request that queued it.

`tierline serve` starts it in each gunicorn worker (post_worker_init) with `corpus=True`;
`tierline worker` with `corpus=False` (it embeds, it never ranks). The thread loads the
embedding model (0.3-3 s), then the in-memory index of the stored rows (6 s to a minute at
100,000), then runs the jobs handed to it one after the other. Meanwhile a request is not
held: a suggestion over more than `answers.LOAD_INLINE_ROWS` rows gets none until the index is
there, and a resolve's embedding waits in the thread's queue.

Not started (tests, management commands): nothing is handed over; the tasks run as queued.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

log = logging.getLogger(__name__)

_jobs: queue.Queue[tuple[Callable[..., Any], dict[str, Any]]] = queue.Queue()
_thread: threading.Thread | None = None
_start_lock = threading.Lock()


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
    from tierline.assist import answers, embedding

    try:
        embedding.encoder()
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
