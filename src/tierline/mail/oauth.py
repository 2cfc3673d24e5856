"""OAuth2 sign-in for mailboxes (XOAUTH2): Microsoft 365 through MSAL, Google through
google-auth, any other OAuth2 server by its token endpoint.

    access_token(grant)   a token good for at least another minute: the sealed one kept on
                          the grant, or a new one (client credentials, or the refresh token);
                          a refused refresh is written on the grant and raised as OAuthFailure
    xoauth2(user, token)  what IMAP's `AUTHENTICATE XOAUTH2` sends
    sign_in_with_device_code(grant, show)
                          Microsoft's one-time device-code sign-in by an administrator
                          (`tierline mail oauth-signin`): keeps the refresh token it gives

Tokens and secrets are sealed on the row (`mail/sealing.py`). A grant that can no longer be
refreshed (revoked, expired, a wrong secret) stops the mailbox's polls with that error on the
mailbox and on the health page; the mail waits on the server, so nothing is lost meanwhile.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
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
