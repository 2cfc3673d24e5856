"""Diagnostics the server may ask for: a fixed allow-list. The server names a kind and its
parameters; the kind picks one function here, the parameters are checked again here (a host is
a hostname or an IP address), and the only program run is `ping` with an argument list (no
shell). Nothing the server sends is ever run as a command."""

from __future__ import annotations

import contextlib
import ipaddress
import re
import shutil
import socket
import subprocess
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from tierline_agent.collect import SKIP_FS

HOSTNAME = re.compile(
    r"^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)
TIMEOUT = 5.0
MAX_PROCESSES = 25


class Refused(ValueError):
    """A request this agent will not run (unknown kind, bad parameter)."""


def clean(value: Any, limit: int) -> str:
    """Text as the server accepts it: no control characters, at most `limit` characters."""
    text = "".join(
        ch if ch == "\n" or unicodedata.category(ch)[0] != "C" else " " for ch in str(value or "")
    )
    return text[:limit]


def host_of(parameters: dict[str, Any]) -> str:
    host = parameters.get("host")
    if not isinstance(host, str):
        raise Refused("no host given")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not HOSTNAME.fullmatch(host):
        raise Refused("the host is not a hostname or an IP address")
    return host


def port_of(parameters: dict[str, Any], default: int) -> int:
    port = parameters.get("port", default)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise Refused("the port is not a number from 1 to 65535")
    return port


def disk_usage(parameters: dict[str, Any]) -> dict[str, Any]:
    disks, seen = [], set()
    for part in psutil.disk_partitions(all=False):
        if part.fstype in SKIP_FS or part.device in seen or len(disks) >= 64:
            continue
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:
            continue
        seen.add(part.device)
        disks.append(
            {
                "mount": clean(part.mountpoint, 255),
                "device": clean(part.device, 255),
                "fs": clean(part.fstype, 40),
                "total_bytes": usage.total,
                "used_bytes": usage.used,
                "free_bytes": usage.free,
                "percent": round(usage.percent, 1),
            }
        )
    return {"disks": disks}


def _tcp(host: str, port: int) -> tuple[bool, float | None, str]:
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT):
            pass
    except ConnectionRefusedError:
        # The host answered (it refused the port): it is reachable.
        return True, round((time.monotonic() - started) * 1000, 1), f"port {port} closed"
    except OSError as error:
        return False, None, clean(f"{type(error).__name__}: {error}", 1000)
    return True, round((time.monotonic() - started) * 1000, 1), f"port {port} open"


def ping(parameters: dict[str, Any]) -> dict[str, Any]:
    """`ping -c 3 HOST` (an argument list, no shell); where there is no ping or it may not
    send ICMP here, a TCP connection to the port (a refused connection still proves the host
    is there)."""
    host = host_of(parameters)
    port = port_of(parameters, 80)
    program = shutil.which("ping")
    if program is not None:
        args = [program, "-n", "3", host] if psutil.WINDOWS else [program, "-c", "3", host]
        try:
            done = subprocess.run(  # noqa: S603 (fixed program, checked host, no shell)
                args, capture_output=True, text=True, timeout=20, check=False
            )
        except (OSError, subprocess.SubprocessError):
            done = None
        if done is not None and done.returncode in (0, 1):
            match = re.search(r"= [\d.]+/([\d.]+)/", done.stdout)
            return {
                "host": host,
                "method": "ping",
                "reachable": done.returncode == 0,
                "rtt_ms": float(match.group(1)) if match else None,
                "detail": clean(done.stdout.strip().splitlines()[-1] if done.stdout else "", 1000),
            }
    reachable, rtt, detail = _tcp(host, port)
    return {
        "host": host,
        "method": "tcp",
        "port": port,
        "reachable": reachable,
        "rtt_ms": rtt,
        "detail": detail,
    }


def dns(parameters: dict[str, Any]) -> dict[str, Any]:
    host = host_of(parameters)
    started = time.monotonic()
    try:
        found = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError) as error:
        return {"host": host, "addresses": [], "detail": clean(str(error), 1000)}
    addresses = sorted({str(info[4][0]) for info in found})[:64]
    return {
        "host": host,
        "addresses": [clean(a, 64) for a in addresses],
        "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def http(parameters: dict[str, Any]) -> dict[str, Any]:
    """One GET of `/` with a short timeout; redirects reported, not followed."""
    host = host_of(parameters)
    port = port_of(parameters, 443)
    scheme = "https" if port == 443 else "http"
    shown = f"[{host}]" if ":" in host else host
    url = f"{scheme}://{shown}:{port}/"
    opener = urllib.request.build_opener(_NoRedirects)
    started = time.monotonic()
    try:
        with opener.open(url, timeout=TIMEOUT) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError, ValueError) as error:
        return {"url": url, "status": None, "detail": clean(str(error), 1000)}
    return {
        "url": url,
        "status": status,
        "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
    }


def _gateway() -> str:
    """The IPv4 default gateway from /proc/net/route (Linux); empty elsewhere."""
    try:
        lines = Path("/proc/net/route").read_text().splitlines()[1:]
    except OSError:
        return ""
    for line in lines:
        fields = line.split()
        if len(fields) > 2 and fields[1] == "00000000":
            raw = bytes.fromhex(fields[2])[::-1]
            return str(ipaddress.IPv4Address(raw))
    return ""


def _dns_servers() -> list[str]:
    try:
        lines = Path("/etc/resolv.conf").read_text().splitlines()
    except OSError:
        return []
    found = [ln.split()[1] for ln in lines if ln.startswith("nameserver") and len(ln.split()) > 1]
    return [clean(s, 64) for s in found[:16]]


def network(parameters: dict[str, Any]) -> dict[str, Any]:
    stats = psutil.net_if_stats()
    interfaces = []
    for name, addresses in sorted(psutil.net_if_addrs().items())[:64]:
        mac, ips = "", []
        for address in addresses:
            if address.family == psutil.AF_LINK:
                candidate = (address.address or "").replace("-", ":").lower()
                mac = candidate if re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", candidate) else ""
            elif address.family in (socket.AF_INET, socket.AF_INET6):
                ips.append(clean(f"{address.address}/{address.netmask or ''}".rstrip("/"), 64))
        stat = stats.get(name)
        interfaces.append(
            {
                "name": clean(name, 64),
                "mac": mac,
                "up": bool(stat and stat.isup),
                "mtu": stat.mtu if stat else None,
                "addresses": ips[:32],
            }
        )
    return {"interfaces": interfaces, "gateway": _gateway(), "dns_servers": _dns_servers()}


def top_processes(parameters: dict[str, Any]) -> dict[str, Any]:
    wanted = parameters.get("count", 10)
    if not isinstance(wanted, int) or isinstance(wanted, bool) or not 1 <= wanted <= MAX_PROCESSES:
        raise Refused(f"the count is not a number from 1 to {MAX_PROCESSES}")
    procs = list(psutil.process_iter(["pid", "name", "username", "memory_info"]))
    for proc in procs:  # the first call starts the measurement
        with contextlib.suppress(psutil.Error):
            proc.cpu_percent(None)
    time.sleep(0.5)
    rows = []
    for proc in procs:
        try:
            cpu = proc.cpu_percent(None)
            memory = proc.info["memory_info"].rss if proc.info["memory_info"] else 0
        except psutil.Error:
            continue
        rows.append((cpu, memory, proc))
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    total = psutil.virtual_memory().total or 1
    return {
        "processes": [
            {
                "pid": proc.info["pid"],
                "name": clean(proc.info["name"], 200),
                "user": clean(proc.info["username"], 100),
                "cpu_percent": round(cpu, 1),
                "memory_bytes": memory,
                "memory_percent": round(memory * 100 / total, 1),
            }
            for cpu, memory, proc in rows[:wanted]
        ]
    }


KINDS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "disk_usage": disk_usage,
    "ping": ping,
    "dns": dns,
    "http": http,
    "network": network,
    "top_processes": top_processes,
}


def run(kind: str, parameters: Any) -> dict[str, Any]:
    """{"ok": True, "data": ...} or {"ok": False, "error": why}: never raises."""
    function = KINDS.get(kind)
    if function is None:
        return {"ok": False, "error": clean(f"unknown diagnostic {kind!r}", 500)}
    if not isinstance(parameters, dict):
        return {"ok": False, "error": "the parameters are not an object"}
    try:
        return {"ok": True, "data": function(parameters)}
    except Refused as refused:
        return {"ok": False, "error": clean(f"refused: {refused}", 500)}
    except Exception as error:  # a failing diagnostic is reported, not fatal to the agent
        return {"ok": False, "error": clean(f"{type(error).__name__}: {error}", 500)}
