"""tierline-agent enrol | report --once | run."""

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

from tierline_agent import collect


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
    if not url.startswith(("http://", "https://")):
        raise SystemExit(f"tierline-agent: the server must be an http(s) URL, not {url!r}")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
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


def report_once() -> dict[str, Any]:
    """Send the inventory; when it is the same as last time's, only say so (the server's
    `inventory_hash` from then), and send it whole if the server answers 409."""
    config = load_config()
    inventory = collect.inventory()
    digest = _digest(inventory)
    server = config["server"]

    def envelope() -> dict[str, Any]:
        # Higher than the last sent, and than any earlier run's (milliseconds since 1970).
        sequence = max(int(config.get("sequence", 0)) + 1, time.time_ns() // 1_000_000)
        config["sequence"] = sequence
        save_config(config)
        return {"sequence": sequence, "sent_at": datetime.now(UTC).isoformat()}

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tierline-agent")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("enrol", help="swap a one-time enrolment token for this device's credential")
    p.add_argument("--server", required=True, help="the Tierline server, e.g. https://help.example")
    p.add_argument("--token", required=True, help="from `tierline agent-token`")
    p = sub.add_parser("report", help="send one inventory report")
    p.add_argument("--once", action="store_true", help="send one report and exit (the default)")
    p = sub.add_parser("run", help="report on a schedule until stopped")
    p.add_argument("--every", type=int, default=900, help="seconds between reports (default 900)")
    args = parser.parse_args(argv)
    if args.command == "enrol":
        return enrol(args.server, args.token)
    if args.command == "report":
        print(json.dumps(report_once()))
        return 0
    while True:
        try:
            print(json.dumps(report_once()), flush=True)
        except SystemExit as error:  # a refused or unreachable report: try again next time
            print(error, file=sys.stderr, flush=True)
        time.sleep(max(60, args.every))


if __name__ == "__main__":
    sys.exit(main())
