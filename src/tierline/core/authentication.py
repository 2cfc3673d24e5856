"""API sign-in. Its own module: DRF imports the authentication classes while rest_framework.views
is loading, so this must not import anything that imports the views (core.api does)."""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

# What a key can be (DRF makes 40 hex digits; the column holds 40 characters): anything else is
# refused before the database sees it, a NUL byte included, which PostgreSQL would reject.
_PLAUSIBLE_KEY = re.compile(r"[\x21-\x7e]{1,40}")


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication (`Authorization: Token <key>`), with the token and its user
    read by one hand-written query: the ORM took longer to build DRF's select_related lookup than
    the database took to answer it, on every API request. Same answers as DRF's: an unknown key
    or an inactive user is refused with 401."""

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
            f" WHERE t.{q(Token._meta.pk.column)} = %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        split = len(token_fields)
        token = Token.from_db(connection.alias, [f.attname for f in token_fields], row[:split])
        user = User.from_db(connection.alias, [f.attname for f in user_fields], row[split:])
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        token.user = user
        return user, token
