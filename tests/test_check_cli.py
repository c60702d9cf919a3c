"""``python -m ovninspect check`` as a user runs it: exit codes 0/1/2, filters, formats."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ovninspect.analysis.checks import RULES
from tests.check_scenarios import built

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.ovn


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ovninspect", "check", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})


def as_json(proc: subprocess.CompletedProcess) -> dict:
    assert proc.stderr == "", proc.stderr
    return json.loads(proc.stdout)


def test_clean_nb_exits_0():
    nb, _ = built("clean")
    proc = run("--db", str(nb), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = as_json(proc)
    assert data["findings"] == []
    assert data["skipped_rules"] == [r.slug for r in RULES if r.needs_sb]
    assert "gw-unknown-chassis" in data["skipped_rules"]


def test_error_finding_exits_1_with_contract_keys():
    nb, _ = built("nat_invalid")
    proc = run("--db", str(nb), "--format", "json")
    assert proc.returncode == 1
    findings = as_json(proc)["findings"]
    assert findings and all({"rule", "severity", "object", "message", "hint"} <= set(f)
                            for f in findings)
    invalid = [f for f in findings if f["rule"] == "nat-invalid"]
    assert {f["severity"] for f in invalid} == {"error"}
    assert "NAT 10.9.101.13 on vpc1" in {f["object"] for f in invalid}
    ranks = {"error": 0, "warning": 1, "info": 2}
    keys = [(ranks[f["severity"]], f["rule"], f["object"]) for f in findings]
    assert keys == sorted(keys)


def test_ignore_and_min_severity_decide_the_exit_code():
    nb, _ = built("nat_invalid")
    proc = run("--db", str(nb), "--format", "json", "--ignore", "nat-invalid")
    assert proc.returncode == 0, proc.stdout
    assert all(f["rule"] != "nat-invalid" for f in as_json(proc)["findings"])
    nb, _ = built("gateways")          # one error (gw-no-members) and warnings
    proc = run("--db", str(nb), "--format", "json", "--rule", "gw-single-chassis",
               "--rule", "gw-both-hcg-and-gc")
    assert proc.returncode == 0
    assert {f["rule"] for f in as_json(proc)["findings"]} == {"gw-single-chassis",
                                                              "gw-both-hcg-and-gc"}
    proc = run("--db", str(nb), "--format", "json", "--min-severity", "error")
    assert proc.returncode == 1
    assert {f["rule"] for f in as_json(proc)["findings"]} == {"gw-no-members"}


def test_unique_ips_turns_info_into_error():
    nb, _ = built("ip_not_unique")
    assert run("--db", str(nb), "--format", "json").returncode == 0
    proc = run("--db", str(nb), "--format", "json", "--unique-ips")
    assert proc.returncode == 1
    assert [f["severity"] for f in as_json(proc)["findings"]
            if f["rule"] == "ip-not-unique"] == ["error"]


def test_sb_rules_run_with_sb():
    nb, sb = built("sb_gateways")
    proc = run("--db", str(nb), "--sb", str(sb), "--format", "json",
               "--rule", "gw-unknown-chassis,fip-no-bridge-mapping,active-not-preferred")
    assert proc.returncode == 1
    data = as_json(proc)
    assert data["skipped_rules"] == []
    assert {f["rule"] for f in data["findings"]} == {
        "gw-unknown-chassis", "fip-no-bridge-mapping", "active-not-preferred"}


def test_table_notes_skipped_rules_once_on_stderr():
    nb, _ = built("gateways")
    proc = run("--db", str(nb))
    assert proc.returncode == 1
    assert "gw-no-members" in proc.stdout and "fix: " in proc.stdout
    notes = [line for line in proc.stderr.splitlines() if "skipped" in line]
    assert len(notes) == 1 and "gw-unknown-chassis" in notes[0]


def test_csv_has_hint_column():
    nb, _ = built("gateways")
    proc = run("--db", str(nb), "--format", "csv", "--rule", "gw-single-chassis")
    assert proc.returncode == 0
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert list(rows[0]) == ["severity", "rule", "object", "message", "hint"]
    assert rows[0]["object"] == "vpc1-external0" and rows[0]["hint"]


@pytest.mark.parametrize("args", [
    ("--rule", "no-such-rule"),
    ("--ignore", "nat-invalid,bogus"),
    ("--min-severity", "fatal"),
    ("--format", "yaml"),
])
def test_usage_errors_exit_2_with_one_line(args):
    nb, _ = built("clean")
    proc = run("--db", str(nb), *args)
    assert proc.returncode == 2
    assert proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_missing_input_exits_2(tmp_path):
    proc = run("--db", str(tmp_path / "nope.db"))
    assert proc.returncode == 2 and "nope.db" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_list_rules_needs_no_db():
    proc = run("--list-rules", "--format", "json")
    assert proc.returncode == 0
    rules = {r["rule"]: r for r in as_json(proc)["rules"]}
    assert rules["nat-invalid"]["severity"] == "error"
    assert rules["gw-unknown-chassis"]["needs"] == "sb"
    assert all(r["description"] for r in rules.values())
    table = run("--list-rules")
    assert table.returncode == 0 and "fip-no-bridge-mapping" in table.stdout
