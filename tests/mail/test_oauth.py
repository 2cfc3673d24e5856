"""Microsoft 365 and Google mailboxes (issue 9 point 7): IMAP with XOAUTH2 against a real Dovecot
whose oauth2 passdb checks each token at a token issuer the tests start on loopback
(tests/mail/oauth_issuer.py). MSAL and google-auth talk to that issuer for real, over HTTPS.

What cannot run here is Microsoft's and Google's own sign-in servers: the issuer stands in for
them, speaking the same protocol (OpenID discovery, client credentials, refresh tokens, the
device-code flow, RFC 7662 introspection)."""

from __future__ import annotations

import base64
import os
import ssl
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.mail import dovecot as dovecot_server
from tests.mail.conftest import PASSWORD
from tests.mail.factories import mail, mailbox
from tests.mail.oauth_issuer import Issuer
from tests.mail.outbound_server import Capture, free_port
from tierline import cli
from tierline.desk.models import Ticket
from tierline.mail import health, imap, oauth, outbound, sealing
from tierline.mail.admin import OAuthGrantForm
from tierline.mail.models import ImapAccount, OAuthGrant, Outbox

pytestmark = pytest.mark.django_db

CLIENT_ID, SECRET = "tierline-app", "app-s3cret"


@pytest.fixture(scope="module")
def issuer():
    instance = Issuer(client_id=CLIENT_ID, client_secret=SECRET, user="").start()
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def oauth_server(issuer):
    """A Dovecot of its own that offers XOAUTH2 and asks the issuer about each token."""
    why = dovecot_server.available()
    if why:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    instance = dovecot_server.Dovecot(
        password=PASSWORD, users=20, introspection=issuer.introspection_url
    ).start()
    yield instance
    instance.stop()


@pytest.fixture
def user(oauth_server, issuer, monkeypatch) -> str:
    name = oauth_server.new_user()
    issuer.user = name  # the issuer's tokens are this mailbox's
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", issuer.ca_file)  # MSAL and google-auth trust it
    return name


def grant_for(issuer: Issuer, **fields) -> OAuthGrant:
    values = {
        "name": "Microsoft 365",
        "provider": OAuthGrant.Provider.MICROSOFT,
        "flow": OAuthGrant.Flow.CLIENT_CREDENTIALS,
        "token_url": issuer.authority,
        "client_id": CLIENT_ID,
        "client_secret": sealing.seal(SECRET),
    }
    values.update(fields)
    return OAuthGrant.objects.create(**values)


def account_for(server, user: str, grant: OAuthGrant) -> ImapAccount:
    return ImapAccount.objects.create(
        mailbox=mailbox(),
        host="127.0.0.1",
        port=server.imaps_port,
        security=ImapAccount.Security.TLS,
        trusted_certificate=server.certificate,
        username=user,
        oauth=grant,
        folder="INBOX",
        after=ImapAccount.After.MOVE,
        move_to="Processed",
    )


def fetch(account: ImapAccount) -> imap.Poll:
    return imap.fetch(ImapAccount.objects.select_related("mailbox", "oauth").get(pk=account.pk))


def test_a_microsoft_mailbox_signs_in_by_xoauth2_with_app_credentials(
    oauth_server, issuer, user, employee
):
    account = account_for(oauth_server, user, grant_for(issuer))
    oauth_server.append(user, PASSWORD, mail(subject="Teams will not start"))
    poll = fetch(account)
    assert poll.error == ""
    ticket = Ticket.objects.get()
    assert ticket.subject == "Teams will not start"
    assert poll.lines == [f"UID 1: new {ticket.number}"]
    # MSAL asked for an app token with the Exchange scope, and Dovecot checked it
    assert issuer.requests[-1]["grant_type"] == "client_credentials"
    assert issuer.requests[-1]["scope"].split()[0] == oauth.MICROSOFT_SCOPE
    assert issuer.introspections >= 1
    # the token is kept sealed and used again until it nears its end
    grant = OAuthGrant.objects.get()
    assert grant.access_token and sealing.is_sealed(grant.access_token)
    assert grant.expires_at > timezone.now() + timedelta(minutes=30)
    asked = len(issuer.requests)
    oauth_server.append(user, PASSWORD, mail(subject="Second"))
    assert fetch(account).error == ""
    assert len(issuer.requests) == asked
    assert Ticket.objects.count() == 2


def test_a_google_mailbox_refreshes_its_token_with_google_auth(
    oauth_server, issuer, user, employee
):
    grant = grant_for(
        issuer,
        name="Google Workspace",
        provider=OAuthGrant.Provider.GOOGLE,
        flow=OAuthGrant.Flow.REFRESH_TOKEN,
        token_url=issuer.token_url,
        refresh_token=sealing.seal(issuer.new_refresh_token()),
    )
    account = account_for(oauth_server, user, grant)
    oauth_server.append(user, PASSWORD, mail(subject="Calendar sync broken"))
    poll = fetch(account)
    assert poll.error == ""
    assert Ticket.objects.get().subject == "Calendar sync broken"
    assert issuer.requests[-1]["grant_type"] == "refresh_token"
    grant.refresh_from_db()
    assert grant.last_refreshed_at and grant.last_error == ""


def test_a_revoked_grant_is_shown_to_admins_and_the_mail_waits(
    oauth_server, issuer, user, employee
):
    """An administrator revokes the app's consent: the poll fails with the provider's words,
    the grant and the health page say so, the message stays on the server; signed in again,
    the next poll takes it, once."""
    grant = grant_for(
        issuer,
        provider=OAuthGrant.Provider.GOOGLE,
        flow=OAuthGrant.Flow.REFRESH_TOKEN,
        token_url=issuer.token_url,
        refresh_token=sealing.seal(issuer.new_refresh_token()),
    )
    account = account_for(oauth_server, user, grant)
    assert fetch(account).error == ""
    issuer.revoke_all()
    oauth_server.append(user, PASSWORD, mail(subject="Waiting for a grant"))
    # the token we hold is revoked too: Dovecot refuses it, and it is forgotten
    refused = fetch(account)
    assert "XOAUTH2 sign-in as" in refused.error
    # the refresh token is revoked: the provider's answer is on the grant and the health page
    failed = fetch(account)
    assert "expired or revoked" in failed.error
    grant.refresh_from_db()
    assert "expired or revoked" in grant.last_error
    finding = health.grants()
    assert finding.state == "error" and grant.name in finding.summary
    assert Ticket.objects.count() == 0
    assert len(oauth_server.folder(user, PASSWORD)) == 1  # nothing lost
    # signed in again
    OAuthGrant.objects.filter(pk=grant.pk).update(
        refresh_token=sealing.seal(issuer.new_refresh_token())
    )
    assert fetch(account).error == ""
    assert list(Ticket.objects.values_list("subject", flat=True)) == ["Waiting for a grant"]
    assert health.grants().state == "ok"


def test_a_wrong_client_secret_is_a_clear_error(oauth_server, issuer, user, employee):
    account = account_for(
        oauth_server, user, grant_for(issuer, client_secret=sealing.seal("not-it"))
    )
    poll = fetch(account)
    assert "OAuth2 sign-in (Microsoft 365)" in poll.error
    assert "Invalid client secret" in poll.error
    assert OAuthGrant.objects.get().last_error


def test_the_administrators_device_code_sign_in_keeps_a_refresh_token(
    oauth_server, issuer, user, employee, capsys
):
    grant = grant_for(issuer, flow=OAuthGrant.Flow.REFRESH_TOKEN, client_secret="")
    account = account_for(oauth_server, user, grant)
    assert "nobody has signed in yet" in fetch(account).error
    assert cli.main(["mail", "oauth-signin", "--grant", "Microsoft 365"]) == 0
    printed = capsys.readouterr().out
    assert "enter the code TIER-LINE" in printed and "Signed in" in printed
    grant.refresh_from_db()
    assert sealing.is_sealed(grant.refresh_token)
    # the token it got expires: the kept refresh token gets a new one through MSAL
    OAuthGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now())
    oauth_server.append(user, PASSWORD, mail(subject="After sign-in"))
    assert fetch(account).error == ""
    assert issuer.requests[-1]["grant_type"] == "refresh_token"
    assert Ticket.objects.get().subject == "After sign-in"


def test_signin_names_an_unknown_grant(capsys):
    assert cli.main(["mail", "oauth-signin", "--grant", "nope"]) != 0
    assert "No OAuth2 grant named “nope”" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"flow": "client_credentials", "client_secret": ""},
            "client_secret",
            "need the client secret",
        ),
        ({"provider": "google", "flow": "client_credentials"}, "flow", "person's consent"),
        ({"provider": "generic", "token_url": ""}, "token_url", "token server's address"),
        ({"token_url": "http://login.example/tenant"}, "token_url", "https://"),
    ],
)
def test_the_admin_refuses_a_grant_that_cannot_work(fields, field, message):
    data = {
        "name": "Grant",
        "provider": "microsoft",
        "flow": "client_credentials",
        "token_url": "",
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "scope": "",
        "refresh_token": "",
    }
    data.update(fields)
    form = OAuthGrantForm(data=data)
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_secrets_are_sealed_and_never_shown_again(client, admin_user):
    form = OAuthGrantForm(
        data={
            "name": "Grant",
            "provider": "google",
            "flow": "refresh_token",
            "token_url": "",
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "scope": "",
            "refresh_token": "rt-secret-value",
        }
    )
    assert form.is_valid(), form.errors
    grant = form.save()
    assert sealing.unseal(grant.client_secret) == SECRET
    assert sealing.unseal(grant.refresh_token) == "rt-secret-value"
    client.force_login(admin_user)
    page = client.get(f"/admin/mail/oauthgrant/{grant.pk}/change/").content.decode()
    assert SECRET not in page and "rt-secret-value" not in page
    assert grant.client_secret not in page


# --- outgoing mail by XOAUTH2 -----------------------------------------------------------------


class XOAuthSmtp(Capture):
    """aiosmtpd offering AUTH XOAUTH2, each token checked at the issuer (as Exchange Online
    and Gmail check theirs)."""

    def __init__(self, issuer: Issuer, user: str) -> None:
        super().__init__()
        self.issuer, self.user, self.signed_in = issuer, user, []

    async def auth_XOAUTH2(self, server, args):  # noqa: N802 - aiosmtpd's naming
        initial = args[-1] if args and args[-1].upper() != "XOAUTH2" else ""
        blob = base64.b64decode(initial).decode() if initial else ""
        fields = dict(part.split("=", 1) for part in blob.split("\x01") if "=" in part)
        token = fields.get("auth", "").removeprefix("Bearer ")
        ok = fields.get("user") == self.user and self.issuer.active(token)
        if ok:
            self.signed_in.append(fields["user"])
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def xoauth_smtp(issuer, settings, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", issuer.ca_file)
    handler = XOAuthSmtp(issuer, "helpdesk@example.org")
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        auth_require_tls=False,
        auth_required=True,  # loopback only
    )
    controller.start()
    settings.MAIL_OUT = {
        **settings.MAIL_OUT,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": port,
        "SMTP_TLS": "none",
        "SMTP_USER": "helpdesk@example.org",
        "SMTP_PASSWORD": "",
        "SMTP_OAUTH_GRANT": "Microsoft 365",
        "FROM": "helpdesk@example.org",
        "SMTP_TIMEOUT": 5,
    }
    yield handler
    controller.stop()


def test_outgoing_mail_signs_in_by_xoauth2(
    issuer, xoauth_smtp, employee, django_capture_on_commit_callbacks
):
    grant_for(issuer)
    with django_capture_on_commit_callbacks(execute=True):
        desk_factories.ticket(requester=employee, subject="VPN drops")
    report = outbound.send_due()
    assert report.sent and not report.failed, Outbox.objects.values_list("last_error", flat=True)
    assert xoauth_smtp.signed_in == ["helpdesk@example.org"]
    assert [m.rcpt_tos for m in xoauth_smtp.received] == [[employee.email]]


def test_outgoing_mail_waits_while_the_grant_is_refused(
    issuer, xoauth_smtp, employee, django_capture_on_commit_callbacks
):
    grant_for(issuer, client_secret=sealing.seal("not-it"))
    with django_capture_on_commit_callbacks(execute=True):
        desk_factories.ticket(requester=employee, subject="VPN drops")
    report = outbound.send_due()
    assert report.retrying and not report.sent
    [queued] = Outbox.objects.all()
    assert queued.status == Outbox.Status.QUEUED and "Invalid client secret" in queued.last_error
    assert xoauth_smtp.received == []


# --- Google's browser sign-in (installed-app loopback flow) --------------------------------


class Browser:
    """Plays the administrator's browser: opens the address the command shows (trusting the
    issuer's certificate) and follows its redirect back to the command's loopback listener."""

    def __init__(self, issuer: Issuer, visit: Callable[[str], str] | None = None) -> None:
        self.context = ssl.create_default_context(cafile=issuer.ca_file)
        self.visit = visit or (lambda url: url)
        self.shown: list[str] = []
        self.answers: list[str] = []
        self.thread: threading.Thread | None = None

    def show(self, text: str) -> None:
        self.shown.append(text)
        urls = [word for word in text.split() if word.startswith(("https://", "http://"))]
        if urls:
            self.thread = threading.Thread(target=self._open, args=(urls[-1],), daemon=True)
            self.thread.start()

    def _open(self, url: str) -> None:
        with urllib.request.urlopen(self.visit(url), context=self.context, timeout=30) as page:
            self.answers.append(page.read().decode())


def google_grant(issuer: Issuer) -> OAuthGrant:
    return grant_for(
        issuer,
        name="Google",
        provider=OAuthGrant.Provider.GOOGLE,
        flow=OAuthGrant.Flow.REFRESH_TOKEN,
        token_url=issuer.token_url,
    )


@pytest.fixture
def trusted(issuer, monkeypatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", issuer.ca_file)  # urllib's token request trusts it
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", issuer.ca_file)  # google-auth's refresh too


def test_google_browser_sign_in_keeps_a_refresh_token(
    oauth_server, issuer, user, employee, trusted, monkeypatch
):
    # given a Google grant nobody signed in to yet
    grant = google_grant(issuer)
    account = account_for(oauth_server, user, grant)
    assert "nobody has signed in yet" in fetch(account).error
    browser = Browser(issuer)
    monkeypatch.setattr(cli, "_out", browser.show)
    # when the administrator runs the command and signs in in the browser
    authorize = f"https://127.0.0.1:{issuer.https_port}/authorize"
    code = cli.main(["mail", "oauth-signin", "--grant", "Google", "--authorization-url", authorize])
    # then the command asked with PKCE S256, a state and offline access, and kept the token
    assert code == 0, browser.shown
    asked = issuer.authorizations[-1]
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert len(asked["state"]) >= 32 and asked["access_type"] == "offline"
    assert asked["scope"] == "https://mail.google.com/"
    assert asked["redirect_uri"].startswith("http://127.0.0.1:")
    assert "You can close this window" in browser.answers[0]
    assert browser.shown[-1].startswith("Signed in: Google keeps its refresh token")
    grant.refresh_from_db()
    assert sealing.is_sealed(grant.refresh_token) and grant.last_error == ""
    # and the kept refresh token gets new access tokens through google-auth
    OAuthGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now())
    oauth_server.append(user, PASSWORD, mail(subject="Gmail after sign-in"))
    assert fetch(account).error == ""
    assert issuer.requests[-1]["grant_type"] == "refresh_token"
    assert Ticket.objects.get().subject == "Gmail after sign-in"


def run_signin(grant: OAuthGrant, browser: Browser, issuer: Issuer, **kwargs) -> str:
    with pytest.raises(oauth.OAuthFailure) as failure:
        oauth.sign_in_with_browser(
            grant,
            browser.show,
            authorization_url=f"https://127.0.0.1:{issuer.https_port}/authorize",
            **kwargs,
        )
    return str(failure.value)


def test_google_sign_in_with_a_wrong_state_stores_nothing(issuer, trusted):
    grant = google_grant(issuer)

    def forged(url: str) -> str:  # the redirect arrives with another state
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        return (
            query["redirect_uri"]
            + "?"
            + urllib.parse.urlencode({"code": "code-stolen", "state": "not-the-one"})
        )

    message = run_signin(grant, Browser(issuer, forged), issuer, timeout=30)
    assert message.startswith("the answer's state does not match this sign-in")
    grant.refresh_from_db()
    assert grant.refresh_token == "" and grant.access_token == ""


def test_google_sign_in_refused_in_the_browser_stores_nothing(issuer, trusted, monkeypatch):
    monkeypatch.setattr(issuer, "deny", True)
    grant = google_grant(issuer)
    message = run_signin(grant, Browser(issuer), issuer, timeout=30)
    assert message == "Google refused: access_denied; nothing was stored"
    grant.refresh_from_db()
    assert grant.refresh_token == ""


def test_google_sign_in_that_nobody_answers_times_out(issuer, trusted, capsys):
    google_grant(issuer)
    code = cli.main(
        ["mail", "oauth-signin", "--grant", "Google", "--timeout", "0.5",
         "--authorization-url", f"https://127.0.0.1:{issuer.https_port}/authorize"]
    )  # fmt: skip
    assert code == cli.EXIT_FAILED
    captured = capsys.readouterr()
    assert "code_challenge_method=S256" in captured.out
    assert "Sign-in failed: no answer from the browser within 0.5 s; nothing was stored" in (
        captured.err
    )
    assert OAuthGrant.objects.get().refresh_token == ""


def test_google_sign_in_refuses_a_non_positive_timeout(issuer, capsys):
    google_grant(issuer)
    code = cli.main(["mail", "oauth-signin", "--grant", "Google", "--timeout", "0"])
    assert code == cli.EXIT_BAD_INPUT
    assert "--timeout is a number of seconds above 0." in capsys.readouterr().err
