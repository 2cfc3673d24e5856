"""Diagnostics on request: a technician asks an asset's agent to run one diagnostic from a
fixed allow-list (`DiagnosticKind`); the agent polls for what is pending, runs the function of
that kind itself (never a command string: `tierline_agent.diagnostics`) and posts the result,
which lands on the asset's page and, when the request came from a ticket, on the ticket as an
internal note written by the `assets` system user.

The only code that writes DiagnosticRequest. Parameters are checked here per kind (a host is a
hostname or an IP address, nothing else); the result's shape is checked by
`api/diagnostics.py` before `receive_result` takes it.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tierline.assets.models import (
    AgentDevice,
    Asset,
    DiagnosticKind,
    DiagnosticRequest,
    DiagnosticState,
)
from tierline.assets.services import link_ticket
from tierline.core.history import record
from tierline.desk import permissions as perms
from tierline.desk import services as desk_services
from tierline.desk.choices import Channel
from tierline.desk.models import Ticket
from tierline.people.services import system_user

logger = logging.getLogger(__name__)

# How long an agent has to pick a request up and answer it (it polls about every minute).
DIAGNOSTIC_TTL = timedelta(minutes=30)
# Requests waiting on one asset at once: a technician's double clicks, not a flood.
MAX_PENDING_PER_ASSET = 10
# A result body (JSON) larger than this is refused by its Content-Length before it is read.
RESULT_MAX_BYTES = 256 * 1024
# A result longer than this is cut in the ticket's note (the whole result is on the asset page).
NOTE_MAX_CHARS = 20_000

HOSTNAME = re.compile(
    r"^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)
HOST_KINDS = {DiagnosticKind.PING, DiagnosticKind.DNS, DiagnosticKind.HTTP}
TOP_PROCESSES_MAX = 25


class DiagnosticRefused(Exception):
    """A request or result the server will not take; `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400, field: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.field = field


def valid_host(value: Any) -> str:
    """A hostname (letters, digits, hyphens, dots; no leading hyphen) or an IP address, as
    given; DiagnosticRefused otherwise. Nothing that a command line could read as an option,
    a second argument or a shell word gets through."""
    if not isinstance(value, str) or not value.strip():
        raise DiagnosticRefused("Give a host: a hostname or an IP address.", field="host")
    host = value.strip()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not HOSTNAME.fullmatch(host):
        shown = host[:60]
        raise DiagnosticRefused(
            f"“{shown}” is not a hostname or an IP address (letters, digits, hyphens and dots "
            "only; no spaces, options or addresses with a path).",
            field="host",
        )
    return host.lower()


def _whole(value: Any, *, name: str, low: int, high: int, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise DiagnosticRefused(f"The {name} must be a whole number.", field=name) from None
    if not low <= number <= high:
        raise DiagnosticRefused(f"The {name} must be from {low} to {high}.", field=name)
    return number


def clean_parameters(kind: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters a kind takes, checked and normalised; anything else refused."""
    if kind not in DiagnosticKind.values:
        raise DiagnosticRefused(f"Unknown diagnostic “{str(kind)[:40]}”.", field="kind")
    given = {k: v for k, v in (parameters or {}).items() if v not in (None, "")}
    allowed: set[str] = set()
    cleaned: dict[str, Any] = {}
    if kind in HOST_KINDS:
        allowed |= {"host"}
        cleaned["host"] = valid_host(given.get("host"))
    if kind in (DiagnosticKind.PING, DiagnosticKind.HTTP):
        # ping falls back to a TCP connection where ICMP is not allowed; HTTP picks its port.
        allowed |= {"port"}
        default = 443 if kind == DiagnosticKind.HTTP else 80
        cleaned["port"] = _whole(given.get("port"), name="port", low=1, high=65535, default=default)
    if kind == DiagnosticKind.TOP_PROCESSES:
        allowed |= {"count"}
        cleaned["count"] = _whole(
            given.get("count"), name="count", low=1, high=TOP_PROCESSES_MAX, default=10
        )
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise DiagnosticRefused(
            f"{DiagnosticKind(kind).label} takes no {', '.join(str(u)[:20] for u in unknown)}.",
            field=str(unknown[0])[:20],
        )
    return cleaned


def has_agent(asset: Asset) -> bool:
    return AgentDevice.objects.filter(asset=asset, revoked_at__isnull=True).exists()


@transaction.atomic
def request_diagnostic(
    *, asset: Asset, kind: str, parameters: dict[str, Any], by: Any, ticket: Any = None
) -> DiagnosticRequest:
    """Ask the asset's agent to run one diagnostic. The asset needs an enrolled agent; a
    ticket, when given, must be one `by` may write internal notes on, and is linked to the
    asset. One history entry on the asset."""
    cleaned = clean_parameters(kind, parameters)
    if not has_agent(asset):
        raise DiagnosticRefused(
            "This asset has no enrolled agent: diagnostics run on the device by its agent.",
            status=409,
        )
    if ticket is not None and not perms.can_note_ticket(by, ticket):
        raise DiagnosticRefused(
            "You cannot write on that ticket, so its diagnostics cannot go there.", status=403
        )
    # Lock the asset's row so two requests at once count each other.
    Asset.objects.select_for_update().filter(pk=asset.pk).first()
    now = timezone.now()
    waiting = DiagnosticRequest.objects.filter(
        asset=asset, state=DiagnosticState.PENDING, expires_at__gt=now
    ).count()
    if waiting >= MAX_PENDING_PER_ASSET:
        raise DiagnosticRefused(
            f"{waiting} diagnostics already wait for this device's agent; try again when it "
            "has answered them.",
            status=429,
        )
    if ticket is not None:
        link_ticket(asset=asset, ticket=ticket, by=by)
    diagnostic = DiagnosticRequest.objects.create(
        asset=asset,
        ticket=ticket,
        kind=kind,
        parameters=cleaned,
        requested_by=by,
        requested_at=now,
        expires_at=now + DIAGNOSTIC_TTL,
    )
    record(
        asset,
        by,
        "diagnostic requested",
        summary=describe(diagnostic) + (f" for {ticket.number}" if ticket is not None else ""),
    )
    return diagnostic


def describe(diagnostic: DiagnosticRequest) -> str:
    """ "Reachability: ping 127.0.0.1 (port 80)", for pages, notes and history."""
    label = str(DiagnosticKind(diagnostic.kind).label)
    params = diagnostic.parameters or {}
    if "host" in params:
        label += f" {params['host']}"
        if diagnostic.kind == DiagnosticKind.HTTP or params.get("port") not in (None, 80):
            label += f" (port {params.get('port')})"
    if "count" in params:
        label += f" ({params['count']})"
    return label


def pending_for(device: AgentDevice) -> QuerySet[DiagnosticRequest]:
    """What the device's agent should run now: its asset's unexpired pending requests."""
    if device.asset_id is None:
        return DiagnosticRequest.objects.none()
    return DiagnosticRequest.objects.filter(
        asset_id=device.asset_id, state=DiagnosticState.PENDING, expires_at__gt=timezone.now()
    ).order_by("requested_at", "pk")


def expire_overdue(*, now: datetime | None = None) -> int:
    """Mark the pending requests whose time ran out (`expires_at` passed, no answer) expired,
    in one UPDATE; the rows stay, for the asset page and the ticket's panel. The `assets-health`
    job calls this; safe to run twice (an expired request is no longer pending). Returns how
    many were marked."""
    now = now or timezone.now()
    return DiagnosticRequest.objects.filter(
        state=DiagnosticState.PENDING, expires_at__lte=now
    ).update(state=DiagnosticState.EXPIRED)


def diagnostics_of(asset: Asset, limit: int = 20) -> list[DiagnosticRequest]:
    return list(
        DiagnosticRequest.objects.filter(asset=asset)
        .select_related("requested_by", "ticket")
        .order_by("-requested_at", "-pk")[:limit]
    )


def diagnostics_of_ticket(ticket_id: int, limit: int = 10) -> list[DiagnosticRequest]:
    return list(
        DiagnosticRequest.objects.filter(ticket_id=ticket_id)
        .select_related("asset", "requested_by")
        .order_by("-requested_at", "-pk")[:limit]
    )


def _claim_sequence(device: AgentDevice, sequence: int) -> None:
    """The device's sequence, shared with its reports: a result copied and sent again is 409."""
    claimed = AgentDevice.objects.filter(
        pk=device.pk, revoked_at=None, last_sequence__lt=sequence
    ).update(last_sequence=sequence, last_seen_at=timezone.now())
    if not claimed:
        raise DiagnosticRefused(
            f"Message {sequence} was already received or is older than the last one; "
            "send a higher sequence number.",
            status=409,
        )


@transaction.atomic
def receive_result(
    *, device: AgentDevice, request_id: int, sequence: int, ok: bool, error: str, data: Any
) -> DiagnosticRequest:
    """Take the agent's answer to one request (its shape checked by the API's serializer).
    Refused with nothing changed: another device's request (404), one answered already or
    expired (409), a replayed sequence (409). On success the request is done (or failed,
    with the agent's reason) and, when it came from a ticket, the result is an internal note
    there, by the `assets` system user."""
    diagnostic = (
        DiagnosticRequest.objects.select_for_update()
        .filter(pk=request_id, asset_id=device.asset_id)
        .first()
        if device.asset_id is not None
        else None
    )
    if diagnostic is None:
        raise DiagnosticRefused("No such diagnostic request for this device.", status=404)
    if diagnostic.expired:  # marked by the job, or past its time and not yet swept
        raise DiagnosticRefused(
            "This diagnostic request has expired; the technician asks again.", status=409
        )
    if diagnostic.state != DiagnosticState.PENDING:
        raise DiagnosticRefused("This diagnostic was answered already.", status=409)
    _claim_sequence(device, sequence)
    now = timezone.now()
    diagnostic.state = DiagnosticState.DONE if ok else DiagnosticState.FAILED
    diagnostic.result = data if ok else {}
    diagnostic.error = "" if ok else (error or "The agent gave no reason.")[:500]
    diagnostic.completed_at = now
    diagnostic.answered_by = device
    diagnostic.save(update_fields=["state", "result", "error", "completed_at", "answered_by"])
    if diagnostic.ticket_id is not None:
        _note_on_ticket(diagnostic)
    return diagnostic


def _note_on_ticket(diagnostic: DiagnosticRequest) -> None:
    """The result as an internal note (plain text, escaped where the desk shows it). A ticket
    that cannot take a note (closed since) keeps the result on the asset's page only."""
    ticket = Ticket.objects.filter(pk=diagnostic.ticket_id).first()
    if ticket is None:
        return
    try:
        with transaction.atomic():
            desk_services.add_message(
                ticket=ticket,
                by=system_user("assets"),
                body=note_text(diagnostic),
                internal=True,
                channel=Channel.AGENT,
            )
    except (ValidationError, PermissionDenied) as refused:  # ActionRefused is one
        logger.warning(
            "diagnostic %s: not noted on ticket %s: %s", diagnostic.pk, ticket.pk, refused
        )


def _size(value: Any) -> str:
    if not isinstance(value, int):
        return "—"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(value)


def result_lines(diagnostic: DiagnosticRequest) -> list[str]:
    """The result as lines of plain text (the note, the asset page)."""
    if diagnostic.state == DiagnosticState.FAILED:
        return [f"Failed on the device: {diagnostic.error}"]
    data = diagnostic.result or {}
    kind = diagnostic.kind
    lines: list[str] = []
    if kind == DiagnosticKind.DISK_USAGE:
        for disk in data.get("disks", []):
            lines.append(
                f"{disk.get('mount')}: {disk.get('percent')}% used, "
                f"{_size(disk.get('free_bytes'))} free of {_size(disk.get('total_bytes'))}"
                f" ({disk.get('device') or '?'}, {disk.get('fs') or '?'})"
            )
    elif kind == DiagnosticKind.PING:
        state = "reachable" if data.get("reachable") else "NOT reachable"
        how = data.get("method", "")
        rtt = data.get("rtt_ms")
        lines.append(
            f"{data.get('host')}: {state} by {how}" + (f", {rtt} ms" if rtt is not None else "")
        )
    elif kind == DiagnosticKind.DNS:
        addresses = data.get("addresses") or []
        lines.append(
            f"{data.get('host')}: "
            + (", ".join(addresses) if addresses else f"not resolved ({data.get('detail', '')})")
        )
    elif kind == DiagnosticKind.HTTP:
        status = data.get("status")
        lines.append(
            f"{data.get('url')}: "
            + (f"HTTP {status}" if status is not None else f"no answer ({data.get('detail', '')})")
            + (f" in {data.get('elapsed_ms')} ms" if data.get("elapsed_ms") is not None else "")
        )
    elif kind == DiagnosticKind.NETWORK:
        for nic in data.get("interfaces", []):
            up = "up" if nic.get("up") else "down"
            addresses = ", ".join(nic.get("addresses") or []) or "no address"
            lines.append(f"{nic.get('name')} ({up}, {nic.get('mac') or 'no MAC'}): {addresses}")
        if data.get("gateway"):
            lines.append(f"Default gateway: {data['gateway']}")
        if data.get("dns_servers"):
            lines.append(f"DNS servers: {', '.join(data['dns_servers'])}")
    elif kind == DiagnosticKind.TOP_PROCESSES:
        for proc in data.get("processes", []):
            lines.append(
                f"{proc.get('pid')} {proc.get('name')} ({proc.get('user') or '?'}): "
                f"CPU {proc.get('cpu_percent')}%, memory {_size(proc.get('memory_bytes'))}"
            )
    if data.get("detail") and kind not in (DiagnosticKind.DNS, DiagnosticKind.HTTP):
        lines.append(str(data["detail"]))
    return lines or ["(no data)"]


def note_text(diagnostic: DiagnosticRequest) -> str:
    asset = diagnostic.asset
    head = f"Diagnostic from {asset} ({asset.hostname or 'no hostname'}): {describe(diagnostic)}"
    text = "\n".join([head, "", *result_lines(diagnostic)])
    if len(text) > NOTE_MAX_CHARS:
        text = text[: NOTE_MAX_CHARS - 40] + "\n… (cut; the whole result is on the asset page)"
    return text
