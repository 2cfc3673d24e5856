"""API tokens: issued (shown once), checked by digest, revoked. The only code that writes
core.ApiToken."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from tierline.core.history import record
from tierline.core.models import ApiToken

KEY_PREFIX = "tl_"


def digest(key: str) -> str:
    """The stored form of a key. A key is 240 random bits, so a plain SHA-256 is enough: no
    dictionary or brute force reaches it, and the check stays one indexed lookup."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@transaction.atomic
def issue_token(
    *, user: Any, by: Any = None, name: str = "", expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the key, which is never stored or shown
    again."""
    if expires_at is not None and expires_at <= timezone.now():
        raise ValueError("A token must expire in the future.")
    key = KEY_PREFIX + secrets.token_urlsafe(30)
    token = ApiToken.objects.create(
        user=user,
        name=(name or "").strip()[:60],
        prefix=key[:10],
        digest=digest(key),
        expires_at=expires_at,
    )
    record(token, by or user, "issued", summary=token.name or token.prefix)
    return token, key


@transaction.atomic
def revoke_token(*, token: ApiToken, by: Any) -> ApiToken:
    """Stop a token from signing anyone in; revoking twice changes nothing."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=token.revoked_at)
        record(token, by, "revoked", summary=token.name or token.prefix)
    return token
