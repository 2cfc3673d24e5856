"""The real agent (agent/, installed into the venv by `make .venv`) runs on this machine
against a live server: its inventory shows on the asset page, and a second run with one package
more (the collector's TIERLINE_AGENT_FAKE_PACKAGES hook) writes exactly that change-log entry, and
a later run without it exactly the removal."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tierline.assets import agent
from tierline.assets.models import Asset, InstalledSoftware, SystemChange

AGENT = Path(sys.executable).with_name("tierline-agent")
pytestmark = pytest.mark.skipif(
    not AGENT.exists(), reason="tierline-agent is not installed (make .venv installs it)"
)


def _agent(*args: str, config: Path, **env: str) -> dict:
    done = subprocess.run(
        [str(AGENT), *args],
        env={**os.environ, "TIERLINE_AGENT_CONFIG": str(config), **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}


def test_the_real_agent_reports_this_machine_and_then_exactly_one_change(
    live_server, tmp_path, client, tier1
):
    # given: an enrolment token, as `tierline agent-token` prints
    _token, key = agent.issue_enrolment_token()
    config = tmp_path / "agent.json"
    _agent("enrol", "--server", live_server.url, "--token", key, config=config)
    assert json.loads(config.read_text())["credential"].startswith("tld_")

    # when: the first report
    first = _agent("report", "--once", config=config)

    # then: this machine is on its asset page
    asset = Asset.objects.get(pk=first["asset_id"])
    assert asset.hostname == socket.gethostname()
    software = InstalledSoftware.objects.filter(asset=asset).count()
    assert software > 10, "dpkg or rpm lists this machine's packages"
    client.force_login(tier1)
    html = client.get(f"/assets/{asset.pk}/").content.decode()
    assert socket.gethostname() in html
    assert asset.os_name and asset.os_name in html
    assert f"Installed software ({software})" in html
    assert asset.hardware["memory_bytes"] > 0 and asset.hardware["disks"]
    assert list(SystemChange.objects.filter(asset=asset).values_list("kind", flat=True)) == [
        "inventoried"
    ]
    seen = SystemChange.objects.filter(asset=asset).latest("pk").pk

    def new_entries() -> list[tuple[str, str, str, str]]:
        rows = SystemChange.objects.filter(asset=asset, pk__gt=seen).order_by("pk")
        return [(c.kind, c.item, c.before, c.after) for c in rows]

    # when: a second run with one package more
    fake = {"add": [{"name": "tierline-test-package", "version": "1.2.3"}]}
    second = _agent(
        "report", "--once", config=config, TIERLINE_AGENT_FAKE_PACKAGES=json.dumps(fake)
    )

    # then: exactly that entry in the change log, and on the asset page
    assert second["asset_id"] == asset.pk and second["installed"] == 1
    assert new_entries() == [("software_installed", "tierline-test-package", "", "1.2.3")]
    html = client.get(f"/assets/{asset.pk}/").content.decode()
    assert 'data-kind="software_installed"' in html and "tierline-test-package" in html

    # when: a third run, nothing changed: the agent only says so
    third = _agent("report", "--once", config=config, TIERLINE_AGENT_FAKE_PACKAGES=json.dumps(fake))
    # (unless the free space of a disk crossed a 64 MiB step meanwhile: then the whole
    # report goes, and still writes nothing to the change log)
    assert third["asset_id"] == asset.pk and not third.get("installed")
    assert len(new_entries()) == 1

    # when: the package is gone again (a run without the hook)
    fourth = _agent("report", "--once", config=config)

    # then: exactly the removal
    assert fourth["removed"] == 1
    assert new_entries()[1:] == [("software_removed", "tierline-test-package", "1.2.3", "")]
    html = client.get("/assets/changes/", {"kind": "software_removed"}).content.decode()
    assert "tierline-test-package" in html and socket.gethostname() in html
