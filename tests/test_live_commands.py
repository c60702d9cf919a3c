"""Every analysis command says the same thing about a live server as about its file.

A live read fetches only the tables and columns the analyses need (topology.NB_LIVE_TABLES /
SB_LIVE_TABLES); a column missing there would silently change a verdict or hide a finding.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.oracle import stop_lab
from tests.ovnlab import OvnLab

pytestmark = pytest.mark.ovn
ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ["edge", "kubeovn-5050", "neutron", "ovnk"]
COMMANDS = [["nat"], ["gateways"], ["failover-sim"], ["check", "--unique-ips"]]
VOLATILE = {"source", "notes", "chassis_source_detail"}


def run_json(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "ovninspect", *args, "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def scrub(value: object) -> object:
    """Drop keys that name the source itself rather than what it contains."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_live_equals_file(scenario: str) -> None:
    folder = ROOT / "fixtures" / scenario
    nb = folder / "nb.db"
    sb = folder / "sb.db"
    lab = OvnLab().start_nb(nb)
    try:
        if sb.is_file():
            lab.start_sb(sb)
        for command in COMMANDS:
            file_args = [*command, "--db", str(nb)] + (["--sb", str(sb)] if sb.is_file() else [])
            live_args = [*command, "--db", lab.nb_remote] + (
                ["--sb", lab.sb_remote] if sb.is_file() else [])
            from_file = scrub(run_json(*file_args))
            from_live = scrub(run_json(*live_args))
            assert from_live == from_file, f"{scenario}: {' '.join(command)} differs live"
    finally:
        stop_lab(lab)


def test_nat_reads_only_the_switch_ports_its_fips_name() -> None:
    """``nat``'s lazy live read (commands.nat.LIVE_LAZY): the switch tables stay unread,
    the ports the NATs name are found without them and as in the file, anything else
    reads the whole table, and ``--verify`` reads every table at once."""
    from ovninspect.commands.nat import LIVE_LAZY
    from ovninspect.sources import LoadOptions, open_snapshot
    from ovninspect.topology import NB_LIVE_TABLES

    nb = ROOT / "fixtures" / "kubeovn-5050" / "nb.db"
    from_file = open_snapshot(str(nb))
    names = sorted({row["logical_port"] for row in from_file.table("NAT")
                    if row["logical_port"]})
    assert names
    lab = OvnLab().start_nb(nb)
    try:
        live = open_snapshot(lab.nb_remote, "nb", LoadOptions(tables=NB_LIVE_TABLES,
                                                              lazy=LIVE_LAZY))
        ports, switches = live.table("Logical_Switch_Port"), live.table("Logical_Switch")
        want = from_file.table("Logical_Switch_Port").find_many("name", names + ["nope"])
        got = ports.find_many("name", names + ["nope"])
        assert {n: r and (r.uuid, r["options"]) for n, r in got.items()} == \
            {n: r and (r.uuid, r["options"]) for n, r in want.items()}
        assert got["nope"] is None and not ports.has_value("name", "also-not-there")
        assert not ports.is_loaded and not switches.is_loaded
        assert len(ports) == len(from_file.table("Logical_Switch_Port"))
        assert len(switches) == len(from_file.table("Logical_Switch"))
        verified = open_snapshot(lab.nb_remote, "nb", LoadOptions(
            tables=NB_LIVE_TABLES, lazy=LIVE_LAZY, verify=True))
        assert verified.table("Logical_Switch_Port").is_loaded
        # the connection waiting for the ports dropped (a tcp server's inactivity probe
        # while the analysis ran): they are asked for again
        again = open_snapshot(lab.nb_remote, "nb", LoadOptions(tables=NB_LIVE_TABLES,
                                                               lazy=LIVE_LAZY))
        ports = again.table("Logical_Switch_Port")
        ports._pending.session.rpc.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
        assert {n: r and r.uuid for n, r in ports.find_many("name", names).items()} == \
            {n: r and r.uuid for n, r in want.items() if n != "nope"}
        assert not ports.is_loaded
    finally:
        stop_lab(lab)
