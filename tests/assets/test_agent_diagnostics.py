"""The agent's side of diagnostics (tierline_agent.diagnostics): the kind picks one of its own
functions and the host is checked again on the device, so a server (or whoever took its place)
cannot make the agent run anything else."""

from __future__ import annotations

import socket

import pytest

diagnostics = pytest.importorskip("tierline_agent.diagnostics")


@pytest.mark.parametrize("kind", ["shell", "exec", "__import__", "ping; id", ""])
def test_the_agent_refuses_a_kind_it_does_not_have(kind):
    outcome = diagnostics.run(kind, {"host": "127.0.0.1"})
    assert outcome["ok"] is False and "unknown diagnostic" in outcome["error"]


@pytest.mark.parametrize("host", ["-c1000", "127.0.0.1 -f", "$(id)", "a;b", "x" * 300, 42])
def test_the_agent_checks_the_host_itself(host):
    outcome = diagnostics.run("ping", {"host": host})
    assert outcome == {"ok": False, "error": outcome["error"]}
    assert outcome["error"].startswith("refused:")


def test_parameters_that_are_not_an_object_are_refused():
    assert diagnostics.run("disk_usage", ["/"])["ok"] is False


def test_reachability_of_this_machine_by_ping_or_tcp():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        outcome = diagnostics.run("ping", {"host": "127.0.0.1", "port": port})
    assert outcome["ok"] and outcome["data"]["reachable"] is True
    assert outcome["data"]["method"] in ("ping", "tcp")


def test_disk_usage_dns_network_and_processes_read_this_machine():
    disks = diagnostics.run("disk_usage", {})["data"]["disks"]
    assert any(d["mount"] == "/" and d["total_bytes"] > 0 for d in disks)
    assert "127.0.0.1" in diagnostics.run("dns", {"host": "localhost"})["data"]["addresses"]
    names = [n["name"] for n in diagnostics.run("network", {})["data"]["interfaces"]]
    assert "lo" in names
    top = diagnostics.run("top_processes", {"count": 3})["data"]["processes"]
    assert 1 <= len(top) <= 3 and all(p["pid"] > 0 for p in top)


def test_an_http_get_of_a_closed_port_says_no_answer():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: refused
    outcome = diagnostics.run("http", {"host": "127.0.0.1", "port": port})
    assert outcome["ok"] and outcome["data"]["status"] is None and outcome["data"]["detail"]


def test_text_from_the_device_loses_its_control_characters():
    assert diagnostics.clean("a\x1b[31mb\x00c\nd", 100) == "a [31mb c\nd"
