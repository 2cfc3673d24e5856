"""Secrets the mail app must give back to a server (an IMAP password), sealed at rest.

A sealed value is `fernet:<token>`: Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`)
under a key derived (HKDF-SHA256) from the site's SECRET_KEY. A database dump alone does not
give the password away; the data dir's secret key does, so both are kept apart in backups.
If the secret key changes, a sealed value cannot be opened: the admin types the password again.
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "fernet:"


class Unreadable(Exception):
    """A sealed value that this site's key cannot open."""


@cache
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"tierline", info=b"mail-credentials"
    ).derive(secret_key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str) -> str:
    """`secret` sealed for storage ("" stays "")."""
    if not secret:
        return ""
    return PREFIX + _fernet(settings.SECRET_KEY).encrypt(secret.encode("utf-8")).decode("ascii")


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def unseal(value: str) -> str:
    """The secret in a sealed value; raises Unreadable when the key cannot open it."""
    if not value:
        return ""
    if not is_sealed(value):
        raise Unreadable("the stored password is not sealed: enter it again in the admin")
    try:
        return _fernet(settings.SECRET_KEY).decrypt(value[len(PREFIX) :].encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError):
        raise Unreadable(
            "the stored password cannot be read (was the secret key changed?): enter it again "
            "in the admin"
        ) from None
