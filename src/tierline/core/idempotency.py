"""Done once, answered every time: one-time keys for requests that create something.

A client that retries a create (a double click, a proxy's retry, a script after a timeout)
sends the same key again. The first request inserts the key's row and does the work in one
transaction; a second request with the key waits on that row's unique index (PostgreSQL) or
the write lock (SQLite) and, once the first commits, replays its answer instead of doing it
again. Same key with another body is refused (IdempotencyConflict): the client reused a key by
mistake. A request that fails rolls its key back, so a corrected retry with the key works.
Keys are per user and per scope (the API path, the form), kept KEEP, then deleted by the
"forget-idempotency-keys" job (core.jobs).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django import forms
from django.db import IntegrityError, transaction
from django.utils import timezone

from tierline.core.errors import IdempotencyConflict
from tierline.core.models import IdempotencyKey

KEEP = timedelta(hours=24)

# Printable ASCII without spaces at either end: what a header can carry and a log can show.
_KEY = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?")


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: Any
    replayed: bool


def is_valid_key(key: str) -> bool:
    return bool(_KEY.fullmatch(key))


def fingerprint(data: Any) -> str:
    """A digest of a request's content, the same for the same content in any key order."""
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, default=str, ensure_ascii=False).encode()
    ).hexdigest()


def once(
    *,
    user: Any,
    scope: str,
    key: str,
    fingerprint: str,
    run: Callable[[], tuple[int, Any]],
    conflict: str = "",
) -> Answer:
    """Run `run` (-> status code, JSON-able body) once per (user, scope, key); replay after.

    `run`'s exceptions propagate and release the key. A key seen with another fingerprint
    raises IdempotencyConflict (`conflict`, or a message for API clients).
    """
    scope = scope[:200]
    with transaction.atomic():
        row = _claim(user=user, scope=scope, key=key, fingerprint=fingerprint)
        if row.status_code is not None:  # an earlier request's committed answer
            if row.fingerprint != fingerprint:
                raise IdempotencyConflict(
                    conflict
                    or "This Idempotency-Key was already used for a different request. "
                    "Send a new key with a new request; resend the same request to get "
                    "its first answer.",
                    code="idempotency_conflict",
                )
            return Answer(row.status_code, row.response, replayed=True)
        status_code, body = run()
        row.status_code, row.response = status_code, body
        row.save(update_fields=["status_code", "response"])
        return Answer(status_code, body, replayed=False)


# --- form tokens ----------------------------------------------------------------------------
# A form that creates something carries a one-time token, made when the form is shown: a
# double click, a resend after a timeout or the browser's "resubmit" sends it again, and the
# second submission is answered with what the first made.

FORM_CONFLICT = (
    "This form was already sent, with other content, and that request was made. If this is "
    "another request, send the form again: it will be a new one."
)
_FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_form_token() -> str:
    return secrets.token_urlsafe(24)


class FormTokenField(forms.CharField):
    """The hidden one-time token of a form that creates something (see submit_once).

    Optional: a client that sends none (a script, an old page) gets no protection, not an error.
    """

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("initial", new_form_token)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        return value if _FORM_TOKEN.fullmatch(value or "") else ""


def form_content(form: forms.Form) -> dict[str, Any]:
    """What a form was sent with, for the fingerprint: its fields but the token, files by name
    and size."""
    content: dict[str, Any] = {}
    for name in form.fields:
        if isinstance(form.fields[name], FormTokenField):
            continue
        if name in form.files:
            content[name] = [[f.name, f.size] for f in form.files.getlist(name)]
        else:
            content[name] = form.data.getlist(name) if hasattr(form.data, "getlist") else None
    return content


def renew_token(data: Any) -> Any:
    """A bound form's data with a fresh token: its next submission is a new request."""
    data = data.copy()
    for name in list(data):
        if name == "form_token":
            data[name] = new_form_token()
    return data


def submit_once(
    *, user: Any, scope: str, token: str, content: Any, run: Callable[[], tuple[int, Any]]
) -> Answer:
    """A form's submission done once per token (no token: done, unguarded); see once()."""
    if not token:
        status_code, body = run()
        return Answer(status_code, body, replayed=False)
    return once(
        user=user,
        scope=f"form {scope}",
        key=token,
        fingerprint=fingerprint(content),
        run=run,
        conflict=FORM_CONFLICT,
    )


def _claim(*, user: Any, scope: str, key: str, fingerprint: str) -> IdempotencyKey:
    """The key's row: new (inserted, status_code None) or the committed one of an earlier
    request. A concurrent insert of the same key waits for the first one's transaction."""
    for _ in range(2):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    user=user, scope=scope, key=key, fingerprint=fingerprint
                )
        except IntegrityError:
            row = IdempotencyKey.objects.filter(user=user, scope=scope, key=key).first()
            if row is None:  # forgotten in between: claim it again
                continue
            if row.created_at >= timezone.now() - KEEP:
                return row
            row.delete()  # expired, the job has not run yet: a new request
    raise IdempotencyConflict("This key is being reused too fast; try again.")


def forget_expired() -> int:
    """Delete keys older than KEEP; how many went."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - KEEP).delete()
    return deleted
