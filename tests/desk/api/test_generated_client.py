"""The API works from a generated client (issue 8, point 11), tried as a new user would: fetch
the live schema, generate a Python client with openapi-python-client, import it, and work a
ticket through it with real tokens: create, reply, attach a file, escalate, resolve, list.

The generator ran on the schema of the time and produced a package that did not import
(`NameError: name 'Unset' is not defined`): every body was declared as JSON, form and multipart.
Selected alone with `-m client`; part of every run.
"""

from __future__ import annotations

import importlib
import io
import json
import pkgutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tierline.core.tokens import issue_token
from tierline.desk.models import Attachment, Status, Ticket

pytestmark = [pytest.mark.client, pytest.mark.django_db(transaction=True)]

# Installed with the test extra (pyproject.toml pins it), beside this interpreter.
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "tierline_generated_client"


@pytest.fixture(scope="module")
def generated(live_server, tmp_path_factory, django_db_blocker) -> Iterator[ModuleType]:
    """The client package generated from the running server's /api/schema/, imported (once for
    the module: generating takes a few seconds)."""
    tmp_path = tmp_path_factory.mktemp("generated")
    # Outside any test, so the server's thread may read the database only when unblocked.
    with (
        django_db_blocker.unblock(),
        urllib.request.urlopen(f"{live_server.url}/api/schema/?format=json") as answer,
    ):
        schema = json.load(answer)
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    # No post hooks: the generator's default formats its output with ruff, which is no part of
    # whether the client works.
    (tmp_path / "config.json").write_text(
        json.dumps({"package_name_override": PACKAGE, "post_hooks": []})
    )
    out = tmp_path / "client"
    run = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(tmp_path / "schema.json"),
            "--output-path",
            str(out),
            "--config",
            str(tmp_path / "config.json"),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def signed_in(generated: ModuleType, live_server, user) -> object:
    return generated.AuthenticatedClient(
        base_url=live_server.url,
        token=issue_token(user=user)[1],
        prefix="Token",
        raise_on_unexpected_status=True,
    )


def test_every_module_of_the_generated_client_imports(generated):
    broken = {}
    for module in pkgutil.walk_packages(generated.__path__, f"{PACKAGE}."):
        try:
            importlib.import_module(module.name)
        except Exception as exc:  # every broken module is reported, not only the first
            broken[module.name] = f"{type(exc).__name__}: {exc}"
    assert broken == {}


def test_a_ticket_is_worked_from_start_to_end_through_the_generated_client(
    generated, live_server, employee, tier1, tier2
):
    from tierline_generated_client.api.tickets import (
        attach_files,
        create_ticket,
        escalate_ticket,
        list_replies,
        list_tickets,
        reply_to_ticket,
        resolve_ticket,
    )
    from tierline_generated_client.models import (
        AttachFilesRequest,
        CreateTicketRequest,
        Error,
        EscalateRequest,
        ReplyRequest,
        ResolveRequest,
        TicketStatus,
    )
    from tierline_generated_client.types import UNSET, File

    requester = signed_in(generated, live_server, employee)
    first_line = signed_in(generated, live_server, tier1)
    second_line = signed_in(generated, live_server, tier2)

    # the requester opens a ticket (and reads it in the requester's shape: no desk fields)
    ticket = create_ticket.sync(
        client=requester,
        body=CreateTicketRequest(
            subject="VPN drops every hour", description="Since Monday.", urgency=1
        ),
    )
    assert ticket.status == TicketStatus.NEW and ticket.requester == "employee"
    assert ticket.tier is UNSET and ticket.assignee is UNSET
    number = ticket.number

    # Tier 1 replies; the requester reads the reply
    message = reply_to_ticket.sync(
        client=first_line, number=number, body=ReplyRequest(body="Which office <floor>?")
    )
    assert message.author == "tier1" and message.body == "Which office <floor>?"
    replies = list_replies.sync(client=requester, number=number)
    assert [r.body for r in replies] == ["Which office <floor>?"]

    # the requester attaches a log (the one multipart operation)
    files = attach_files.sync(
        client=requester,
        number=number,
        body=AttachFilesRequest(
            attachments=[
                File(
                    payload=io.BytesIO(b"vpn: tunnel reset\n"),
                    file_name="vpn.log",
                    mime_type="text/plain",
                )
            ]
        ),
    )
    assert [(f.name, f.content_type, f.internal) for f in files] == [
        ("vpn.log", "text/plain", False)
    ]

    # a refusal comes back as the schema's Error, not an exception: a requester cannot escalate
    refused = escalate_ticket.sync_detailed(
        client=requester, number=number, body=EscalateRequest(summary="Please hurry")
    )
    assert refused.status_code == 403 and isinstance(refused.parsed, Error)

    # Tier 1 escalates with what was tried; Tier 2 resolves
    escalated = escalate_ticket.sync(
        client=first_line,
        number=number,
        body=EscalateRequest(summary="Reinstalled the client; still drops."),
    )
    assert escalated.tier == 2 and escalated.status == TicketStatus.OPEN
    resolved = resolve_ticket.sync(
        client=second_line,
        number=number,
        body=ResolveRequest(resolution_code="fixed", body="The access point was replaced."),
    )
    assert resolved.status == TicketStatus.RESOLVED

    # the lists show it resolved, to the desk and to the requester
    desk_list = list_tickets.sync(client=second_line)
    assert [(t.number, t.status) for t in desk_list.results] == [(number, TicketStatus.RESOLVED)]
    assert desk_list.next_ is None
    mine = list_tickets.sync(client=requester)
    assert [t.number for t in mine.results] == [number]

    # and it all happened on the server
    stored = Ticket.objects.get(number=number)
    assert (stored.status, stored.tier) == (Status.RESOLVED, 2)
    assert Attachment.objects.get(ticket=stored).name == "vpn.log"
