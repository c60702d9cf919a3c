"""Which Kubernetes objects stand behind which NB rows (cms-footprints §1.4-§1.9): NAT rows
carry no external_ids, so an OvnFip is found by its EIP address and VPC, an OvnSnatRule by
EIP and internal CIDR, an OvnEip by address, a Subnet by its switch and ``<vpc>-<subnet>``
router port, a Vpc by its router, an OvnDnatRule by its load balancer."""

from __future__ import annotations

from functools import cached_property
from typing import Optional

from ..addr import host_value, in_network, network
from ..topology import Nat, Router, RouterPort, Topology
from .model import DEFAULT_VPC, Cluster, IptablesEIP, OvnEip, OvnNatRule, Subnet, split_ips


def same_ip(a: Optional[str], b: Optional[str]) -> bool:
    if not a or not b:
        return False
    va, vb = host_value(a.strip()), host_value(b.strip())
    if va is None or vb is None:
        return a.strip() == b.strip()
    return va == vb


def same_net(a: Optional[str], b: Optional[str]) -> bool:
    """Two CIDRs (or addresses) naming the same network."""
    if not a or not b:
        return False
    na, nb = network(a), network(b)
    if na is None or nb is None:
        return a.strip() == b.strip()
    return na.cidr == nb.cidr


def in_any(ip: str, cidrs: list[str]) -> bool:
    return any(in_network(ip, c) for c in cidrs)


class Matcher:
    """Indexes of one topology and one cluster, built lazily."""

    def __init__(self, topo: Topology, cluster: Cluster) -> None:
        self.topo = topo
        self.k8s = cluster

    # -- EIPs -------------------------------------------------------------------------
    @cached_property
    def ovn_eips(self) -> dict[str, OvnEip]:
        return {e.meta.name: e for e in self.k8s.all("OvnEip")}

    @cached_property
    def iptables_eips(self) -> dict[str, IptablesEIP]:
        return {e.meta.name: e for e in self.k8s.all("IptablesEIP")}

    def rule_eip(self, rule: OvnNatRule) -> str:
        """The EIP address of an OvnFip/OvnSnatRule/OvnDnatRule: status, else its OvnEip."""
        if rule.status_eip:
            return rule.status_eip
        eip = self.ovn_eips.get(rule.ovn_eip)
        return eip.v4_ip if eip is not None else ""

    def eips_at(self, ip: str) -> list[OvnEip]:
        return [e for e in self.ovn_eips.values() if any(same_ip(ip, a) for a in e.addresses)]

    # -- routers and switches ----------------------------------------------------------
    @cached_property
    def routers(self) -> dict[str, Router]:
        return {r.name: r for r in self.topo.iter_routers()}

    @cached_property
    def lrps(self) -> dict[str, RouterPort]:
        return {p.name: p for p in self.topo.router_ports.values()}

    @cached_property
    def switches(self) -> dict[str, str]:
        """switch name -> uuid."""
        return {s.name: s.uuid for s in self.topo.iter_switches()}

    def subnet_lrp(self, subnet: Subnet) -> Optional[RouterPort]:
        return self.lrps.get(f"{subnet.vpc_name}-{subnet.meta.name}")

    def subnet_cidrs(self, name: str) -> tuple[list[str], str]:
        """The CIDRs of subnet ``name`` and where they come from: the Subnet CR, else its NB
        router port / localnet ipv4_network (Kube-OVN >= 1.13)."""
        sub = self.k8s.subnet(name)
        if sub is not None and sub.cidr_block:
            return split_ips(sub.cidr_block), f"{sub.meta.ref} spec.cidrBlock"
        uuid = self.switches.get(name)
        if uuid is not None:
            nets: list[str] = []
            for ln in self.topo.localnets(uuid):
                for key in ("ipv4_network", "ipv6_network"):
                    nets += split_ips(ln.external_ids.get(key, ""))
            if nets:
                return nets, f"NB localnet of switch {name}"
        return [], ""

    # -- NATs ---------------------------------------------------------------------------
    def nats_of(self, router: Optional[str], types: tuple[str, ...], external_ip: str
                ) -> list[Nat]:
        out = []
        for nat in self.topo.nats:
            if nat.type in types and same_ip(nat.external_ip, external_ip) and (
                    not router or nat.router == router):
                out.append(nat)
        return out

    def fip_nats(self, fip: OvnNatRule) -> list[Nat]:
        eip = self.rule_eip(fip)
        return self.nats_of(fip.vpc_name or None, ("dnat_and_snat",), eip) if eip else []

    def snat_nats(self, rule: OvnNatRule) -> list[Nat]:
        eip = self.rule_eip(rule)
        if not eip:
            return []
        want = rule.status_ip or rule.v4_ip
        if not want and rule.vpc_subnet:
            sub = self.k8s.subnet(rule.vpc_subnet)
            want = split_ips(sub.cidr_block)[0] if sub is not None and sub.cidr_block else ""
        return [n for n in self.nats_of(rule.vpc_name or None, ("snat",), eip)
                if not want or same_net(n.logical_ip, want) or same_ip(n.logical_ip, want)]

    def dnat_lbs(self, rule: OvnNatRule) -> list[str]:
        """Load balancers written for an OvnDnatRule (named after the CR)."""
        return [lb.name for lb in self.topo.load_balancers.values()
                if lb.name == rule.meta.name]

    @cached_property
    def crs_by_nat(self) -> dict[str, list[str]]:
        """NAT uuid -> the CRs (``Kind/name``) that stand behind it."""
        out: dict[str, list[str]] = {}

        def add(nat: Nat, ref: str) -> None:
            refs = out.setdefault(nat.uuid, [])
            if ref not in refs:
                refs.append(ref)

        for fip in self.k8s.all("OvnFip"):
            for nat in self.fip_nats(fip):
                add(nat, fip.meta.ref)
        for rule in self.k8s.all("OvnSnatRule"):
            for nat in self.snat_nats(rule):
                add(nat, rule.meta.ref)
        for work in self.k8s.workloads():
            for key, types in (("eip", ("dnat_and_snat",)), ("snat", ("snat",))):
                ip = work.kubeovn_annotation(key)
                if ip:
                    for nat in self.nats_of(DEFAULT_VPC, types, ip):
                        add(nat, work.meta.ref)
        for nat in self.topo.nats:
            for eip in self.eips_at(nat.external_ip):
                add(nat, eip.meta.ref)
        return out

    def eip_of_address(self, router: str, ip: str) -> Optional[str]:
        """The EIP CR (OvnEip) holding ``ip``, preferring one of router's VPC."""
        found = self.eips_at(ip)
        return found[0].meta.ref if found else None
