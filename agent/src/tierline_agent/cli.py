"""tierline-agent enrol | report --once | diagnose --once | run."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tierline_agent import collect, diagnostics


class Refused(Exception):
    """The server answered with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def config_path() -> Path:
    default = Path.home() / ".config" / "tierline-agent" / "config.json"
    return Path(os.environ.get("TIERLINE_AGENT_CONFIG") or default)


def load_config() -> dict[str, Any]:
    try:
        return json.loads(config_path().read_text())
    except FileNotFoundError:
        raise SystemExit("tierline-agent: not enrolled; run `tierline-agent enrol` first") from None


def save_config(config: dict[str, Any]) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(config))
    tmp.chmod(0o600)
    tmp.replace(path)


def post(url: str, body: dict[str, Any], credential: str | None = None) -> dict[str, Any]:
    return call("POST", url, body, credential)


def get(url: str, credential: str) -> dict[str, Any]:
    return call("GET", url, None, credential)


def call(
    method: str, url: str, body: dict[str, Any] | None, credential: str | None = None
) -> dict[str, Any]:
    if not url.startswith(("http://", "https://")):
        raise SystemExit(f"tierline-agent: the server must be an http(s) URL, not {url!r}")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method=method,
    )
    if credential:
        request.add_header("Authorization", f"Device {credential}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:500]
        raise Refused(
            error.code, f"tierline-agent: the server answered {error.code}: {detail}"
        ) from None
    except urllib.error.URLError as error:
        raise SystemExit(f"tierline-agent: cannot reach {url}: {error.reason}") from None


def enrol(server: str, token: str) -> int:
    server = server.rstrip("/")
    try:
        answer = post(f"{server}/api/v1/agent/enrol", {"token": token})
    except Refused as refused:
        raise SystemExit(str(refused)) from None
    save_config({"server": server, "credential": answer["credential"], "sequence": 0})
    print(f"enrolled with {server}")
    return 0


def _digest(inventory: dict[str, Any]) -> str:
    same = {k: v for k, v in inventory.items() if k != "uptime_seconds"}
    return hashlib.sha256(json.dumps(same, sort_keys=True).encode()).hexdigest()


def next_envelope(config: dict[str, Any]) -> dict[str, Any]:
    """A sequence number higher than the last this device sent (reports and diagnostic results
    share it), and than any earlier run's (milliseconds since 1970), and the time now."""
    sequence = max(int(config.get("sequence", 0)) + 1, time.time_ns() // 1_000_000)
    config["sequence"] = sequence
    save_config(config)
    return {"sequence": sequence, "sent_at": datetime.now(UTC).isoformat()}


def report_once() -> dict[str, Any]:
    """Send the inventory; when it is the same as last time's, only say so (the server's
    `inventory_hash` from then), and send it whole if the server answers 409."""
    config = load_config()
    inventory = collect.inventory()
    digest = _digest(inventory)
    server = config["server"]

    def envelope() -> dict[str, Any]:
        return next_envelope(config)

    if config.get("inventory_hash") and config.get("digest") == digest:
        body = {
            **envelope(),
            "inventory_hash": config["inventory_hash"],
            "uptime_seconds": inventory["uptime_seconds"],
        }
        try:
            return post(f"{server}/api/v1/agent/report/unchanged", body, config["credential"])
        except Refused as refused:
            if refused.status != 409:
                raise SystemExit(str(refused)) from None
    try:
        answer = post(
            f"{server}/api/v1/agent/report", {**envelope(), **inventory}, config["credential"]
        )
    except Refused as refused:
        raise SystemExit(str(refused)) from None
    config.update(inventory_hash=answer.get("inventory_hash", ""), digest=digest)
    save_config(config)
    return answer


def diagnose_once() -> dict[str, Any]:
    """Ask the server what diagnostics wait for this device, run each by its kind (a function
    in `diagnostics`, never a command from the server) and send the results."""
    config = load_config()
    server = config["server"]
    try:
        pending = get(f"{server}/api/v1/agent/diagnostics", config["credential"])
    except Refused as refused:
        raise SystemExit(str(refused)) from None
    results = []
    for item in pending.get("requests") or []:
        request_id = item.get("id")
        if not isinstance(request_id, int) or isinstance(request_id, bool):
            continue
        outcome = diagnostics.run(str(item.get("kind")), item.get("parameters"))
        body = {
            **next_envelope(config),
            "ok": outcome["ok"],
            "error": outcome.get("error", ""),
            "data": outcome.get("data", {}),
        }
        try:
            post(
                f"{server}/api/v1/agent/diagnostics/{request_id}/result", body, config["credential"]
            )
            results.append({"id": request_id, "kind": item.get("kind"), "ok": outcome["ok"]})
        except Refused as refused:
            results.append({"id": request_id, "kind": item.get("kind"), "refused": str(refused)})
    return {"answered": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tierline-agent")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("enrol", help="swap a one-time enrolment token for this device's credential")
    p.add_argument("--server", required=True, help="the Tierline server, e.g. https://help.example")
    p.add_argument("--token", required=True, help="from `tierline agent-token`")
    p = sub.add_parser("report", help="send one inventory report")
    p.add_argument("--once", action="store_true", help="send one report and exit (the default)")
    p = sub.add_parser("diagnose", help="run the diagnostics a technician asked for, and answer")
    p.add_argument("--once", action="store_true", help="run what is pending and exit (the default)")
    p = sub.add_parser("run", help="report on a schedule and run diagnostics until stopped")
    p.add_argument("--every", type=int, default=900, help="seconds between reports (default 900)")
    p.add_argument(
        "--poll", type=int, default=60, help="seconds between looks for diagnostics (default 60)"
    )
    args = parser.parse_args(argv)
    if args.command == "enrol":
        return enrol(args.server, args.token)
    if args.command == "report":
        print(json.dumps(report_once()))
        return 0
    if args.command == "diagnose":
        print(json.dumps(diagnose_once()))
        return 0
    every, poll = max(60, args.every), max(10, args.poll)
    next_report = 0.0
    while True:
        if time.monotonic() >= next_report:
            next_report = time.monotonic() + every
            try:
                print(json.dumps(report_once()), flush=True)
            except SystemExit as error:  # a refused or unreachable report: try again next time
                print(error, file=sys.stderr, flush=True)
        try:
            answered = diagnose_once()
            if answered["answered"]:
                print(json.dumps(answered), flush=True)
        except SystemExit as error:
            print(error, file=sys.stderr, flush=True)
        time.sleep(poll)


if __name__ == "__main__":
    sys.exit(main())
