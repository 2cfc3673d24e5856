"""The API schema reads well to a client author and to a client generator (issue 8, point 11):
one encoding per request body (JSON; multipart only where files are sent), operation ids and
component names a person would choose, no warning from drf-spectacular's own validation."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

# The names a generated client exposes (module and function names in openapi-python-client);
# changing one breaks every script written against it, so a change here is a deliberate one.
OPERATION_IDS = {
    ("get", "/api/v1/tickets/"): "list_tickets",
    ("post", "/api/v1/tickets/"): "create_ticket",
    ("get", "/api/v1/tickets/{number}/"): "get_ticket",
    ("patch", "/api/v1/tickets/{number}/"): "update_ticket",
    ("post", "/api/v1/tickets/{number}/escalate/"): "escalate_ticket",
    ("post", "/api/v1/tickets/{number}/deescalate/"): "de_escalate_ticket",
    ("get", "/api/v1/tickets/{number}/replies/"): "list_replies",
    ("post", "/api/v1/tickets/{number}/replies/"): "reply_to_ticket",
    ("post", "/api/v1/tickets/{number}/resolve/"): "resolve_ticket",
    ("post", "/api/v1/tickets/{number}/reopen/"): "reopen_ticket",
    ("post", "/api/v1/tickets/{number}/confirm/"): "confirm_resolution",
    ("post", "/api/v1/tickets/{number}/take/"): "take_ticket",
    ("get", "/api/v1/tickets/{number}/history/"): "get_ticket_history",
    ("get", "/api/v1/tickets/{number}/attachments/"): "list_attachments",
    ("post", "/api/v1/tickets/{number}/attachments/"): "attach_files",
    ("get", "/api/v1/categories/"): "list_categories",
    ("get", "/api/v1/categories/{id}/"): "get_category",
    ("get", "/api/v1/work-orders/"): "list_work_orders",
    ("post", "/api/v1/work-orders/"): "create_work_order",
    ("get", "/api/v1/work-orders/{number}/"): "get_work_order",
    ("patch", "/api/v1/work-orders/{number}/"): "update_work_order",
    ("post", "/api/v1/work-orders/{number}/complete/"): "complete_work_order",
    ("post", "/api/v1/work-orders/{number}/cancel/"): "cancel_work_order",
    ("get", "/api/v1/calls/"): "list_calls",
    ("post", "/api/v1/calls/"): "log_call",
    ("get", "/api/v1/calls/inbound/"): "inbound_call",
    ("get", "/api/v1/calls/{id}/"): "get_call",
    ("get", "/api/v1/people/"): "list_people",
    ("get", "/api/v1/people/{id}/"): "get_person",
    ("get", "/api/v1/teams/"): "list_teams",
    ("get", "/api/v1/teams/{id}/"): "get_team",
    ("get", "/api/v1/sla/due/"): "list_tickets_due_soon",
    ("get", "/api/v1/assets/"): "list_assets",
    ("get", "/api/v1/system-changes/"): "list_system_changes",
    ("post", "/api/v1/agent/enrol"): "enrol_agent",
    ("post", "/api/v1/agent/report"): "report_inventory",
    ("post", "/api/v1/agent/report/unchanged"): "report_unchanged_inventory",
    ("get", "/api/v1/agent/diagnostics"): "pending_diagnostics",
    ("post", "/api/v1/agent/diagnostics/{id}/result"): "post_diagnostic_result",
    ("get", "/api/v1/changes/"): "list_changes",
    ("get", "/api/v1/changes/{id}/"): "get_change",
}


@pytest.fixture(scope="module")
def openapi() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(openapi: dict):
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def test_every_operation_has_the_name_a_client_author_would_choose(openapi):
    found = {(method, path): op["operationId"] for method, path, op in operations(openapi)}
    assert found == OPERATION_IDS
    assert len(set(found.values())) == len(found)


def test_request_bodies_are_json_and_only_the_file_upload_is_multipart(openapi):
    kinds = {
        op["operationId"]: sorted(op["requestBody"]["content"])
        for _, _, op in operations(openapi)
        if "requestBody" in op
    }
    assert kinds.pop("attach_files") == ["multipart/form-data"]
    assert kinds and all(kind == ["application/json"] for kind in kinds.values()), kinds


def test_escalate_and_de_escalate_take_bodies_with_their_own_names(openapi):
    def body(path: str) -> str:
        content = openapi["paths"][path]["post"]["requestBody"]["content"]
        return content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]

    assert body("/api/v1/tickets/{number}/escalate/") == "EscalateRequest"
    assert body("/api/v1/tickets/{number}/deescalate/") == "DeEscalateRequest"


def test_every_enum_is_named_not_left_to_the_generator(openapi):
    # drf-spectacular names an enum it was not told about after a field (`StatusEnum`), and
    # renames it when another serializer's field of that name has other choices; every enum of
    # the API is named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] instead.
    schemas = openapi["components"]["schemas"]
    enums = sorted(name for name, schema in schemas.items() if "enum" in schema)
    assert enums == [
        "AssetStatus",
        "CallDirection",
        "CallOutcome",
        "ChangeKind",
        "ChangeRisk",
        "ChangeStatus",
        "Channel",
        "DiagnosticKind",
        "Priority",
        "Role",
        "SecuritySetting",
        "SettableTicketStatus",
        "SettableWorkOrderStatus",
        "SlaState",
        "SoftwareSource",
        "SystemChangeKind",
        "TicketStatus",
        "Tier",
        "WorkOrderStatus",
    ]


def test_component_names_are_plain_words(openapi):
    names = openapi["components"]["schemas"]
    for name in names:
        assert re.fullmatch(r"[A-Z][A-Za-z]+", name), name
        assert not name.startswith("Patched") and not name.endswith("Enum"), name
        assert "Serializer" not in name, name


def test_the_schema_validates_without_a_warning(tmp_path):
    # django-admin spectacular --validate --fail-on-warn: OpenAPI 3 validity, and none of
    # drf-spectacular's warnings (unresolvable types, enum name collisions, ...)
    GENERATOR_STATS.reset()  # warnings are counted per process: only this run's
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "operationId: create_ticket" in out.read_text()


def test_an_id_in_the_path_is_never_negative_in_the_schema(openapi):
    # A URL's <int:...> segment is digits only: "/agent/diagnostics/-542/result" is no URL
    # (404 before the sign-in check), so the schema must not offer a client a negative id.
    integers = [
        (path, parameter)
        for path, operations in openapi["paths"].items()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter.get("in") == "path" and parameter["schema"].get("type") == "integer"
    ]
    assert any(path == "/api/v1/agent/diagnostics/{id}/result" for path, _ in integers)
    assert all(parameter["schema"].get("minimum") == 0 for _, parameter in integers), integers
