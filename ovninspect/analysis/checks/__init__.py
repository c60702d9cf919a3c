"""``ovninspect check``: lint rules over a Topology, each with a stable slug and severity.

Every rule is a pure function ``(topo, ctx) -> list[Finding]`` in one of the modules here;
this registry gives each its slug, default severity, what it needs and one line for
``check --list-rules``.  ``run_checks`` runs the selected rules, filters by severity and
returns the findings sorted by (severity, rule, object).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

from ...topology import Topology
from . import addressing, cms, gateways, kubeovn, nat, releases, routes, southbound
from .base import ERROR, INFO, SEVERITIES, SEVERITY_RANK, WARNING, Context, Finding, Rule

__all__ = ["ERROR", "INFO", "RULES", "SEVERITIES", "WARNING", "CheckResult", "Context",
           "Finding", "Rule", "resolve_slugs", "run_checks"]

RULES: tuple[Rule, ...] = (
    Rule("nat-invalid", ERROR, nat.nat_invalid,
         "northd drops the NAT (bad external_ip/logical_ip/external_mac, both allowed and "
         "exempted IPs, gateway_port not a DGP of the router, several DGPs and no subnet "
         "match); the message gives the exact cause"),
    Rule("nat-inactive", ERROR, nat.nat_inactive,
         "the router processes no NAT (no DGP and not a gateway router, several DGPs on OVN "
         "21.09-22.03); warning when the router has enabled=false"),
    Rule("nat-prefix-external-ip", ERROR, nat.nat_prefix_external_ip,
         "an external_ip with a network prefix (10.1.1.10/24) that OVN >= 25.03 accepts: every "
         "address of the prefix is DNATed to the logical IP"),
    Rule("nat-flows-rejected", ERROR, nat.nat_flows_rejected,
         "northd builds flows from the row's text but ovn-controller cannot parse them "
         "(010.1.1.1, 10.1.1.300, 10.1.1.1.7, a /32 where ct_snat needs an address, short MAC "
         "octets): part or all of the NAT is never translated"),
    Rule("dnat-blackhole", ERROR, nat.dnat_blackhole,
         "a dnat with logical_port and external_mac: ARP is answered from the port's chassis "
         "but DNAT runs only on the gateway"),
    Rule("snat-blackhole", ERROR, nat.snat_blackhole,
         "an snat with logical_port and external_mac: ARP for the external IP is answered "
         "from the port's chassis but un-SNAT runs only on the gateway, so return traffic "
         "is lost"),
    Rule("fip-logical-ip-prefix", ERROR, nat.fip_logical_ip_prefix,
         "a dnat_and_snat/dnat whose logical_ip is written as a prefix (10.15.0.5/32): "
         "northd accepts it but ct_dnat(<prefix>) does not parse on the chassis, so nothing "
         "is DNATed"),
    Rule("fip-logical-ip-duplicate", WARNING, nat.fip_logical_ip_duplicate,
         "two dnat_and_snat on one router with the same logical_ip: their SNAT flows have "
         "the same match and priority, outbound traffic uses either external IP"),
    Rule("transit-router-nat", WARNING, nat.transit_router_nat,
         "stateful NAT/LB on an OVN-IC transit router or on a router attached to a transit "
         "switch: conntrack is not shared between availability zones"),
    Rule("fip-port-missing", ERROR, nat.fip_port_missing,
         "a distributed FIP whose logical_port is empty or names no switch port: resident on "
         "no chassis"),
    Rule("fip-pinned-to-gateway", WARNING, nat.fip_pinned_to_gateway,
         "a distributed FIP on a switch whose router port has reside-on-redirect-chassis=true: "
         "its routing runs through the gateway chassis (review)"),
    Rule("nat-ambiguous-gateway-port", WARNING, nat.nat_ambiguous_gateway_port,
         "several DGPs' networks contain the external IP and gateway_port is empty: northd's "
         "choice depends on its internal order"),
    Rule("eip-off-link", WARNING, nat.eip_off_link,
         "the external IP is outside every network of the DGP it uses: the upstream needs a "
         "route unless OVN dynamic routing redistributes nat (info when the external switch "
         "declares a subnet containing it)"),
    Rule("eip-duplicate", ERROR, nat.eip_duplicate,
         "the same external IP on NATs (or router ports) of several routers attached to one "
         "external switch (EIPs of iptables NAT gateways are not in NB)"),
    Rule("fip-intent-mismatch", WARNING, cms.fip_intent_mismatch,
         "the CMS asked for a centralized FIP and OVN distributes it, or the reverse "
         "(Kube-OVN >= 1.12 OvnFip with staleless/stateless=false is distributed)"),
    Rule("neutron-fip-not-distributed", WARNING, cms.neutron_fip_not_distributed,
         "NB_Global neutron:fip-distributed=True but a Neutron FIP lacks external_mac or it "
         "differs from neutron:fip_external_mac (info when the port is down or an LB backend)"),
    Rule("lanip-is-gateway", ERROR, addressing.lanip_is_gateway,
         "a switch port's IP equals the address of the router port on its switch (VPC NAT "
         "gateway lanIp = subnet gateway)"),
    Rule("port-outside-subnet", ERROR, addressing.port_outside_subnet,
         "a switch port's IP is outside every subnet known for its switch (router ports, "
         "localnet ipv4_network/ipv6_network, other_config:subnet, DHCP_Options)"),
    Rule("ip-not-unique", INFO, addressing.ip_not_unique,
         "one IP on ports of different VPCs whose pods share a namespace (breaks Cilium "
         "chaining); error with --unique-ips"),
    Rule("nexthop-self", ERROR, routes.nexthop_self,
         "a static route or reroute policy whose nexthop is the router's own address; warning "
         "for the Kube-OVN >= 1.14 automatic src-ip route unless it outranks a user default "
         "route"),
    Rule("gw-single-chassis", WARNING, gateways.gw_single_chassis,
         "a distributed gateway port with one gateway chassis: no failover"),
    Rule("gw-no-members", ERROR, gateways.gw_no_members,
         "a distributed gateway port with no gateway chassis at all (e.g. an empty HA group): "
         "never bound"),
    Rule("gw-both-hcg-and-gc", WARNING, gateways.gw_both_hcg_and_gc,
         "a router port with both ha_chassis_group and gateway_chassis: the group wins"),
    Rule("dgp-disabled", ERROR, gateways.dgp_disabled,
         "a distributed gateway port with enabled=false: no traffic to its router MAC and no "
         "ARP is admitted, so its IPs, NATs and LB VIPs are unreachable"),
    Rule("gw-duplicate-member", WARNING, gateways.gw_duplicate_member,
         "one chassis twice in a port's Gateway_Chassis or HA group (an ovn-nbctl bug before "
         "24.03.7/25.03.2): the priority it gets is not defined"),
    Rule("gr-has-dgp", ERROR, gateways.gr_has_dgp,
         "a gateway router's port with gateway chassis or an HA group: northd ignores them "
         "('Bad configuration'), no failover"),
    Rule("gr-chassis-empty", ERROR, gateways.gr_chassis_empty,
         "options:chassis=\"\": still a gateway router, bound to a chassis that never exists, "
         "so its ports, NATs and LBs are down"),
    Rule("gw-garp-disabled", WARNING, gateways.gw_garp_disabled,
         "disable_garp_rarp on a DGP's router or peer switch port: a gateway failover is not "
         "announced upstream (info when this OVN release ignores the option)"),
    Rule("external-switch-via-spine", WARNING, gateways.external_switch_via_spine,
         "OVN >= 25.03: a DGP's switch has no localnet but a switch-type port links it to one "
         "that has: every NAT of the router is centralized"),
    Rule("gw-unknown-chassis", WARNING, gateways.gw_unknown_chassis,
         "a gateway member (or gateway router chassis) that is not a registered SB chassis; "
         "error when no member is registered (alias gw-member-unregistered)", needs="sb"),
    Rule("gw-active-no-bridge-mapping", ERROR, southbound.gw_active_no_bridge_mapping,
         "the claimed or predicted active gateway maps none of the external switch's "
         "localnet networks: centralized NAT cannot reach the physical network", needs="sb"),
    Rule("gw-no-ref-chassis", WARNING, southbound.gw_no_ref_chassis,
         "an SB gateway group of two or more members with no ref_chassis: a lone surviving "
         "member never takes over (info when nothing behind the router is bound)", needs="sb"),
    Rule("sb-cr-unclaimed", ERROR, southbound.sb_cr_unclaimed,
         "a cr-<dgp> binding that no chassis claims although members are registered",
         needs="sb"),
    Rule("sb-binding-dead-chassis", ERROR, southbound.sb_binding_dead_chassis,
         "ports bound to a chassis that is gone, renamed (its host registered again under "
         "another name) or that has no Chassis_Private row", needs="sb"),
    Rule("fip-bound-elsewhere", WARNING, southbound.fip_bound_elsewhere,
         "a distributed FIP whose port SB binds on a chassis other than its "
         "requested-chassis", needs="sb"),
    Rule("fip-no-bridge-mapping", ERROR, gateways.fip_no_bridge_mapping,
         "a distributed FIP bound to a chassis whose bridge mappings lack the external "
         "network: black-holed", needs="sb"),
    Rule("active-not-preferred", INFO, gateways.active_not_preferred,
         "the observed active gateway is not the highest-priority live member",
         needs="sb|nb-status"),
    Rule("kubeovn-natgw-lanip-is-gateway", ERROR, kubeovn.natgw_lanip_is_gateway,
         "a VpcNatGateway whose spec.lanIp is its subnet's gateway (kube-ovn#1300, #4566)",
         needs="k8s"),
    Rule("kubeovn-natgw-lanip-outside-subnet", ERROR, kubeovn.natgw_lanip_outside_subnet,
         "a VpcNatGateway whose spec.lanIp is outside its subnet's CIDR", needs="k8s"),
    Rule("kubeovn-natgw-lanip-duplicate", WARNING, kubeovn.natgw_lanip_duplicate,
         "one lanIp on NAT gateways of different VPCs; error when Cilium chaining is on "
         "(cilium-config) or with --unique-ips (kube-ovn#4952)", needs="k8s"),
    Rule("kubeovn-eip-off-link", ERROR, kubeovn.eip_off_link,
         "an IptablesEIP or OvnEip outside every CIDR of its external subnet: never answered "
         "on L2 (kube-ovn#4916, #5010, #4217)", needs="k8s"),
    Rule("kubeovn-natgw-multiple-external-subnets", WARNING,
         kubeovn.natgw_multiple_external_subnets,
         "a VpcNatGateway with several spec.externalSubnets: only the first gets an interface "
         "(kube-ovn#7134)", needs="k8s"),
    Rule("kubeovn-eip-duplicate", ERROR, kubeovn.eip_duplicate,
         "one address on two EIP CRs (IptablesEIP and OvnEip together)", needs="k8s"),
    Rule("kubeovn-ippool-namespace-subnet-mismatch", ERROR,
         kubeovn.ippool_namespace_subnet_mismatch,
         "a workload asks for subnet S in a namespace bound to another subnet's IPPool, naming "
         "no pool (kube-ovn#4573); info from v1.13.9/v1.14.0, warning when the Kube-OVN "
         "version is unknown", needs="k8s"),
    Rule("kubeovn-ippool-outside-subnet", ERROR, kubeovn.ippool_outside_subnet,
         "IPPool addresses outside its subnet", needs="k8s"),
    Rule("kubeovn-ippool-namespace-overlap", WARNING, kubeovn.ippool_namespace_overlap,
         "a namespace bound to several IPPools", needs="k8s"),
    Rule("kubeovn-status-not-in-nb", ERROR, kubeovn.status_not_in_nb,
         "a CR whose status says ready with no matching NB row (OvnFip/OvnEip/OvnSnatRule/"
         "OvnDnatRule -> NAT or LB, Subnet -> switch and router port, Vpc -> router)",
         needs="k8s"),
    Rule("kubeovn-nb-not-in-crds", WARNING, kubeovn.nb_not_in_crds,
         "a Kube-OVN-owned NB router, switch or NAT with no CR (only for kinds --k8s holds)",
         needs="k8s"),
    Rule("kubeovn-fip-target-mismatch", ERROR, kubeovn.fip_target_mismatch,
         "an OvnFip's target (ipName / IP CR address / v4Ip) differs from its NAT's "
         "logical_port or logical_ip (kube-ovn#3815, #5114)", needs="k8s"),
    Rule("kubeovn-fip-type-mismatch", WARNING, kubeovn.fip_type_mismatch,
         "an OvnFip's spec.type (or the ConfigMap default) says centralized or distributed and "
         "OVN does the other; replaces fip-intent-mismatch for OvnFip NATs", needs="k8s"),
    Rule("kubeovn-subnet-gateway-mismatch", ERROR, kubeovn.subnet_gateway_mismatch,
         "Subnet spec.gateway differs from its router port's address", needs="k8s"),
    Rule("kubeovn-subnet-cidr-mismatch", ERROR, kubeovn.subnet_cidr_mismatch,
         "Subnet spec.cidrBlock differs from its router port's network or localnet "
         "ipv4_network/ipv6_network", needs="k8s"),
    Rule("release-known-issue", INFO, releases.release_known_issue,
         "the OVN release in NB_Global northd_internal_version (or --ovn-version) has a known "
         "bug this topology can hit: affected range and fixed release"),
)
BY_SLUG: dict[str, Rule] = {r.slug: r for r in RULES}
#: Other names a rule is known by (issue texts, older releases).
ALIASES: dict[str, str] = {"gw-member-unregistered": "gw-unknown-chassis"}


@dataclass
class CheckResult:
    """Findings after filters, and the selected rules that could not run."""

    findings: list[Finding]
    skipped_rules: list[str] = field(default_factory=list)
    skipped_k8s: list[str] = field(default_factory=list)   # needing --k8s
    rules_run: list[str] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(f.severity == ERROR for f in self.findings)

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}


def resolve_slugs(values: Optional[Iterable[str]]) -> list[str]:
    """Slugs from repeated and/or comma-separated values; ValueError naming unknown ones."""
    out: list[str] = []
    for value in values or ():
        for slug in str(value).split(","):
            slug = ALIASES.get(slug.strip(), slug.strip())
            if slug and slug not in out:
                out.append(slug)
    unknown = [s for s in out if s not in BY_SLUG]
    if unknown:
        raise ValueError(f"unknown rule(s): {', '.join(unknown)} (see --list-rules)")
    return out


def run_checks(topo: Topology, rules: Optional[Iterable[str]] = None,
               ignore: Optional[Iterable[str]] = None, min_severity: str = INFO,
               unique_ips: bool = False) -> CheckResult:
    """Run the selected rules (all by default) minus ``ignore``; keep findings at least as
    severe as ``min_severity``; sort by (severity, rule, object).  Rules needing SB are
    skipped (and listed) when the topology has no SB."""
    if min_severity not in SEVERITY_RANK:
        raise ValueError(f"min severity must be one of {', '.join(SEVERITIES)}")
    chosen = resolve_slugs(rules) or [r.slug for r in RULES]
    ignored = set(resolve_slugs(ignore))
    ctx = Context(topo, unique_ips=unique_ips)
    result = CheckResult([])
    limit = SEVERITY_RANK[min_severity]
    for rule in RULES:   # registry order, whatever order the user gave
        if rule.slug not in chosen or rule.slug in ignored:
            continue
        if rule.needs_sb and not topo.has_sb:
            result.skipped_rules.append(rule.slug)
            continue
        if rule.needs_k8s and topo.k8s is None:
            result.skipped_k8s.append(rule.slug)
            continue
        result.rules_run.append(rule.slug)
        result.findings.extend(f for f in rule.func(topo, ctx)
                               if SEVERITY_RANK[f.severity] <= limit)
    result.findings.sort(key=Finding.sort_key)
    return result
