"""Shared REST API pieces: errors as JSON field errors (never a 500 for bad input), the
permission classes and the reference fields every app's serializers use. Fields that know an
app's rules live with the app (the desk's TicketRefField is in desk/api/fields.py)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.fields import SerializerMethodField, SkipField
from rest_framework.pagination import BasePagination
from rest_framework.relations import PKOnlyObject
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import exception_handler as drf_exception_handler

from tierline.core import idempotency
from tierline.core.errors import IdempotencyConflict, StaleEdit
from tierline.core.inputs import lookup_text, parse_id
from tierline.core.lists import MAX_PAGE, ListError, ListSpec, Window, page_number

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="A key of your choosing (a UUID, say), at most 255 printable characters. "
    "Sent again with the same body within 24 hours, the first answer is replayed (with "
    "`Idempotent-Replayed: true`) and nothing is created twice; with another body, 422.",
)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Map service errors to 400/409 with a JSON body; leave the rest to DRF."""
    if isinstance(exc, IdempotencyConflict):
        return Response(
            {"detail": exc.messages[0], "code": "idempotency_conflict"},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, StaleEdit):
        body = {"detail": exc.messages[0], "code": "stale"}
        if exc.current:
            body["current"] = exc.current
        return Response(body, status=status.HTTP_409_CONFLICT)
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
    if isinstance(exc, TooManyFilesSent):  # Django refuses the body before any field is read
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return Response(
            {"detail": f"Too many files in one request: send at most {limit}."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    return drf_exception_handler(exc, context)


def _content(data: Any) -> Any:
    """A request's content as plain values: files by name and size (not read)."""
    if hasattr(data, "lists"):  # a QueryDict (form or multipart)
        return {
            name: [
                [value.name, value.size] if hasattr(value, "size") else value for value in values
            ]
            for name, values in data.lists()
        }
    return data


def create_once(request: Any, run: Callable[[], Response]) -> Response:
    """Answer a create: once per `Idempotency-Key` header (when sent), replayed after.

    `run` does the create and returns its Response; only a success is kept (an error rolls the
    key back, so a corrected retry with the same key is done).
    """
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return run()
    if not idempotency.is_valid_key(key):
        raise serializers.ValidationError(
            {"Idempotency-Key": ["Give at most 255 printable ASCII characters (a UUID, say)."]}
        )

    def done() -> tuple[int, Any]:
        response = run()
        # As JSON, so what is replayed is what was sent (dates as text, ids as numbers).
        return response.status_code, json.loads(json.dumps(response.data, cls=JSONEncoder))

    answer = idempotency.once(
        user=request.user,
        scope=f"api {request.method} {request.path}",
        key=key,
        fingerprint=idempotency.fingerprint(_content(request.data)),
        run=done,
    )
    response = Response(answer.body, status=answer.status_code)
    if answer.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


# DRF builds every field again for each serializer instance (for one ticket, 25 fields) and then
# binds them to it: on "create a ticket" that was a sixth of the request. OutputSerializer builds
# the fields once per class. Instances that need their own bound fields (the schema generator,
# anything reading `.fields`) get shallow copies to bind; turning rows into data, the hot path,
# uses one set bound to a per-class prototype and calls the method fields on the real instance.
# Only for output: every field must be read-only, so no validator or per-request state is ever
# shared; a field that needs the request (a hyperlink) fails loudly on the prototype's empty
# context instead of answering wrongly. (A comment, not a docstring: the API schema would show
# an inherited docstring as the description of every serializer without its own.)
class OutputSerializer(serializers.ModelSerializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        cls = type(self)
        built = cls.__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            writable = [name for name, field in built.items() if not field.read_only]
            if writable:
                raise TypeError(f"{cls.__name__}: output fields must be read-only: {writable}")
            cls._built_fields = built
        return {name: _unbound_copy(field) for name, field in built.items()}

    @classmethod
    def _output_fields(cls) -> list[tuple[serializers.Field, str | None]]:
        """(field, method name for a SerializerMethodField), bound once to a prototype."""
        plan = cls.__dict__.get("_output_plan")
        if plan is None:
            prototype = cls()
            plan = [
                (field, field.method_name if isinstance(field, SerializerMethodField) else None)
                for field in prototype._readable_fields
            ]
            cls._output_plan = plan
        return plan

    def to_representation(self, instance: Any) -> dict[str, Any]:
        """DRF's Serializer.to_representation over the prototype's fields."""
        data: dict[str, Any] = {}
        for field, method_name in self._output_fields():
            if method_name is not None:
                data[field.field_name] = getattr(self, method_name)(instance)
                continue
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            empty = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            data[field.field_name] = None if empty is None else field.to_representation(attribute)
        return data


def _unbound_copy(field: serializers.Field) -> serializers.Field:
    """A shallow copy of a field; the inner field of a list or many-related field (bound to its
    outer field by the outer field's __init__) is copied too and pointed at the copy."""
    duplicate = copy.copy(field)
    for inner in ("child_relation", "child"):
        child = getattr(field, inner, None)
        if isinstance(child, serializers.Field):
            child = copy.copy(child)
            child.parent = duplicate
            setattr(duplicate, inner, child)
    return duplicate


class IsStaffMember(permissions.BasePermission):
    """Help desk staff only (technicians, leads, administrators): the workspace side."""

    message = "Only the help desk can use this."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user.is_authenticated and getattr(user, "is_staff_member", False))


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
        # The user model by setting, not by import: core names no app.
        return self.queryset if self.queryset is not None else get_user_model().objects.all()

    def to_internal_value(self, data: Any) -> Any:
        qs = self.get_queryset().filter(is_active=True)
        if isinstance(data, bool) or not isinstance(data, (str, int)):
            self.fail("invalid")
        user = None
        if isinstance(data, str):
            data = data.strip()
            if len(data) > 150:
                self.fail("unknown", value=data[:40] + "…")
            if lookup_text(data) is None:
                self.fail("invalid")
            user = qs.filter(username=data).first()
        pk = parse_id(data)
        if user is None and pk is not None:
            user = qs.filter(pk=pk).first()
        if user is None:
            self.fail("unknown", value=data)
        return user

    def to_representation(self, value: Any) -> str:
        return value.username


# --- lists ----------------------------------------------------------------------------------


class UncountedPagination(BasePagination):
    """The API's page shape: `{"next": url|null, "previous": url|null, "results": [...]}`.

    No total: at a million tickets, counting what a technician may see costs more than the page
    (core/lists.py). `next` is null on the last page. The paging itself is the list spec's.
    """

    page_query_param = "page"

    @property
    def page_size(self) -> int:
        return api_settings.PAGE_SIZE

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list | None:
        """For a list that has no spec (teams, categories, people): the same shape by OFFSET."""
        raw = request.query_params.get(self.page_query_param)
        number = page_number(raw) if raw not in (None, "") else 1
        if number is None:
            raise NotFound("Invalid page.")
        offset = (number - 1) * self.page_size
        rows = list(queryset[offset : offset + self.page_size + 1])
        self.page = Window(
            object_list=rows[: self.page_size],
            number=number,
            page_size=self.page_size,
            more=len(rows) > self.page_size,
        )
        if number > 1 and not self.page.object_list:
            raise NotFound("Invalid page.")
        self.request = request
        return self.page.object_list

    def get_paginated_response(
        self, data: Any, *, request: Any = None, page: Any = None
    ) -> Response:
        request = self.request if request is None else request
        page = self.page if page is None else page
        url = request.build_absolute_uri()
        return Response(
            {
                "next": replace_query_param(url, "page", page.next_page_number())
                if page.has_next()
                else None,
                "previous": _previous_url(url, page) if page.has_previous() else None,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number (1 to 10,000); follow `next` to the end.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            }
        ]


def _previous_url(url: str, page: Any) -> str:
    number = page.previous_page_number()
    return (
        remove_query_param(url, "page") if number == 1 else replace_query_param(url, "page", number)
    )


class SpecListMixin:
    """`list` of a viewset built from a ListSpec: the caller's visible rows, the spec's
    FilterSet (any invalid filter or order is a 400 naming the field), an indexed order, one
    page picked by ids first. `?ordering=` is taken as another name for the spec's `sort`.

    The viewset sets `list_spec` and may narrow the rows with `list_scope()` (a queue).
    """

    list_spec: ListSpec
    pagination_class = UncountedPagination

    def list_scope(self) -> Any:
        return None

    def list(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        spec = self.list_spec
        params = request.query_params.copy()
        if "ordering" in params:
            ordering = params.pop("ordering")
            if spec.ordering_param in params and params.getlist(spec.ordering_param) != ordering:
                raise serializers.ValidationError(
                    {"ordering": [f"Give either ordering or {spec.ordering_param}, not both."]}
                )
            params.setlist(spec.ordering_param, ordering)
        raw_page = params.get("page")
        if raw_page not in (None, "") and page_number(raw_page) is None:
            raise NotFound("Invalid page.")
        try:
            queryset, _ = spec.filter(request.user, params, scope=self.list_scope(), strict=True)
        except ListError as exc:
            errors = dict(exc.errors)
            if spec.ordering_param in errors and "ordering" in request.query_params:
                errors["ordering"] = errors.pop(spec.ordering_param)
            for key in ("ordering", spec.ordering_param):
                if key in errors:
                    errors[key] = [f"Order by one of: {', '.join(spec.orderings)}."]
            raise serializers.ValidationError(errors) from None
        page = spec.paginate(queryset, raw_page, page_size=self.paginator.page_size)
        if page.number > 1 and not page.object_list:
            raise NotFound("Invalid page.")
        data = self.get_serializer(page.object_list, many=True).data
        return self.paginator.get_paginated_response(data, request=request, page=page)
