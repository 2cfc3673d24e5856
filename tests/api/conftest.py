"""API clients that sign in the way scripts do: with an `Authorization: Token ...` header."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tierline.people.models import User


@pytest.fixture
def api() -> Callable[[User | None], APIClient]:
    """api(user) -> a client sending that user's token; api(None) -> an anonymous client."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make
