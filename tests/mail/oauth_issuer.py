"""A token issuer on loopback for the OAuth2 mailbox tests: what Microsoft's and Google's sign-in
servers do, small enough to read.

- HTTPS (a self-signed certificate the tests trust through REQUESTS_CA_BUNDLE): OpenID discovery
  at `/<tenant>/v2.0/.well-known/openid-configuration` and a token endpoint, as MSAL expects of
  an authority, including the device-code flow (`/devicecode`: the "administrator" signs in at
  once); `/token` for google-auth and plain OAuth2 clients (client credentials, refresh token,
  and an authorization code checked against its PKCE S256 challenge and redirect address);
  `/authorize`, Google's consent page without the page: it redirects the "browser" at once to
  its loopback `redirect_uri` with a code and the state (or `error=access_denied` when
  `deny` is set).
- HTTP (loopback only): `/introspect` (RFC 7662), which Dovecot's oauth2 passdb asks about each
  token it is given.

Tokens are random, last `lifetime` seconds, name the mailbox user they were issued for, and can be
revoked (`revoke_all`), as an administrator revoking a grant would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Issuer:
    TENANT = "tierline-test-tenant"

    def __init__(self, *, client_id: str, client_secret: str, user: str, lifetime: int = 3600):
        self.client_id, self.client_secret, self.user = client_id, client_secret, user
        self.lifetime = lifetime
        self.tokens: dict[str, float] = {}  # access token -> expiry (monotonic)
        self.refresh_tokens: set[str] = set()
        self.requests: list[dict[str, str]] = []  # every token request's form, for assertions
        self.introspections = 0
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (PKCE challenge, redirect_uri)
        self.authorizations: list[dict[str, str]] = []  # every /authorize query
        self.deny = False
        self.lock = threading.Lock()
        self.root = Path(tempfile.mkdtemp(prefix="tierline-oauth-"))
        self.https_port = _free_port()
        self.http_port = _free_port()
        self._servers: list[ThreadingHTTPServer] = []

    # --- addresses -----------------------------------------------------------------------------

    @property
    def authority(self) -> str:
        return f"https://127.0.0.1:{self.https_port}/{self.TENANT}"

    @property
    def token_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}/token"

    @property
    def introspection_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/introspect"

    @property
    def ca_file(self) -> str:
        return str(self.root / "cert.pem")

    # --- what the issuer does ----------------------------------------------------------------

    def issue(self, *, refresh: bool) -> dict:
        token = "at-" + secrets.token_urlsafe(24)
        answer = {"token_type": "Bearer", "access_token": token, "expires_in": self.lifetime}
        with self.lock:
            self.tokens[token] = time.monotonic() + self.lifetime
            if refresh:
                answer["refresh_token"] = "rt-" + secrets.token_urlsafe(24)
                self.refresh_tokens.add(answer["refresh_token"])
        return answer

    def new_refresh_token(self) -> str:
        """A refresh token as if a person had consented (Google's flow, done in a browser)."""
        token = "rt-" + secrets.token_urlsafe(24)
        with self.lock:
            self.refresh_tokens.add(token)
        return token

    def revoke_all(self) -> None:
        with self.lock:
            self.tokens.clear()
            self.refresh_tokens.clear()

    def active(self, token: str) -> bool:
        with self.lock:
            return self.tokens.get(token, 0) > time.monotonic()

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Issuer:
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", str(self.root / "key.pem"), "-out", str(self.root / "cert.pem"),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                base = f"https://127.0.0.1:{issuer.https_port}/{issuer.TENANT}"
                if self.path.startswith(f"/{issuer.TENANT}/v2.0/.well-known/openid-configuration"):
                    self._answer(
                        200,
                        {
                            "issuer": f"{base}/v2.0",
                            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                            "token_endpoint": f"{base}/oauth2/v2.0/token",
                            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                        },
                    )
                    return
                if self.path.startswith("/authorize"):
                    self._authorize()
                    return
                self._answer(404, {"error": "not_found"})

            def _authorize(self) -> None:
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                issuer.authorizations.append(query)
                redirect = query.get("redirect_uri", "")
                if query.get("client_id") != issuer.client_id or not redirect.startswith(
                    "http://127.0.0.1:"
                ):
                    self._answer(400, {"error": "invalid_request"})
                    return
                if issuer.deny:
                    back = {"error": "access_denied", "state": query.get("state", "")}
                else:
                    code = "code-" + secrets.token_urlsafe(12)
                    with issuer.lock:
                        issuer.codes[code] = (query.get("code_challenge", ""), redirect)
                    back = {"code": code, "state": query.get("state", "")}
                self.send_response(302)
                self.send_header("Location", redirect + "?" + urllib.parse.urlencode(back))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                path = self.path.split("?")[0]
                if path == "/introspect":
                    issuer.introspections += 1
                    token = form.get("token", "")
                    if issuer.active(token):
                        self._answer(200, {"active": True, "username": issuer.user})
                    else:
                        self._answer(200, {"active": False})
                    return
                if path.endswith("/devicecode"):
                    self._answer(
                        200,
                        {
                            "device_code": "dc-" + secrets.token_urlsafe(8),
                            "user_code": "TIER-LINE",
                            "verification_uri": "https://127.0.0.1/devicelogin",
                            "expires_in": 900,
                            "interval": 1,
                            "message": "To sign in, open https://127.0.0.1/devicelogin and "
                            "enter the code TIER-LINE.",
                        },
                    )
                    return
                if path.endswith("/token"):
                    issuer.requests.append(form)
                    self._token(form)
                    return
                self._answer(404, {"error": "not_found"})

            def _token(self, form: dict[str, str]) -> None:
                grant = form.get("grant_type", "")
                if form.get("client_id") != issuer.client_id:
                    self._answer(
                        400, {"error": "invalid_client", "error_description": "unknown client"}
                    )
                    return
                if grant == "client_credentials":
                    if form.get("client_secret") != issuer.client_secret:
                        self._answer(
                            401,
                            {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret."},
                        )  # fmt: skip
                        return
                    self._answer(200, issuer.issue(refresh=False))
                elif grant == "refresh_token":
                    if form.get("refresh_token") not in issuer.refresh_tokens:
                        self._answer(
                            400,
                            {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
                        )  # fmt: skip
                        return
                    self._answer(200, issuer.issue(refresh=True))
                elif grant == "authorization_code":
                    with issuer.lock:
                        challenge, redirect = issuer.codes.pop(form.get("code", ""), ("", ""))
                    verifier = form.get("code_verifier", "").encode()
                    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest())
                    if (
                        not challenge
                        or computed.rstrip(b"=").decode() != challenge
                        or form.get("redirect_uri") != redirect
                        or form.get("client_secret") != issuer.client_secret
                    ):
                        self._answer(
                            400, {"error": "invalid_grant", "error_description": "Bad code."}
                        )
                        return
                    self._answer(200, issuer.issue(refresh=True))
                elif grant == "urn:ietf:params:oauth:grant-type:device_code":
                    self._answer(200, issuer.issue(refresh=True))
                else:
                    self._answer(400, {"error": "unsupported_grant_type"})

        https = ThreadingHTTPServer(("127.0.0.1", self.https_port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.root / "cert.pem", self.root / "key.pem")
        https.socket = context.wrap_socket(https.socket, server_side=True)
        http = ThreadingHTTPServer(("127.0.0.1", self.http_port), Handler)
        for server in (https, http):
            self._servers.append(server)
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
