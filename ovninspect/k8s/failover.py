"""``failover-sim --k8s``: iptables EIPs (VpcNatGateway pods, no NAT row in NB) as entries
of type ``iptables-eip``, reachable iff the NAT gateway pod's node is up, and the EIP CR of
every entry.  Extends a built :class:`FailoverModel` without changing how it is built."""

from __future__ import annotations

from typing import AbstractSet, Optional

from ..analysis.failover import NO_DOWN, Dependency, Entry, FailoverModel, Outcome
from ..topology import Topology
from .match import Matcher
from .model import Cluster, IptablesEIP, VpcNatGateway

IPTABLES_EIP = "iptables-eip"


class NodeUp(Dependency):
    """An iptables EIP: served by the NAT gateway pod, so by the pod's node."""

    kind = "node"

    def __init__(self, pod: str, node: Optional[str], chassis: Optional[str],
                 where: str) -> None:
        super().__init__()
        self.pod, self.node, self.node_chassis, self.where = pod, node, chassis, where
        self.label = pod
        self.chassis = frozenset([chassis]) if chassis else frozenset()
        self.candidates = self.chassis

    def outcome(self, down: AbstractSet[str]) -> Outcome:
        if self.node is None:
            return Outcome(None, None, f"iptables EIP on NAT gateway pod {self.pod}: its node "
                           "is not known (give the Pod or its IP CR in --k8s)")
        shown = self.node if self.node_chassis == self.node else \
            f"{self.node} (chassis {self.node_chassis})"
        if self.node_chassis in down:
            return Outcome(False, None, f"iptables EIP on NAT gateway pod {self.pod}, whose "
                           f"node {shown} is down ({self.where}); Kubernetes reschedules the "
                           "pod only after the node is declared lost")
        return Outcome(True, self.node_chassis, f"iptables EIP on NAT gateway pod {self.pod} "
                       f"on node {shown} ({self.where}); not in NB, OVN gateways play no part")


def _gateway_pod(cluster: Cluster, gw: Optional[VpcNatGateway], eip: IptablesEIP
                 ) -> tuple[str, Optional[str], str]:
    name = gw.pod_name(cluster.nat_gw_prefix()) if gw else f"vpc-nat-gw-{eip.nat_gw_dp}-0"
    ns = gw.pod_namespace if gw else "kube-system"
    node, where = cluster.node_of_pod(ns, name)
    return f"{ns}/{name}", node, where


def extend_model(model: FailoverModel, topo: Topology, cluster: Cluster) -> None:
    """Add one ``iptables-eip`` entry per IptablesEIP address."""
    routers = {r.name: r.uuid for r in topo.iter_routers()}
    deps: dict[str, NodeUp] = {}
    for eip in cluster.all("IptablesEIP"):
        gw = cluster.get("VpcNatGateway", eip.nat_gw_dp) if eip.nat_gw_dp else None
        pod, node, where = _gateway_pod(cluster, gw, eip)
        dep = deps.get(pod)
        if dep is None:
            chassis = (topo.hostnames.get(node) or node) if node else None
            dep = deps[pod] = NodeUp(pod, node, chassis, where)
            dep.before = dep.outcome(NO_DOWN)
            model.deps.append(dep)
            for ch in dep.chassis:
                if ch not in model.gateway_chassis:   # --sweep fails NAT gateway nodes too
                    model.gateway_chassis.append(ch)
                    model.gateway_chassis.sort()
                model.by_chassis.setdefault(ch, []).append(dep)
                model.aliases.setdefault(ch, ch)
                if node:
                    model.aliases.setdefault(node, ch)
        vpc = gw.vpc if gw else ""
        for address in eip.addresses:
            dep.entries.append(len(model.entries))
            model.entries.append(Entry(
                vpc or "-", routers.get(vpc, ""), IPTABLES_EIP, address, "centralized", None,
                dep, logical_ip=gw.lan_ip if gw else None,
                logical_port=f"{pod.split('/')[1]}.{pod.split('/')[0]}"))
    if cluster.all("IptablesEIP"):
        model.notes.append("iptables EIPs (VpcNatGateway pods) are listed from --k8s: NB has no "
                           "row for them; each depends on its NAT gateway pod's node")


def eip_crs(model: FailoverModel, topo: Topology, cluster: Cluster) -> dict[int, Optional[str]]:
    """id(entry) -> the EIP CR holding its external IP (OvnEip, or IptablesEIP)."""
    m = Matcher(topo, cluster)
    iptables: dict[str, str] = {}
    for eip in cluster.all("IptablesEIP"):
        for a in eip.addresses:
            iptables.setdefault(a, eip.meta.ref)
    out: dict[int, Optional[str]] = {}
    for e in model.entries:
        if e.type == IPTABLES_EIP:
            out[id(e)] = iptables.get(e.external_ip)
        else:
            out[id(e)] = m.eip_of_address(e.router, e.external_ip)
    return out
