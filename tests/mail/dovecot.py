"""A private Dovecot for the IMAP tests: Debian's `dovecot-imapd`, its own config file in a
temporary folder, users in a passwd-file, IMAP (STARTTLS) and IMAPS on loopback ports, a
temporary mail store, a self-signed certificate; started by the test process (no systemd) and
stopped afterwards.

`scripts/ensure-dovecot.sh` installs Dovecot where it is missing (`.ci/run` and `make
dovecot` call it). Dovecot's login processes refuse to run as root: run by root, the
instance uses the package's `dovenull` and `dovecot` users; run by anyone else, that user.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
INSTALL_HINT = "install it with `bash scripts/ensure-dovecot.sh` (or `make dovecot`)"


def available() -> str:
    """Why Dovecot cannot run here, or "" when it can."""
    if not os.access(DOVECOT, os.X_OK):
        return f"Dovecot is not installed ({DOVECOT}): {INSTALL_HINT}"
    if not shutil.which("openssl"):
        return "openssl is not installed (the test server's certificate is made with it)"
    return ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Dovecot:
    """One running instance, its users (all with one password) in its passwd-file."""

    def __init__(
        self, *, password: str, users: int = 60, capabilities: str = "", introspection: str = ""
    ) -> None:
        self.password = password
        # An OAuth2 introspection address: XOAUTH2 and OAUTHBEARER are offered, each token
        # checked there (RFC 7662), as Dovecot does in front of Microsoft 365 or Google.
        self.introspection = introspection
        self.users = [f"helpdesk{n}" for n in range(1, users + 1)]
        self._used = 0
        self.root = Path(tempfile.mkdtemp(prefix="tierline-dovecot-"))
        self.store = Path(tempfile.mkdtemp(prefix="tierline-dovecot-mail-"))
        self.imap_port = _free_port()
        self.imaps_port = _free_port()
        self.capabilities = capabilities
        if os.geteuid() == 0:
            login_user, internal_user = "dovenull", "dovecot"
        else:
            login_user = internal_user = pwd.getpwuid(os.geteuid()).pw_name
        mail_user = pwd.getpwnam(internal_user)
        self.uid, self.gid = mail_user.pw_uid, mail_user.pw_gid
        self.login_user, self.internal_user = login_user, internal_user
        self.passwd = self.store / "passwd"
        self.certificate = ""
        self.process: subprocess.Popen | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Dovecot:
        self.root.chmod(0o755)  # Dovecot's unprivileged processes reach their sockets in it
        os.chown(self.store, self.uid, self.gid)
        # Users are written before the start: Dovecot rereads a changed passwd-file, but by
        # its modification time, which a test a few milliseconds later may not move.
        self.passwd.write_text("".join(f"{name}:{{PLAIN}}{self.password}\n" for name in self.users))
        os.chown(self.passwd, self.uid, self.gid)
        self.passwd.chmod(0o600)
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout",
                str(self.root / "key.pem"),
                "-out",
                str(self.root / "cert.pem"),
            ],
            check=True,
            capture_output=True,
        )
        (self.root / "key.pem").chmod(0o600)
        (self.root / "cert.pem").chmod(0o644)
        self.certificate = (self.root / "cert.pem").read_text()
        self.config = self.root / "dovecot.conf"
        self.config.write_text(self._config())
        self.log = self.root / "dovecot.log"
        # Dovecot forks into the background: its output goes to a file (a pipe would stay
        # open in the daemon and never reach its end).
        with open(self.root / "startup.log", "w") as output:
            result = subprocess.run(
                [DOVECOT, "-c", str(self.config)],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=30,
            )
        if result.returncode != 0:
            startup = (self.root / "startup.log").read_text()
            raise RuntimeError(f"dovecot did not start: {startup}{self.log_text()}")
        self._wait()
        return self

    def _config(self) -> str:
        capability = f"imap_capability = {self.capabilities}\n" if self.capabilities else ""
        mechanisms, oauth_passdb = "plain login", ""
        if self.introspection:
            (self.root / "oauth2.conf.ext").write_text(
                "introspection_mode = post\n"
                f"introspection_url = {self.introspection}\n"
                "username_attribute = username\n"
                "active_attribute = active\n"
                "active_value = true\n"
            )
            mechanisms += " xoauth2 oauthbearer"
            oauth_passdb = (
                "passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
                f"  args = {self.root}/oauth2.conf.ext\n}}\n"
            )
        return f"""# A throwaway Dovecot for Tierline's tests.
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = tierline-test-{self.imap_port}
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{self.root}/cert.pem
ssl_key = <{self.root}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = {mechanisms}
default_login_user = {self.login_user}
default_internal_user = {self.internal_user}
first_valid_uid = {self.uid}
last_valid_uid = {self.uid}
mail_location = maildir:{self.store}/users/%u
{capability}{oauth_passdb}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd}
}}
userdb {{
  driver = static
  args = uid={self.uid} gid={self.gid} home={self.store}/users/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
    ssl = yes
  }}
}}
"""

    def _wait(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.imaps_port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot is not listening on {self.imaps_port}: {self.log_text()}")

    def log_text(self) -> str:
        try:
            return (self.root / "dovecot.log").read_text()[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        pid_file = self.root / "run" / "master.pid"
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            pid = 0
        if pid:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.store, ignore_errors=True)

    # --- users and mail ----------------------------------------------------------------------

    def new_user(self) -> str:
        """A user of its own for one test (an empty mail store)."""
        self._used += 1
        if self._used > len(self.users):
            raise RuntimeError("more IMAP users asked for than the passwd-file holds")
        return self.users[self._used - 1]

    def client(self, user: str, password: str) -> imaplib.IMAP4_SSL:
        """A signed-in client, as a mail client would be (for APPEND and for checking)."""
        context = ssl.create_default_context(cadata=self.certificate)
        for attempt in range(5):
            conn = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=context, timeout=10)
            try:
                conn.login(user, password)
                return conn
            except imaplib.IMAP4.error as exc:
                # A loaded machine: the auth process may still be starting ("[UNAVAILABLE]
                # Temporary authentication failure"), which a client is meant to retry.
                conn.shutdown()
                if b"UNAVAILABLE" not in str(exc).encode() or attempt == 4:
                    raise
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    def append(self, user: str, password: str, raw: bytes, folder: str = "INBOX") -> None:
        conn = self.client(user, password)
        try:
            kind, data = conn.append(f'"{folder}"', None, None, raw)
            assert kind == "OK", data
        finally:
            conn.logout()

    def folder(self, user: str, password: str, folder: str = "INBOX") -> dict[int, set[str]]:
        """The messages of a folder: UID -> flags."""
        conn = self.client(user, password)
        try:
            kind, data = conn.select(f'"{folder}"', readonly=True)
            assert kind == "OK", data
            kind, data = conn.uid("FETCH", "1:*", "(FLAGS)")
            found: dict[int, set[str]] = {}
            for item in data:
                if not item:
                    continue
                text = item.decode() if isinstance(item, bytes) else item[0].decode()
                words = text.replace("(", " ").replace(")", " ").split()
                uid = int(words[words.index("UID") + 1])
                flags = {w for w in words if w.startswith("\\") and w != "\\Recent"}
                found[uid] = flags
            return found
        finally:
            conn.logout()
