"""``ovninspect gateways`` against NB/SB databases written by real ovsdb-server and ovn-northd
(semantics §2, §7 rules 2, 17-19, 24)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import pytest

from ovninspect.analysis.gateways import gateway_views
from ovninspect.election import GatewayMember, elect
from ovninspect.sources import open_snapshot
from ovninspect.topology import Topology
from tests.failover_lab import (
    GW_A,
    GW_B,
    HOSTS,
    add_chassis,
    add_switch,
    build_mixed,
    cli,
    connect,
    ha_group,
    make,
    save,
)
from tests.ovnlab import OvnLab

pytestmark = pytest.mark.ovn


def topology(nb: Path, sb: Optional[Path] = None) -> Topology:
    return Topology(open_snapshot(str(nb), "nb"), open_snapshot(str(sb), "sb") if sb else None)


def by_port(views: list) -> dict:
    return {(v.router, v.port): v for v in views}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    nb, sb = make("mixed", tmp_path_factory.mktemp("mixed"))
    assert sb is not None
    return nb, sb


# -- rule 17: where the member list comes from, cross-checked against northd's SB --------------
@pytest.fixture(scope="module")
def precedence(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """DGPs with gateway_chassis only, HA group only, both, plus what northd wrote to SB."""
    dest = tmp_path_factory.mktemp("precedence")
    with OvnLab() as lab:
        lab.start_nb().start_sb().start_northd()
        add_switch(lab, "ext", "physnet")
        for i, name in enumerate(("gc-only", "ha-only", "both", "both-empty-group")):
            lab.nbctl("lr-add", f"lr-{name}")
            connect(lab, f"lr-{name}", "ext", f"{name}-ext", f"00:00:00:00:0{i}:01",
                    f"172.16.{i}.1/24")
        for lrp in ("gc-only", "both", "both-empty-group"):
            lab.nbctl("lrp-set-gateway-chassis", f"{lrp}-ext", "gc-x", "30")
            lab.nbctl("lrp-set-gateway-chassis", f"{lrp}-ext", "gc-y", "20")
        grp = ha_group(lab, "grp-a", ("ha-1", 5), ("ha-2", 7), ("ha-3", 7))
        empty = ha_group(lab, "grp-empty")
        lab.nbctl("set", "Logical_Router_Port", "ha-only-ext", f"ha_chassis_group={grp}")
        lab.nbctl("set", "Logical_Router_Port", "both-ext", f"ha_chassis_group={grp}")
        lab.nbctl("set", "Logical_Router_Port", "both-empty-group-ext",
                  f"ha_chassis_group={empty}")
        lab.sync()
        for i, name in enumerate(("ha-1", "ha-2", "gc-x")):
            add_chassis(lab, name, f"127.0.2.{i + 1}", f"host-{name}")
        nb, sb = save(lab, dest)
        # what northd wrote: cr port -> SB HA_Chassis_Group -> HA_Chassis (chassis-name, prio)
        pbs = lab.sbctl_json("--columns=logical_port,ha_chassis_group", "find",
                             "Port_Binding", "type=chassisredirect")
        groups = {r[0][1]: r for r in lab.sbctl_json("--columns=_uuid,name,ha_chassis",
                                                     "list", "HA_Chassis_Group")["data"]}
        has = {r[0][1]: r for r in lab.sbctl_json("--columns=_uuid,priority,external_ids",
                                                  "list", "HA_Chassis")["data"]}
    written: dict = {}
    for lport, group_ref in pbs["data"]:
        group = groups[group_ref[1]]
        refs = group[2][1] if group[2][0] == "set" else [group[2]]
        members = []
        for ref in refs:
            ha = has[ref[1]]
            ids = dict(ha[2][1])
            members.append((ids["chassis-name"], ha[1]))
        written[lport] = (group[1], sorted(members))
    assert sb is not None
    return nb, sb, written


def test_rule17_members_match_the_sb_group_northd_writes(precedence: tuple) -> None:
    nb, sb, written = precedence
    topo = topology(nb, sb)
    views = gateway_views(topo)
    assert len(views) == 4
    for view in views:
        group, members = written[f"cr-{view.port}"]
        assert sorted((m.chassis, m.priority) for m in view.members) == members, view.port
        assert view.sb_group == group
        assert view.sb_differs is False


def test_rule17_ha_group_wins_over_gateway_chassis(precedence: tuple) -> None:
    nb, sb, written = precedence
    views = by_port(gateway_views(topology(nb, sb)))
    gc_only = views[("lr-gc-only", "gc-only-ext")]
    assert gc_only.source == "gateway_chassis" and gc_only.ha_chassis_group is None
    assert written["cr-gc-only-ext"][0] == "gc-only-ext"   # SB group named after the LRP
    both = views[("lr-both", "both-ext")]
    assert both.source == "ha_chassis_group" and both.ha_chassis_group == "grp-a"
    assert [m.chassis for m in both.members] == ["ha-3", "ha-2", "ha-1"]
    assert [m.chassis for m in both.ignored_gateway_chassis] == ["gc-x", "gc-y"]
    assert any("rule 17" in n for n in both.notes)
    # an empty HA group still wins: northd writes an empty SB group, the DGP has no gateway
    empty = views[("lr-both-empty-group", "both-empty-group-ext")]
    assert empty.source == "ha_chassis_group" and empty.members == []
    assert written["cr-both-empty-group-ext"] == ("grp-empty", [])
    assert empty.active_predicted is None


def test_rule18_unregistered_members_never_active(precedence: tuple) -> None:
    nb, sb, _ = precedence
    views = by_port(gateway_views(topology(nb, sb)))
    # ha-3 (7) and ha-2 (7) tie, ha-3 is greater, but only ha-1 and ha-2 registered
    ha_only = views[("lr-ha-only", "ha-only-ext")]
    assert ha_only.active_predicted == "ha-2"
    assert [m.registered for m in ha_only.members] == [False, True, True]
    assert "not registered" in ha_only.reason
    # NB only: registration unknown, so ha-3 wins the tie
    nb_only = by_port(gateway_views(topology(nb)))[("lr-ha-only", "ha-only-ext")]
    assert nb_only.active_predicted == "ha-3"
    assert all(m.registered is None for m in nb_only.members)


# -- rules 18-19: election -----------------------------------------------------------------
def test_rule18_priority_tie_goes_to_greatest_name_in_byte_order() -> None:
    members = [GatewayMember("node-10", 5), GatewayMember("node-9", 5), GatewayMember("a", 1)]
    active, why = elect(members)
    assert active == "node-9"          # strcmp: "node-9" > "node-10"
    assert "greatest name" in why and "rule 18" in why
    assert elect(members, {"node-9"})[0] == "node-10"
    assert elect(members, {"node-9", "node-10"})[0] == "a"
    assert elect(members, {"node-9", "node-10", "a"})[0] is None


def test_rule18_highest_priority_wins_and_rule19_single_member() -> None:
    assert elect([GatewayMember("low", 1), GatewayMember("high", 2)])[0] == "high"
    active, why = elect([GatewayMember("only", 1)])
    assert active == "only" and "rule 19" in why
    active, why = elect([GatewayMember("only", 1)], {"only"})
    assert active is None and "nothing fails over (rule 19)" in why


def test_lone_survivor_whose_only_ref_chassis_is_itself() -> None:
    """A pod on the surviving gateway does not let it take over: ovn-controller needs BFD
    to another chassis that binds a port behind the router (tests/test_controller_oracle.py
    scenario priority-1, router r6: gw2 kept its hands off cr-r6-ext on 23.03.1)."""
    members = [GatewayMember("gw1", 20), GatewayMember("gw2", 10)]
    active, why = elect(members, {"gw1"}, ref_chassis={"gw2"})
    assert active is None
    assert "gw2 itself does not count" in why and "gw2 down" not in why
    active, why = elect(members, {"gw1", "hv1"}, ref_chassis={"gw2", "hv1"})
    assert active is None and "(hv1 down; gw2 itself does not count)" in why
    active, why = elect(members, {"gw1", "hv1"}, ref_chassis={"hv1"})
    assert active is None and "(hv1 down)" in why
    assert elect(members, {"gw1"}, ref_chassis={"gw2", "hv1"})[0] == "gw2"


def test_rule18_tie_in_lab_scenario(mixed: tuple[Path, Path]) -> None:
    views = by_port(gateway_views(topology(*mixed)))
    r3 = views[("r3", "r3-ext")]           # HA group gw3/10, gw1/10
    assert r3.active_predicted == "gw3" and "greatest name" in r3.reason
    r2 = views[("r2", "r2-ext")]           # single member
    assert [m.chassis for m in r2.members] == ["gw2"] and r2.rules == (17, 18, 19)


# -- rule 2: gateway routers -----------------------------------------------------------------
def test_rule2_gateway_router(mixed: tuple[Path, Path]) -> None:
    views = by_port(gateway_views(topology(*mixed)))
    gr = views[("gr1", None)]
    assert gr.kind == "gateway-router" and gr.source == "gateway_router"
    assert [(m.chassis, m.priority) for m in gr.members] == [("gw4", None)]
    assert gr.active_predicted == "gw4" and gr.ports == ["gr1-ext"]
    assert ("r4", "r4-ext") not in views   # a router without gateway config is not listed


# -- rule 24: observed vs predicted -----------------------------------------------------------
def test_rule24_observed_differs_from_predicted(mixed: tuple[Path, Path]) -> None:
    nb, sb = mixed
    views = by_port(gateway_views(topology(nb, sb)))
    r1 = views[("r1", "r1-ext")]           # gw9 40 (unregistered), gw1 30, gw2 20, gw3 10
    assert r1.active_predicted == "gw1"
    assert (r1.active_observed, r1.observed_source) == ("gw2", "sb")
    assert r1.differs
    assert views[("r2", "r2-ext")].active_observed is None
    assert not views[("r2", "r2-ext")].differs
    proc = cli("gateways", "--db", str(nb), "--sb", str(sb), check_rc=0)
    line = next(x for x in proc.stdout.splitlines() if x.startswith("r1 "))
    assert "DIFFERS" in line


def test_rule24_nb_status_hosting_chassis(mixed: tuple[Path, Path]) -> None:
    """NB status:hosting-chassis (>= 23.09; not in the 23.03 schema, so set in memory)."""
    topo = topology(mixed[0])
    port = next(p for p in topo.router_ports.values() if p.name == "r1-ext")
    port.status["hosting-chassis"] = "gw3"
    r1 = by_port(gateway_views(topo))[("r1", "r1-ext")]
    assert (r1.active_observed, r1.observed_source) == ("gw3", "nb-status")
    assert r1.claimed_source == "nb-hosting-chassis"
    assert r1.active_predicted == "gw9" and r1.differs   # no SB: gw9 counts as registered


@pytest.mark.parametrize("release, cause, announces", [
    ("23.03.1", "every 500 ms", False),        # claim fighting, fixed in 24.03.7
    ("24.03.7", "split from the others by BFD", False),
    ("25.03.1", "every 500 ms", False),
    ("25.03.2", "split from the others by BFD", True),   # only the claimer GARPs/announces
    ("26.03.1", "split from the others by BFD", True),
])
def test_claimed_differs_note_names_the_release_cause(mixed: tuple[Path, Path], release: str,
                                                      cause: str, announces: bool) -> None:
    """ovn-changes §1.1: claim fighting before 24.03.7/25.03.2/25.09.0; from 25.03.2 only
    the claimed chassis sends GARPs and announces routes."""
    nb, sb = mixed
    topo = Topology(open_snapshot(str(nb), "nb"), open_snapshot(str(sb), "sb"), release)
    r1 = by_port(gateway_views(topo))[("r1", "r1-ext")]
    (note,) = [n for n in r1.notes if "claimed by" in n]
    assert "claimed by gw2" in note and "predicted gw1" in note and cause in note
    assert ("only gw2 sends GARPs" in note) is announces
    assert r1.claimed_source == "sb-port-binding"
    # the same port when claim and prediction agree: no note
    r2 = by_port(gateway_views(topo))[("r2", "r2-ext")]
    assert not [n for n in r2.notes if "claimed by" in n]


def test_claim_by_a_chassis_sb_no_longer_has_is_stale(mixed: tuple[Path, Path]) -> None:
    topo = topology(*mixed)
    port = next(p for p in topo.router_ports.values() if p.name == "r1-ext")
    topo._observed[port.uuid] = ("gw-gone", "sb")     # a binding to a deleted chassis
    r1 = by_port(gateway_views(topo))[("r1", "r1-ext")]
    (note,) = [n for n in r1.notes if "claimed by" in n]
    assert "no longer a registered chassis" in note and "stale" in note


# -- the CLI contract ----------------------------------------------------------------------------
def test_json_contract_5050_with_hostnames(k5050: tuple[Path, Path]) -> None:
    nb, sb = k5050
    data = json.loads(cli("gateways", "--db", str(nb), "--sb", str(sb), "-f", "json",
                          check_rc=0).stdout)
    (gp,) = data["gateway_ports"]
    for key in ("router", "port", "source", "members", "active_predicted", "active_observed"):
        assert key in gp
    assert gp["router"] == "vpc1" and gp["port"] == "vpc1-external0"
    assert gp["source"] == "gateway_chassis"
    assert [(m["chassis"], m["priority"]) for m in gp["members"]] == [(GW_A, 100), (GW_B, 99)]
    assert [m["hostname"] for m in gp["members"]] == [HOSTS[GW_A], HOSTS[GW_B]]
    assert [m["gateway_chassis_row"] for m in gp["members"]] == [
        f"vpc1-external0-{GW_A}", f"vpc1-external0-{GW_B}"]
    assert gp["active_predicted"] == gp["active_observed"] == GW_A
    assert gp["active_observed_hostname"] == "vnode-103-177"
    assert gp["differs"] is False and gp["sb_ha_chassis_group"] == "vpc1-external0"
    assert gp["claimed_source"] == "sb-port-binding" and gp["observed_source"] == "sb"


def test_nb_only_observed_is_null(k5050: tuple[Path, Path]) -> None:
    data = json.loads(cli("gateways", "--db", str(k5050[0]), "-f", "json",
                          check_rc=0).stdout)
    (gp,) = data["gateway_ports"]
    assert gp["active_observed"] is None and gp["active_predicted"] == GW_A
    assert gp["claimed_source"] is None
    assert "sb_members" not in gp


def test_router_filter_csv_and_errors(mixed: tuple[Path, Path]) -> None:
    nb, sb = mixed
    data = json.loads(cli("gateways", "--db", str(nb), "--router", "r3", "-f", "json",
                          check_rc=0).stdout)
    assert [g["port"] for g in data["gateway_ports"]] == ["r3-ext"]
    csv = cli("gateways", "--db", str(nb), "-f", "csv", check_rc=0).stdout.splitlines()
    assert csv[0].startswith("router,port,source,member_list,active_predicted,active_observed")
    assert len(csv) == 1 + 4
    proc = cli("gateways", "--db", str(nb), "--router", "nope", check_rc=2)
    assert proc.stderr.count("\n") == 1 and "nope" in proc.stderr
    proc = cli("gateways", "--db", str(nb.parent / "missing.db"), check_rc=2)
    assert "missing.db" in proc.stderr and "Traceback" not in proc.stderr


def test_lab_helpers_build_mixed_with_sync(tmp_path: Path) -> None:
    """The mixed scenario's DGPs all get a cr- port binding from northd (sanity)."""
    with OvnLab() as lab:
        lab.start_nb().start_sb().start_northd()
        build_mixed(lab)
        lab.sync()
        pbs = lab.sbctl_json("--columns=logical_port", "find", "Port_Binding",
                             "type=chassisredirect")
    assert sorted(r[0] for r in pbs["data"]) == ["cr-r1-ext", "cr-r2-ext", "cr-r3-ext"]


def test_centralized_nat_shows_claim_and_prediction(mixed: tuple[Path, Path]) -> None:
    """A centralized NAT's chassis is the claim (gw2); the prediction (gw1) is kept beside
    it when they differ (ovn-changes §1.1)."""
    nb, sb = mixed
    data = json.loads(cli("nat", "--db", str(nb), "--sb", str(sb), "-f", "json",
                          check_rc=0).stdout)
    rows = {(r["router"], r["external_ip"], r["type"]): r for r in data["nats"]}
    cfip = rows[("r1", "172.16.0.15", "dnat_and_snat")]
    assert (cfip["chassis"], cfip["chassis_source"], cfip["chassis_predicted"]) == (
        "gw2", "sb", "gw1")
    r2 = rows[("r2", "172.16.0.2", "snat")]          # predicted gw2, nothing claimed
    assert (r2["chassis"], r2["chassis_source"], r2["chassis_predicted"]) == (
        "gw2", "predicted", None)
    table = cli("nat", "--db", str(nb), "--sb", str(sb), "--router", "r1", check_rc=0).stdout
    assert "claimed; predicted host-gw1" in table
