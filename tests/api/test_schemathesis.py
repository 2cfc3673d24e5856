"""Schemathesis over every operation of the live API schema, as every role: no answer is a 500.

The schema is read from `/api/schema/` of the WSGI application, in process, and every operation
it lists (whatever they are named) is called as each role with a real token: an anonymous
caller, a requester, a technician of each tier, a team lead and an administrator. Path
parameters are mostly real records of a small seeded help desk (tickets the role may and may
not read, a work order, a call, people, teams, categories), and references inside bodies and
queries (a ticket number, a username, a category id, ...) are often real ones too, so the run
reaches past the 404 into the services. The rest is what schemathesis makes up: valid bodies
(positive) and invalid ones (negative).

Bounded and repeatable: MAX_EXAMPLES per operation, role and mode, derandomized, no example
database. Every answer must not be a server error and must match the schema (status code,
content type, body). The table at the end counts requests and server errors per role.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.assets import factories as asset_factories
from tests.changes import factories as change_factories
from tests.conftest import api_key
from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.assets import diagnostics
from tierline.changes import services as change_services
from tierline.core.throttling import TokenRateThrottle
from tierline.desk import services
from tierline.desk.models import Call, Category, ResolutionCode
from tierline.people.models import Location, Team, User

# Per operation, role and mode (positive, negative). 40 operations x 7 roles, 5 valid and, where
# there is a body or a query to spoil, 5 invalid: about 2,400 requests, about a minute of CPU.
# TIERLINE_FUZZ_EXAMPLES=50 makes a deeper run by hand; `make test` keeps the default.
MAX_EXAMPLES = int(os.environ.get("TIERLINE_FUZZ_EXAMPLES", "5"))
ROLES = ("anonymous", "employee", "tier1", "tier2", "tier3", "lead", "admin_user")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=list(hypothesis.HealthCheck),
)


@dataclass
class Tally:
    """What one role's run did."""

    operations: int = 0
    requests: int = 0
    server_errors: int = 0
    seconds: float = 0.0
    by_status: dict[int, int] = field(default_factory=dict)
    # Answers to anonymous calls of operations the schema marks open (`security: [{}]`: an
    # agent's enrolment, whose one-time token is in the body): not expected to be 401.
    open_by_status: dict[int, int] = field(default_factory=dict)
    called: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def tallies(request) -> Iterator[dict[str, Tally]]:
    """Collects each role's tally; prints the table when the module is done."""
    collected: dict[str, Tally] = {}
    yield collected
    if not collected:
        return
    lines = [
        "",
        "schemathesis over the live API schema "
        f"({MAX_EXAMPLES} examples per operation, role and mode)",
        f"{'role':<12}{'operations':>11}{'requests':>10}{'2xx':>6}{'4xx':>6}{'5xx':>6}"
        f"{'seconds':>9}",
    ]
    total = Tally()
    for role, tally in collected.items():
        answers = list(tally.by_status.items()) + list(tally.open_by_status.items())
        ok = sum(n for code, n in answers if code < 400)
        refused = sum(n for code, n in answers if 400 <= code < 500)
        lines.append(
            f"{role:<12}{tally.operations:>11}{tally.requests:>10}{ok:>6}{refused:>6}"
            f"{tally.server_errors:>6}{tally.seconds:>9.1f}"
        )
        total.operations = max(total.operations, tally.operations)
        total.requests += tally.requests
        total.server_errors += tally.server_errors
        total.seconds += tally.seconds
    lines.append(
        f"{'all':<12}{total.operations:>11}{total.requests:>10}{'':>12}{total.server_errors:>6}"
        f"{total.seconds:>9.1f}"
    )
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            for line in lines:
                reporter.write_line(line)


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> schemathesis.BaseSchema:
    """The live schema, as a client downloads it, from the application `tierline serve` runs."""
    from tierline.wsgi import application

    with django_db_blocker.unblock():
        return schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def in_the_test_transaction() -> Iterator[None]:
    """Requests through the WSGI application share the test's connection and transaction.

    A real request closes the database connection when it ends (close_old_connections); here
    that would end the test's transaction (PostgreSQL: "the connection is closed"). Django's
    test client disconnects it the same way.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def no_rate_limit(monkeypatch) -> None:
    """A deep run (TIERLINE_FUZZ_EXAMPLES) sends more than a token's budget a minute; the 429s
    would stop it exploring. The limit has its own tests (tests/core/test_security.py)."""
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"api": None})


@pytest.fixture
def server_exceptions() -> Iterator[list[str]]:
    """The traceback of each exception the application turned into a 500, to show with it."""
    seen: list[str] = []

    def record(sender: Any, request: Any = None, **kwargs: Any) -> None:
        seen.append(traceback.format_exc())

    got_request_exception.connect(record)
    yield seen
    got_request_exception.disconnect(record)


def seeded_desk(users: dict[str, User]) -> dict[str, list[Any]]:
    """A small help desk with something of everything, so path parameters hit real records.

    Returns the values to use: by the collection of a path (`tickets`, `work-orders`, ...) for
    path parameters, and by field name for references in bodies and queries.
    """
    employee, tier1, tier2 = users["employee"], users["tier1"], users["tier2"]
    other = people_factories.UserFactory(username="other", location=None, department=None)
    site = people_factories.LocationFactory(name="Head office")
    hr = people_factories.restricted_team(2, members=(users["tier3"],))
    t2 = people_factories.team(2)
    mine = desk_factories.ticket(requester=employee)  # at tier 1, nobody assigned
    at_tier2 = desk_factories.ticket(requester=employee, team=t2)
    services.take(ticket=at_tier2, by=tier2)
    theirs = desk_factories.ticket(requester=other)
    secret = desk_factories.ticket(requester=other, team=hr)
    resolved = desk_factories.ticket(requester=employee)
    code = ResolutionCode.objects.filter(is_active=True).order_by("pk").first()
    services.resolve(ticket=resolved, by=tier1, resolution_code=code.code, body="Replaced it.")
    services.add_message(ticket=mine, by=tier1, body="Checked the queue.", internal=True)
    start = timezone.now() + timedelta(days=2)
    visits = [
        desk_factories.work_order(at_tier2, by=tier2),
        desk_factories.work_order(at_tier2, by=tier2, technician=users["tier3"], start=start),
    ]
    call = services.log_call(
        by=tier1, outcome=Call.Outcome.SOLVED, caller=employee, ticket=mine, notes="Rang back."
    )
    stranger = services.log_call(
        by=tier1, outcome=Call.Outcome.SOLVED, caller_name="Someone at reception"
    )
    tickets = [mine, at_tier2, theirs, secret, resolved]
    plan = change_factories.change(tier1, title="Replace the core switch")
    change_services.link_ticket(change=plan, ticket=mine, by=tier1)
    laptop = asset_factories.device(tag="LT-API", hostname="laptop-api")
    change_services.link_asset(change=plan, asset_id=laptop.pk, by=tier1)
    asset_factories.system_change(laptop, "memory", before="8 GiB", after="16 GiB")
    wanted = diagnostics.request_diagnostic(
        asset=laptop, kind="disk_usage", parameters={}, by=tier1, ticket=mine
    )
    people = [employee, other, tier1, tier2, users["tier3"], users["lead"]]
    categories = list(Category.objects.order_by("pk").values_list("pk", flat=True)[:3])
    teams = list(Team.objects.order_by("pk").values_list("pk", flat=True))
    return {
        # path parameters, by the collection they name
        "tickets": [t.number for t in tickets],
        "work-orders": [v.number for v in visits],
        "calls": [call.pk, stranger.pk],
        "people": [p.pk for p in people],
        "teams": teams,
        "categories": categories,
        "changes": [plan.pk],
        "diagnostics": [wanted.pk],
        # references in bodies and queries, by field name
        "ticket": [t.number for t in tickets],
        "parent": [t.number for t in tickets],
        "requester": [p.username for p in people] + [employee.pk],
        "assignee": [p.username for p in people] + [tier2.pk],
        "technician": [tier2.username, users["tier3"].username, tier1.username, tier2.pk],
        "caller": [employee.username, other.username],
        "category": categories,
        "team": teams,
        "location": [site.pk, *Location.objects.values_list("pk", flat=True)[:1]],
        "resolution_code": [code.code],
        "version": [1, 2, 3],
        "asset": [laptop.pk],
    }


def _collection(path: str) -> str:
    """`/api/v1/tickets/{number}/escalate/` -> `tickets`: what a path parameter names."""
    head = path.split("{", 1)[0].rstrip("/")
    return head.rsplit("/", 1)[-1]


_STRATEGIES: dict[tuple[str, str, str], st.SearchStrategy] = {}


def cases(operation: Any, mode: schemathesis.GenerationMode) -> st.SearchStrategy:
    """Schemathesis's cases for one operation, built once for every role."""
    key = (operation.method, operation.path, mode.value)
    if key not in _STRATEGIES:
        _STRATEGIES[key] = operation.as_strategy(generation_mode=mode)
    return _STRATEGIES[key]


def with_real_records(
    case: Any, data: st.DataObject, values: dict[str, list[Any]], mode: Any
) -> None:
    """Real records in the path (three times in four) and in some references of the body and
    the query (a username, a ticket number), so the run gets past the 404s and the "no such"."""
    if case.path_parameters:
        known = values.get(_collection(case.operation.path))
        assert known, f"seed some {_collection(case.operation.path)} for {case.operation.path}"
        if data.draw(st.integers(0, 3), label="real path") > 0:
            for name in case.path_parameters:
                case.path_parameters[name] = data.draw(st.sampled_from(known), label=name)
    if mode is not schemathesis.GenerationMode.POSITIVE:
        return
    for container in (case.body, case.query):
        if not isinstance(container, dict):
            continue
        for name in list(container):
            if name in values and data.draw(st.booleans(), label=f"real {name}"):
                container[name] = data.draw(st.sampled_from(values[name]), label=name)


def run_operation(
    operation: Any,
    mode: schemathesis.GenerationMode,
    send: Callable[[Any], Any],
    values: dict[str, list[Any]],
) -> None:
    @SETTINGS
    @hypothesis.given(case=cases(operation, mode), data=st.data())
    def examples(case: Any, data: st.DataObject) -> None:
        with_real_records(case, data, values, mode)
        send(case)

    examples()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_operation_as_every_role_answers_without_a_server_error(
    request, role, schema, tallies, server_exceptions, in_the_test_transaction, no_rate_limit
):
    # given: a help desk with a bit of everything, and the role's own token
    users = {name: request.getfixturevalue(name) for name in ROLES if name != "anonymous"}
    values = seeded_desk(users)
    headers = {} if role == "anonymous" else {"Authorization": f"Token {api_key(users[role])}"}
    tally = tallies.setdefault(role, Tally())

    def send(case: Any) -> None:
        response = case.call(headers=headers)
        tally.requests += 1
        tally.called.add(f"{case.method.upper()} {case.operation.path}")
        is_open = {} in (case.operation.definition.raw.get("security") or [])
        counts = tally.open_by_status if role == "anonymous" and is_open else tally.by_status
        counts[response.status_code] = counts.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            tally.server_errors += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    # when: every operation the live schema lists, with valid input and, where the operation
    # takes a body or a query (a path alone has nothing to be invalid: any text is a number
    # that matches nothing, 404), invalid input
    started = time.perf_counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        negatable = bool(list(operation.body)) or bool(list(operation.query))
        for mode in MODES if negatable else MODES[:1]:
            before = len(server_exceptions)
            try:
                run_operation(operation, mode, send, values)
            except (Exception, FailureGroup) as failure:  # each is listed in the assertion
                raised = "".join(server_exceptions[before:])
                where = f"{role} {operation.method.upper()} {operation.path} ({mode.value})"
                tally.failures.append(f"{where}\n{failure}\n{raised}")
    tally.operations = len(operations)
    tally.seconds = time.perf_counter() - started

    # then: the tokens worked (each signed-in role was answered, and anonymous never was), and
    # nothing failed
    if role == "anonymous":
        assert set(tally.by_status) == {401}, tally.by_status
        assert all(code < 500 for code in tally.open_by_status), tally.open_by_status
    else:
        assert any(200 <= code < 300 for code in tally.by_status), tally.by_status
    assert len(operations) >= 20
    listed = {f"{op.method.upper()} {op.path}" for op in operations}
    assert tally.called == listed, listed - tally.called
    found = "\n\n".join(tally.failures[:10])
    assert tally.server_errors == 0, found
    assert not tally.failures, found
