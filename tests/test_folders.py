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


@pytest.mark.parametrize("damage", [b"XXXXX", b"OVSDB JSON 9x"])
def test_folder_names_a_damaged_nb_file(tmp_path: Path, damage: bytes) -> None:
    """An NB file damaged at its start is named with its own error, not "no NB found"
    (issue 14); the SB beside it plays no part."""
    import shutil
    folder = tmp_path / "sosreport"
    shutil.copytree(ROOT / "fixtures" / "sosreport-base", folder)
    nb = folder / "var" / "lib" / "ovn" / "ovnnb_db.db"
    data = nb.read_bytes()
    nb.write_bytes(damage + data[len(damage):])
    proc = subprocess.run([sys.executable, "-m", "ovninspect", "nat", "--db", str(folder)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"ovninspect: {nb}: ") and "no OVN_Northbound" not in line
