"""OAuth2 sign-in for mailboxes (XOAUTH2): Microsoft 365 through MSAL, Google through
google-auth, any other OAuth2 server by its token endpoint.

    access_token(grant)   a token good for at least another minute: the sealed one kept on
                          the grant, or a new one (client credentials, or the refresh token);
                          a refused refresh is written on the grant and raised as OAuthFailure
    xoauth2(user, token)  what IMAP's `AUTHENTICATE XOAUTH2` sends
    sign_in_with_device_code(grant, show)
                          Microsoft's one-time device-code sign-in by an administrator
                          (`tierline mail oauth-signin`): keeps the refresh token it gives
    sign_in_with_browser(grant, show)
                          Google's (Gmail's scope is not allowed in the device flow): the
                          installed-app loopback flow, PKCE S256 and a state; the same command

Tokens and secrets are sealed on the row (`mail/sealing.py`). A grant that can no longer be
refreshed (revoked, expired, a wrong secret) stops the mailbox's polls with that error on the
mailbox and on the health page; the mail waits on the server, so nothing is lost meanwhile.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from django.utils import timezone

from tierline.mail import sealing
from tierline.mail.models import OAuthGrant

Provider = OAuthGrant.Provider
Flow = OAuthGrant.Flow

MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
MICROSOFT_DELEGATED_SCOPES = (
    "https://outlook.office365.com/IMAP.AccessAsUser.All",
    "https://outlook.office365.com/SMTP.Send",
)
GOOGLE_SCOPE = "https://mail.google.com/"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
GOOGLE_AUTHORIZATION_URL = "https://accounts.google.com/o/oauth2/v2/auth"
# How long the browser sign-in waits for the administrator.
SIGNIN_SECONDS = 300
MICROSOFT_AUTHORITY = "https://login.microsoftonline.com/organizations"
# A token this close to its end is refreshed before use.
MARGIN = timedelta(seconds=60)
TIMEOUT_SECONDS = 15


class OAuthFailure(Exception):
    """The token could not be had: the message says why, for the admin and the health page."""


def xoauth2(user: str, token: str) -> bytes:
    """The XOAUTH2 initial response (Google's and Microsoft's SASL mechanism)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def _unsealed(value: str) -> str:
    if not value:
        return ""
    try:
        return sealing.unseal(value)
    except sealing.Unreadable as exc:
        raise OAuthFailure(str(exc)) from None


def _scopes(grant: OAuthGrant) -> list[str]:
    if grant.scope.strip():
        return grant.scope.split()
    if grant.provider == Provider.MICROSOFT:
        if grant.flow == Flow.CLIENT_CREDENTIALS:
            return [MICROSOFT_SCOPE]
        return list(MICROSOFT_DELEGATED_SCOPES)
    if grant.provider == Provider.GOOGLE:
        return [GOOGLE_SCOPE]
    return []


def access_token(grant: OAuthGrant, *, now: datetime | None = None) -> str:
    """A usable access token for `grant`, refreshed when it is near its end."""
    now = now or timezone.now()
    if grant.access_token and grant.expires_at and grant.expires_at - MARGIN > now:
        return _unsealed(grant.access_token)
    try:
        token, expires_in, refresh = _fetch(grant)
    except OAuthFailure as exc:
        OAuthGrant.objects.filter(pk=grant.pk).update(last_error=str(exc)[:5000], last_error_at=now)
        grant.last_error = str(exc)
        raise
    changes: dict[str, Any] = {
        "access_token": sealing.seal(token),
        "expires_at": now + timedelta(seconds=max(int(expires_in), 60)),
        "last_refreshed_at": now,
        "last_error": "",
    }
    if refresh:  # a provider that rotates refresh tokens: keep the new one
        changes["refresh_token"] = sealing.seal(refresh)
    OAuthGrant.objects.filter(pk=grant.pk).update(**changes)
    for name, value in changes.items():
        setattr(grant, name, value)
    return token


def _fetch(grant: OAuthGrant) -> tuple[str, int, str]:
    """(access token, seconds it lasts, a new refresh token or "") from the provider."""
    if not grant.client_id:
        raise OAuthFailure("the grant has no client ID")
    if grant.flow == Flow.REFRESH_TOKEN and not grant.refresh_token:
        raise OAuthFailure("nobody has signed in yet: run `tierline mail oauth-signin`")
    try:
        if grant.provider == Provider.MICROSOFT:
            return _microsoft(grant)
        if grant.provider == Provider.GOOGLE:
            return _google(grant)
        return _generic(grant)
    except OAuthFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - the libraries' network and protocol errors
        raise OAuthFailure(f"{type(exc).__name__}: {exc}"[:1000]) from None


def _msal_app(grant: OAuthGrant) -> Any:
    import msal

    authority = (grant.token_url or MICROSOFT_AUTHORITY).rstrip("/")
    known = authority.startswith("https://login.microsoftonline.com/")
    options: dict[str, Any] = {"authority": authority, "timeout": TIMEOUT_SECONDS}
    if not known:  # a sovereign cloud or a test issuer: no discovery through Microsoft
        options["instance_discovery"] = False
    if grant.flow == Flow.CLIENT_CREDENTIALS:
        return msal.ConfidentialClientApplication(
            grant.client_id, client_credential=_unsealed(grant.client_secret), **options
        )
    return msal.PublicClientApplication(grant.client_id, **options)


def _from_msal(result: dict[str, Any]) -> tuple[str, int, str]:
    if "access_token" not in result:
        why = result.get("error_description") or result.get("error") or "no token"
        raise OAuthFailure(f"Microsoft refused: {str(why).splitlines()[0]}")
    return result["access_token"], int(result.get("expires_in", 3600)), ""


def _microsoft(grant: OAuthGrant) -> tuple[str, int, str]:
    app = _msal_app(grant)
    if grant.flow == Flow.CLIENT_CREDENTIALS:
        return _from_msal(app.acquire_token_for_client(scopes=_scopes(grant)))
    result = app.acquire_token_by_refresh_token(
        _unsealed(grant.refresh_token), scopes=_scopes(grant)
    )
    token, expires_in, _ = _from_msal(result)
    return token, expires_in, result.get("refresh_token", "")


def _google(grant: OAuthGrant) -> tuple[str, int, str]:
    import google.auth.exceptions
    import google.auth.transport.requests
    from google.oauth2.credentials import Credentials

    if grant.flow != Flow.REFRESH_TOKEN:
        raise OAuthFailure(
            "Google mailboxes sign in with a person's consent: choose the refresh-token flow"
        )
    credentials = Credentials(
        token=None,
        refresh_token=_unsealed(grant.refresh_token),
        client_id=grant.client_id,
        client_secret=_unsealed(grant.client_secret),
        token_uri=grant.token_url or GOOGLE_TOKEN_URL,
        scopes=_scopes(grant),
    )
    try:
        credentials.refresh(google.auth.transport.requests.Request())
    except google.auth.exceptions.RefreshError as exc:
        raise OAuthFailure(f"Google refused: {exc.args[0] if exc.args else exc}") from None
    seconds = 3600
    if credentials.expiry is not None:
        expiry = credentials.expiry.replace(tzinfo=UTC)  # google-auth: naive UTC
        seconds = int((expiry - timezone.now()).total_seconds())
    return credentials.token, seconds, ""


def _generic(grant: OAuthGrant) -> tuple[str, int, str]:
    if not grant.token_url:
        raise OAuthFailure("the grant has no token address")
    form = {"client_id": grant.client_id, "client_secret": _unsealed(grant.client_secret)}
    if grant.flow == Flow.CLIENT_CREDENTIALS:
        form["grant_type"] = "client_credentials"
    else:
        form["grant_type"] = "refresh_token"
        form["refresh_token"] = _unsealed(grant.refresh_token)
    if _scopes(grant):
        form["scope"] = " ".join(_scopes(grant))
    answer = _post_form(grant.token_url, form)
    if "access_token" not in answer:
        raise OAuthFailure(f"the token server gave no token: {str(answer)[:200]}")
    return (
        answer["access_token"],
        int(answer.get("expires_in", 3600)),
        answer.get("refresh_token", ""),
    )


def _post_form(url: str, form: dict[str, str]) -> dict[str, Any]:
    if not url.lower().startswith(("https://", "http://")):
        raise OAuthFailure(f"not an http(s) address: {url[:100]}")
    request = urllib.request.Request(  # noqa: S310 (http or https only, checked above)
        url,
        data=urllib.parse.urlencode(form).encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            return json.loads(answer.read(1_000_000))
    except urllib.error.HTTPError as exc:
        try:
            said = json.loads(exc.read(10_000))
            why = said.get("error_description") or said.get("error") or exc.reason
        except (ValueError, AttributeError):
            why = exc.reason
        raise OAuthFailure(f"the token server refused ({exc.code}): {why}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise OAuthFailure(f"the token server could not be reached: {exc}") from None


# --- the administrator's one-time sign-in (Microsoft) ---------------------------------------


def sign_in_with_device_code(grant: OAuthGrant, show: Callable[[str], None]) -> None:
    """Microsoft's device-code sign-in: `show` tells the administrator where to go and which
    code to type; when they have signed in, the refresh token is kept (sealed) on the grant."""
    if grant.provider != Provider.MICROSOFT or grant.flow != Flow.REFRESH_TOKEN:
        raise OAuthFailure(
            "the device-code sign-in is for a Microsoft grant with a person's sign-in"
        )
    try:
        app = _msal_app(grant)
        flow = app.initiate_device_flow(scopes=_scopes(grant))
        if "user_code" not in flow:
            raise OAuthFailure(f"Microsoft refused: {flow.get('error_description', flow)}")
        show(flow["message"])
        result = app.acquire_token_by_device_flow(flow)
    except OAuthFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - network and protocol errors of MSAL
        raise OAuthFailure(f"{type(exc).__name__}: {exc}"[:1000]) from None
    token, expires_in, _ = _from_msal(result)
    if not result.get("refresh_token"):
        raise OAuthFailure("Microsoft gave no refresh token (is offline access allowed?)")
    now = timezone.now()
    OAuthGrant.objects.filter(pk=grant.pk).update(
        refresh_token=sealing.seal(result["refresh_token"]),
        access_token=sealing.seal(token),
        expires_at=now + timedelta(seconds=max(expires_in, 60)),
        last_refreshed_at=now,
        last_error="",
    )


# --- the administrator's one-time sign-in (Google: a browser, a loopback redirect) ----------


class _Redirect(HTTPServer):
    """The loopback listener the browser is sent back to: keeps the first answer's query."""

    answer: dict[str, str] | None = None


class _RedirectHandler(BaseHTTPRequestHandler):
    server: _Redirect

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path, _, query = self.path.partition("?")
        if path != "/" or self.server.answer is not None:
            self.send_error(404)
            return
        self.server.answer = {
            key: values[0] for key, values in urllib.parse.parse_qs(query).items() if values
        }
        body = (
            b"<!doctype html><meta charset=utf-8><title>Tierline</title>"
            b"<p>Tierline has the answer. You can close this window and go back to the terminal."
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _pkce() -> tuple[str, str]:
    """(verifier, S256 challenge), RFC 7636."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign_in_with_browser(
    grant: OAuthGrant,
    show: Callable[[str], None],
    *,
    authorization_url: str = GOOGLE_AUTHORIZATION_URL,
    timeout: float = SIGNIN_SECONDS,
) -> None:
    """Google's installed-app sign-in: a listener on 127.0.0.1 (a free port), the address to
    open shown (PKCE S256, a random state, offline access), the redirect's `code` exchanged
    at the token endpoint with the verifier, the refresh token kept (sealed) on the grant.
    No answer within `timeout`, a state that does not match, or `error=` in the redirect:
    OAuthFailure, and nothing is stored."""
    if grant.provider != Provider.GOOGLE or grant.flow != Flow.REFRESH_TOKEN:
        raise OAuthFailure("the browser sign-in is for a Google grant with a person's consent")
    if not grant.client_id:
        raise OAuthFailure("the grant has no client ID")
    if not authorization_url.lower().startswith(("https://", "http://")):
        raise OAuthFailure(f"not an http(s) address: {authorization_url[:100]}")
    verifier, challenge = _pkce()
    state = secrets.token_urlsafe(24)
    listener = _Redirect(("127.0.0.1", 0), _RedirectHandler)
    try:
        redirect_uri = f"http://127.0.0.1:{listener.server_address[1]}/"
        query = urllib.parse.urlencode(
            {
                "client_id": grant.client_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": " ".join(_scopes(grant)),
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "state": state,
                "access_type": "offline",
                "prompt": "consent",
            }
        )
        separator = "&" if "?" in authorization_url else "?"
        show(
            "Open this address in a browser on this machine, sign in as the mailbox's user and "
            f"allow access (waiting {timeout:g} s):\n{authorization_url}{separator}{query}"
        )
        deadline = time.monotonic() + timeout
        while listener.answer is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise OAuthFailure(
                    f"no answer from the browser within {timeout:g} s; nothing was stored"
                )
            listener.timeout = min(left, 1.0)
            listener.handle_request()
        answer = listener.answer
    finally:
        listener.server_close()
    if not hmac.compare_digest(answer.get("state", ""), state):
        raise OAuthFailure(
            "the answer's state does not match this sign-in (an old or forged redirect); "
            "nothing was stored"
        )
    if "error" in answer:
        why = answer.get("error_description") or answer["error"]
        raise OAuthFailure(f"Google refused: {why[:300]}; nothing was stored")
    if not answer.get("code"):
        raise OAuthFailure("the redirect carried no code; nothing was stored")
    tokens = _post_form(
        grant.token_url or GOOGLE_TOKEN_URL,
        {
            "grant_type": "authorization_code",
            "code": answer["code"],
            "client_id": grant.client_id,
            "client_secret": _unsealed(grant.client_secret),
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
    )
    if not tokens.get("refresh_token") or not tokens.get("access_token"):
        raise OAuthFailure(
            "Google gave no refresh token (was offline access allowed?); nothing was stored"
        )
    now = timezone.now()
    OAuthGrant.objects.filter(pk=grant.pk).update(
        refresh_token=sealing.seal(tokens["refresh_token"]),
        access_token=sealing.seal(tokens["access_token"]),
        expires_at=now + timedelta(seconds=max(int(tokens.get("expires_in", 3600)), 60)),
        last_refreshed_at=now,
        last_error="",
    )
