"""A sosreport / must-gather folder as --db: NB and SB are both found and named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("folder", ["sosreport-base", "must-gather-base"])
def test_folder_gives_nb_and_sb(folder: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "ovninspect", "nat", "--db",
                           str(ROOT / "fixtures" / folder), "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    used = [line for line in proc.stderr.splitlines() if ": using " in line]
    assert [line.split(":")[1].strip() for line in used] == ["OVN_Northbound", "OVN_Southbound"]
    nats = json.loads(proc.stdout)["nats"]
    # bound FIPs and cr ports come from the folder's SB (rules 23-24)
    assert {n["chassis_source"] for n in nats} >= {"sb"}
    assert all("chassis_hostname" in n for n in nats)
