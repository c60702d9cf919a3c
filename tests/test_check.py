"""``ovninspect check`` rules on NBs built with the real ovn-nbctl/ovn-sbctl.

Each rule has a scenario (tests/check_scenarios.py) with rows that trigger it and near
misses that must not; the tests assert the slug, the severity and the object named.  Rules
that encode OVN behaviour (nat-invalid, nat-inactive, dnat-blackhole) are also checked
against ovn-northd's logical flows (tests/oracle.py): a NAT reported invalid or inactive gets
no NAT flows, a black-holed dnat is centralized on the gateway.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest

from ovninspect.analysis.checks import (
    RULES,
    SEVERITIES,
    CheckResult,
    Finding,
    resolve_slugs,
    run_checks,
)
from ovninspect.analysis.gateways import gateway_views
from ovninspect.answers.nat import nat_answer
from ovninspect.sources import open_snapshot
from ovninspect.topology import Topology
from tests.check_scenarios import NEUTRON_ROUTER, built
from tests.oracle import run_northd_oracle

ovn = pytest.mark.ovn


def topology(name: str, ovn_version: Optional[str] = None) -> Topology:
    nb, sb = built(name)
    return Topology(open_snapshot(str(nb)), open_snapshot(str(sb), "sb") if sb else None,
                    ovn_version)


def check(name: str, **kw) -> CheckResult:
    return run_checks(topology(name, kw.pop("ovn_version", None)), **kw)


def of_rule(result: CheckResult, rule: str) -> dict[str, Finding]:
    """Findings of one rule by object (objects are unique per rule in these scenarios)."""
    found = [f for f in result.findings if f.rule == rule]
    by_object = {f.object: f for f in found}
    assert len(by_object) == len(found), [f.object for f in found]
    return by_object


def assert_found(result: CheckResult, rule: str, expected: dict[str, str]) -> dict:
    """Exactly ``expected`` (object -> severity) for ``rule``."""
    got = of_rule(result, rule)
    assert {o: f.severity for o, f in got.items()} == expected, \
        "\n".join(f"{f.severity} {f.object}: {f.message}" for f in got.values())
    return got


# -- registry and runner (no OVN needed) -------------------------------------------------


def test_registry_is_complete_and_unique():
    slugs = [r.slug for r in RULES]
    assert len(slugs) == len(set(slugs))
    assert {"nat-invalid", "nat-inactive", "dnat-blackhole", "fip-intent-mismatch",
            "neutron-fip-not-distributed", "lanip-is-gateway", "nexthop-self",
            "ip-not-unique", "eip-duplicate", "eip-off-link", "port-outside-subnet",
            "gw-single-chassis", "gw-both-hcg-and-gc", "gw-unknown-chassis",
            "fip-no-bridge-mapping", "active-not-preferred"} <= set(slugs)
    for rule in RULES:
        assert rule.severity in SEVERITIES and rule.description and callable(rule.func)
    assert {r.slug for r in RULES if r.needs_sb} == {
        "gw-unknown-chassis", "fip-no-bridge-mapping", "gw-active-no-bridge-mapping",
        "gw-no-ref-chassis", "sb-cr-unclaimed", "sb-binding-dead-chassis",
        "fip-bound-elsewhere"}


def test_resolve_slugs():
    assert resolve_slugs(["nat-invalid,eip-duplicate", " nat-invalid", ""]) == [
        "nat-invalid", "eip-duplicate"]
    with pytest.raises(ValueError, match="no-such-rule"):
        resolve_slugs(["nat-invalid,no-such-rule"])


def test_findings_sort_by_severity_rule_object():
    fs = [Finding("b", "info", "x", "m"), Finding("z", "error", "b", "m"),
          Finding("a", "warning", "y", "m"), Finding("z", "error", "a", "m")]
    fs.sort(key=Finding.sort_key)
    assert [(f.severity, f.rule, f.object) for f in fs] == [
        ("error", "z", "a"), ("error", "z", "b"), ("warning", "a", "y"), ("info", "b", "x")]


# -- NAT rules -------------------------------------------------------------------------


@ovn
def test_nat_invalid():
    result = check("nat_invalid")
    got = assert_found(result, "nat-invalid", {
        "NAT 10.9.101.13 on vpc1": "error", "NAT 10.9.101.14 on vpc1": "error",
        "NAT 10.9.101.15 on vpc1": "error", "NAT 10.9.200.5 on vpc3": "error"})
    assert "not-a-mac" in got["NAT 10.9.101.13 on vpc1"].message
    assert "single address" in got["NAT 10.9.101.14 on vpc1"].message
    assert "not a distributed gateway port" in got["NAT 10.9.101.15 on vpc1"].message
    assert "gateway_port" in got["NAT 10.9.200.5 on vpc3"].hint
    # several DGPs and off-link: reported once, by nat-invalid, which says a route is needed
    # without pointing at an eip-off-link finding that is not emitted (issue 14)
    message = got["NAT 10.9.200.5 on vpc3"].message
    assert "outside every DGP's networks" in message and "route" in message
    assert "eip-off-link" not in message + got["NAT 10.9.200.5 on vpc3"].hint
    assert not of_rule(result, "eip-off-link")


@ovn
def test_nat_inactive():
    result = check("nat_inactive")
    got = assert_found(result, "nat-inactive", {"NAT 10.9.101.40 on vpc4": "error",
                                                "NAT 10.9.101.5 on vpc5": "warning",
                                                "NAT 10.9.101.7 on vpc7": "error"})
    assert "redirect-chassis" in got["NAT 10.9.101.7 on vpc7"].hint
    assert "neither a gateway router nor" in got["NAT 10.9.101.40 on vpc4"].message
    assert "lrp-set-gateway-chassis" in got["NAT 10.9.101.40 on vpc4"].hint
    assert "enabled=false" in got["NAT 10.9.101.5 on vpc5"].message
    assert not [f for f in result.findings if "gw1" in f.object]   # gateway router is fine


@ovn
def test_dnat_blackhole():
    result = check("dnat_blackhole")
    got = assert_found(result, "dnat-blackhole", {"NAT 10.9.101.14 on vpc1": "error"})
    assert "black-holed" in got["NAT 10.9.101.14 on vpc1"].message
    assert not result.findings[1:], [f.object for f in result.findings]


@ovn
def test_nat_spelling_per_release():
    """A prefix or a spelling ovn-controller refuses: flagged with what the flows do
    (rule 6; ovn-changes §3), differently before and after northd 25.03's parser."""
    old = check("nat_spelling", ovn_version="23.03")
    assert_found(old, "nat-invalid", {"NAT 10.9.101.30/24 on vpc1": "error",
                                      "NAT 10.9.101.33.7 on vpc1": "error"})
    assert_found(old, "nat-prefix-external-ip", {})
    got = assert_found(old, "nat-flows-rejected", {
        "NAT 10.9.101.31/32 on vpc1": "error", "NAT 010.9.101.32 on vpc1": "error",
        "NAT 10.9.101.36 on vpc1": "error"})
    assert "not SNATed to 10.9.101.31" in got["NAT 10.9.101.31/32 on vpc1"].message
    assert "nothing is translated" in got["NAT 010.9.101.32 on vpc1"].message
    assert "is not DNATed to 192.168.0.36/32" in got["NAT 10.9.101.36 on vpc1"].message
    new = check("nat_spelling", ovn_version="25.03")
    assert_found(new, "nat-invalid", {})
    got = assert_found(new, "nat-prefix-external-ip", {"NAT 10.9.101.30/24 on vpc1": "error"})
    assert "every address of 10.9.101.0/24" in got["NAT 10.9.101.30/24 on vpc1"].message
    got = assert_found(new, "nat-flows-rejected", {
        "NAT 10.9.101.30/24 on vpc1": "error", "NAT 10.9.101.31/32 on vpc1": "error",
        "NAT 010.9.101.32 on vpc1": "error", "NAT 10.9.101.33.7 on vpc1": "error",
        "NAT 10.9.101.36 on vpc1": "error"})
    assert "ARP for 10.9.101.33 is still answered" in got["NAT 10.9.101.33.7 on vpc1"].message


@ovn
@pytest.mark.parametrize("scenario", ["nat_invalid", "nat_inactive", "dnat_blackhole",
                                      "nat_spelling"])
def test_nat_rules_agree_with_northd(scenario, ovn_build):
    """On every OVN build: nat-invalid/nat-inactive <=> northd builds no NAT flows for the
    row; dnat-blackhole => northd centralizes the DNAT on the gateway."""
    nb, _ = built(scenario)
    oracle = run_northd_oracle(nb, build=ovn_build)
    result = check(scenario, ovn_version=ovn_build.release)
    dead = {f.details["nat_uuid"] for f in result.findings
            if f.rule in ("nat-invalid", "nat-inactive")}
    topo = topology(scenario, ovn_build.release)
    assert topo.nats and set(oracle) >= {n.uuid for n in topo.nats}
    for nat in topo.nats:
        label = f"{nat.router} {nat.type} {nat.external_ip}: {oracle[nat.uuid].summary()}"
        assert (oracle[nat.uuid].verdict == "no-nat-flows") == (nat.uuid in dead), label
    for f in of_rule(result, "dnat-blackhole").values():
        o = oracle[f.details["nat_uuid"]]
        assert o.verdict == "centralized" and o.resident_port == "cr-vpc1-external0", \
            o.summary()


@ovn
def test_fip_port_missing():
    result = check("fip_port_missing")
    got = assert_found(result, "fip-port-missing", {"NAT 10.9.101.15 on vpc1": "error"})
    assert "ghost.ns1" in got["NAT 10.9.101.15 on vpc1"].message


@ovn
def test_nat_ambiguous_gateway_port():
    result = check("ambiguous_gateway_port")
    got = assert_found(result, "nat-ambiguous-gateway-port",
                       {"NAT 10.9.101.5 on vpc3": "warning"})
    assert set(got["NAT 10.9.101.5 on vpc3"].details["candidates"]) == {
        "vpc3-external0", "vpc3-external1"}


@ovn
def test_eip_off_link():
    result = check("eip_off_link")
    got = assert_found(result, "eip-off-link", {
        "NAT 10.9.200.7 on vpc1": "warning",
        "NAT 10.9.200.8 on vpc2": "warning",    # dynamic routing set, but OVN < 25.03
        "NAT 10.9.200.6 on vpc6": "info",       # the external switch declares 10.9.0.0/16
        "NAT 2001:db8:200::7 on vpc7": "warning",
    })
    assert "via 10.9.101.1" in got["NAT 10.9.200.7 on vpc1"].message
    # an IPv6 EIP gets an IPv6 next hop (issue 14), not the DGP's IPv4 address
    v6 = got["NAT 2001:db8:200::7 on vpc7"]
    assert v6.message.endswith("via 2001:db8:107::1") and "to 2001:db8:107::1 " in v6.hint
    assert "dynamic-routing-redistribute=nat" in got["NAT 10.9.200.7 on vpc1"].hint
    assert "predates dynamic routing" in got["NAT 10.9.200.8 on vpc2"].message
    # vpc3's two-DGP off-link row is nat-invalid only
    assert set(of_rule(result, "nat-invalid")) == {"NAT 10.9.200.5 on vpc3"}


@ovn
def test_eip_off_link_suppressed_by_dynamic_routing():
    result = check("eip_off_link", ovn_version="25.03")
    assert "NAT 10.9.200.8 on vpc2" not in of_rule(result, "eip-off-link")
    assert "NAT 10.9.200.7 on vpc1" in of_rule(result, "eip-off-link")


@ovn
def test_eip_duplicate():
    result = check("eip_duplicate")
    got = assert_found(result, "eip-duplicate", {"NAT 10.9.101.50 on vpcA, vpcB": "error",
                                                 "NAT 10.9.101.2 on vpcA, vpcB": "error"})
    assert got["NAT 10.9.101.50 on vpcA, vpcB"].details["switch"] == "external0"
    assert "router port vpcA-external0" in got["NAT 10.9.101.2 on vpcA, vpcB"].message


# -- CMS rules -------------------------------------------------------------------------


@ovn
def test_fip_intent_mismatch():
    result = check("fip_intent")
    got = assert_found(result, "fip-intent-mismatch", {"NAT 10.9.101.9 on vpc1": "warning",
                                                       "NAT 10.9.101.11 on vpc1": "warning"})
    known = got["NAT 10.9.101.9 on vpc1"].message
    assert "centralized" in known and "Kube-OVN >= 1.12" in known and "staleless" in known
    assert "centralizes it" in got["NAT 10.9.101.11 on vpc1"].message


@ovn
def test_neutron_fip_not_distributed():
    result = check("neutron_fip")
    r = NEUTRON_ROUTER
    got = assert_found(result, "neutron-fip-not-distributed", {
        f"NAT 172.24.4.10 on {r}": "warning", f"NAT 172.24.4.11 on {r}": "warning",
        f"NAT 172.24.4.13 on {r}": "info"})
    # the LB-backend FIP: message and fix line agree that there is nothing to repair
    lb = got[f"NAT 172.24.4.13 on {r}"]
    assert "load-balancer backend" in lb.message and "Nothing to repair" in lb.hint
    assert "sync" not in lb.hint
    assert "no external_mac" in got[f"NAT 172.24.4.10 on {r}"].message
    assert "fa:16:3e:bb:bb:11" in got[f"NAT 172.24.4.11 on {r}"].message
    # the centralized FIP is reported by this rule, not again as an intent mismatch
    assert not of_rule(result, "fip-intent-mismatch")
    # nat counts as intent mismatches exactly the FIPs check explains: 172.24.4.10 (the
    # LB backend's intent is centralized, as Neutron means it)
    nb, _ = built("neutron_fip")
    answer = nat_answer(Topology(open_snapshot(str(nb))))
    mismatched = {row["external_ip"] for row in answer.rows if row["intent_mismatch"]}
    assert mismatched == {"172.24.4.10"}
    assert any("1 NAT(s) where the CMS intent differs" in line and
               "neutron-fip-not-distributed" in line for line in answer.summary)


# -- addressing and routes -------------------------------------------------------------


@ovn
def test_lanip_is_gateway_and_its_route():
    result = check("lanip_is_gateway")
    assert_found(result, "lanip-is-gateway", {"vpc-nat-gw-gwA-0.kube-system": "error"})
    got = assert_found(result, "nexthop-self", {"route 0.0.0.0/0 via 10.0.1.254 on vpcA":
                                                "error"})
    assert "lanip-is-gateway" in got["route 0.0.0.0/0 via 10.0.1.254 on vpcA"].message


@ovn
def test_nexthop_self():
    result = check("nexthop_self")
    got = assert_found(result, "nexthop-self", {
        "route 0.0.0.0/0 via 10.0.1.254 on vpcA": "error",
        "policy 29000 'ip4.src == 10.0.1.0/24' on vpcA": "error",
        "route src 192.168.0.0/24 via 192.168.0.1 on vpcK": "warning",
        "route src 192.168.0.0/24 via 192.168.0.1 on vpcL": "error",
    })
    assert "known Kube-OVN behaviour" in got[
        "route src 192.168.0.0/24 via 192.168.0.1 on vpcK"].message
    assert "outranks the user default route 0.0.0.0/0 via 10.9.0.1" in got[
        "route src 192.168.0.0/24 via 192.168.0.1 on vpcL"].message


@ovn
@pytest.mark.parametrize("unique_ips,severity", [(False, "info"), (True, "error")])
def test_ip_not_unique(unique_ips, severity):
    result = check("ip_not_unique", unique_ips=unique_ips)
    got = assert_found(result, "ip-not-unique", {"IP 10.0.1.2 in namespace kube-system":
                                                 severity})
    assert got["IP 10.0.1.2 in namespace kube-system"].details["ports"] == [
        "vpc-nat-gw-vpc1-natgw1-0.kube-system", "vpc-nat-gw-vpc2-natgw1-0.kube-system"]


@ovn
def test_port_outside_subnet():
    result = check("port_outside_subnet")
    got = assert_found(result, "port-outside-subnet", {
        "vm1.default.attachnet.default.ovn": "error", "vlanpod1.default": "error"})
    assert "10.69.0.0/16" in got["vm1.default.attachnet.default.ovn"].message
    assert "ipv4_network" in got["vlanpod1.default"].message


# -- gateways --------------------------------------------------------------------------


@ovn
def test_gateway_sets():
    result = check("gateways")
    assert_found(result, "gw-single-chassis", {"vpc1-external0": "warning"})
    got = assert_found(result, "gw-both-hcg-and-gc", {"vpc3-external0": "warning"})
    assert "node-3" in got["vpc3-external0"].message
    assert_found(result, "gw-no-members", {"vpc4-external0": "error"})
    assert not [f for f in result.findings if f.object == "vpc2-external0"]


@ovn
def test_sb_rules():
    result = check("sb_gateways")
    assert result.skipped_rules == []
    got = assert_found(result, "gw-unknown-chassis", {"vpc1-external0": "warning",
                                                      "vpc2-external0": "error"})
    assert got["vpc2-external0"].details["unknown"] == ["ghost-a", "ghost-b"]
    got = assert_found(result, "fip-no-bridge-mapping", {"NAT 10.9.101.31 on vpc3": "error"})
    assert "node-46" in got["NAT 10.9.101.31 on vpc3"].message
    got = assert_found(result, "active-not-preferred", {"vpc3-external0": "info"})
    assert got["vpc3-external0"].details["preferred"] == "node-177"


@ovn
def test_sb_claims():
    """Issue 14's SB rules: each trigger next to its near miss (tests/check_scenarios.py
    sb_claims: real northd wrote the cr- ports and ref_chassis; ovn-sbctl bound the rest)."""
    result = check("sb_claims")
    got = assert_found(result, "sb-cr-unclaimed", {"vpcA-external0": "error"})
    assert got["vpcA-external0"].details["registered_members"] == ["gw1", "gw2"]
    got = assert_found(result, "fip-bound-elsewhere", {"NAT 10.9.101.41 on vpcA": "warning"})
    assert got["NAT 10.9.101.41 on vpcA"].details["bound"] == "node2"   # pb: hostname matches
    got = assert_found(result, "sb-binding-dead-chassis", {"node3": "error", "node4": "error"})
    assert "renamed" in got["node3"].message and "node3b" in got["node3"].message
    assert got["node3"].details["ports"] == ["pc"]
    assert "Chassis_Private" in got["node4"].message and got["node4"].details["ports"] == ["pd"]
    got = assert_found(result, "gw-no-ref-chassis", {"vpcB-external1": "info"})
    assert "does not take over" in got["vpcB-external1"].message
    assert not of_rule(result, "gw-active-no-bridge-mapping")    # gw1, gw2 map both networks


@ovn
def test_gw_active_no_bridge_mapping():
    """sb_gateways: vpc3's claim is on node-46, which maps only physnet9; vpc1's claim
    (node-177) maps external0 (near miss).  gateways says it too."""
    result = check("sb_gateways")
    got = assert_found(result, "gw-active-no-bridge-mapping", {"vpc3-external0": "error"})
    assert got["vpc3-external0"].details["role"] == "claimed"
    assert got["vpc3-external0"].details["chassis"] == "node-46"
    views = {v.port: v for v in gateway_views(topology("sb_gateways"))}
    assert any("node-46 maps none of external0" in n for n in views["vpc3-external0"].notes)
    assert not any("maps none" in n for n in views["vpc1-external0"].notes)


@ovn
def test_dangling_binding_and_alias():
    topo = topology("sb_claims")
    binding = topo.binding("pa")
    assert binding is not None
    binding.chassis, binding.dangling = None, True          # a reference to no Chassis row
    got = assert_found(run_checks(topo, rules=["sb-binding-dead-chassis"]),
                       "sb-binding-dead-chassis", {"Port_Binding": "error", "node3": "error",
                                                   "node4": "error"})
    assert got["Port_Binding"].details["ports"] == ["pa"]
    assert resolve_slugs(["gw-member-unregistered"]) == ["gw-unknown-chassis"]


@ovn
def test_sb_rules_skipped_without_sb():
    nb, _ = built("sb_gateways")
    result = run_checks(Topology(open_snapshot(str(nb))))
    assert result.skipped_rules == [
        "gw-unknown-chassis", "gw-active-no-bridge-mapping", "gw-no-ref-chassis",
        "sb-cr-unclaimed", "sb-binding-dead-chassis", "fip-bound-elsewhere",
        "fip-no-bridge-mapping"]
    assert not of_rule(result, "gw-unknown-chassis")


# -- filters -----------------------------------------------------------------------------


@ovn
def test_filters():
    topo = topology("nexthop_self")
    assert {f.rule for f in run_checks(topo, rules=["gw-single-chassis"]).findings} <= {
        "gw-single-chassis"}
    only_errors = run_checks(topo, min_severity="error").findings
    assert only_errors and all(f.severity == "error" for f in only_errors)
    assert not run_checks(topo, ignore=["nexthop-self"], min_severity="error").findings
    result = run_checks(topo)
    assert result.findings == sorted(result.findings, key=Finding.sort_key)


@ovn
def test_clean_topology_has_no_findings():
    assert check("clean").findings == []


@ovn
def test_active_not_preferred_from_nb_status():
    """OVN >= 23.09 writes the active chassis into NB (status:hosting-chassis); the 23.03
    schema here has no such column, so the parsed value is set on the port directly."""
    nb, _ = built("sb_gateways")

    def with_status(chassis: str) -> Topology:
        topo = Topology(open_snapshot(str(nb)))
        port = next(p for p in topo.router_ports.values() if p.name == "vpc3-external0")
        port.status = {"hosting-chassis": chassis}
        return topo

    got = assert_found(run_checks(with_status("node-46"), rules=["active-not-preferred"]),
                       "active-not-preferred", {"vpc3-external0": "info"})
    assert got["vpc3-external0"].details["observed_source"] == "nb-status"
    assert not run_checks(with_status("node-177"), rules=["active-not-preferred"]).findings


@ovn
def test_several_dgps_on_ovn_22_03_is_nat_inactive():
    result = check("ambiguous_gateway_port", ovn_version="22.03")
    got = of_rule(result, "nat-inactive")
    assert set(got) == {"NAT 10.9.101.5 on vpc3", "NAT 10.9.101.6 on vpc3",
                        "NAT 10.9.5.5 on vpc3"}
    assert all(f.severity == "error" and "22.06" in f.hint for f in got.values())


# -- committed fixtures (no OVN binaries needed) ------------------------------------------

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_fixture_kubeovn_5050():
    """cms-footprints §6 rows: the OvnFip asked centralized is distributed (known Kube-OVN
    >= 1.12 behaviour); nothing else is wrong."""
    d = FIXTURES / "kubeovn-5050"
    topo = Topology(open_snapshot(str(d / "nb.db")), open_snapshot(str(d / "sb.db"), "sb"))
    result = run_checks(topo)
    assert [(f.rule, f.severity, f.object) for f in result.findings] == [
        ("fip-intent-mismatch", "warning", "NAT 10.9.101.9 on vpc1")]
    assert "kubeovn/kube-ovn#5050" in result.findings[0].message


def test_fixture_edge_nat_invalid_matches_northd_warnings():
    """Every NAT northd warned about in fixtures/edge (recorded from northd 23.03) is
    nat-invalid."""
    d = FIXTURES / "edge"
    result = run_checks(Topology(open_snapshot(str(d / "nb.db"))), rules=["nat-invalid"])
    warned = (d / "northd-warnings.txt").read_text()
    for f in result.findings:
        assert f.severity == "error"
    assert result.findings
    ips = {f.details["external_ip"] for f in result.findings}
    assert "10.9.101.13" in ips and "10.9.120.34" in ips, warned
