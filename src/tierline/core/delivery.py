"""Queued sends, tried again with back-off: the one way a row that stands for "send this"
(an on-call page, a rule's email, a webhook delivery) goes out.

A queue is any model with these columns (each app owns its own table and its admin):

    state            "pending" | "sent" | "failed"
    attempts         tries so far
    next_attempt_at  when it may be tried (indexed where state is pending)
    last_error       the last failure, as "ExceptionClass: message" (500 characters)
    sent_at          when it went

`deliver_due(Model, send=...)` reads the due rows oldest first and, for each, takes it with one
conditional UPDATE (its next attempt moves past the send's lease, so a second runner skips it;
a runner that dies lets it come due again), calls `send(row)` outside any transaction (a slow
receiver never holds a lock), and records the outcome: sent, or tried again after 1, 2, 4...
minutes (`backoff`), until `max_attempts`, then failed with the last error.

`signed_post` is the one signed JSON POST: `X-Tierline-Signature: sha256=<hex>` is the
HMAC-SHA256 of the exact body with the receiver's secret (`verify` is how a receiver checks it).

The mail app's outbox (`mail/outbound.py`) keeps its own loop: it sends a batch over one SMTP
connection and tells a permanent refusal (5xx) from a deferral; it shares `backoff`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import urllib.request
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

logger = logging.getLogger(__name__)

PENDING, SENT, FAILED = "pending", "sent", "failed"
SIGNATURE_HEADER = "X-Tierline-Signature"


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def email_is_set_up() -> bool:
    """Whether Django's `send_mail` can reach anyone: an SMTP backend needs TIERLINE_SMTP_HOST
    (without it, nothing is queued for email at all); any other backend (tests' memory, a
    file or console backend chosen by the deployment) takes what it is given."""
    if settings.EMAIL_BACKEND != SMTP_BACKEND:
        return True
    return bool(getattr(settings, "MAIL_OUT", {}).get("SMTP_HOST"))


def backoff(attempts: int, *, cap_minutes: int = 60) -> timedelta:
    """The wait after the n-th failed attempt: 1, 2, 4, ... minutes, at most `cap_minutes`."""
    return timedelta(minutes=min(cap_minutes, 2 ** max(0, attempts - 1)))


def claim(model: type[models.Model], row: Any, *, now: datetime, lease: timedelta) -> bool:
    """Take a due row for this runner; False when another runner took it first."""
    return bool(
        model._default_manager.filter(
            pk=row.pk, state=PENDING, next_attempt_at=row.next_attempt_at
        ).update(next_attempt_at=now + lease)
    )


def record_attempt(
    model: type[models.Model],
    row: Any,
    *,
    now: datetime,
    error: BaseException | None,
    max_attempts: int,
) -> bool:
    """Write one attempt's outcome on the row; True if it went. A failure waits `backoff`,
    and after `max_attempts` the row is failed for good with the last error."""
    attempts = row.attempts + 1
    if error is None:
        model._default_manager.filter(pk=row.pk).update(
            attempts=attempts, state=SENT, sent_at=now, last_error=""
        )
        return True
    model._default_manager.filter(pk=row.pk).update(
        attempts=attempts,
        last_error=f"{type(error).__name__}: {error}"[:500],
        state=FAILED if attempts >= max_attempts else PENDING,
        next_attempt_at=now + backoff(attempts),
    )
    return False


def deliver_due(
    model: type[models.Model],
    *,
    send: Callable[[Any], None],
    max_attempts: int,
    lease: timedelta,
    now: datetime | None = None,
    limit: int = 50,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    rows: Callable[[models.QuerySet], models.QuerySet] | None = None,
    label: str = "",
) -> tuple[int, int]:
    """Send what is due (oldest first); the (sent, failed) counts of this run. Call outside
    any transaction. `retry_on` says which exceptions of `send` are a failed attempt (others
    propagate: a bug, not a receiver's fault); `rows` narrows or joins the due queryset."""
    now = now or timezone.now()
    due = model._default_manager.filter(state=PENDING, next_attempt_at__lte=now)
    if rows is not None:
        due = rows(due)
    sent = failed = 0
    for row in list(due.order_by("next_attempt_at", "pk")[:limit]):
        if not claim(model, row, now=now, lease=lease):
            continue
        error: BaseException | None = None
        try:
            send(row)
        except retry_on as exc:
            error = exc
            logger.warning(
                "%s %s: attempt %s failed: %s",
                label or model.__name__,
                row.pk,
                row.attempts + 1,
                exc,
            )
        if record_attempt(model, row, now=now, error=error, max_attempts=max_attempts):
            sent += 1
        else:
            failed += 1
    return sent, failed


# --- the signed POST ------------------------------------------------------------------------


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """How a receiver checks a POST: the header is the HMAC of the exact body."""
    return hmac.compare_digest(signature(secret, body), header or "")


def signed_post(
    url: str,
    body: bytes,
    *,
    secret: str,
    timeout: float,
    headers: Iterable[tuple[str, str]] = (),
) -> None:
    """POST a JSON body once, signed; raises on a network error, a timeout, a non-2xx answer
    (urllib's HTTPError) or an address that is not http(s) (ValueError)."""
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) address: {url[:100]}")
    request = urllib.request.Request(  # noqa: S310 (http or https only, checked above)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            **dict(headers),
            SIGNATURE_HEADER: signature(secret, body),
        },
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (checked above)
        answer.read(1024)
