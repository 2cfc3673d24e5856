"""Diagnostics on request with the real agent (agent/, installed by `make .venv`) against a live
server: a technician asks on a ticket, `tierline-agent diagnose --once` runs the allow-listed
functions on this machine and the results land on the ticket as internal notes and on the
asset's page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.desk import factories as desk_factories
from tierline.assets import agent
from tierline.assets.models import Asset, DiagnosticRequest, DiagnosticState
from tierline.desk.models import Message
from tierline.people.services import system_user

AGENT = Path(sys.executable).with_name("tierline-agent")
pytestmark = pytest.mark.skipif(
    not AGENT.exists(), reason="tierline-agent is not installed (make .venv installs it)"
)


def _agent(*args: str, config: Path) -> dict:
    done = subprocess.run(
        [str(AGENT), *args],
        env={**os.environ, "TIERLINE_AGENT_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}


def test_the_real_agent_runs_disk_usage_and_reachability_and_the_ticket_gets_them(
    live_server, tmp_path, client, tier1, employee
):
    # given: this machine enrolled and reported, and a ticket about it
    _token, key = agent.issue_enrolment_token()
    config = tmp_path / "agent.json"
    _agent("enrol", "--server", live_server.url, "--token", key, config=config)
    asset = Asset.objects.get(pk=_agent("report", "--once", config=config)["asset_id"])
    ticket = desk_factories.ticket(requester=employee)
    client.force_login(tier1)

    # when: the technician asks, from the ticket, for disk usage and whether 127.0.0.1 answers
    for form in ({"kind": "disk_usage"}, {"kind": "ping", "host": "127.0.0.1"}):
        response = client.post(
            f"/assets/{asset.pk}/diagnostics",
            {**form, "ticket": ticket.number, "back": "ticket"},
        )
        assert response.status_code == 302, response.content
        assert response.url == f"/desk/tickets/{ticket.number}/"
    # and the agent looks for work
    answered = _agent("diagnose", "--once", config=config)

    # then: both ran on this machine and were accepted
    assert sorted(a["kind"] for a in answered["answered"]) == ["disk_usage", "ping"]
    assert all(a.get("ok") for a in answered["answered"]), answered
    disk = DiagnosticRequest.objects.get(kind="disk_usage")
    ping = DiagnosticRequest.objects.get(kind="ping")
    assert disk.state == ping.state == DiagnosticState.DONE
    root = next(d for d in disk.result["disks"] if d["mount"] == "/")
    assert root["total_bytes"] > 0 and 0 <= root["percent"] <= 100
    assert ping.result["host"] == "127.0.0.1" and ping.result["reachable"] is True
    # and the ticket has them as internal notes by the assets system user
    notes = list(Message.objects.filter(ticket=ticket).order_by("pk"))
    assert [(m.internal, m.author_id) for m in notes] == [(True, system_user("assets").pk)] * 2
    assert "Disk usage" in notes[0].body and "/: " in notes[0].body
    assert "127.0.0.1: reachable" in notes[1].body
    ticket_html = client.get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert "127.0.0.1: reachable" in ticket_html
    # and the asset's page shows them
    asset_html = client.get(f"/assets/{asset.pk}/").content.decode()
    assert 'data-diagnostic="disk_usage" data-state="done"' in asset_html
    assert "127.0.0.1: reachable" in asset_html

    # when: the agent looks again, nothing is left to run
    assert _agent("diagnose", "--once", config=config) == {"answered": []}
