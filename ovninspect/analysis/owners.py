"""Who wrote a NAT row (Kube-OVN, Neutron, ovn-kubernetes) and what it meant to ask for.

From the markers in docs/cms-footprints.md §1.9, §2, §3 and the §4 cheat sheet.  The
*intent* is what the CMS configured (Kube-OVN's ``staleless``/``stateless`` option, Neutron's
``neutron:fip-distributed``); the *effect* is the placement verdict.  Kube-OVN 1.12+ writes
logical_port and external_mac on every OvnFip, so a "centralized" OvnFip is distributed by
OVN's rule (§1.5): that mismatch is reported, not hidden.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field
from typing import Optional

from ..topology import Nat, Router, Topology

KUBE_OVN, NEUTRON, OVN_K8S, UNKNOWN = "kube-ovn", "neutron", "ovn-kubernetes", "unknown"
_NEUTRON_NAME = re.compile(r"^neutron-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass
class Owner:
    """The CMS behind a NAT row, what it calls the object, and its intent."""

    cms: str
    kind: Optional[str] = None             # OvnFip, OvnSnatRule, Neutron FIP, EgressIP, ...
    details: dict[str, str] = field(default_factory=dict)
    intent: Optional[str] = None           # distributed | centralized
    intent_source: Optional[str] = None

    def mismatch(self, mode: str) -> bool:
        """True when the CMS asked for one placement and OVN applies the other."""
        return self.intent is not None and mode in ("distributed", "centralized") \
            and mode != self.intent


NO_OWNER = Owner(UNKNOWN)  # shared: no CMS marker matched (never mutated)


def _is_true(value: Optional[str]) -> bool:
    return (value or "").strip().lower() == "true"


def is_kube_ovn(topo: Topology, router: Router, nb_ids: dict[str, str]) -> bool:
    return router.external_ids.get("vendor") == "kube-ovn" or (
        "kube-ovn-version" in nb_ids and not _NEUTRON_NAME.match(router.name))


def _kube_ovn(topo: Topology, router: Router, nat: Nat) -> Owner:
    owner = Owner(KUBE_OVN, details={"vpc": router.name})
    for dgp in router.dgps:
        if nat.external_ip and any(n.split("/")[0] == nat.external_ip for n in dgp.networks):
            owner.details["eip_is_router_port"] = dgp.name
    lsp = topo.lsp(nat.logical_port) if nat.logical_port else None
    if lsp is not None and lsp.external_ids.get("pod"):
        owner.details["pod"] = lsp.external_ids["pod"]
    opts = nat.options
    if nat.type == "dnat_and_snat":
        key = "staleless" if "staleless" in opts else "stateless" if "stateless" in opts else None
        default_vpc = router.name == "ovn-cluster"
        if key is not None and (not default_vpc or key == "staleless"
                                or not _is_true(opts.get(key))):
            owner.kind = "OvnFip"
            owner.intent = "distributed" if _is_true(opts[key]) else "centralized"
            owner.intent_source = f"options:{key}={opts[key]}"
        elif default_vpc and key is None:
            owner.kind = "pod EIP annotation"
            owner.intent, owner.intent_source = "centralized", "no options (ConfigMap type " \
                "centralized)"
        elif default_vpc:
            owner.kind = "OvnFip or pod EIP annotation"
            owner.intent, owner.intent_source = "distributed", f"options:{key}={opts[key]}"
    elif nat.type == "snat":
        owner.kind = "OvnSnatRule"
        if router.name == "ovn-cluster" and "/" not in nat.logical_ip:
            owner.kind = "OvnSnatRule or pod SNAT annotation"
    return owner


def is_lb_backend(topo: Topology, nat: Nat) -> bool:
    """The FIP's logical_ip is a load-balancer backend on its router (Neutron keeps such
    FIPs centralized on purpose)."""
    router = topo.router_of(nat)
    for lb in router.load_balancers:
        for backends in lb.vips.values():
            for backend in str(backends).split(","):
                host = backend.strip()
                if host.startswith("["):
                    host = host[1:host.find("]")]
                elif host.count(":") == 1:
                    host = host.split(":")[0]
                if host == nat.logical_ip:
                    return True
    return False


def _neutron(topo: Topology, router: Router, nat: Nat, nb_ids: dict[str, str]) -> Owner:
    ids = nat.external_ids
    owner = Owner(NEUTRON)
    human = router.external_ids.get("neutron:router_name")
    if human:
        owner.details["router_name"] = human
    if "neutron:fip_id" in ids:
        owner.kind = "floating IP"
        for key in ("neutron:fip_id", "neutron:fip_port_id", "neutron:fip_network_id",
                    "neutron:fip_external_mac"):
            if ids.get(key):
                owner.details[key.split(":", 1)[1]] = ids[key]
        flag = nb_ids.get("neutron:fip-distributed")
        if flag is not None:
            owner.intent = "distributed" if _is_true(flag) else "centralized"
            owner.intent_source = f"NB_Global external_ids:neutron:fip-distributed={flag}"
            if owner.intent == "distributed" and is_lb_backend(topo, nat):
                owner.intent = "centralized"   # Neutron keeps LB-backend FIPs centralized
                owner.intent_source += ", but the fixed IP is a load-balancer backend"
    elif nat.type == "snat":
        owner.kind = "router gateway SNAT"
    return owner


def _ovn_kubernetes(router: Router, nat: Nat) -> Owner:
    ids = nat.external_ids
    owner = Owner(OVN_K8S, details={"router": router.name})
    if ids.get("k8s.ovn.org/owner-type"):
        owner.kind = ids["k8s.ovn.org/owner-type"]
        if ids.get("k8s.ovn.org/name"):
            owner.details["name"] = ids["k8s.ovn.org/name"]
    elif nat.type == "snat":
        owner.kind = "node SNAT"
    if router.name.startswith("GR_"):
        owner.details["node"] = router.name[3:]
    return owner


def router_cms(topo: Topology, router: Router, nb_ids: dict[str, str]) -> str:
    """The CMS that a router's own markers point to (unknown when none)."""
    if _NEUTRON_NAME.match(router.name) or any(
            k.startswith("neutron:") for k in router.external_ids):
        return NEUTRON
    if router.name == "ovn_cluster_router" or "k8s-cluster-router" in router.external_ids or (
            router.name.startswith("GR_") and router.is_gateway_router):
        return OVN_K8S
    if is_kube_ovn(topo, router, nb_ids):
        return KUBE_OVN
    return UNKNOWN


_neutron_key = operator.methodcaller("startswith", "neutron:")


def label(topo: Topology, nat: Nat, nb_ids: Optional[dict[str, str]] = None,
          cms: Optional[str] = None) -> Owner:
    """The owner of one NAT row (unknown when no marker matches)."""
    nb_ids = topo.nb_global_ids if nb_ids is None else nb_ids
    router = topo.router_of(nat)
    cms = router_cms(topo, router, nb_ids) if cms is None else cms
    ids = nat.external_ids
    if cms == NEUTRON or any(map(_neutron_key, ids)):
        return _neutron(topo, router, nat, nb_ids)
    if cms == OVN_K8S or "k8s.ovn.org/owner-type" in ids:
        return _ovn_kubernetes(router, nat)
    if cms == KUBE_OVN:
        return _kube_ovn(topo, router, nat)
    return NO_OWNER


def labels(topo: Topology, nats: list[Nat]) -> list[Owner]:
    """The owner of each NAT, in order (the router's markers read once per router)."""
    nb_ids = topo.nb_global_ids
    per_router: dict[str, str] = {}
    out = []
    for nat in nats:
        cms = per_router.get(nat.router_uuid)
        if cms is None:
            cms = per_router[nat.router_uuid] = router_cms(topo, topo.router_of(nat), nb_ids)
        out.append(label(topo, nat, nb_ids, cms))
    return out


def label_all(topo: Topology, nats: list[Nat]) -> dict[str, Owner]:
    """The owner of each NAT by NAT UUID."""
    return {nat.uuid: owner for nat, owner in zip(nats, labels(topo, nats))}
