"""API rate limits: each token (or signed-in session) has its own budget, kept in the cache.

The rate is TIERLINE_API_RATE ("1200/min" by default; "off" for none). With the default
in-process cache each server process counts on its own; with TIERLINE_REDIS_URL the count is
shared by every process and machine.
"""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        token_digest = getattr(request.auth, "digest", None)
        if token_digest:
            # The token's digest, never the token, goes into the cache.
            ident = "token-" + token_digest[:32]
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            # A WSGI server may send no client address at all (REMOTE_ADDR is optional): such
            # callers share one budget instead of the request failing.
            ident = "addr-" + (self.get_ident(request) or "unknown")
        return self.cache_format % {"scope": self.scope, "ident": ident}
