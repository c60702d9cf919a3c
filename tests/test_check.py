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
        "NAT 10.9.101.31/32 on vpc1": "error", "NAT 010.9.101.32 on vpc1": "error"})
    assert "not SNATed to 10.9.101.31" in got["NAT 10.9.101.31/32 on vpc1"].message
    assert "nothing is translated" in got["NAT 010.9.101.32 on vpc1"].message
    # a logical_ip prefix has its own rule (one finding for one problem)
    got = assert_found(old, "fip-logical-ip-prefix", {"NAT 10.9.101.36 on vpc1": "error"})
    assert "ct_dnat(192.168.0.36/32)" in got["NAT 10.9.101.36 on vpc1"].message
    new = check("nat_spelling", ovn_version="25.03")
    assert_found(new, "nat-invalid", {})
    got = assert_found(new, "nat-prefix-external-ip", {"NAT 10.9.101.30/24 on vpc1": "error"})
    assert "every address of 10.9.101.0/24" in got["NAT 10.9.101.30/24 on vpc1"].message
    got = assert_found(new, "nat-flows-rejected", {
        "NAT 10.9.101.30/24 on vpc1": "error", "NAT 10.9.101.31/32 on vpc1": "error",
        "NAT 010.9.101.32 on vpc1": "error", "NAT 10.9.101.33.7 on vpc1": "error"})
    assert_found(new, "fip-logical-ip-prefix", {"NAT 10.9.101.36 on vpc1": "error"})
    assert "ARP for 10.9.101.33 is still answered" in got["NAT 10.9.101.33.7 on vpc1"].message


@ovn
@pytest.mark.parametrize("scenario", ["nat_invalid", "nat_inactive", "dnat_blackhole",
                                      "nat_spelling", "nb_rules"])
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
        ("fip-intent-mismatch", "warning", "NAT 10.9.101.9 on vpc1"),
        # northd 23.03.1 wrote the NB: before the claim-fighting fix, and the DGP has two
        # gateway members (release-known-issue)
        ("release-known-issue", "info", "gateway-claim-flapping")]
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


# -- NB-only rules of issue #14 item 4 (scenario nb_rules) --------------------------------


@ovn
def test_nb_rules_findings():
    """Every new rule on its trigger and not on its near miss (tests/check_scenarios.py
    nb_rules)."""
    result = check("nb_rules", ovn_version="26.03.2")
    got = assert_found(result, "dgp-disabled", {"vpcD-external0": "error"})
    assert "enabled=false" in got["vpcD-external0"].message
    assert "enabled=true" in got["vpcD-external0"].hint
    got = assert_found(result, "snat-blackhole", {"NAT 10.9.101.52 on vpcE": "error"})
    assert "un-SNAT runs only on the active gateway" in got["NAT 10.9.101.52 on vpcE"].message
    assert got["NAT 10.9.101.52 on vpcE"].details["logical_port"] == "podE2"
    assert_found(result, "dnat-blackhole", {})
    got = assert_found(result, "fip-logical-ip-duplicate",
                       {"NAT 10.9.101.54, 10.9.101.55 on vpcE": "warning"})
    assert got["NAT 10.9.101.54, 10.9.101.55 on vpcE"].details["logical_ip"] == "192.168.5.30"
    got = assert_found(result, "fip-logical-ip-prefix", {"NAT 10.9.101.57 on vpcE": "error"})
    assert "ct_dnat(192.168.5.22/32)" in got["NAT 10.9.101.57 on vpcE"].message
    assert not [f for f in result.findings if f.rule == "nat-flows-rejected"
                and "10.9.101.57" in f.object]        # one finding for one problem
    got = assert_found(result, "gw-duplicate-member", {"vpcF-external0": "warning",
                                                       "vpcG-external0": "warning"})
    assert got["vpcF-external0"].details["duplicated"] == {"node-1": [100, 50]}
    assert got["vpcG-external0"].details["duplicated"] == {"node-3": [100, 10]}
    got = assert_found(result, "gr-has-dgp", {"gw1-ext0": "error"})
    assert "Bad configuration" in got["gw1-ext0"].message
    got = assert_found(result, "gr-chassis-empty", {"gw3": "error"})
    assert "not as a distributed router" in got["gw3"].message
    got = assert_found(result, "eip-duplicate", {"NAT 10.9.101.51 on vpcE, vpcH": "error"})
    assert "vpcH has no DGP" not in got["NAT 10.9.101.51 on vpcE, vpcH"].message
    assert "answers ARP for it on every chassis" in got["NAT 10.9.101.51 on vpcE, vpcH"].message
    got = assert_found(result, "gw-garp-disabled", {"vpcJ-external0": "warning",
                                                    "vpcK-external0": "warning"})
    assert "router vpcJ" in got["vpcJ-external0"].message
    assert "external0-vpcK" in got["vpcK-external0"].message
    got = assert_found(result, "transit-router-nat", {"vpcT": "warning", "tr1": "warning"})
    assert "transit switch ts1" in got["vpcT"].message
    assert "requested-chassis" in got["tr1"].message
    assert_found(result, "external-switch-via-spine", {})


@ovn
def test_gw_garp_disabled_per_release():
    """The LR option is honoured from 24.03.8/25.03.3/25.09.1/26.03.0, the LSP option from
    24.09 (rules.py): before, the finding is info and says the option is ignored."""
    got = assert_found(check("nb_rules", ovn_version="25.03.0", rules=["gw-garp-disabled"]),
                       "gw-garp-disabled", {"vpcJ-external0": "info",
                                            "vpcK-external0": "warning"})
    assert "does not honour it" in got["vpcJ-external0"].message
    assert_found(check("nb_rules", ovn_version="25.03.3", rules=["gw-garp-disabled"]),
                 "gw-garp-disabled", {"vpcJ-external0": "warning",
                                      "vpcK-external0": "warning"})
    assert_found(check("nb_rules", ovn_version="23.03.1", rules=["gw-garp-disabled"]),
                 "gw-garp-disabled", {"vpcJ-external0": "info", "vpcK-external0": "info"})


@ovn
def test_failover_sim_disabled_dgp_and_snat_blackhole():
    """failover-sim: everything behind a disabled DGP is unreachable with the reason; the
    black-holed snat too; the enabled near miss is reachable."""
    from ovninspect.analysis.failover import build_model, simulate

    topo = topology("nb_rules", "26.03.2")
    scenario = simulate(build_model(topo), [])
    by = {(r.entry.router, r.entry.external_ip, r.entry.type): r.outcome
          for r in scenario.results}
    for key in (("vpcD", "10.9.101.41", "dnat_and_snat"), ("vpcD", "10.9.101.42", "snat"),
                ("vpcD", "10.9.101.43", "dnat_and_snat"),
                ("vpcD", "10.9.101.4", "router-port")):
        assert by[key].reachable is False and "enabled=false" in by[key].reason, key
    assert by[("vpcE", "10.9.101.5", "router-port")].reachable is True
    assert by[("vpcE", "10.9.101.58", "dnat_and_snat")].reachable is True
    snat = by[("vpcE", "10.9.101.52", "snat")]
    assert snat.reachable is False and "black-holed" in snat.reason


def _of(facts, router: str, stage: str, *needles: str) -> list:
    return [f for f in facts.of(router, stage) if all(n in f.match for n in needles)]


@ovn
def test_nb_rules_agree_with_northd(ovn_build):
    """On every OVN build, what the NB-dependent findings claim is what northd does
    (northd's logical flows, port bindings, datapaths and log)."""
    from tests.check_scenarios import SCENARIOS  # noqa: F401  (scenario names)
    from tests.northd_facts import northd_facts

    nb, _ = built("nb_rules")
    facts = northd_facts(nb, ovn_build, ["lr_in_admission", "lr_in_ip_input",
                                         "lr_in_unsnat", "lr_out_snat"])
    assert facts.error is None, facts.error
    result = check("nb_rules", ovn_version=ovn_build.release)
    found = {(f.rule, f.object) for f in result.findings}
    # dgp-disabled: no admission for the router MAC or broadcast on vpcD's DGP, as on vpcE
    assert ("dgp-disabled", "vpcD-external0") in found
    for router, mac, admitted in (("vpcD", "00:00:00:e1:0d:01", False),
                                  ("vpcE", "00:00:00:e1:0e:01", True)):
        dgp = f'inport == "{router}-external0"'
        assert bool(_of(facts, router, "lr_in_admission", f"eth.dst == {mac}", dgp)) == admitted
        assert bool(_of(facts, router, "lr_in_admission", "eth.mcast", dgp)) == admitted
    # snat-blackhole: ARP on podE2's chassis with the MAC, un-SNAT only on the gateway
    arp = _of(facts, "vpcE", "lr_in_ip_input", "arp.tpa == 10.9.101.52",
              'is_chassis_resident("podE2")')
    assert arp and "eth.src = 00:00:00:00:0e:52" in arp[0].actions
    unsnat = _of(facts, "vpcE", "lr_in_unsnat", "ip4.dst == 10.9.101.52")
    assert unsnat and all('is_chassis_resident("cr-vpcE-external0")' in f.match
                          for f in unsnat)
    # gr-has-dgp: northd's warning, no cr port, the port bound as l3gateway on node-1
    assert ("gr-has-dgp", "gw1-ext0") in found
    assert "Bad configuration: distributed gateway port configured on port gw1-ext0" \
        in facts.log
    assert "cr-gw1-ext0" not in facts.bindings
    assert facts.bindings["gw1-ext0"]["type"] == "l3gateway"
    assert facts.bindings["gw1-ext0"]["options"]["l3gateway-chassis"] == "node-1"
    # gr-chassis-empty: a gateway router bound to "" (not a distributed router)
    assert ("gr-chassis-empty", "gw3") in found and ("gr-chassis-empty", "gw2") not in found
    assert facts.bindings["gw3-ext0"]["type"] == "l3gateway"
    assert facts.bindings["gw3-ext0"]["options"]["l3gateway-chassis"] == ""
    # eip-duplicate: vpcH (no DGP) answers ARP for vpcE's FIP, on every chassis and port
    for router, ip in (("vpcH", "10.9.101.51"), ("vpcI", "10.9.101.61")):
        arp = _of(facts, router, "lr_in_ip_input", f"arp.tpa == {ip}")
        assert any("is_chassis_resident" not in f.match and "inport" not in f.match
                   for f in arp), (router, arp)
    assert not [o for r, o in found if r == "eip-duplicate" and "10.9.101.61" in o]
    # fip-logical-ip-duplicate: same match and priority, different ct_snat addresses
    def snat_actions(log_ip: str) -> dict:
        groups: dict = {}
        for f in _of(facts, "vpcE", "lr_out_snat", f"ip4.src == {log_ip} "):
            groups.setdefault((f.priority, f.match), set()).add(f.actions)
        return groups
    assert ("fip-logical-ip-duplicate", "NAT 10.9.101.54, 10.9.101.55 on vpcE") in found
    dup = snat_actions("192.168.5.30")
    assert dup and all(len(a) == 2 for a in dup.values()), dup
    single = snat_actions("192.168.5.31")
    assert single and all(len(a) == 1 for a in single.values()), single
    # gw-garp-disabled: northd copies the LR option to the datapath where it is honoured
    honoured = topology("nb_rules", ovn_build.release).rules.lr_disable_garp_rarp
    assert (facts.datapaths["vpcJ"].get("disable_garp_rarp") == "true") == honoured
    assert facts.datapaths["vpcE"].get("disable_garp_rarp") in (None, "false")


# -- external-switch-via-spine (OVN >= 25.03 switch-type ports) ---------------------------


def _spine_built():
    try:
        return built("spine_leaf")
    except LookupError as exc:
        pytest.skip(str(exc))


@ovn
def test_external_switch_via_spine():
    _spine_built()
    got = assert_found(check("spine_leaf", ovn_version="25.03.0"),
                       "external-switch-via-spine", {"vpcS-leaf0": "warning"})
    assert "cr-leaf0-vpcS" in got["vpcS-leaf0"].message
    assert "10.9.101.91" in got["vpcS-leaf0"].message
    assert_found(check("spine_leaf", ovn_version="24.09.0"), "external-switch-via-spine", {})


@ovn
def test_spine_leaf_agrees_with_northd(ovn_build):
    """northd >= 25.03 centralizes vpcS's FIP (peer cr port cr-leaf0-vpcS) and keeps
    vpcN's distributed; ovninspect's verdicts and the rule follow it on every build."""
    from ovninspect.analysis.placement import classify_all
    from tests.northd_facts import northd_facts

    nb, _ = _spine_built()
    oracle = run_northd_oracle(nb, build=ovn_build)
    topo = topology("spine_leaf", ovn_build.release)
    for v in classify_all(topo):
        assert oracle[v.nat.uuid].verdict == v.mode, (v.nat.external_ip, v.mode,
                                                      oracle[v.nat.uuid].summary())
    new = topo.rules.switch_lsp_links
    modes = {v.nat.external_ip: v.mode for v in classify_all(topo)}
    assert modes["10.9.101.91"] == ("centralized" if new else "distributed")
    assert modes["10.9.101.92"] == "distributed"
    facts = northd_facts(nb, ovn_build, [])
    assert ("cr-leaf0-vpcS" in facts.bindings) == new
    fired = {f.object for f in check("spine_leaf", ovn_version=ovn_build.release).findings
             if f.rule == "external-switch-via-spine"}
    assert fired == ({"vpcS-leaf0"} if new else set())


# -- release-known-issue ---------------------------------------------------------------


@ovn
@pytest.mark.parametrize("version,issues", [
    ("26.03.0", {"external-arp-26.03"}),
    ("26.03.1", {"external-arp-26.03", "flow-restore-wait-deadlock"}),
    ("26.03.2", set()),
    ("25.03.1", {"gateway-claim-flapping"}),
    ("25.03.3", {"flow-restore-wait-deadlock"}),
    ("24.03.6", {"gateway-claim-flapping"}),
    ("24.03.8", {"flow-restore-wait-deadlock"}),
    ("24.03.9", set()),
])
def test_release_known_issue(version, issues):
    """One info finding per issue of the release that the topology can hit (the clean
    scenario has one DGP with two members); ranges from rules.KNOWN_ISSUES."""
    result = check("clean", ovn_version=version)
    got = of_rule(result, "release-known-issue")
    assert set(got) == issues
    for f in got.values():
        assert f.severity == "info" and f.details["fixed"] in f.message
    # without a northd_internal_version or an override the patch release is unknown
    assert not of_rule(run_checks(topology("clean")), "release-known-issue")


@ovn
def test_release_known_issue_northd_crash(ovn_build):
    """northd 26.03.1 starts on the router_peer NB but dies (SIGSEGV) as soon as a NAT of
    such a router changes while it runs; 23.03.1 and 25.03.0 carry on.  The finding names
    the NAT-carrying pair only and fires exactly for the crashing build."""
    from tests.oracle import OracleError, stop_lab, sync_northd
    from tests.ovnlab import OvnLab

    nb, _ = built("router_peer")
    got = of_rule(check("router_peer", ovn_version="26.03.1"), "release-known-issue")
    assert got["northd-crash-dgp-router-peer"].details["objects"] == ["s3-ext0"]
    assert "northd-crash-dgp-router-peer" not in of_rule(
        check("router_peer", ovn_version="25.03.0"), "release-known-issue")
    expect = "northd-crash-dgp-router-peer" in of_rule(
        check("router_peer", ovn_version=ovn_build.release), "release-known-issue")
    lab = OvnLab(build=ovn_build)
    try:
        lab.start_nb(nb, upgrade=True).start_sb().start_northd()
        sync_northd(lab, 15)                                   # a cold start survives
        lab.nbctl("lr-nat-add", "s3", "snat", "10.3.1.12", "192.168.30.0/24")
        try:
            sync_northd(lab, 15)
            crashed = ""
        except OracleError as exc:
            crashed = str(exc)
    finally:
        stop_lab(lab)
    assert bool(crashed) == expect, crashed
    if crashed:
        assert "SIGSEGV" in crashed
