"""What every check shares: the Finding, the Rule metadata and a Context of derived facts.

A check is a pure function ``(topo, ctx) -> list[Finding]``.  The Context computes, once and
lazily, what several checks read (NAT placement verdicts, owner labels, switch subnets,
which routers sit on which switch), so no check re-derives an OVN rule that
``analysis.placement`` already encodes.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Optional

from ...addr import in_network, network, parse_ip, port_addresses
from ...topology import Nat, Router, RouterPort, SwitchPort, Topology
from ..owners import Owner, label_all
from ..placement import NatVerdict, classify_all

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITIES = (ERROR, WARNING, INFO)          # most severe first
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass
class Finding:
    """One problem found in the NB (+ SB): stable rule slug, severity, the object a person
    would search for, what is wrong, and how to fix it."""

    rule: str
    severity: str
    object: str
    message: str
    hint: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def sort_key(self) -> tuple:
        return (SEVERITY_RANK[self.severity], self.rule, self.object, self.message)

CheckFunc = Callable[[Topology, "Context"], "list[Finding]"]


@dataclass(frozen=True)
class Rule:
    """A registered check and what ``check --list-rules`` says about it."""

    slug: str
    severity: str              # default severity (some findings are raised or lowered)
    func: CheckFunc
    description: str
    needs: Optional[str] = None   # "sb": skipped without --sb; "sb|nb-status": no data,
    #                               no finding; "k8s": skipped without --k8s

    @property
    def needs_sb(self) -> bool:
        return self.needs == "sb"

    @property
    def needs_k8s(self) -> bool:
        return self.needs == "k8s"

# Ports whose addresses are not workload addresses.
SKIP_PORT_TYPES = frozenset({"router", "localnet", "l2gateway", "vtep"})


@dataclass(frozen=True)
class WorkloadPort:
    """A switch port that carries workload IPs (VM, pod, NAT gateway, OvnEip lsp ...)."""

    name: str
    switch_uuid: Optional[str]
    ips: tuple[str, ...]
    external_ids: dict[str, str]


@dataclass
class SwitchNet:
    """A subnet known for a logical switch, and where it was read."""

    cidr: str
    source: str


class Context:
    """Facts derived once from a Topology and shared by the checks."""

    def __init__(self, topo: Topology, unique_ips: bool = False) -> None:
        self.topo = topo
        self.unique_ips = unique_ips
        self._switch_nets: dict[str, list[SwitchNet]] = {}
        self._peer_cache: dict[str, Optional[SwitchPort]] = {}

    # -- NATs -----------------------------------------------------------------------------
    @cached_property
    def verdicts(self) -> list[NatVerdict]:
        return classify_all(self.topo)

    @cached_property
    def owners(self) -> dict[str, Owner]:
        return label_all(self.topo, self.topo.nats)

    @property
    def k8s(self) -> Any:
        """The ``--k8s`` objects (k8s.model.Cluster), or None."""
        return self.topo.k8s

    @cached_property
    def matcher(self) -> Any:
        """CRs matched to NB rows (k8s.match.Matcher); only with --k8s."""
        from ...k8s.match import Matcher

        return Matcher(self.topo, self.topo.k8s)

    @cached_property
    def nb_ids(self) -> dict[str, str]:
        return self.topo.nb_global_ids

    @cached_property
    def _nat_names(self) -> dict[str, str]:
        """``NAT <external_ip> on <router>``, made unique per router when needed."""
        groups: dict[tuple[str, str], list[Nat]] = {}
        for nat in self.topo.nats:
            groups.setdefault((nat.router_uuid, nat.external_ip), []).append(nat)
        names: dict[str, str] = {}
        for (_, ext), nats in groups.items():
            for nat in nats:
                name = f"NAT {ext} on {nat.router or nat.router_uuid[:8]}"
                if len(nats) > 1:
                    same_type = sum(1 for n in nats if n.type == nat.type)
                    name += f" ({nat.type}" + (f" {nat.logical_ip})" if same_type > 1 else ")")
                names[nat.uuid] = name
        return names

    def nat_object(self, nat: Nat) -> str:
        return self._nat_names.get(nat.uuid, f"NAT {nat.external_ip} on {nat.router}")

    @staticmethod
    def nat_details(nat: Nat, **extra: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"router": nat.router, "nat_uuid": nat.uuid, "type": nat.type,
                               "external_ip": nat.external_ip, "logical_ip": nat.logical_ip}
        out.update({k: v for k, v in extra.items() if v is not None})
        return out

    # -- routers, ports and switches --------------------------------------------------------
    @cached_property
    def lrp_by_name(self) -> dict[str, RouterPort]:
        return {p.name: p for p in self.topo.router_ports.values()}

    @property
    def switch_of_port(self) -> dict[str, str]:
        """LSP uuid -> Logical_Switch uuid."""
        return self.topo.switch_of_port

    @property
    def switch_names(self) -> dict[str, str]:
        return self.topo.switch_names

    @cached_property
    def router_ports_on_switch(self) -> dict[str, list[RouterPort]]:
        """Switch uuid -> the LRPs attached to it through router-type LSPs."""
        out: dict[str, list[RouterPort]] = {}
        for port in self.topo.router_ports.values():
            peer = self.topo.peer_switch_port(port)
            if peer is not None and peer.switch_uuid:
                out.setdefault(peer.switch_uuid, []).append(port)
        return out

    @cached_property
    def workload_ports(self) -> list[WorkloadPort]:
        """Every switch port with IP addresses that is not a router/localnet/l2gateway/vtep
        port, read once in one scan of the ports (a large NB has 100k of them)."""
        out = []
        for port in self.topo.iter_switch_ports(skip_types=SKIP_PORT_TYPES):
            ips = port_addresses(port.addresses)
            if ips:
                out.append(WorkloadPort(port.name, port.switch_uuid, tuple(ips),
                                        port.external_ids))
        return out

    @cached_property
    def router_addresses_on_switch(self) -> dict[str, dict[str, list[RouterPort]]]:
        """Switch uuid -> canonical IP -> the LRPs on that switch owning it."""
        out: dict[str, dict[str, list[RouterPort]]] = {}
        for sw, ports in self.router_ports_on_switch.items():
            index: dict[str, list[RouterPort]] = {}
            for port in ports:
                for ip in port.ips:
                    index.setdefault(norm_ip(ip), []).append(port)
            out[sw] = index
        return out

    def routers_on_switch(self, switch_uuid: Optional[str]) -> list[Router]:
        seen: dict[str, Router] = {}
        for port in self.router_ports_on_switch.get(switch_uuid or "", []):
            seen.setdefault(port.router_uuid, self.topo.routers[port.router_uuid])
        return list(seen.values())

    def external_switch(self, verdict: NatVerdict) -> Optional[SwitchPort]:
        """The router-type LSP on the switch the NAT's external IP lives on, when known."""
        router = self.topo.router_of(verdict.nat)
        if verdict.gateway_port is not None:
            uuid = verdict.gateway_port.uuid
            if uuid not in self._peer_cache:
                self._peer_cache[uuid] = self.topo.peer_switch_port(verdict.gateway_port)
            return self._peer_cache[uuid]
        if router.is_gateway_router:
            for port in router.ports:
                if any(in_network(verdict.nat.external_ip, n) for n in port.networks):
                    return self.topo.peer_switch_port(port)
        return None

    def switch_networks(self, switch_uuid: str) -> list[SwitchNet]:
        """Subnets known for a switch: the networks of the router ports on it, its localnet
        ports' ``external_ids:ipv4_network/ipv6_network`` (Kube-OVN >= 1.13),
        ``other_config:subnet`` (OVN IPAM) and DHCP_Options ``cidr`` for the switch."""
        cached = self._switch_nets.get(switch_uuid)
        if cached is not None:
            return cached
        nets: list[SwitchNet] = []
        seen: set[str] = set()

        def add(text: str, source: str) -> None:
            net = network(text.strip())
            if net is None or parse_ip(text.strip()) is None:
                return
            key = str(net.cidr)
            if key not in seen:
                seen.add(key)
                nets.append(SwitchNet(key, source))

        for port in self.router_ports_on_switch.get(switch_uuid, []):
            for text in port.networks:
                if parse_ip(text) is not None and "/" in text:
                    add(text, f"router port {port.name}")
        for ln in self.topo.localnets(switch_uuid):
            for key in ("ipv4_network", "ipv6_network"):
                for text in (ln.external_ids.get(key) or "").split(","):
                    if text.strip():
                        add(text, f"localnet {ln.name} external_ids:{key}")
        sw = self.topo.switch(switch_uuid)
        if sw is not None:
            subnet = sw.other_config.get("subnet")
            if subnet:
                add(subnet, "other_config:subnet")
            for dhcp in self.topo.switch_dhcp_options(switch_uuid):
                if dhcp.cidr:
                    add(dhcp.cidr, "DHCP_Options cidr")
        self._switch_nets[switch_uuid] = nets
        return nets


def norm_ip(ip: str) -> str:
    """Canonical text of an address (``2001:0db8::1`` -> ``2001:db8::1``) for grouping."""
    if ":" not in ip:
        return ip   # IPv4 text that parse_ip accepted is already canonical (inet_pton)
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            return socket.inet_ntop(family, socket.inet_pton(family, ip))
        except (OSError, ValueError):
            continue
    return ip
