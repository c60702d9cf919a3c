"""``ovninspect failover-sim`` on NB/SB databases written by real ovsdb-server and ovn-northd
(semantics §2-§4, §7 rules 2, 17-25; kubeovn/kube-ovn#5050, cms-footprints §5(c))."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import pytest

from ovninspect.analysis import failover as fo
from ovninspect.errors import UsageError
from ovninspect.sources import open_snapshot
from ovninspect.topology import Topology
from tests.failover_lab import (
    GW_A,
    GW_B,
    HOSTS,
    NODE,
    REPO,
    add_pod,
    add_switch,
    cli,
    connect,
    fip,
    make,
    save,
)
from tests.ovnlab import OvnLab

pytestmark = pytest.mark.ovn

CONTRACT = ("router", "external_ip", "type", "mode", "reachable", "via", "reason")


def topology(nb: Path, sb: Optional[Path] = None) -> Topology:
    return Topology(open_snapshot(str(nb), "nb"), open_snapshot(str(sb), "sb") if sb else None)


def run_json(*args: str, rc: int = 0) -> dict[str, Any]:
    return json.loads(cli("failover-sim", *args, "-f", "json", check_rc=rc).stdout)


def by_ip(data: dict, kind: Optional[str] = None) -> dict[str, dict]:
    return {e["external_ip"]: e for e in data["entries"] if kind is None or e["type"] == kind}


@pytest.fixture(scope="module")
def k5050_nomap(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """#5050 with the pod's chassis lacking the external0 bridge mapping."""
    nb, sb = make("5050", tmp_path_factory.mktemp("k5050nomap"), pod_mappings="other:br-x")
    assert sb is not None
    return nb, sb


@pytest.fixture(scope="module")
def k5050_requested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """#5050 where the pod LSP also carries options:requested-chassis (Neutron style)."""
    nb, sb = make("5050", tmp_path_factory.mktemp("k5050req"), requested_chassis=NODE)
    assert sb is not None
    return nb, sb


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    nb, sb = make("mixed", tmp_path_factory.mktemp("mixed"))
    assert sb is not None
    return nb, sb


# -- kubeovn/kube-ovn#5050: both gateway nodes NotReady ----------------------------------------
def test_5050_both_gateways_down_fip_stays_via_pod_chassis(k5050: tuple[Path, Path]) -> None:
    nb, sb = k5050
    data = run_json("--db", str(nb), "--sb", str(sb))      # no --down: every gateway is down
    assert sorted(data["down"]) == sorted([GW_A, GW_B])
    nats = by_ip(data)
    fip = nats["10.9.101.9"]
    assert all(k in fip for k in CONTRACT)
    assert (fip["type"], fip["mode"], fip["reachable"], fip["via"]) == (
        "dnat_and_snat", "distributed", True, NODE)
    assert fip["via_hostname"] == "vnode-pod" and fip["change"] == "kept"
    assert "rule 21" in fip["reason"]
    for ip, kind in (("10.9.101.10", "snat"), ("10.9.101.11", "dnat_and_snat")):
        e = nats[ip]
        assert (e["type"], e["mode"], e["reachable"], e["via"]) == (kind, "centralized",
                                                                    False, None)
        assert e["via_before"] == GW_A and e["change"] == "lost"
        assert "no active gateway" in e["reason"] and "rule 18" in e["reason"]
    dgp_ip = by_ip(data, "router-port")["10.9.230.12"]
    assert dgp_ip["reachable"] is False and dgp_ip["gateway_port"] == "vpc1-external0"
    assert data["summary"] == {"kept": 1, "moved": 0, "lost": 3, "unknown": 0,
                               "unreachable": 0}


def test_5050_down_by_hostname_and_gateway_chassis_row(k5050: tuple[Path, Path]) -> None:
    nb, sb = k5050
    ref = run_json("--db", str(nb), "--sb", str(sb), "--down", f"{GW_A},{GW_B}")
    by_host = run_json("--db", str(nb), "--sb", str(sb), "--down",
                       f"{HOSTS[GW_A]},{HOSTS[GW_B]}")
    by_row = run_json("--db", str(nb), "--down",
                      f"vpc1-external0-{GW_A}, vpc1-external0-{GW_B}")
    assert ref["down"] == by_host["down"] == by_row["down"] == [GW_A, GW_B]
    assert by_host["down_hostnames"] == ["vnode-103-177", "vnode-117-46"]
    assert ref["entries"] == by_host["entries"]
    # hostnames need SB data
    proc = cli("failover-sim", "--db", str(nb), "--down", HOSTS[GW_A], check_rc=2)
    assert "vnode-103-177" in proc.stderr and "--sb" in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_5050_table_and_fail_on_loss(k5050: tuple[Path, Path]) -> None:
    nb, sb = k5050
    proc = cli("failover-sim", "--db", str(nb), "--sb", str(sb), "--fail-on-loss",
               check_rc=1)
    lines = proc.stdout.splitlines()
    fip = next(x for x in lines if "10.9.101.9" in x)
    assert "yes" in fip and "vnode-pod" in fip and "kept" in fip
    assert "1 kept, 0 moved to another chassis, 3 lost" in proc.stdout
    # one gateway down: everything moves to vnode-117-46, nothing lost
    proc = cli("failover-sim", "--db", str(nb), "--sb", str(sb), "--down", "vnode-103-177",
               "--fail-on-loss", check_rc=0)
    assert "1 kept, 3 moved to another chassis, 0 lost" in proc.stdout


def test_rule21_pod_chassis_down_loses_only_the_fip(k5050: tuple[Path, Path]) -> None:
    nb, sb = k5050
    nats = by_ip(run_json("--db", str(nb), "--sb", str(sb), "--down", "vnode-pod"))
    assert nats["10.9.101.9"]["reachable"] is False
    assert nats["10.9.101.9"]["change"] == "lost"
    assert "no fallback to the gateway" in nats["10.9.101.9"]["reason"]
    assert nats["10.9.101.10"]["change"] == "kept" and nats["10.9.101.10"]["via"] == GW_A


def test_rule22_missing_bridge_mapping_black_holes_the_fip(
        k5050_nomap: tuple[Path, Path]) -> None:
    nb, sb = k5050_nomap
    for down in ("", GW_A):
        fip = by_ip(run_json("--db", str(nb), "--sb", str(sb), "--down", down))["10.9.101.9"]
        assert fip["reachable"] is False and fip["via"] is None
        assert fip["reachable_before"] is False and fip["change"] == "unreachable"
        assert "black-holed" in fip["reason"] and "rules 21, 22" in fip["reason"]


def test_rule23_nb_only_fip_location_unknown_is_null(k5050: tuple[Path, Path]) -> None:
    data = run_json("--db", str(k5050[0]))
    fip = by_ip(data)["10.9.101.9"]
    assert fip["reachable"] is None and fip["via"] is None and fip["change"] == "unknown"
    assert "--sb" in fip["reason"]
    assert by_ip(data)["10.9.101.10"]["reachable"] is False
    assert data["summary"]["unknown"] == 1
    assert any("no SB data" in n for n in data["notes"])


def test_rule23_nb_only_requested_chassis_is_inferred(
        k5050_requested: tuple[Path, Path]) -> None:
    nb, sb = k5050_requested
    fip = by_ip(run_json("--db", str(nb)))["10.9.101.9"]
    assert fip["reachable"] is True and fip["via"] == NODE
    assert "inferred" in fip["reason"] and "--sb" in fip["reason"]
    lost = by_ip(run_json("--db", str(nb), "--down", NODE))["10.9.101.9"]
    assert lost["reachable"] is False and lost["change"] == "lost"
    # with SB the binding is used and the mapping is checked
    with_sb = by_ip(run_json("--db", str(nb), "--sb", str(sb)))["10.9.101.9"]
    assert with_sb["via"] == NODE and "where SB binds the port" in with_sb["reason"]


# -- the mixed scenario: several routers sharing gateway chassis ---------------------------------
def entry(data: dict, router: str, ip: str, kind: str) -> dict:
    (e,) = [x for x in data["entries"]
            if (x["router"], x["external_ip"], x["type"]) == (router, ip, kind)]
    return e


def test_rules18_20_failover_moves_in_priority_order(mixed: tuple[Path, Path]) -> None:
    nb, sb = mixed
    one = run_json("--db", str(nb), "--sb", str(sb), "--down", "gw1")
    cfip = entry(one, "r1", "172.16.0.15", "dnat_and_snat")
    assert (cfip["via_before"], cfip["via"], cfip["change"]) == ("gw1", "gw2", "moved")
    assert "gw9 not registered" in cfip["reason"]     # gw9 (40) never active (rule 18)
    two = run_json("--db", str(nb), "--sb", str(sb), "--down", "gw1,gw2")
    assert entry(two, "r1", "172.16.0.15", "dnat_and_snat")["via"] == "gw3"
    assert entry(two, "r1", "172.16.0.100", "lb-vip")["via"] == "gw3"       # rule 25
    assert entry(two, "r1", "172.16.0.1", "router-port")["via"] == "gw3"
    # r3: HA group gw3/10 and gw1/10 (tie: gw3); its ignored gateway_chassis gw2 plays no part
    assert entry(two, "r3", "172.16.0.31", "dnat_and_snat")["via"] == "gw3"
    three = run_json("--db", str(nb), "--sb", str(sb), "--down", "gw3")
    assert entry(three, "r3", "172.16.0.31", "dnat_and_snat")["via"] == "gw1"
    # SB says gw2 holds cr-r1-ext although gw1 is predicted: told, not silently used (rule 24)
    assert any("r1-ext" in n and "claimed by host-gw2" in n and "predicted host-gw1" in n
               and "--down" in n for n in one["notes"])


def test_rule19_single_member_dgp_has_no_failover(mixed: tuple[Path, Path]) -> None:
    nb, sb = mixed
    data = run_json("--db", str(nb), "--sb", str(sb), "--down", "gw2")
    snat = entry(data, "r2", "172.16.0.2", "snat")
    assert snat["reachable"] is False and snat["change"] == "lost"
    assert "rule 19" in snat["reason"]
    assert entry(data, "r2", "172.16.0.21", "dnat_and_snat")["via"] == "node1"


def test_rule2_gateway_router_entries(mixed: tuple[Path, Path]) -> None:
    nb, sb = mixed
    up = run_json("--db", str(nb), "--sb", str(sb), "--down", "")
    assert up["down"] == []
    for ip, kind in (("172.16.0.4", "snat"), ("172.16.0.4", "router-port"),
                     ("172.16.0.104", "lb-vip")):
        e = entry(up, "gr1", ip, kind)
        assert (e["mode"], e["reachable"], e["via"], e["gateway_port"]) == (
            "centralized", True, "gw4", None)
    down = run_json("--db", str(nb), "--sb", str(sb), "--down", "host-gw4")
    assert entry(down, "gr1", "172.16.0.104", "lb-vip")["change"] == "lost"
    assert "rule 2" in entry(down, "gr1", "172.16.0.4", "snat")["reason"]


def test_inactive_and_unbound_are_never_reachable(mixed: tuple[Path, Path]) -> None:
    nb, sb = mixed
    up = run_json("--db", str(nb), "--sb", str(sb), "--down", "")
    bad_mac = entry(up, "r1", "172.16.0.16", "dnat_and_snat")
    assert (bad_mac["mode"], bad_mac["reachable"]) == ("inactive", False)
    assert bad_mac["reason"].startswith("inactive:")
    no_dgp = entry(up, "r4", "172.17.0.4", "snat")
    assert (no_dgp["mode"], no_dgp["reachable"], no_dgp["change"]) == (
        "inactive", False, "unreachable")
    assert not [e for e in up["entries"] if e["router"] == "r4" and e["type"] != "snat"]
    unbound = entry(up, "r1", "172.16.0.14", "dnat_and_snat")
    assert unbound["reachable"] is False and "not bound" in unbound["reason"]


def test_nat_entries_match_nat_command_one_per_row(mixed: tuple[Path, Path]) -> None:
    nb, sb = mixed
    nats = json.loads(cli("nat", "--db", str(nb), "--sb", str(sb), "-f", "json",
                          check_rc=0).stdout)["nats"]
    data = run_json("--db", str(nb), "--sb", str(sb))
    sim = [e for e in data["entries"] if e["type"] not in ("router-port", "lb-vip")]
    assert sorted((n["uuid"], n["router"], n["type"], n["external_ip"], n["mode"])
                  for n in nats) == sorted(
        (e["uuid"], e["router"], e["type"], e["external_ip"], e["mode"]) for e in sim)


def test_router_filter_and_usage_errors(mixed: tuple[Path, Path]) -> None:
    nb, sb = mixed
    data = run_json("--db", str(nb), "--router", "r2")
    assert {e["router"] for e in data["entries"]} == {"r2"}
    assert "gw4" in data["down"]               # every gateway chassis, not only r2's
    for args, text in ((["--down", "nosuch"], "nosuch"),
                       (["--sweep", "--down", "gw1"], "--sweep"),
                       (["2"], "--sweep"),
                       (["--sweep", "0"], "N must be"),
                       (["--only", "gone"], "--only")):
        proc = cli("failover-sim", "--db", str(nb), *args, check_rc=2)
        assert text in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr


def test_csv_and_only_filter(mixed: tuple[Path, Path]) -> None:
    nb, sb = mixed
    lines = cli("failover-sim", "--db", str(nb), "--sb", str(sb), "--down", "gw2",
                "--only", "lost", "-f", "csv", check_rc=0).stdout.splitlines()
    assert lines[0].split(",")[:8] == ["router", "type", "external_ip", "mode", "reachable",
                                      "via", "via_before", "change"]
    assert sorted(x.split(",")[2] for x in lines[1:]) == ["172.16.0.2", "172.16.0.2"]


# -- sweep ---------------------------------------------------------------------------------------
def lost_set(entries: list[dict]) -> set[tuple]:
    return {(e["router"], e["type"], e["external_ip"], e.get("uuid")) for e in entries}


@pytest.mark.parametrize("size", [1, 2])
def test_sweep_equals_each_single_scenario(mixed: tuple[Path, Path], size: int) -> None:
    nb, sb = mixed
    topo = topology(nb, sb)
    model = fo.build_model(topo)
    cases = fo.sweep(model, size)
    assert len(cases) == {1: 5, 2: 10}[size]      # gw1..gw4 and the unregistered gw9
    for case in cases:
        scenario = fo.simulate(model, case.down)
        expect = [(r.entry, r.outcome) for r in scenario.results if r.change == fo.LOST]
        assert [(id(e), o) for e, o in case.lost] == [(id(e), o) for e, o in expect]
        assert case.moved == scenario.counts()["moved"]
    # and the CLI's sweep agrees with separate CLI runs
    data = run_json("--db", str(nb), "--sb", str(sb), "--sweep", str(size))
    assert data["size"] == size and len(data["sweep"]) == len(cases)
    assert run_json("--db", str(nb), "--sb", str(sb), f"--sweep={size}") == data
    for row in data["sweep"]:
        single = run_json("--db", str(nb), "--sb", str(sb), "--down", ",".join(row["down"]))
        assert lost_set(row["lost_entries"]) == lost_set(
            [e for e in single["entries"] if e["change"] == "lost"])
        assert row["lost"] == single["summary"]["lost"]


def test_sweep_blast_radius_and_single_points(mixed: tuple[Path, Path]) -> None:
    nb, sb = mixed
    data = run_json("--db", str(nb), "--sb", str(sb), "--sweep")
    radius = {tuple(r["down"]): r["lost"] for r in data["sweep"]}
    # gw1 carries a pod (FIP .12); gw2 is r2's only member; gw4 is gr1's chassis
    assert radius == {("gw1",): 1, ("gw2",): 2, ("gw3",): 0, ("gw4",): 3, ("gw9",): 0}
    spofs = {(s["kind"], s["chassis"], s["port"] or s["router"]): s
             for s in data["single_points_of_failure"]}
    assert set(spofs) == {("gateway-port", "gw2", "r2-ext"), ("gateway-router", "gw4", "gr1"),
                          ("port-chassis", "gw1", "r1"), ("port-chassis", "node1", None)}
    assert spofs[("gateway-port", "gw2", "r2-ext")]["entries"] == 2
    assert spofs[("gateway-port", "gw2", "r2-ext")]["chassis_hostname"] == "host-gw2"
    pinned = spofs[("port-chassis", "node1", None)]["external_ips"]
    assert sorted(e["external_ip"] for e in pinned) == ["172.16.0.11", "172.16.0.21"]
    proc = cli("failover-sim", "--db", str(nb), "--sb", str(sb), "--sweep",
               "--fail-on-loss", check_rc=1)
    assert "single point(s) of failure" in proc.stdout


def test_sweep_without_loss_exits_0(k5050: tuple[Path, Path]) -> None:
    nb, sb = k5050
    proc = cli("failover-sim", "--db", str(nb), "--sb", str(sb), "--sweep", "--fail-on-loss",
               check_rc=0)
    assert "entries are lost in 0 of them" in proc.stdout
    cli("failover-sim", "--db", str(nb), "--sb", str(sb), "--sweep", "2", "--fail-on-loss",
        check_rc=1)


def test_sweep_is_incremental(mixed: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
                              ) -> None:
    """A sweep re-evaluates only dependencies that touch the down chassis, once each."""
    model = fo.build_model(topology(*mixed))
    calls: list[int] = []
    for cls in (fo.GatewaySet, fo.GatewayRouterDep, fo.PortChassis, fo.Fixed, fo.AnyOf):
        for name in ("outcome", "state"):
            orig = getattr(cls, name)

            def spy(self: Any, down: Any, _orig: Any = orig) -> Any:
                calls.append(id(self))
                return _orig(self, down)
            monkeypatch.setattr(cls, name, spy)
    cases = fo.sweep(model, 1)
    touching = sum(len(d.chassis & set(model.gateway_chassis)) for d in model.deps)
    lost_deps = sum(len({id(e.dep) for e, _ in c.lost}) for c in cases)
    assert len(calls) == touching + lost_deps
    assert touching < len(model.gateway_chassis) * len(model.deps)


def test_resolve_down_names() -> None:
    """--down resolution: names win over hostnames and Gateway_Chassis rows spelled alike."""
    model = fo.FailoverModel(topo=_NoSb(), entries=[], deps=[], by_chassis={},
                             gateway_chassis=["a"], aliases={"a": "a", "row-a": "a",
                                                             "host-a": "a"})
    assert fo.resolve_down(model, ["row-a", " a ", "host-a", ""]) == ["a"]
    with pytest.raises(UsageError, match="hostnames need --sb"):
        fo.resolve_down(model, ["b"])


class _NoSb:
    has_sb = False


# -- rule 25 and §3.1 across OVN releases (same NB, rules picked with --ovn-version) ------------
@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """rA: two DGPs and LBs; rB: one DGP on a switch without localnet and a FIP."""
    dest = tmp_path_factory.mktemp("versions")
    with OvnLab() as lab:
        lab.start_nb().start_sb().start_northd()
        n = lab.nbctl
        add_switch(lab, "ext", "physnet")
        add_switch(lab, "ext2", "physnet")
        add_switch(lab, "transit")                       # no localnet
        n("lr-add", "rA")
        connect(lab, "rA", "ext", "rA-e1", "00:00:00:0a:00:01", "172.16.10.1/24")
        connect(lab, "rA", "ext2", "rA-e2", "00:00:00:0a:00:02", "172.16.20.1/24")
        n("lrp-set-gateway-chassis", "rA-e1", "gwa", "10")
        n("lrp-set-gateway-chassis", "rA-e2", "gwb", "10")
        n("lb-add", "lb-sub", "172.16.20.100:80", "10.0.0.5:80", "tcp")
        n("lb-add", "lb-any", "10.99.0.1:80", "10.0.0.5:80", "tcp")
        n("lb-add", "lb-dist", "172.16.10.200:80", "10.0.0.5:80", "tcp")
        n("set", "Load_Balancer", "lb-dist", "options:distributed=true")
        for lb in ("lb-sub", "lb-any", "lb-dist"):
            n("lr-lb-add", "rA", lb)
        n("lr-add", "rB")
        add_switch(lab, "lsB")
        connect(lab, "rB", "lsB", "rB-lsB", "00:00:00:0b:00:01", "10.20.0.1/24")
        connect(lab, "rB", "transit", "rB-e", "00:00:00:0b:00:02", "172.16.30.1/24")
        n("lrp-set-gateway-chassis", "rB-e", "gwa", "10")
        add_pod(lab, "lsB", "pb", "0a:00:00:00:0b:01", "10.20.0.11", requested_chassis="node1")
        fip(lab, "rB", "172.16.30.11", "10.20.0.11", "pb", "0a:00:00:00:0b:01")
        nb, _ = save(lab, dest, with_sb=False)
    return nb


def sim(nb: Path, version: str, down: list[str]) -> dict[tuple[str, str, str], fo.EntryResult]:
    topo = Topology(open_snapshot(str(nb), "nb"), None, version)
    model = fo.build_model(topo)
    return {(r.entry.router, r.entry.type, r.entry.external_ip): r
            for r in fo.simulate(model, down).results}


def test_rule25_lb_on_two_dgps_by_release(versions: Path) -> None:
    old = sim(versions, "22.03", [])
    assert old[("rA", "lb-vip", "172.16.20.100")].outcome.reachable is False
    assert old[("rA", "lb-vip", "172.16.20.100")].entry.mode == "inactive"
    topo = Topology(open_snapshot(str(versions), "nb"), None, "23.03")
    first = next(r for r in topo.iter_routers() if r.name == "rA").dgps[0].name
    mid = sim(versions, "23.03", [])
    for ip in ("172.16.20.100", "10.99.0.1"):
        assert mid[("rA", "lb-vip", ip)].entry.gateway_port == first   # first DGP only
    new = sim(versions, "25.03", ["gwa"])
    sub = new[("rA", "lb-vip", "172.16.20.100")]
    assert (sub.entry.gateway_port, sub.outcome.via) == ("rA-e2", "gwb")
    anyof = new[("rA", "lb-vip", "10.99.0.1")]
    assert anyof.outcome.reachable is True and anyof.outcome.via == "gwb"
    assert "rule 25" in anyof.outcome.reason
    both = sim(versions, "25.03", ["gwa", "gwb"])[("rA", "lb-vip", "10.99.0.1")]
    assert both.outcome.reachable is False and both.change == fo.LOST


def test_rule25_distributed_lb_is_unknown_from_26_03(versions: Path) -> None:
    assert sim(versions, "25.03", [])[("rA", "lb-vip", "172.16.10.200")].outcome.via == "gwa"
    dist = sim(versions, "26.03", [])[("rA", "lb-vip", "172.16.10.200")]
    assert dist.outcome.reachable is None and dist.entry.mode == "distributed"


def test_rule21_no_localnet_on_peer_switch(versions: Path) -> None:
    old = sim(versions, "23.03", [])[("rB", "dnat_and_snat", "172.16.30.11")]
    assert old.entry.mode == "distributed" and old.outcome.reachable is False
    assert "no localnet" in old.outcome.reason
    new = sim(versions, "25.03", ["node1"])[("rB", "dnat_and_snat", "172.16.30.11")]
    assert new.entry.mode == "centralized" and new.outcome.via == "gwa"   # rule 13


# -- a generated NB (scripts/gen_snapshot.py): sweep = single scenarios at scale ---------------
def test_sweep_equals_single_scenarios_on_generated_nb(tmp_path: Path) -> None:
    nb = tmp_path / "gen.db"
    subprocess.run([sys.executable, str(REPO / "scripts" / "gen_snapshot.py"), str(nb),
                    "--scale", "0.01", "--gateways", "5", "--nodes", "6", "-q"], check=True,
                   cwd=REPO, timeout=120)
    model = fo.build_model(topology(nb))
    assert len(model.gateway_chassis) == 5
    nodes = sorted({d.port_chassis for d in model.deps if isinstance(d, fo.PortChassis)})
    assert nodes   # FIPs whose pods carry requested-chassis (inferred, NB only)
    for size, pool in ((1, None), (2, None), (3, None), (1, nodes)):
        cases = fo.sweep(model, size, pool)
        assert cases
        for case in cases:
            scenario = fo.simulate(model, case.down)
            expect = [id(r.entry) for r in scenario.results if r.change == fo.LOST]
            assert [id(e) for e, _ in case.lost] == expect
            assert case.moved == scenario.counts()["moved"]
        if size == 3 or pool is not None:
            assert any(c.lost for c in cases)


def test_rule20_active_gateway_without_bridge_mapping(mixed: tuple[Path, Path]) -> None:
    """SB data says gw1 (r1's first choice) does not map physnet: centralized work on r1 is
    black-holed until gw1 fails and gw2 takes over (the election ignores mappings)."""
    topo = topology(*mixed)
    topo.chassis["gw1"].bridge_mappings.clear()
    model = fo.build_model(topo)
    up = {(r.entry.router, r.entry.type, r.entry.external_ip): r
          for r in fo.simulate(model, []).results}
    snat = up[("r1", "snat", "172.16.0.1")]
    assert snat.outcome.reachable is False and "rule 20" in snat.outcome.reason
    assert up[("r1", "lb-vip", "172.16.0.100")].outcome.reachable is False
    assert up[("r2", "snat", "172.16.0.2")].outcome.via == "gw2"   # r2 does not use gw1
    after = {(r.entry.router, r.entry.type, r.entry.external_ip): r
             for r in fo.simulate(model, ["gw1"]).results}
    assert after[("r1", "snat", "172.16.0.1")].outcome.via == "gw2"
    # the FIP whose pod runs on gw1 is black-holed too (rule 22), whatever the gateways do
    fip_gw1 = after[("r1", "dnat_and_snat", "172.16.0.12")]
    assert fip_gw1.outcome.reachable is False and "rules 21, 22" in fip_gw1.outcome.reason


@pytest.mark.ovn
@pytest.mark.parametrize("release, unreachable", [
    ("23.03", {"010.9.101.32", "10.9.101.31/32", "10.9.101.30/24", "10.9.101.33.7",
               "10.9.101.36"}),
    ("25.03", {"010.9.101.32", "10.9.101.31/32", "10.9.101.33.7", "10.9.101.36"}),
])
def test_untranslated_nat_is_unreachable(release: str, unreachable: set[str]) -> None:
    """A NAT whose inbound flows (snat: outbound) ovn-controller cannot parse is never
    reachable (rule 6, ovn-changes §3): a leading zero, a /32 in ct_snat of an snat, a
    /32 logical_ip in ct_dnat; a /24 prefix on >= 25.03 still DNATs (too much) and keeps
    its gateway.  On 23.03 the prefix and junk rows are invalid, so unreachable too."""
    from tests.check_scenarios import built

    nb, _ = built("nat_spelling")
    topo = Topology(open_snapshot(str(nb)), ovn_version=release)
    model = fo.build_model(topo)
    scenario = fo.simulate(model, [])
    reach = {r.entry.external_ip: r.outcome.reachable for r in scenario.results
             if r.entry.uuid}
    assert {ip for ip, ok in reach.items() if ok is False} == unreachable
    assert reach[" 10.9.101.34"] is not False and reach["10.9.101.35"] is not False


# -- lone-survivor takeover (ovn-changes §1.2; issue 14 item 2) ---------------------------------
def test_lone_survivor_needs_a_live_ref_chassis(mixed: tuple[Path, Path]) -> None:
    """r1-ext: gw9 (unregistered) 40, gw1 30, gw2 20, gw3 10; northd wrote ref_chassis
    node1, gw1, node2 (chassis of ports bound behind r1 and the routers it reaches)."""
    nb, sb = mixed
    ok = run_json("--db", str(nb), "--sb", str(sb), "--down", "gw1,gw3")
    assert entry(ok, "r1", "172.16.0.15", "dnat_and_snat")["via"] == "gw2"
    # every ref_chassis down too: gw2 alone has no BFD peer that tells it to take over
    cut = run_json("--db", str(nb), "--sb", str(sb), "--down", "gw1,gw3,node1,node2")
    cfip = entry(cut, "r1", "172.16.0.15", "dnat_and_snat")
    assert cfip["reachable"] is False and cfip["via"] is None
    assert "ref_chassis" in cfip["reason"] and "does not take over" in cfip["reason"]
    # one ref_chassis left alive is enough
    one_ref = run_json("--db", str(nb), "--sb", str(sb), "--down", "gw1,gw3,node1")
    assert entry(one_ref, "r1", "172.16.0.15", "dnat_and_snat")["via"] == "gw2"
    # two members alive: no ref_chassis needed (they have BFD with each other)
    pair = run_json("--db", str(nb), "--sb", str(sb), "--down", "gw1,node1,node2")
    assert entry(pair, "r1", "172.16.0.15", "dnat_and_snat")["via"] == "gw2"
    # a single-member DGP (r2-ext, ref_chassis empty) is active without any ref_chassis
    assert entry(cut, "r2", "172.16.0.2", "snat")["via"] == "gw2"


def test_lone_survivor_in_sweep_matches_single_scenarios(mixed: tuple[Path, Path]) -> None:
    nb, sb = mixed
    model = fo.build_model(topology(nb, sb))
    pool = ["gw1", "gw2", "gw3", "node1", "node2"]
    for case in fo.sweep(model, 4, candidates=pool):
        scenario = fo.simulate(model, case.down)
        expect = [(r.entry, r.outcome) for r in scenario.results if r.change == fo.LOST]
        assert [(id(e), o) for e, o in case.lost] == [(id(e), o) for e, o in expect]
    (cut,) = [c for c in fo.sweep(model, 4, candidates=pool)
              if set(c.down) == {"gw1", "gw3", "node1", "node2"}]
    assert ("r1", "172.16.0.15") in {(e.router, e.external_ip) for e, _ in cut.lost}


def test_without_sb_the_takeover_assumption_is_stated(mixed: tuple[Path, Path]) -> None:
    nb, _ = mixed
    data = run_json("--db", str(nb), "--down", "gw1,gw3")
    assert any("r1-ext" in n and "ref_chassis" in n and "--sb" in n for n in data["notes"])
    # without SB gw9 (40) counts as registered: it takes over
    assert entry(data, "r1", "172.16.0.15", "dnat_and_snat")["via"] == "gw9"
