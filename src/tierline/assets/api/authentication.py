"""How an agent signs its reports: `Authorization: Device <credential>` (from enrolment).
Its own module: DRF imports authentication classes while its views load."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from tierline.assets.agent import device_for_key
from tierline.people.services import system_user

_PLAUSIBLE_KEY = re.compile(r"[\x21-\x7e]{1,64}")


class DeviceAuthentication(authentication.BaseAuthentication):
    """The device whose credential this is; its user is the `assets` system user (who writes
    the history of what the agent saw). Anything else is a 401 with the reason."""

    keyword = "Device"

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send `Authorization: Device <credential>`.")
        try:
            key = header[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid device credential.") from None
        if not _PLAUSIBLE_KEY.fullmatch(key):
            raise exceptions.AuthenticationFailed("Invalid device credential.")
        device = device_for_key(key)
        if device is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked device credential.")
        return system_user("assets"), device

    def authenticate_header(self, request: Any) -> str:
        return self.keyword


class DeviceAuthenticationScheme(OpenApiAuthenticationExtension):
    """The schema names the agent's credential (`Authorization: Device <credential>`)."""

    target_class = "tierline.assets.api.authentication.DeviceAuthentication"
    name = "deviceAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Device <credential>`, from `POST /api/v1/agent/enrol`.",
        }
