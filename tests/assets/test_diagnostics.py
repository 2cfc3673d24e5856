"""Diagnostics on request: what a technician may ask for, and every bad answer an agent (or
someone holding another device's credential) may send is refused with a clear 4xx, nothing
changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.assets import factories
from tests.desk import factories as desk_factories
from tierline.assets import diagnostics
from tierline.assets.models import AgentDevice, DiagnosticRequest, DiagnosticState
from tierline.core.history import history_of
from tierline.desk.models import Message
from tierline.people.services import system_user

pytestmark = pytest.mark.django_db


def _device_on(asset):
    device, key = factories.enrolled_device()
    AgentDevice.objects.filter(pk=device.pk).update(asset=asset)
    device.refresh_from_db()
    return device, key


def _result(sequence: int = 10, **values) -> dict:
    body = {
        "sequence": sequence,
        "sent_at": timezone.now().isoformat(),
        "ok": True,
        "error": "",
        "data": {
            "disks": [
                {
                    "mount": "/",
                    "device": "/dev/sda1",
                    "fs": "ext4",
                    "total_bytes": 100 * 2**30,
                    "used_bytes": 60 * 2**30,
                    "free_bytes": 40 * 2**30,
                    "percent": 60.0,
                }
            ]
        },
    }
    body.update(values)
    return body


def _post(key: str, request_id: int, body: dict):
    return factories.device_client(APIClient, key).post(
        f"/api/v1/agent/diagnostics/{request_id}/result", body, format="json"
    )


@pytest.fixture
def setting(tier1, employee):
    """An asset with its agent, a ticket about it, and a pending disk-usage request."""
    asset = factories.asset(tag="LT-7", hostname="ws-7")
    device, key = _device_on(asset)
    ticket = desk_factories.ticket(requester=employee)
    request = diagnostics.request_diagnostic(
        asset=asset, kind="disk_usage", parameters={}, by=tier1, ticket=ticket
    )
    return asset, device, key, ticket, request


# ---- what may be asked ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "-c1",
        "--help",
        "127.0.0.1; rm -rf /",
        "$(reboot)",
        "`id`",
        "a b",
        "http://intranet.example/",
        "intranet.example/path",
        "exa_mple.com",
        "x..y",
        "a" * 254,
        "host\n-c 1",
        "",
    ],
)
def test_a_host_that_is_not_a_hostname_or_ip_address_is_refused(host):
    with pytest.raises(diagnostics.DiagnosticRefused) as refused:
        diagnostics.clean_parameters("ping", {"host": host})
    assert refused.value.field == "host"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("Intranet.Example.", "intranet.example."),
        ("fileserver-2", "fileserver-2"),
    ],
)
def test_a_hostname_or_an_ip_address_is_taken(given, stored):
    assert diagnostics.clean_parameters("dns", {"host": given}) == {"host": stored}


@pytest.mark.parametrize(
    ("kind", "parameters", "field"),
    [
        ("shell", {}, "kind"),
        ("disk_usage", {"host": "example.org"}, "host"),
        ("ping", {"host": "example.org", "command": "id"}, "command"),
        ("ping", {"host": "example.org", "port": "70000"}, "port"),
        ("top_processes", {"count": "500"}, "count"),
        ("http", {"host": "example.org", "port": "eighty"}, "port"),
    ],
)
def test_an_unknown_kind_or_a_parameter_the_kind_does_not_take_is_refused(kind, parameters, field):
    with pytest.raises(diagnostics.DiagnosticRefused) as refused:
        diagnostics.clean_parameters(kind, parameters)
    assert refused.value.field == field


def test_an_asset_without_an_agent_cannot_be_asked(tier1):
    asset = factories.asset(tag="LT-8")
    with pytest.raises(diagnostics.DiagnosticRefused) as refused:
        diagnostics.request_diagnostic(asset=asset, kind="disk_usage", parameters={}, by=tier1)
    assert refused.value.status == 409 and "no enrolled agent" in str(refused.value)
    assert not DiagnosticRequest.objects.exists()


def test_a_request_from_a_ticket_links_the_ticket_and_is_on_the_asset_history(setting):
    asset, _device, _key, ticket, request = setting
    assert request.state == DiagnosticState.PENDING and request.ticket_id == ticket.pk
    assert request.expires_at > timezone.now()
    assert asset.ticket_links.filter(ticket=ticket).exists()
    assert ("diagnostic requested", f"Disk usage for {ticket.number}") in [
        (h.action, h.summary) for h in history_of(asset)
    ]


def test_the_asset_page_refuses_a_bad_host_with_400_and_creates_nothing(client, tier1):
    asset = factories.asset(tag="LT-9")
    _device_on(asset)
    client.force_login(tier1)
    response = client.post(
        f"/assets/{asset.pk}/diagnostics", {"kind": "ping", "host": "8.8.8.8 -c 1000"}
    )
    assert response.status_code == 400
    assert "is not a hostname or an IP address" in response.content.decode()
    response = client.post(f"/assets/{asset.pk}/diagnostics", {"kind": "rm"})
    assert response.status_code == 400 and "Unknown diagnostic" in response.content.decode()
    assert not DiagnosticRequest.objects.exists()


def test_the_asset_page_asks_and_shows_the_request(client, tier1):
    asset = factories.asset(tag="LT-10")
    _device_on(asset)
    client.force_login(tier1)
    response = client.post(
        f"/assets/{asset.pk}/diagnostics", {"kind": "dns", "host": "intranet.example"}
    )
    assert response.status_code == 302
    html = client.get(f"/assets/{asset.pk}/").content.decode()
    assert 'data-diagnostic="dns" data-state="pending"' in html
    assert "Reachability: DNS lookup intranet.example" in html


# ---- what the agent sees and sends ---------------------------------------------------------


def test_the_agent_sees_only_its_own_assets_pending_requests(setting, tier1):
    asset, _device, key, _ticket, request = setting
    other = factories.asset(tag="LT-11")
    _other_device, other_key = _device_on(other)
    expired = diagnostics.request_diagnostic(asset=asset, kind="network", parameters={}, by=tier1)
    DiagnosticRequest.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    mine = factories.device_client(APIClient, key).get("/api/v1/agent/diagnostics")
    theirs = factories.device_client(APIClient, other_key).get("/api/v1/agent/diagnostics")
    assert mine.status_code == 200
    assert [(r["id"], r["kind"], r["parameters"]) for r in mine.json()["requests"]] == [
        (request.pk, "disk_usage", {})
    ]
    assert theirs.json() == {"requests": []}


def test_the_poll_needs_a_device_credential(tier1, api):
    assert APIClient().get("/api/v1/agent/diagnostics").status_code == 401
    # a person's API token is not a device's credential
    assert api(tier1).get("/api/v1/agent/diagnostics").status_code == 401


def test_a_result_completes_the_request_and_is_noted_on_the_ticket(setting):
    _asset, device, key, ticket, request = setting
    response = _post(key, request.pk, _result())
    assert response.status_code == 200, response.content
    request.refresh_from_db()
    assert request.state == DiagnosticState.DONE and request.answered_by_id == device.pk
    assert request.result["disks"][0]["percent"] == 60.0
    note = Message.objects.get(ticket=ticket)
    assert note.internal and note.author_id == system_user("assets").pk
    assert "/: 60.0% used, 40.0 GiB free of 100.0 GiB" in note.body


def test_a_failed_diagnostic_is_recorded_with_the_agents_reason(setting):
    _asset, _device, key, ticket, request = setting
    body = _result(ok=False, error="refused: the host is not a hostname", data={})
    assert _post(key, request.pk, body).status_code == 200
    request.refresh_from_db()
    assert request.state == DiagnosticState.FAILED and request.result == {}
    assert "Failed on the device: refused" in Message.objects.get(ticket=ticket).body


def _unchanged(request, ticket) -> None:
    request.refresh_from_db()
    assert request.state == DiagnosticState.PENDING and request.result == {}
    assert not Message.objects.filter(ticket=ticket).exists()


def test_a_result_for_another_devices_request_is_404_and_changes_nothing(setting):
    _asset, _device, _key, ticket, request = setting
    _stranger, stranger_key = _device_on(factories.asset(tag="LT-12"))
    response = _post(stranger_key, request.pk, _result())
    assert response.status_code == 404
    assert response.json()["detail"] == "No such diagnostic request for this device."
    _unchanged(request, ticket)


def test_a_replayed_result_is_409_and_changes_nothing_more(setting):
    _asset, _device, key, ticket, request = setting
    assert _post(key, request.pk, _result(sequence=50)).status_code == 200
    again = _post(key, request.pk, _result(sequence=50))
    later = _post(key, request.pk, _result(sequence=51))
    assert again.status_code == 409 and later.status_code == 409
    assert "answered already" in later.json()["detail"]
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_a_result_with_an_old_sequence_is_409(setting):
    _asset, device, key, ticket, request = setting
    AgentDevice.objects.filter(pk=device.pk).update(last_sequence=100)
    response = _post(key, request.pk, _result(sequence=99))
    assert response.status_code == 409 and "already received" in response.json()["detail"]
    _unchanged(request, ticket)


def test_a_result_for_an_expired_request_is_409(setting):
    _asset, _device, key, ticket, request = setting
    DiagnosticRequest.objects.filter(pk=request.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = _post(key, request.pk, _result())
    assert response.status_code == 409 and "expired" in response.json()["detail"]
    _unchanged(request, ticket)


def test_an_oversized_result_is_413_before_it_is_read(setting):
    _asset, _device, key, ticket, request = setting
    body = _result(error="x" * (diagnostics.RESULT_MAX_BYTES + 1))
    response = _post(key, request.pk, body)
    assert response.status_code == 413 and "at most" in response.json()["detail"]
    _unchanged(request, ticket)


@pytest.mark.parametrize(
    "data",
    [
        {"disks": [], "command": "id"},
        {"disks": [{"mount": "/", "percent": 60, "owner": "root"}]},
        {"disks": [{"mount": "/", "percent": "lots"}]},
        {"disks": [{"mount": "/\x07"}]},
        {"disks": [{"mount": "/"}] * 65},
        {"processes": []},
    ],
    ids=[
        "unknown-key",
        "unknown-nested-key",
        "not-a-number",
        "control-char",
        "too-many",
        "wrong-kind",
    ],
)
def test_a_result_not_in_its_kinds_shape_is_400_and_changes_nothing(setting, data):
    _asset, _device, key, ticket, request = setting
    response = _post(key, request.pk, _result(data=data))
    assert response.status_code == 400, response.content
    _unchanged(request, ticket)


def test_a_result_with_a_stale_clock_is_409(setting):
    _asset, _device, key, ticket, request = setting
    body = _result(sent_at=(timezone.now() - timedelta(hours=1)).isoformat())
    assert _post(key, request.pk, body).status_code == 409
    _unchanged(request, ticket)


def test_a_result_is_escaped_on_the_ticket_and_the_asset_page(setting, client, tier1, tier2):
    asset, _device, key, ticket, _request = setting
    request = diagnostics.request_diagnostic(
        asset=asset, kind="top_processes", parameters={"count": "3"}, by=tier1, ticket=ticket
    )
    evil = '<script>alert("x")</script>'
    data = {
        "processes": [
            {
                "pid": 4242,
                "name": evil,
                "user": "<b>root</b>",
                "cpu_percent": 99.5,
                "memory_bytes": 2**20,
                "memory_percent": 0.1,
            }
        ]
    }
    assert _post(key, request.pk, _result(data=data)).status_code == 200
    note = Message.objects.get(ticket=ticket)
    assert evil in note.body  # stored as sent
    client.force_login(tier1)
    for url in (f"/desk/tickets/{ticket.number}/", f"/assets/{asset.pk}/"):
        html = client.get(url).content.decode()
        assert evil not in html and "<b>root</b>" not in html
        assert "&lt;script&gt;alert(" in html


def test_the_ticket_page_offers_diagnostics_for_its_linked_devices_and_lists_them(
    client, setting, tier1
):
    asset, _device, _key, ticket, _request = setting
    unenrolled = factories.asset(tag="LT-13")
    from tierline.assets import services

    services.link_ticket(asset=unenrolled, ticket=ticket, by=tier1)
    client.force_login(tier1)
    html = client.get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert 'data-panel="assets.ticket_diagnostics"' in html
    assert f'action="/assets/{asset.pk}/diagnostics"' in html
    assert f'action="/assets/{unenrolled.pk}/diagnostics"' not in html
    assert 'data-diagnostic="disk_usage" data-state="pending"' in html


def test_a_ticket_the_technician_may_not_note_is_refused(setting, employee):
    asset, _device, _key, ticket, _request = setting
    with pytest.raises(diagnostics.DiagnosticRefused) as refused:
        diagnostics.request_diagnostic(
            asset=asset, kind="network", parameters={}, by=employee, ticket=ticket
        )
    assert refused.value.status == 403
    assert DiagnosticRequest.objects.count() == 1


# ---- expiry ----------------------------------------------------------------------------------


def test_the_health_job_marks_unanswered_requests_expired_and_keeps_them(setting, tier1, client):
    from tierline.assets import jobs
    from tierline.core.scheduler import Scheduler

    # given: the setting's request past its time, one still in time, and one answered long ago
    asset, _device, key, ticket, overdue = setting
    fresh = diagnostics.request_diagnostic(asset=asset, kind="network", parameters={}, by=tier1)
    answered = diagnostics.request_diagnostic(
        asset=asset, kind="disk_usage", parameters={}, by=tier1
    )
    assert _post(key, answered.pk, _result()).status_code == 200
    past = timezone.now() - timedelta(seconds=1)
    DiagnosticRequest.objects.filter(pk__in=[overdue.pk, answered.pk]).update(expires_at=past)
    # when: the `assets-health` job runs
    assert Scheduler([jobs.SWEEP_HEALTH]).run_due() == ["assets-health"]
    # then: the overdue request is expired, still there; the others are as they were
    states = dict(DiagnosticRequest.objects.values_list("pk", "state"))
    assert states == {
        overdue.pk: DiagnosticState.EXPIRED,
        fresh.pk: DiagnosticState.PENDING,
        answered.pk: DiagnosticState.DONE,
    }
    # the agent no longer sees it, and its late answer is refused as expired
    polled = factories.device_client(APIClient, key).get("/api/v1/agent/diagnostics").json()
    assert [r["id"] for r in polled["requests"]] == [fresh.pk]
    late = _post(key, overdue.pk, _result(sequence=99))
    assert late.status_code == 409 and "expired" in late.json()["detail"]
    overdue.refresh_from_db()
    assert overdue.state == DiagnosticState.EXPIRED and overdue.result == {}
    assert not Message.objects.filter(ticket=ticket).exists()
    # the asset page shows it expired
    client.force_login(tier1)
    assert 'data-state="expired"' in client.get(f"/assets/{asset.pk}/").content.decode()
    # and a second sweep has nothing more to do
    assert diagnostics.expire_overdue() == 0
