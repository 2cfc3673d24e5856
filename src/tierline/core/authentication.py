"""API sign-in. Its own module: DRF imports the authentication classes while rest_framework.views
is loading, so this must not import anything that imports the views (core.api does)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import authentication, exceptions

from tierline.core.models import ApiToken as Token
from tierline.core.tokens import digest

# What a key can be (printable ASCII, at most 64 characters): anything else is refused before
# the database sees it, a NUL byte included.
_PLAUSIBLE_KEY = re.compile(r"[\x21-\x7e]{1,64}")


def _aware(value: Any) -> datetime:
    """A datetime read by a raw cursor: SQLite hands back text or a naive UTC value."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


class TokenAuthentication(authentication.TokenAuthentication):
    """Token sign-in (`Authorization: Token <key>`) against core.ApiToken, which stores only
    each key's digest. The token and its user are read by one hand-written query: the ORM took
    longer to build the select_related lookup than the database took to answer it, on every API
    request. An unknown, revoked or expired key, or an inactive user, is refused with 401."""

    model = Token

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        if not _PLAUSIBLE_KEY.fullmatch(key):
            raise exceptions.AuthenticationFailed("Invalid token.")
        q = connection.ops.quote_name
        owner = Token._meta.get_field("user")
        User = owner.related_model  # noqa: N806 - a model class
        token_fields = Token._meta.concrete_fields
        user_fields = User._meta.concrete_fields
        columns = ", ".join(
            [f"t.{q(f.column)}" for f in token_fields] + [f"u.{q(f.column)}" for f in user_fields]
        )
        # Only names from the models' metadata go into the text; the key is a parameter.
        sql = (
            f"SELECT {columns} FROM {q(Token._meta.db_table)} t"  # noqa: S608
            f" INNER JOIN {q(User._meta.db_table)} u ON u.{q(User._meta.pk.column)} = t.{q(owner.column)}"
            f" WHERE t.{q(Token._meta.get_field('digest').column)} = %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [digest(key)])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        split = len(token_fields)
        token = Token.from_db(connection.alias, [f.attname for f in token_fields], row[:split])
        user = User.from_db(connection.alias, [f.attname for f in user_fields], row[split:])
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This token was revoked.")
        if token.expires_at is not None and _aware(token.expires_at) <= timezone.now():
            raise exceptions.AuthenticationFailed("This token has expired.")
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        token.user = user
        return user, token
