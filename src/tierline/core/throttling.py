"""API rate limits: each token (or signed-in session) has its own budget, kept in the cache.

The rate is TIERLINE_API_RATE ("1200/min" by default; "off" for none). With the default
in-process cache each server process counts on its own; with TIERLINE_REDIS_URL the count is
shared by every process and machine.
"""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import SimpleRateThrottle


class CallerRateThrottle(SimpleRateThrottle):
    """One budget per caller: its credential's digest, else its signed-in user, else its address.

    Other apps' throttles (the endpoint agent's, per device) take this with their own `scope`
    and `credential_prefix`, so every API door counts callers the same way.
    """

    credential_prefix = "token"

    def caller_ident(self, request: Any) -> str:
        digest = getattr(request.auth, "digest", None)
        if digest:
            # The credential's digest, never the credential, goes into the cache.
            return f"{self.credential_prefix}-{digest[:32]}"
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"user-{user.pk}"
        # A WSGI server may send no client address at all (REMOTE_ADDR is optional): such
        # callers share one budget instead of the request failing.
        return "addr-" + (self.get_ident(request) or "unknown")

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.caller_ident(request)}


class TokenRateThrottle(CallerRateThrottle):
    scope = "api"
