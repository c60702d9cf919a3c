"""The answer layer: questions run in-process, ``--against`` and ``diff`` on pairs of
snapshots built with ovn-nbctl, and tables that fit 80 and 120 columns.

Each diff scenario builds one NB with ovn-nbctl, saves it, changes it with ovn-nbctl and
saves it again; the changes reported must be exactly the expected ones.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable, Optional

import pytest

from ovninspect.cli import run
from tests.oracle import stop_lab
from tests.ovnlab import OvnLab

ROOT = Path(__file__).resolve().parent.parent
K5050 = ROOT / "fixtures" / "kubeovn-5050"
EDGE = ROOT / "fixtures" / "edge"


def ask(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """Run one command line in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = run(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def ask_json(capsys: pytest.CaptureFixture, *args: str, rc: int = 0) -> dict:
    code, out, err = ask(capsys, *args, "--format", "json")
    assert code == rc, (code, err)
    return json.loads(out)


# -- in-process runs and exit codes --------------------------------------------------------


def test_run_returns_exit_codes_in_process(capsys: pytest.CaptureFixture) -> None:
    db, sb = str(K5050 / "nb.db"), str(K5050 / "sb.db")
    data = ask_json(capsys, "nat", "--db", db, "--sb", sb)
    assert {r["external_ip"] for r in data["nats"]} == {"10.9.101.9", "10.9.101.10",
                                                        "10.9.101.11"}
    assert data["ovn_rules"]["release"] == "23.03.1"
    code, _, err = ask(capsys, "nat", "--db", "/nonexistent/nb.db")
    assert code == 2 and err.count("\n") == 1 and "/nonexistent/nb.db" in err
    code, _, _ = ask(capsys, "failover-sim", "--db", db, "--sb", sb, "--fail-on-loss")
    assert code == 1
    code, _, _ = ask(capsys, "check", "--db", str(EDGE / "nb.db"))
    assert code == 1                      # error findings
    code, out, _ = ask(capsys, "--version")
    assert code == 0 and out.startswith("ovninspect ")


def test_help_shows_real_flag_syntax(capsys: pytest.CaptureFixture) -> None:
    for command in ("nat", "gateways", "failover-sim", "check", "info", "diff", "snapshot"):
        code, out, _ = ask(capsys, command, "--help")
        assert code == 0 and "Examples:" in out, command
        assert "<bool>" not in out and "--format" in out or command == "snapshot", command
        assert "-w, --wide" in out or command in ("snapshot", "info", "diff") or \
            "--wide" in out


def test_every_question_declares_its_key(capsys: pytest.CaptureFixture) -> None:
    from ovninspect.answers.check import check_answer
    from ovninspect.answers.failover import failover_answer
    from ovninspect.answers.gateways import gateways_answer
    from ovninspect.answers.nat import nat_answer
    from ovninspect.sources import open_snapshot
    from ovninspect.topology import Topology

    topo = Topology(open_snapshot(str(K5050 / "nb.db")),
                    open_snapshot(str(K5050 / "sb.db"), "sb"))
    keys = {a.question: tuple(f.key for f in a.key_fields) for a in (
        nat_answer(topo), gateways_answer(topo), failover_answer(topo), check_answer(topo))}
    assert keys == {"nat": ("router", "type", "external_ip", "logical_ip"),
                    "gateways": ("router", "port"),
                    "failover-sim": ("router", "type", "external_ip"),
                    "check": ("rule", "object")}
    nat = nat_answer(topo)
    assert [r["chassis_hostname"] for r in nat.rows] == ["vnode-pod", "vnode-103-177",
                                                         "vnode-103-177"]


# -- tables fit the terminal -----------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("command", [["nat"], ["nat", "--wide"], ["gateways", "--wide"],
                                     ["failover-sim"], ["failover-sim", "--wide"],
                                     ["failover-sim", "--sweep"], ["check"]])
@pytest.mark.parametrize("fixture", ["kubeovn-5050", "edge"])
def test_tables_fit_the_width(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
                              width: int, command: list[str], fixture: str) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    args = [*command, "--db", str(ROOT / "fixtures" / fixture / "nb.db")]
    if (ROOT / "fixtures" / fixture / "sb.db").exists():
        args += ["--sb", str(ROOT / "fixtures" / fixture / "sb.db")]
    _, out, _ = ask(capsys, *args)
    long = [line for line in out.splitlines() if len(line) > width]
    assert out.strip() and not long, "\n".join(long)


def test_pipe_without_columns_does_not_wrap(capsys: pytest.CaptureFixture,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    _, out, _ = ask(capsys, "nat", "--db", str(K5050 / "nb.db"))
    rows = [line for line in out.splitlines() if line.startswith("vpc1")]
    assert len(rows) == 3 and all("translated" in r or "gateway" in r or "centralized" in r
                                  for r in rows)


# -- --against and diff ------------------------------------------------------------------------


def _base(lab: OvnLab) -> None:
    """vpc1: DGP on two gateway chassis, a distributed FIP, a centralized FIP, an SNAT;
    vpc2: a second router with one NAT."""
    n = lab.nbctl
    lab.add_switch("ext", "physnet1")
    for r, k in (("vpc1", 1), ("vpc2", 2)):
        n("lr-add", r)
        lab.add_switch(f"{r}-int")
        lab.connect(r, f"{r}-int", f"{r}-int", f"00:00:00:00:0{k}:01", f"192.168.{k}.1/24")
        lab.connect(r, "ext", f"{r}-ext", f"00:00:00:00:0{k}:02", f"10.0.{k}.1/24")
        n("lrp-set-gateway-chassis", f"{r}-ext", "gw1", "20")
        for p in (1, 2):
            n("lsp-add", f"{r}-int", f"{r}-pod{p}", "--", "lsp-set-addresses", f"{r}-pod{p}",
              f"0a:00:00:00:0{k}:0{p} 192.168.{k}.{10 + p}")
    n("lrp-set-gateway-chassis", "vpc1-ext", "gw2", "10")
    n("lr-nat-add", "vpc1", "dnat_and_snat", "10.0.1.11", "192.168.1.11", "vpc1-pod1",
      "0a:00:00:00:f1:11")
    n("lr-nat-add", "vpc1", "dnat_and_snat", "10.0.1.12", "192.168.1.12")
    n("lr-nat-add", "vpc1", "snat", "10.0.1.100", "192.168.1.0/24")
    n("lr-nat-add", "vpc2", "dnat_and_snat", "10.0.2.11", "192.168.2.11")


@pytest.fixture()
def pair(tmp_path: Path) -> Callable[[Callable[[OvnLab], None]], tuple[Path, Path]]:
    """Build the base NB, save it as old.db, apply ``change``, save it as new.db."""
    labs: list[OvnLab] = []

    def make(change: Callable[[OvnLab], None]) -> tuple[Path, Path]:
        lab = OvnLab().start_nb()
        labs.append(lab)
        _base(lab)
        old = tmp_path / f"old{len(labs)}.db"
        shutil.copyfile(lab.nb_db, old)
        change(lab)
        new = tmp_path / f"new{len(labs)}.db"
        shutil.copyfile(lab.nb_db, new)
        return old, new

    yield make
    for lab in labs:
        stop_lab(lab)


def changes(capsys: pytest.CaptureFixture, old: Path, new: Path,
            only: Optional[str] = None) -> dict:
    args = ["diff", "--db", str(new), "--against", str(old)]
    if only:
        args += ["--only", only]
    return ask_json(capsys, *args)


KEYS = {"nat": ("router", "type", "external_ip", "logical_ip"),
        "gateways": ("router", "port"), "failover-sim": ("router", "type", "external_ip"),
        "check": ("rule", "object")}


def brief(data: dict) -> set[tuple]:
    """(question, change, key values, changed fields) of every change."""
    return {(c["question"], c["change"], tuple(c["key"][k] for k in KEYS[c["question"]]),
             tuple(c["fields"])) for c in data["changes"]}


@pytest.mark.ovn
def test_diff_fip_loses_and_gains_external_mac(pair, capsys) -> None:
    def change(lab: OvnLab) -> None:
        uuid = lab.nbctl("--bare", "--columns=_uuid", "find", "NAT",
                         "external_ip=10.0.1.11").strip()
        lab.nbctl("clear", "NAT", uuid, "external_mac")
        uuid = lab.nbctl("--bare", "--columns=_uuid", "find", "NAT",
                         "external_ip=10.0.1.12").strip()
        lab.nbctl("set", "NAT", uuid, "logical_port=vpc1-pod2",
                  'external_mac="0a:00:00:00:f1:12"')
    old, new = pair(change)
    data = changes(capsys, old, new, "nat")
    assert brief(data) == {
        ("nat", "changed", ("vpc1", "dnat_and_snat", "10.0.1.11", "192.168.1.11"),
         ("mode", "chassis", "external_mac")),
        ("nat", "changed", ("vpc1", "dnat_and_snat", "10.0.1.12", "192.168.1.12"),
         ("mode", "chassis", "logical_port", "external_mac")),
    }
    assert "1 FIP became centralized (were distributed)" in data["summary"]
    assert "1 FIP became distributed (were centralized)" in data["summary"]
    # the same through nat --against, and --fail-on-change
    code, out, _ = ask(capsys, "nat", "--db", str(new), "--against", str(old),
                       "--format", "json", "--fail-on-change")
    assert code == 1 and brief(json.loads(out)) == brief(data)
    code, _, _ = ask(capsys, "nat", "--db", str(old), "--against", str(old),
                     "--fail-on-change")
    assert code == 0


@pytest.mark.ovn
def test_diff_gateway_member_removed(pair, capsys) -> None:
    old, new = pair(lambda lab: lab.nbctl("lrp-del-gateway-chassis", "vpc1-ext", "gw2"))
    data = changes(capsys, old, new)
    assert brief(data) == {("gateways", "changed", ("vpc1", "vpc1-ext"), ("member_list",)),
                           ("check", "added", ("gw-single-chassis", "vpc1-ext"), ())}
    assert "DGP vpc1-ext lost member gw2" in data["summary"]
    assert "1 new warning finding" in data["summary"]


@pytest.mark.ovn
def test_diff_router_disabled(pair, capsys) -> None:
    old, new = pair(lambda lab: lab.nbctl("set", "Logical_Router", "vpc2", "enabled=false"))
    data = changes(capsys, old, new)
    got = brief(data)
    assert ("nat", "changed", ("vpc2", "dnat_and_snat", "10.0.2.11", "192.168.2.11"),
            ("mode", "gateway_port", "chassis", "flags")) not in got
    assert {c for c in got if c[0] == "nat"} == {
        ("nat", "changed", ("vpc2", "dnat_and_snat", "10.0.2.11", "192.168.2.11"),
         ("mode", "gateway_port", "chassis"))}
    assert {c[:3] for c in got if c[0] == "failover-sim"} == {
        ("failover-sim", "changed", ("vpc2", "dnat_and_snat", "10.0.2.11")),
        ("failover-sim", "changed", ("vpc2", "router-port", "10.0.2.1"))}
    assert {c[:3] for c in got if c[0] == "check"} == {
        ("check", "added", ("nat-inactive", "NAT 10.0.2.11 on vpc2"))}
    assert not [c for c in got if c[0] == "gateways"]
    assert "1 FIP became inactive (were centralized)" in data["summary"]


@pytest.mark.ovn
def test_diff_nat_added_and_removed(pair, capsys) -> None:
    def change(lab: OvnLab) -> None:
        lab.nbctl("lr-nat-del", "vpc1", "snat", "192.168.1.0/24")
        lab.nbctl("lr-nat-add", "vpc2", "snat", "10.0.2.100", "192.168.2.0/24")
    old, new = pair(change)
    data = changes(capsys, old, new, "nat,failover-sim")
    assert brief(data) == {
        ("nat", "removed", ("vpc1", "snat", "10.0.1.100", "192.168.1.0/24"), ()),
        ("nat", "added", ("vpc2", "snat", "10.0.2.100", "192.168.2.0/24"), ()),
        ("failover-sim", "removed", ("vpc1", "snat", "10.0.1.100"), ()),
        ("failover-sim", "added", ("vpc2", "snat", "10.0.2.100"), ()),
    }
    removed = next(c for c in data["changes"] if c["change"] == "removed")
    assert removed["after"] is None and removed["before"]["mode"] == "centralized"


@pytest.mark.ovn
def test_diff_release_change_flips_rule_13(tmp_path: Path, capsys) -> None:
    """The same NB rows processed by northd 23.03 and then 25.03: vpc3's DGP faces a
    switch without localnet, so >= 25.03 centralizes its FIP (rule 13)."""
    lab = OvnLab().start_nb()
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    try:
        _base(lab)
        n = lab.nbctl
        n("set", "NB_Global", ".", "options:northd_internal_version=23.03.1-20.27.0-70.6")
        n("lr-add", "vpc3")
        lab.add_switch("vpc3-int")
        lab.connect("vpc3", "vpc3-int", "vpc3-int", "00:00:00:00:03:01", "192.168.3.1/24")
        lab.add_switch("transit")          # no localnet
        lab.connect("vpc3", "transit", "vpc3-ext", "00:00:00:00:03:02", "10.0.3.1/24")
        n("lrp-set-gateway-chassis", "vpc3-ext", "gw1", "20")
        n("lsp-add", "vpc3-int", "vpc3-pod1", "--", "lsp-set-addresses", "vpc3-pod1",
          "0a:00:00:00:03:11 192.168.3.11")
        n("lr-nat-add", "vpc3", "dnat_and_snat", "10.0.3.11", "192.168.3.11", "vpc3-pod1",
          "0a:00:00:00:f3:11")
        shutil.copyfile(lab.nb_db, old)
        n("set", "NB_Global", ".", "options:northd_internal_version=25.03.0-20.41.0-77.6")
        shutil.copyfile(lab.nb_db, new)
    finally:
        stop_lab(lab)
    data = changes(capsys, old, new, "nat")
    assert brief(data) == {
        ("nat", "changed", ("vpc3", "dnat_and_snat", "10.0.3.11", "192.168.3.11"),
         ("mode", "chassis"))}
    assert data["summary"][0] == "1 FIP became centralized (were distributed)"


@pytest.mark.ovn
def test_diff_kube_ovn_fip_rebound(pair, capsys) -> None:
    """An OvnFip moved to another pod: its NAT gets the new logical_ip and logical_port,
    which is a new row for the key (removed + added), nothing else."""
    def change(lab: OvnLab) -> None:
        uuid = lab.nbctl("--bare", "--columns=_uuid", "find", "NAT",
                         "external_ip=10.0.1.11").strip()
        lab.nbctl("set", "NAT", uuid, "logical_ip=192.168.1.12", "logical_port=vpc1-pod2")
    old, new = pair(change)
    data = changes(capsys, old, new, "nat,gateways,check")
    assert brief(data) == {
        ("nat", "removed", ("vpc1", "dnat_and_snat", "10.0.1.11", "192.168.1.11"), ()),
        ("nat", "added", ("vpc1", "dnat_and_snat", "10.0.1.11", "192.168.1.12"), ()),
    }


@pytest.mark.ovn
def test_diff_needs_against_and_valid_only(capsys) -> None:
    db = str(K5050 / "nb.db")
    code, _, err = ask(capsys, "diff", "--db", db)
    assert code == 2 and "--against" in err
    code, _, err = ask(capsys, "diff", "--db", db, "--against", db, "--only", "bogus")
    assert code == 2 and "--only" in err
    data = ask_json(capsys, "diff", "--db", db, "--against", db)
    assert data["changes"] == [] and data["summary"] == [
        "no change in nat, gateways, failover-sim, check"]


# -- verdicts shared by the answers of one topology -----------------------------------------
def test_answers_of_one_topology_share_its_verdicts() -> None:
    """``diff`` asks nat, check and failover-sim of each side: the NATs are classified once
    per topology (``topo.derived``), and a router subset gets the same verdicts, in the
    subset's order, as classifying those routers alone."""
    from ovninspect.analysis import placement
    from ovninspect.sources import LoadOptions, open_snapshot
    from ovninspect.topology import Topology

    topo = Topology(open_snapshot(str(EDGE / "nb.db"), "nb", LoadOptions()))
    routers = list(topo.iter_routers())
    assert len(routers) > 1 and topo.nats
    alone = placement._classify(topo, routers[::-1])
    every = placement.classify_all(topo)
    assert [v.nat.uuid for v in every] == [n.nat.uuid for n in placement._classify(
        topo, routers)]
    again = placement.classify_all(topo)
    assert again == every and all(a is b for a, b in zip(again, every))
    subset = placement.classify_all(topo, routers[::-1])
    assert [v.nat.uuid for v in subset] == [v.nat.uuid for v in alone]
    assert [v.mode for v in subset] == [v.mode for v in alone]
    topo.refresh({"NAT": set()})
    assert "verdicts" not in topo.derived


# -- JSON written in pieces ----------------------------------------------------------------
def test_json_in_pieces_is_the_whole_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """``json_chunks`` (what ``--format json`` writes) joins to exactly ``to_json_bytes`` of
    the whole document, whatever the rows hold and however they fall into batches."""
    from ovninspect import render
    from ovninspect.answers.model import Answer

    rows = [{"b": i, "a": [1, {"z": "line\nbreak", "y": []}], "c": {}, "d": "é \u2063\t\""}
            for i in range(7)] + [{}, {"nested": {"deeper": {"deepest": [[], [1, 2]]}}}]
    monkeypatch.setattr(render, "JSON_BATCH", 3)
    for meta in ({}, {"zzz": 1, "aaa": [2, 3], "source": {"path": "x"}},
                 {"rows": "a meta value"}):
        for count in (0, 1, 3, 4, len(rows)):
            answer = Answer("q", "rows" if "rows" not in meta else "items", (), rows[:count],
                            meta=dict(meta))
            whole = render.to_json_bytes(answer.to_json())
            assert b"".join(render.json_chunks(answer)) == whole
            assert json.loads(whole) == answer.to_json()
