"""The northd oracle must reproduce the lab-notes §3 findings table, on every OVN build the
machine has (23.03, and 25.03/26.03 from scripts/ovn-versions.sh); where northd changed,
the expectation is keyed on the running northd's release."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

from tests.conftest import release_of
from tests.oracle import (
    NAT_STAGES,
    Flow,
    Nat,
    OracleError,
    OracleVerdict,
    attribute_flows,
    classify,
    clear_nb,
    oracle_from_lab,
    oracle_from_tables,
    run_northd_oracle,
    stop_lab,
)
from tests.ovnlab import OvnBuild, OvnLab, have_ovn

ovn = pytest.mark.skipif(not have_ovn(), reason="OVN binaries not installed")


# --------------------------------------------------------------------------------------
# ovn-nbctl helpers
# --------------------------------------------------------------------------------------
def add_switch(lab: OvnLab, ls: str, localnet: Optional[str] = None) -> None:
    lab.add_switch(ls, localnet, localnet=f"ln-{ls}")


def connect(lab: OvnLab, lr: str, ls: str, lrp: str, mac: str, *networks: str) -> None:
    """LRP ``lrp`` on ``lr`` plus its router-type peer LSP ``rp-<lrp>`` on ``ls``."""
    lab.connect(lr, ls, lrp, mac, *networks, peer=f"rp-{lrp}")


def add_pod(lab: OvnLab, ls: str, name: str, mac: str, ip: str) -> None:
    lab.nbctl("lsp-add", ls, name, "--", "lsp-set-addresses", name, f"{mac} {ip}")


def raw_nat(lab: OvnLab, lr: str, **cols: str) -> None:
    """A NAT row created with ``create NAT`` (bypasses lr-nat-add's checks)."""
    kv = [f'{k}="{v}"' for k, v in cols.items()]
    lab.nbctl("--id=@n", "create", "NAT", *kv, "--", "add", "Logical_Router", lr, "nat", "@n")


def build_scenario(lab: OvnLab) -> None:
    """lab-notes §3 scenario.sh: vpc1 (Gateway_Chassis DGP) and vpc2 (HA group DGP)."""
    n = lab.nbctl
    add_switch(lab, "external0", localnet="external0")
    # vpc1
    n("lr-add", "vpc1")
    add_switch(lab, "vpc1-subnet1")
    connect(lab, "vpc1", "vpc1-subnet1", "vpc1-vpc1-subnet1", "00:00:00:00:01:01", "192.168.0.1/24")
    for i in (1, 2, 3):
        add_pod(lab, "vpc1-subnet1", f"pod{i}.ns1", f"00:00:00:00:00:0{i + 3}", f"192.168.0.{i + 3}")
    connect(lab, "vpc1", "external0", "vpc1-external0", "00:00:00:e1:00:01", "10.9.101.1/24")
    n("lrp-set-gateway-chassis", "vpc1-external0", "node-177", "100")
    n("lrp-set-gateway-chassis", "vpc1-external0", "node-46", "90")
    n("lr-nat-add", "vpc1", "dnat_and_snat", "10.9.101.9", "192.168.0.4", "pod1.ns1",
      "00:00:00:00:09:09")
    n("lr-nat-add", "vpc1", "dnat_and_snat", "10.9.101.10", "192.168.0.5")
    n("lr-nat-add", "vpc1", "snat", "10.9.101.11", "192.168.0.0/24")
    raw_nat(lab, "vpc1", type="dnat_and_snat", external_ip="10.9.101.12",
            logical_ip="192.168.0.12", logical_port="pod3.ns1")
    raw_nat(lab, "vpc1", type="dnat_and_snat", external_ip="10.9.101.13",
            logical_ip="192.168.0.13", logical_port="pod3.ns1", external_mac="not-a-mac")
    raw_nat(lab, "vpc1", type="dnat", external_ip="10.9.101.14", logical_ip="192.168.0.14")
    # vpc2: DGP on an NB HA_Chassis_Group
    n("lr-add", "vpc2")
    add_switch(lab, "vpc2-subnet1")
    connect(lab, "vpc2", "vpc2-subnet1", "vpc2-vpc2-subnet1", "00:00:00:00:02:01", "192.168.2.1/24")
    for i in (1, 2):
        add_pod(lab, "vpc2-subnet1", f"pod{i}.ns2", f"00:00:00:00:02:0{i + 3}", f"192.168.2.{i + 3}")
    connect(lab, "vpc2", "external0", "vpc2-external0", "00:00:00:e2:00:01", "10.9.101.2/24")
    n("ha-chassis-group-add", "hagrp-vpc2")
    n("ha-chassis-group-add-chassis", "hagrp-vpc2", "node-176", "100")
    n("ha-chassis-group-add-chassis", "hagrp-vpc2", "node-46", "50")
    grp = n("--bare", "--columns=_uuid", "find", "HA_Chassis_Group", "name=hagrp-vpc2").strip()
    n("set", "Logical_Router_Port", "vpc2-external0", f"ha_chassis_group={grp}")
    n("lr-nat-add", "vpc2", "dnat_and_snat", "10.9.101.20", "192.168.2.4", "pod1.ns2",
      "00:00:00:00:02:20")
    n("lr-nat-add", "vpc2", "dnat_and_snat", "10.9.101.21", "192.168.2.5")
    n("lr-nat-add", "vpc2", "snat", "10.9.101.22", "192.168.2.0/24")


def build_edge(lab: OvnLab) -> None:
    """lab-notes §3 scenario-edge.sh, plus a gateway router, IPv6 FIPs and an unmatched IP."""
    n = lab.nbctl
    # vpc1 extras
    raw_nat(lab, "vpc1", type="dnat_and_snat", external_ip="10.9.101.15",
            logical_ip="192.168.0.9", logical_port="ghost.ns1", external_mac="00:00:00:00:09:15")
    n("--stateless", "lr-nat-add", "vpc1", "dnat_and_snat", "10.9.101.16", "192.168.0.6",
      "pod3.ns1", "00:00:00:00:09:16")
    raw_nat(lab, "vpc1", type="snat", external_ip="10.9.101.17", logical_ip="192.168.0.5",
            logical_port="pod2.ns1", external_mac="00:00:00:00:09:17")
    # dnat with port+mac: DNAT centralized, ARP on the port (ovn-semantics §1.6 "broken")
    raw_nat(lab, "vpc1", type="dnat", external_ip="10.9.101.18", logical_ip="192.168.0.18",
            logical_port="pod1.ns1", external_mac="00:00:00:00:09:18")
    # port range: ct_dnat(ip,1000-2000) / ct_snat(ip,1000-2000)
    n("--portrange", "lr-nat-add", "vpc1", "dnat_and_snat", "10.9.101.19", "192.168.0.19",
      "1000-2000")
    # vpc3: two DGPs on two external switches
    add_switch(lab, "external1", localnet="external1")
    n("lr-add", "vpc3")
    add_switch(lab, "vpc3-subnet1")
    connect(lab, "vpc3", "vpc3-subnet1", "vpc3-vpc3-subnet1", "00:00:00:00:03:01", "192.168.3.1/24")
    for i in (1, 2):
        add_pod(lab, "vpc3-subnet1", f"pod{i}.ns3", f"00:00:00:00:03:0{i + 3}", f"192.168.3.{i + 3}")
    connect(lab, "vpc3", "external0", "vpc3-external0", "00:00:00:e3:00:01", "10.9.103.1/24")
    connect(lab, "vpc3", "external1", "vpc3-external1", "00:00:00:e3:01:01", "10.9.113.1/24")
    n("lrp-set-gateway-chassis", "vpc3-external0", "node-177", "100")
    n("lrp-set-gateway-chassis", "vpc3-external1", "node-46", "100")
    n("lr-nat-add", "vpc3", "dnat_and_snat", "10.9.103.30", "192.168.3.4", "pod1.ns3",
      "00:00:00:00:03:30")
    n("lr-nat-add", "vpc3", "dnat_and_snat", "10.9.103.31", "192.168.3.5", "pod2.ns3",
      "00:00:00:00:03:31")
    n("--gateway-port=vpc3-external1", "lr-nat-add", "vpc3", "dnat_and_snat", "10.9.103.32",
      "192.168.3.32")
    n("lr-nat-add", "vpc3", "dnat_and_snat", "10.9.113.33", "192.168.3.33")
    # in neither DGP's subnet: lr-nat-add refuses it, raw rows get through
    raw_nat(lab, "vpc3", type="dnat_and_snat", external_ip="10.9.200.34", logical_ip="192.168.3.34")
    # vpc4: a plain uplink, no DGP
    n("lr-add", "vpc4")
    add_switch(lab, "vpc4-subnet1")
    connect(lab, "vpc4", "vpc4-subnet1", "vpc4-vpc4-subnet1", "00:00:00:00:04:01", "192.168.4.1/24")
    add_pod(lab, "vpc4-subnet1", "pod1.ns4", "00:00:00:00:04:04", "192.168.4.4")
    connect(lab, "vpc4", "external0", "vpc4-external0", "00:00:00:e4:00:01", "10.9.101.4/24")
    n("lr-nat-add", "vpc4", "dnat_and_snat", "10.9.101.40", "192.168.4.4", "pod1.ns4",
      "00:00:00:00:04:40")
    n("lr-nat-add", "vpc4", "snat", "10.9.101.41", "192.168.4.0/24")
    # gw1: gateway router (options:chassis); port+mac are ignored there
    n("lr-add", "gw1", "--", "set", "Logical_Router", "gw1", "options:chassis=node-177")
    add_switch(lab, "gw1-subnet1")
    connect(lab, "gw1", "gw1-subnet1", "gw1-gw1-subnet1", "00:00:00:00:05:01", "192.168.5.1/24")
    add_pod(lab, "gw1-subnet1", "pod1.ns5", "00:00:00:00:05:04", "192.168.5.4")
    connect(lab, "gw1", "external0", "gw1-external0", "00:00:00:e5:00:01", "10.9.101.5/24")
    n("lr-nat-add", "gw1", "dnat_and_snat", "10.9.101.50", "192.168.5.4", "pod1.ns5",
      "00:00:00:00:05:50")
    n("lr-nat-add", "gw1", "snat", "10.9.101.51", "192.168.5.0/24")
    # vpc6: dual-stack DGP, IPv6 FIPs
    n("lr-add", "vpc6")
    add_switch(lab, "vpc6-subnet1")
    connect(lab, "vpc6", "vpc6-subnet1", "vpc6-vpc6-subnet1", "00:00:00:00:06:01",
            "192.168.6.1/24", "fd00:6::1/64")
    add_pod(lab, "vpc6-subnet1", "pod1.ns6", "00:00:00:00:06:04", "192.168.6.4 fd00:6::4")
    add_pod(lab, "vpc6-subnet1", "pod2.ns6", "00:00:00:00:06:05", "192.168.6.5 fd00:6::5")
    connect(lab, "vpc6", "external0", "vpc6-external0", "00:00:00:e6:00:01",
            "10.9.106.1/24", "2001:db8:106::1/64")
    n("lrp-set-gateway-chassis", "vpc6-external0", "node-177", "100")
    n("lr-nat-add", "vpc6", "dnat_and_snat", "2001:db8:106::9", "fd00:6::4", "pod1.ns6",
      "00:00:00:00:06:09")
    n("lr-nat-add", "vpc6", "dnat_and_snat", "2001:db8:106::10", "fd00:6::5")
    n("--portrange", "lr-nat-add", "vpc6", "snat", "2001:db8:106::11", "fd00:6::/64", "1000-2000")


# Expected verdicts: (router, external_ip) -> (verdict, resident_port, gateway_port)
EXPECTED: Dict[Tuple[str, str], Tuple[str, Optional[str], Optional[str]]] = {
    ("vpc1", "10.9.101.9"): ("distributed", "pod1.ns1", "vpc1-external0"),
    ("vpc1", "10.9.101.10"): ("centralized", "cr-vpc1-external0", "vpc1-external0"),
    ("vpc1", "10.9.101.11"): ("centralized", "cr-vpc1-external0", "vpc1-external0"),
    ("vpc1", "10.9.101.12"): ("centralized", "cr-vpc1-external0", "vpc1-external0"),
    ("vpc1", "10.9.101.13"): ("no-nat-flows", None, None),
    ("vpc1", "10.9.101.14"): ("centralized", "cr-vpc1-external0", "vpc1-external0"),
    ("vpc1", "10.9.101.15"): ("distributed", "ghost.ns1", "vpc1-external0"),
    ("vpc1", "10.9.101.16"): ("distributed", "pod3.ns1", "vpc1-external0"),
    ("vpc1", "10.9.101.17"): ("centralized", "cr-vpc1-external0", "vpc1-external0"),
    ("vpc1", "10.9.101.18"): ("centralized", "cr-vpc1-external0", "vpc1-external0"),
    ("vpc1", "10.9.101.19"): ("centralized", "cr-vpc1-external0", "vpc1-external0"),
    ("vpc2", "10.9.101.20"): ("distributed", "pod1.ns2", "vpc2-external0"),
    ("vpc2", "10.9.101.21"): ("centralized", "cr-vpc2-external0", "vpc2-external0"),
    ("vpc2", "10.9.101.22"): ("centralized", "cr-vpc2-external0", "vpc2-external0"),
    ("vpc3", "10.9.103.30"): ("distributed", "pod1.ns3", "vpc3-external0"),
    ("vpc3", "10.9.103.31"): ("distributed", "pod2.ns3", "vpc3-external0"),
    ("vpc3", "10.9.103.32"): ("centralized", "cr-vpc3-external1", "vpc3-external1"),
    ("vpc3", "10.9.113.33"): ("centralized", "cr-vpc3-external1", "vpc3-external1"),
    ("vpc3", "10.9.200.34"): ("no-nat-flows", None, None),
    ("vpc4", "10.9.101.40"): ("no-nat-flows", None, None),
    ("vpc4", "10.9.101.41"): ("no-nat-flows", None, None),
    ("gw1", "10.9.101.50"): ("centralized", None, None),
    ("gw1", "10.9.101.51"): ("centralized", None, None),
    ("vpc6", "2001:db8:106::9"): ("distributed", "pod1.ns6", "vpc6-external0"),
    ("vpc6", "2001:db8:106::10"): ("centralized", "cr-vpc6-external0", "vpc6-external0"),
    ("vpc6", "2001:db8:106::11"): ("centralized", "cr-vpc6-external0", "vpc6-external0"),
}


def by_ip(lab: OvnLab, verdicts: Dict[str, OracleVerdict]) -> Dict[Tuple[str, str], OracleVerdict]:
    """Re-key verdicts by (router name, external_ip)."""
    nats = lab.nbctl_json("--columns=_uuid,external_ip", "list", "NAT")
    ip = {r[0][1]: r[1] for r in nats["data"]}
    return {(v.router or "", ip[u]): v for u, v in verdicts.items()}


@pytest.fixture(scope="module")
def lab(ovn_build: OvnBuild) -> Iterator[OvnLab]:
    lab = OvnLab(build=ovn_build)
    try:
        lab.start_nb().start_sb().start_northd()
        yield lab
    finally:
        stop_lab(lab)


@pytest.fixture(scope="module")
def scenario(lab: OvnLab) -> Dict[Tuple[str, str], OracleVerdict]:
    clear_nb(lab)
    build_scenario(lab)
    build_edge(lab)
    return by_ip(lab, oracle_from_lab(lab, timeout=20))


# --------------------------------------------------------------------------------------
# Findings table
# --------------------------------------------------------------------------------------
@ovn
@pytest.mark.ovn
@pytest.mark.parametrize("key", list(EXPECTED), ids=lambda k: f"{k[0]}-{k[1]}")
def test_findings_table(scenario: Dict[Tuple[str, str], OracleVerdict], key: Tuple[str, str]) -> None:
    v = scenario[key]
    assert (v.verdict, v.resident_port, v.gateway_port) == EXPECTED[key], v
    assert v.gateway_router == (key[0] == "gw1")
    if v.verdict != "mixed":
        assert not v.notes, v.notes


@ovn
@pytest.mark.ovn
def test_scenario_is_complete(scenario: Dict[Tuple[str, str], OracleVerdict]) -> None:
    assert set(scenario) == set(EXPECTED)


@ovn
@pytest.mark.ovn
def test_stage_gating_matches_lab_notes(scenario: Dict[Tuple[str, str], OracleVerdict],
                                        ovn_build: OvnBuild) -> None:
    release = release_of(ovn_build)
    d = scenario[("vpc1", "10.9.101.9")].stages
    assert d["lr_out_snat"] == {"pod1.ns1"}
    for s in ("lr_in_unsnat", "lr_in_dnat", "lr_out_undnat"):
        assert d[s] == {"-"}, s
    assert d["lr_in_gw_redirect"] == {"pod1.ns1"}
    assert "pod1.ns1" in d["lr_in_ip_input"]
    c = scenario[("vpc1", "10.9.101.10")].stages
    for s in ("lr_in_unsnat", "lr_in_dnat", "lr_out_undnat", "lr_out_snat"):
        assert c[s] == {"cr-vpc1-external0"}, s
    snat = scenario[("vpc1", "10.9.101.11")].stages
    assert "lr_in_dnat" not in snat and "lr_out_undnat" not in snat
    dnat = scenario[("vpc1", "10.9.101.14")].stages
    assert "lr_in_unsnat" not in dnat and "lr_out_snat" not in dnat
    # bad MAC: 23.03 keeps only ARP flows, which do not count as NAT flows; >= 25.03 drops
    # the invalid NAT entirely (ovn-changes §2.7)
    bad_mac = set(scenario[("vpc1", "10.9.101.13")].stages)
    assert bad_mac == ({"lr_in_ip_input"} if release < (25, 3, 0) else set())
    # snat with port+mac: NAT centralized, but its ARP reply gated on the port (quirk)
    assert "pod2.ns1" in scenario[("vpc1", "10.9.101.17")].stages["lr_in_ip_input"]
    assert "pod1.ns1" in scenario[("vpc1", "10.9.101.18")].stages["lr_in_ip_input"]
    # gateway router: NAT flows without any residency check
    gw = scenario[("gw1", "10.9.101.50")].stages
    assert gw["lr_in_dnat"] == {"-"} and gw["lr_out_snat"] == {"-"}


# --------------------------------------------------------------------------------------
# Running northd on a file, and reusing one lab
# --------------------------------------------------------------------------------------
@ovn
@pytest.mark.ovn
def test_run_northd_oracle_on_file(tmp_path: Path, ovn_build: OvnBuild) -> None:
    lab = OvnLab(build=ovn_build)
    try:
        lab.start_nb()
        build_scenario(lab)
        nb_file = tmp_path / "nb.db"
        nb_file.write_bytes(lab.nb_db.read_bytes())
        uuids = {r[0][1]: r[1] for r in lab.nbctl_json("--columns=_uuid,external_ip", "list",
                                                        "NAT")["data"]}
    finally:
        stop_lab(lab)
    before = nb_file.read_bytes()
    t0 = time.monotonic()
    res = run_northd_oracle(nb_file, build=ovn_build)
    elapsed = time.monotonic() - t0
    assert elapsed < 2.0, elapsed
    assert set(res) == set(uuids)
    got = {(v.router, uuids[u]): (v.verdict, v.resident_port, v.gateway_port) for u, v in res.items()}
    assert got == {k: e for k, e in EXPECTED.items() if k in got}
    assert len(got) == 9
    assert nb_file.read_bytes() == before  # northd wrote to a copy, not to our file
    lean = run_northd_oracle(nb_file, stages=NAT_STAGES, build=ovn_build)  # same verdicts without the extras
    assert {u: v.summary() for u, v in lean.items()} == {u: v.summary() for u, v in res.items()}


@ovn
@pytest.mark.ovn
def test_lab_reuse_with_clear_nb(lab: OvnLab, scenario: Dict[Tuple[str, str], OracleVerdict]) -> None:
    clear_nb(lab)
    assert oracle_from_lab(lab) == {}
    n = lab.nbctl
    n("lr-add", "r1")
    add_switch(lab, "ext")
    connect(lab, "r1", "ext", "r1-ext", "00:00:00:aa:00:01", "10.0.0.1/24")
    n("lrp-set-gateway-chassis", "r1-ext", "c1", "1")
    n("lr-nat-add", "r1", "dnat_and_snat", "10.0.0.9", "172.16.0.9")
    res = oracle_from_lab(lab)
    (v,) = res.values()
    assert (v.verdict, v.resident_port, v.gateway_port) == ("centralized", "cr-r1-ext", "r1-ext")


@ovn
@pytest.mark.ovn
def test_merged_and_duplicate_flows(lab: OvnLab, scenario: Dict[Tuple[str, str], OracleVerdict],
                                    ovn_build: OvnBuild) -> None:
    """Identical flows are emitted once: on a Logical_DP_Group across gateway routers, or
    once per router for identical NAT rows; each NAT still gets its verdict."""
    clear_nb(lab)
    n = lab.nbctl
    add_switch(lab, "ext")
    for i in (1, 2):
        n("lr-add", f"gw{i}", "--", "set", "Logical_Router", f"gw{i}", "options:chassis=c1")
        connect(lab, f"gw{i}", "ext", f"gw{i}-ext", f"00:00:00:aa:00:0{i}", f"10.0.0.{i}/24")
        n("lr-nat-add", f"gw{i}", "dnat_and_snat", "10.0.0.9", "192.168.0.4")
        n("lr-nat-add", f"gw{i}", "snat", "10.0.0.10", "192.168.0.0/24")
    n("lr-add", "r3")
    connect(lab, "r3", "ext", "r3-ext", "00:00:00:aa:00:03", "10.0.0.3/24")
    n("lrp-set-gateway-chassis", "r3-ext", "c1", "1")
    for _ in (1, 2):
        raw_nat(lab, "r3", type="dnat_and_snat", external_ip="10.0.0.39", logical_ip="192.168.3.4",
                logical_port="p3", external_mac="00:00:00:00:03:39")
    res = oracle_from_lab(lab)
    assert len(res) == 6
    merged = lab.sbctl("--bare", "--columns=logical_dp_group", "find", "Logical_Flow",
                       "external_ids:stage-name=lr_in_dnat")
    assert merged.strip(), "expected gw1/gw2 DNAT flows merged on a Logical_DP_Group"
    gw = [v for v in res.values() if v.router in ("gw1", "gw2")]
    assert all(v.verdict == "centralized" and v.gateway_router for v in gw), gw
    assert all("lr_in_dnat" in v.stages or "lr_in_unsnat" in v.stages for v in gw)
    r3 = [v for v in res.values() if v.router == "r3"]
    # "ext" has no localnet: >= 25.03 gives r3-ext's peer a cr port, so rule 13 centralizes
    expected = (("distributed", "p3") if release_of(ovn_build) < (25, 3, 0)
                else ("centralized", "cr-r3-ext"))
    assert [(v.verdict, v.resident_port) for v in r3] == [expected] * 2
    assert sorted(v.duplicate_of is None for v in r3) == [False, True]


@ovn
@pytest.mark.ovn
def test_northd_assertion_raises(tmp_path: Path, ovn_build: OvnBuild) -> None:
    """lab-notes pitfall 3: a dangling LRP peer makes northd 23.03 abort; sync must not hang.
    25.03 and later survive it (ovn-changes §2.7)."""
    lab = OvnLab(build=ovn_build)
    try:
        lab.start_nb().start_sb().start_northd()
        n = lab.nbctl
        n("lr-add", "r1")
        add_switch(lab, "ls1")
        connect(lab, "r1", "ls1", "r1-ls1", "00:00:00:aa:00:01", "10.0.0.1/24")
        n("set", "Logical_Router_Port", "r1-ls1", "peer=nonexistent")
        t0 = time.monotonic()
        if release_of(ovn_build) >= (25, 3, 0):
            assert oracle_from_lab(lab, timeout=20) == {}
            return
        with pytest.raises(OracleError, match="assertion"):
            oracle_from_lab(lab, timeout=20)
        assert time.monotonic() - t0 < 2  # northd's death is noticed, no 20 s wait
    finally:
        stop_lab(lab)


# --------------------------------------------------------------------------------------
# Attribution unit tests (no OVN needed)
# --------------------------------------------------------------------------------------
def mk_flow(stage: str, match: str, actions: str, hint: str, dp: str = "dp-r1") -> Flow:
    return Flow(uuid=f"{stage}-{match}", stage=stage, pipeline="", priority=100, match=match,
                actions=actions, hint=hint, datapaths=frozenset({dp}))


def test_stage_hint_collision_disambiguated_by_ip() -> None:
    """Two NATs whose UUIDs share the 8-hex stage-hint: flows go by IP (pitfall 5)."""
    a = Nat(uuid="deadbeef-0000-4000-8000-00000000000a", type="dnat_and_snat",
            external_ip="10.0.0.9", logical_ip="192.168.0.4", logical_port="pod1",
            external_mac="00:00:00:00:00:09", gateway_port=None, routers=frozenset({"lr1"}))
    b = Nat(uuid="deadbeef-0000-4000-8000-00000000000b", type="dnat_and_snat",
            external_ip="10.0.0.10", logical_ip="192.168.0.5", logical_port=None,
            external_mac=None, gateway_port=None, routers=frozenset({"lr1"}))
    h, cr, gw = "deadbeef", 'is_chassis_resident("cr-r1-ext")', 'outport == "r1-ext"'
    flows: List[Flow] = [
        mk_flow("lr_in_unsnat", 'ip && ip4.dst == 10.0.0.9 && inport == "r1-ext"', "ct_snat;", h),
        mk_flow("lr_in_dnat", 'ip && ip4.dst == 10.0.0.9 && inport == "r1-ext"',
                "ct_dnat_in_czone(192.168.0.4);", h),
        mk_flow("lr_out_undnat", f"ip && ip4.src == 192.168.0.4 && {gw}", "ct_dnat_in_czone;", h),
        mk_flow("lr_out_snat", f'ip && ip4.src == 192.168.0.4 && {gw} && is_chassis_resident("pod1")',
                "eth.src = 00:00:00:00:00:09; ct_snat_in_czone(10.0.0.9);", h),
        mk_flow("lr_in_unsnat", f'ip && ip4.dst == 10.0.0.10 && inport == "r1-ext" && {cr}',
                "ct_snat;", h),
        mk_flow("lr_in_dnat", f'ip && ip4.dst == 10.0.0.10 && inport == "r1-ext" && {cr}',
                "ct_dnat_in_czone(192.168.0.5);", h),
        mk_flow("lr_out_undnat", f"ip && ip4.src == 192.168.0.5 && {gw} && {cr}",
                "ct_dnat_in_czone;", h),
        mk_flow("lr_out_snat", f"ip && ip4.src == 192.168.0.5 && {gw} && {cr}",
                "ct_snat_in_czone(10.0.0.10);", h),
        mk_flow("lr_in_ip_input", "arp.op == 1 && arp.tpa == 10.0.0.10", "output;", h),
        # same hint on another router's datapath: belongs to neither
        mk_flow("lr_in_dnat", "ip && ip4.dst == 10.0.0.9", "ct_dnat(192.168.0.4);", h, dp="dp-r2"),
    ]
    got, orphans = attribute_flows(flows, {a.uuid: a, b.uuid: b}, {"dp-r1": "lr1", "dp-r2": "lr2"})
    assert not orphans
    assert len(got[a.uuid]) == 4 and len(got[b.uuid]) == 5
    va, vb = classify(a, got[a.uuid]), classify(b, got[b.uuid])
    assert (va.verdict, va.resident_port, va.gateway_port) == ("distributed", "pod1", "r1-ext")
    assert (vb.verdict, vb.resident_port, vb.gateway_port) == ("centralized", "cr-r1-ext", "r1-ext")


def test_oracle_from_tables_json_datums() -> None:
    """Columns are found by heading (any order); groups, sets and maps are decoded."""
    nat_u, lr_u, dp_u, grp_u = "abcdef12-0000-4000-8000-000000000001", "lr-u", "dp-u", "grp-u"
    lflows = {
        "headings": ["match", "external_ids", "_uuid", "logical_dp_group", "logical_datapath",
                     "actions", "pipeline", "priority"],
        "data": [
            ['ip && ip6.dst == 2001:db8::9 && inport == "p"',
             ["map", [["stage-hint", "abcdef12"], ["stage-name", "lr_in_dnat"]]],
             ["uuid", "f1"], ["uuid", grp_u], ["set", []], "ct_dnat(fd00::4);", "ingress", 100],
        ],
    }
    dps = {"headings": ["external_ids", "_uuid"],
           "data": [[["map", [["logical-router", lr_u], ["name", "r"]]], ["uuid", dp_u]]]}
    groups = {"headings": ["_uuid", "datapaths"], "data": [[["uuid", grp_u], ["uuid", dp_u]]]}
    nats = {"headings": ["type", "_uuid", "external_ip", "logical_ip", "logical_port",
                         "external_mac", "gateway_port"],
            "data": [["dnat_and_snat", ["uuid", nat_u], "2001:0db8::0009", "fd00:0::4",
                      ["set", []], ["set", []], ["set", []]]]}
    routers = {"headings": ["name", "_uuid", "nat", "options"],
               "data": [["r", ["uuid", lr_u], ["uuid", nat_u], ["map", [["chassis", "c1"]]]]]}
    (v,) = oracle_from_tables(lflows, dps, groups, nats, routers).values()
    assert v.verdict == "centralized" and v.gateway_router and v.resident_port is None
    assert v.stages == {"lr_in_dnat": {"-"}}


def test_classify_mixed_and_no_flows() -> None:
    nat = Nat(uuid="u1", type="dnat_and_snat", external_ip="10.0.0.9", logical_ip="10.1.0.4",
              logical_port="p1", external_mac="00:00:00:00:00:09", gateway_port=None,
              routers=frozenset({"lr1"}))
    arp = mk_flow("lr_in_ip_input", 'arp.tpa == 10.0.0.9 && is_chassis_resident("p1")', "", "u1")
    assert classify(nat, [arp]).verdict == "no-nat-flows"
    half = [mk_flow("lr_in_dnat", 'ip4.dst == 10.0.0.9 && is_chassis_resident("cr-x")', "", "u1"),
            mk_flow("lr_out_snat", 'ip4.src == 10.1.0.4 && is_chassis_resident("p1")', "", "u1")]
    v = classify(nat, half)
    assert v.verdict == "mixed" and v.resident_port is None and v.notes
    gw = classify(nat, half, gateway_router=True)
    assert gw.verdict == "mixed" and gw.gateway_router


def test_required_builds_present() -> None:
    """CI (scripts/test.sh as root) must run the oracle tier on every release it names."""
    from tests.ovnlab import builds

    required = [r for r in os.environ.get("OVNINSPECT_REQUIRE_BUILDS", "").split(",") if r]
    have = {b.series for b in builds()}
    assert set(required) <= have, f"missing OVN builds {set(required) - have}; have {have}"
