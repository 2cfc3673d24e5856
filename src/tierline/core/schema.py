"""The OpenAPI schema's error answers: what every operation may answer besides its success.

drf-spectacular documents only the success of each operation. A client generated from that
schema does not know that a bad body answers 400 with field errors, that a ticket it may not see
answers 404, that a stale edit answers 409, or that a body in another encoding than the one
declared (JSON everywhere, multipart for files) answers 415. This post-processing hook adds
them, in the shapes core.api.exception_handler and DRF really send.
"""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "description": "Why the request was refused.",
    "properties": {
        "detail": {"type": "string", "description": "A sentence for a person to read."},
        "code": {
            "type": "string",
            "description": "Set on a stale edit (`stale`) and a reused Idempotency-Key "
            "(`idempotency_conflict`).",
        },
        "current": {
            "type": "object",
            "additionalProperties": True,
            "description": "On a stale edit: the record's values as they are now.",
        },
    },
    "required": ["detail"],
}
FIELD_ERRORS = {
    "type": "object",
    "description": "What was wrong with the input: messages per field, and "
    "`non_field_errors` for what is not one field's fault (an illegal transition, say). "
    'A body that is not JSON at all answers `{"detail": ...}` instead.',
    "properties": {
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
        "detail": {"type": "string"},
    },
    "additionalProperties": {
        "anyOf": [
            {
                "type": "array",
                "items": {
                    "anyOf": [
                        {"type": "string"},
                        {"$ref": "#/components/schemas/NestedFieldErrors"},
                    ]
                },
            },
            {"$ref": "#/components/schemas/NestedFieldErrors"},
        ]
    },
}
# Named, so a generated client has one class for it rather than `...AdditionalPropertyType1`.
NESTED_FIELD_ERRORS = {
    "type": "object",
    "description": "The errors of a nested object (a checklist item, say), in the same shape.",
    "additionalProperties": True,
}
_WRITES = {"post", "put", "patch", "delete"}


def _answer(description: str, component: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


def _ids_are_digits(operation: dict) -> None:
    """An integer in the path is a URL's `<int:...>` segment: digits only, so never negative
    (`/diagnostics/-5/result` is no URL here, 404 before any sign-in check). Said in the schema,
    so a client, or a generator of test input, does not build such a path."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        if parameter.get("in") == "path" and schema.get("type") == "integer":
            schema.setdefault("minimum", 0)


def add_error_responses(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular POSTPROCESSING_HOOKS entry: error answers on every API operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("FieldErrors", FIELD_ERRORS)
    schemas.setdefault("NestedFieldErrors", NESTED_FIELD_ERRORS)
    for path, operations in result.get("paths", {}).items():
        on_one = "{" in path
        for method, operation in operations.items():
            if method not in {"get", *_WRITES}:
                continue
            _ids_are_digits(operation)
            responses = operation.setdefault("responses", {})
            # A write without a body can be refused too: confirming a ticket that is not
            # resolved, taking a closed one (`non_field_errors`).
            takes_input = (
                method in _WRITES
                or "requestBody" in operation
                or any(p.get("in") == "query" for p in operation.get("parameters", []))
            )
            if takes_input:
                responses.setdefault(
                    "400",
                    _answer(
                        "The input, or the change it asks for, was refused; nothing was changed.",
                        "FieldErrors",
                    ),
                )
            if "requestBody" in operation:
                kinds = " or ".join(operation["requestBody"].get("content", {})) or "JSON"
                responses.setdefault(
                    "415",
                    _answer(f"The body was not sent as {kinds} (its Content-Type).", "Error"),
                )
            responses.setdefault(
                "401", _answer("No token or session, or a token that is not valid.", "Error")
            )
            responses.setdefault("403", _answer("Signed in, but not allowed to do this.", "Error"))
            if on_one or any(p.get("name") == "page" for p in operation.get("parameters", [])):
                responses.setdefault(
                    "404",
                    _answer(
                        "No such record among those you may see (or no such page of a list).",
                        "Error",
                    ),
                )
            if on_one and method in _WRITES:
                responses.setdefault(
                    "409",
                    _answer(
                        "Someone else changed it since you read it (`code`: `stale`); "
                        "read it again and retry.",
                        "Error",
                    ),
                )
            responses.setdefault(
                "429",
                _answer(
                    "Too many requests for this token (TIERLINE_API_RATE); "
                    "retry after the `Retry-After` header's seconds.",
                    "Error",
                ),
            )
            if any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", [])):
                responses.setdefault(
                    "422",
                    _answer(
                        "This Idempotency-Key was already used with another body "
                        "(`code`: `idempotency_conflict`); nothing was done.",
                        "Error",
                    ),
                )
    return result
