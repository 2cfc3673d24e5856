"""What the agent collects. Fixed reads and fixed commands only: it never runs anything it was
sent."""

from __future__ import annotations

import contextlib
import grp
import json
import os
import platform
import pwd
import shutil
import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

VERSION = "0.1.0"
FREE_SPACE_STEP = 64 * 2**20
SKIP_FS = {"tmpfs", "devtmpfs", "squashfs", "overlay", "proc", "sysfs", "cgroup2", "nsfs"}


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def _run(args: list[str], timeout: float = 30) -> str:
    """A fixed command from this module; empty when it is missing or fails."""
    if shutil.which(args[0]) is None:
        return ""
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout if done.returncode == 0 else ""


def os_release() -> dict[str, str]:
    if platform.system() == "Linux":
        fields = dict(
            line.split("=", 1) for line in _read("/etc/os-release").splitlines() if "=" in line
        )
        name = fields.get("NAME", "Linux").strip('"')
        version = fields.get("VERSION_ID", "").strip('"') or fields.get("VERSION", "").strip('"')
        return {"name": name[:100], "version": version[:100], "kernel": platform.release()[:100]}
    if platform.system() == "Darwin":  # untested here: "macOS 14.5", as the OS table names it
        release = platform.mac_ver()[0]
        if release:
            return {"name": "macOS", "version": release[:100], "kernel": platform.release()[:100]}
    return {
        "name": platform.system()[:100],
        "version": platform.version()[:100],
        "kernel": platform.release()[:100],
    }


def dmi() -> dict[str, str]:
    base = "/sys/class/dmi/id/"
    return {
        "serial": _read(base + "product_serial")[:100],
        "make": _read(base + "sys_vendor")[:100],
        "model": _read(base + "product_name")[:100],
    }


def disks() -> list[dict[str, Any]]:
    found = []
    for part in psutil.disk_partitions(all=False):
        if part.fstype in SKIP_FS or len(found) >= 64:
            continue
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:
            continue
        found.append(
            {
                "mount": part.mountpoint[:255],
                "device": part.device[:255],
                "fs": part.fstype[:40],
                "total_bytes": usage.total,
                # Rounded down to 64 MiB: free space moves all the time, and an unchanged
                # report (same hash) is what the server handles cheaply.
                "free_bytes": usage.free - usage.free % FREE_SPACE_STEP,
            }
        )
    return found


def nics() -> list[dict[str, Any]]:
    found = []
    link = getattr(psutil, "AF_LINK", None)
    for name, addresses in sorted(psutil.net_if_addrs().items()):
        if name == "lo" or len(found) >= 64:
            continue
        mac = next((a.address for a in addresses if a.family == link), "")
        mac = mac.replace("-", ":").lower() if len(mac) == 17 else ""
        ips = [a.address[:64] for a in addresses if a.family in (socket.AF_INET, socket.AF_INET6)]
        found.append({"name": name[:64], "mac": mac, "addresses": ips[:32]})
    return found


def software() -> list[dict[str, str]]:
    """dpkg, else rpm (Linux); the registry (Windows) and /Applications (macOS) are untested."""
    rows: dict[str, dict[str, str]] = {}
    if platform.system() == "Linux":
        out = _run(
            ["dpkg-query", "-W", "-f", "${db:Status-Abbrev}\t${binary:Package}\t${Version}\n"]
        )
        for line in out.splitlines():
            status, _, rest = line.partition("\t")
            name, _, version = rest.partition("\t")
            if status.startswith("ii") and name:
                rows[name] = {"name": name[:200], "version": version[:100], "source": "dpkg"}
        if not rows:
            out = _run(["rpm", "-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\n"])
            for line in out.splitlines():
                name, _, version = line.partition("\t")
                if name:
                    rows[name] = {"name": name[:200], "version": version[:100], "source": "rpm"}
    elif platform.system() == "Darwin":  # untested here
        for app in sorted(Path("/Applications").glob("*.app")):
            rows[app.stem] = {"name": app.stem[:200], "version": "", "source": "macos-app"}
    elif platform.system() == "Windows":  # untested here
        rows.update(_windows_software())
    return _apply_fake_packages(list(rows.values()))


def _windows_software() -> dict[str, dict[str, str]]:
    import winreg  # type: ignore[import-not-found]

    rows: dict[str, dict[str, str]] = {}
    path = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
    with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, path) as root:
        for i in range(winreg.QueryInfoKey(root)[0]):
            try:
                with winreg.OpenKey(root, winreg.EnumKey(root, i)) as key:
                    name = str(winreg.QueryValueEx(key, "DisplayName")[0])
                    version = str(winreg.QueryValueEx(key, "DisplayVersion")[0])
            except OSError:
                continue
            rows[name] = {"name": name[:200], "version": version[:100], "source": "registry"}
    return rows


def _apply_fake_packages(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The test hook TIERLINE_AGENT_FAKE_PACKAGES (see README): add and remove packages."""
    raw = os.environ.get("TIERLINE_AGENT_FAKE_PACKAGES")
    if not raw:
        return rows
    fake = json.loads(raw)
    removed = set(fake.get("remove", []))
    kept = {r["name"]: r for r in rows if r["name"] not in removed}
    for row in fake.get("add", []):
        kept[row["name"]] = {
            "name": row["name"],
            "version": row.get("version", ""),
            "source": "dpkg",
        }
    return list(kept.values())


def accounts() -> list[dict[str, Any]]:
    """Local accounts that can sign in (uid >= 1000, or root), and who is an administrator."""
    if platform.system() == "Windows":
        return []
    admins: set[str] = set()
    for group in ("sudo", "wheel", "admin"):
        with contextlib.suppress(KeyError):  # no such group on this system
            admins.update(grp.getgrnam(group).gr_mem)
    found = []
    for user in pwd.getpwall():
        if user.pw_uid == 0 or (1000 <= user.pw_uid < 65534):
            found.append(
                {"name": user.pw_name[:100], "admin": user.pw_uid == 0 or user.pw_name in admins}
            )
    return found[:2000]


def security() -> dict[str, Any]:
    """What the platform tells without privileges; "unknown" otherwise."""
    posture: dict[str, Any] = {"firewall": "unknown", "disk_encryption": "unknown"}
    if platform.system() == "Linux":
        ufw = _run(["ufw", "status"])
        if ufw:
            posture["firewall"] = "on" if "Status: active" in ufw else "off"
        if any(p.device.startswith("/dev/mapper/") for p in psutil.disk_partitions()):
            posture["disk_encryption"] = "on"
        upgradable = _run(["apt", "list", "--upgradable"], timeout=60)
        if upgradable:
            posture["pending_updates"] = sum(1 for line in upgradable.splitlines() if "/" in line)
        last = last_update_at()
        if last:
            posture["last_update_at"] = last
    return posture


# Written when apt (or dpkg) last installed or upgraded packages: the platform's word on when
# updates were last applied. The first that exists is read.
UPDATE_LOGS = ("/var/log/apt/history.log", "/var/log/dpkg.log")


def last_update_at(paths: tuple[str, ...] = UPDATE_LOGS) -> str:
    """The modification time of the package manager's log (ISO 8601, UTC, to the minute so
    the report's hash stays put); empty when there is none."""
    for path in paths:
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            continue
        moment = datetime.fromtimestamp(mtime, tz=UTC).replace(second=0, microsecond=0)
        return moment.isoformat()
    return ""


def inventory() -> dict[str, Any]:
    """One report's inventory (without sequence and time, which the client adds)."""
    board = dmi()
    cpu_model = ""
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    return {
        "agent_version": VERSION,
        "hostname": socket.gethostname()[:253] or "unknown",
        **board,
        "os": os_release(),
        "uptime_seconds": max(0, int(time.time() - psutil.boot_time())),
        "cpu": {
            "model": (cpu_model or platform.processor())[:200],
            "cores": psutil.cpu_count(logical=False),
            "logical": psutil.cpu_count(logical=True),
        },
        "memory_bytes": psutil.virtual_memory().total,
        "disks": disks(),
        "nics": nics(),
        "software": software(),
        "accounts": accounts(),
        "security": security(),
    }
