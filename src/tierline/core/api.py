"""Shared REST API pieces: errors as JSON field errors (never a 500 for bad input), the
permission classes and the reference fields every app's serializers use."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tierline.core import permissions as perms
from tierline.core.errors import StaleEdit


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Map service errors to 400/409 with a JSON body; leave the rest to DRF."""
    if isinstance(exc, StaleEdit):
        return Response(
            {"detail": exc.messages[0], "code": "stale"}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            body = {
                field: [str(m) for e in errs for m in e.messages]
                for field, errs in exc.error_dict.items()
            }
            if "__all__" in body:
                body["non_field_errors"] = body.pop("__all__")
        else:
            body = {"non_field_errors": exc.messages}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, PermissionDenied):
        return Response({"detail": str(exc) or "Forbidden."}, status=status.HTTP_403_FORBIDDEN)
    return drf_exception_handler(exc, context)


class IsStaffMember(permissions.BasePermission):
    """Help desk staff only (technicians, leads, administrators): the workspace side."""

    message = "Only the help desk can use this."

    def has_permission(self, request: Any, view: Any) -> bool:
        return perms.is_staff_member(request.user)


@extend_schema_field(OpenApiTypes.STR)
class UserRefField(serializers.Field):
    """A person given by username or by id; shown as the username."""

    default_error_messages = {
        "unknown": "No person “{value}”.",
        "invalid": "Give a username or a numeric id.",
    }

    def __init__(self, *, queryset: Any = None, **kwargs: Any) -> None:
        self.queryset = queryset
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        from tierline.people.models import User

        return self.queryset if self.queryset is not None else User.objects.all()

    def to_internal_value(self, data: Any) -> Any:
        qs = self.get_queryset().filter(is_active=True)
        if isinstance(data, bool) or not isinstance(data, (str, int)):
            self.fail("invalid")
        user = None
        if isinstance(data, str):
            data = data.strip()
            if len(data) > 150:
                self.fail("unknown", value=data[:40] + "…")
            user = qs.filter(username=data).first()
        if user is None and str(data).isdigit():
            user = qs.filter(pk=int(data)).first()
        if user is None:
            self.fail("unknown", value=data)
        return user

    def to_representation(self, value: Any) -> str:
        return value.username


@extend_schema_field(OpenApiTypes.STR)
class TicketRefField(serializers.Field):
    """A ticket given by its number (TL-000123), among those the caller may see."""

    default_error_messages = {"unknown": "No ticket “{value}”.", "invalid": "Give a ticket number."}

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or not data.strip() or len(data) > 20:
            self.fail("invalid")
        ticket = perms.visible_tickets(self.context["request"].user).filter(number=data).first()
        if ticket is None:
            self.fail("unknown", value=data)
        return ticket

    def to_representation(self, value: Any) -> str:
        return value.number
