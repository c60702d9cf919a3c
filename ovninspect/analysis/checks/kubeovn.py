"""Kube-OVN intent (CRs from ``--k8s``) against OVN effect (NB): the kubeovn-* rules
(cms-footprints §1.4-§1.7 and the field reports of §5).

Every finding's object is the CR (``Kind/name``, ``Kind/namespace/name``); ``details``
name the NB row compared with it (``nb``).  These rules need ``--k8s`` and are skipped
without it.
"""

from __future__ import annotations

from typing import Any, Optional

from ...addr import bounds
from ...k8s.match import Matcher, in_any, same_ip, same_net
from ...k8s.model import (
    DEFAULT_VPC,
    Cluster,
    IPPool,
    OvnNatRule,
    VpcNatGateway,
    parse_kubeovn_version,
    split_ips,
)
from ...topology import Topology
from ..placement import CENTRALIZED, DISTRIBUTED
from .base import ERROR, INFO, WARNING, Context, Finding

# kubeovn/kube-ovn#4777: a namespace's IPPool is used only for its own subnet from these
IPPOOL_FIXED = ((1, 13, 9), (1, 14, 0))


def _k(ctx: Context) -> tuple[Cluster, Matcher]:
    return ctx.k8s, ctx.matcher


def kubeovn_version(topo: Topology, cluster: Cluster) -> Optional[tuple[str, tuple[int, int, int]]]:
    """(text, release) from NB_Global external_ids:kube-ovn-version (v1.15+), else the
    kube-ovn image of a Pod in --k8s."""
    text = topo.nb_global_ids.get("kube-ovn-version")
    release = parse_kubeovn_version(text or "")
    if text and release:
        return f"{text} (NB_Global external_ids:kube-ovn-version)", release
    return cluster.kube_ovn_version()


def _ipam_fixed(release: tuple[int, int, int]) -> bool:
    if release[:2] == (1, 13):
        return release >= IPPOOL_FIXED[0]
    return release >= IPPOOL_FIXED[1]


# -- VPC NAT gateways (field reports a, b) ---------------------------------------------------
def _natgw_subnet_gateway(ctx: Context, gw: VpcNatGateway) -> tuple[Optional[str], str]:
    """The gateway of the NAT gateway's subnet: the Subnet CR's, else its NB router port."""
    cluster, m = _k(ctx)
    sub = cluster.subnet(gw.subnet)
    if sub is not None and sub.gateway:
        return sub.gateway.split(",")[0].strip(), f"{sub.meta.ref} spec.gateway"
    lrp = m.lrps.get(f"{gw.vpc or DEFAULT_VPC}-{gw.subnet}")
    if lrp is not None and lrp.networks:
        return lrp.networks[0].split("/")[0], f"router port {lrp.name}"
    return None, ""


def _natgw_lsp(ctx: Context, gw: VpcNatGateway) -> str:
    name = f"{gw.pod_name(ctx.k8s.nat_gw_prefix())}.{gw.pod_namespace}"
    return f"LSP {name}" if ctx.topo.lsp_exists(name) else f"LSP {name} (not in NB)"


def natgw_lanip_is_gateway(topo: Topology, ctx: Context) -> list[Finding]:
    out = []
    for gw in ctx.k8s.all("VpcNatGateway"):
        gateway, where = _natgw_subnet_gateway(ctx, gw)
        if not gw.lan_ip or not same_ip(gw.lan_ip, gateway):
            continue
        lrp = ctx.matcher.lrps.get(f"{gw.vpc or DEFAULT_VPC}-{gw.subnet}")
        nb = f"router port {lrp.name} {', '.join(lrp.networks)}" if lrp else "no router port"
        out.append(Finding(
            "kubeovn-natgw-lanip-is-gateway", ERROR, gw.meta.ref,
            f"spec.lanIp {gw.lan_ip} is the gateway of subnet {gw.subnet} ({where}; NB {nb}): "
            "the NAT gateway pod and the VPC router both answer ARP for it, and the "
            "pod's own routes use it as nexthop (kubeovn/kube-ovn#1300, #4566; lanIp is the "
            "pod's own address, never the subnet gateway)",
            f"Give {gw.meta.ref} a free address of {gw.subnet} as spec.lanIp and point the "
            "VPC's static route at it.",
            {"lan_ip": gw.lan_ip, "subnet": gw.subnet, "gateway_source": where, "nb": nb,
             "nb_port": _natgw_lsp(ctx, gw)}))
    return out


def natgw_lanip_outside_subnet(topo: Topology, ctx: Context) -> list[Finding]:
    out = []
    for gw in ctx.k8s.all("VpcNatGateway"):
        cidrs, where = ctx.matcher.subnet_cidrs(gw.subnet)
        if not gw.lan_ip or not cidrs or in_any(gw.lan_ip, cidrs):
            continue
        out.append(Finding(
            "kubeovn-natgw-lanip-outside-subnet", ERROR, gw.meta.ref,
            f"spec.lanIp {gw.lan_ip} is outside subnet {gw.subnet} ({', '.join(cidrs)}, "
            f"{where}): the NAT gateway pod cannot get it, or cannot reach its VPC",
            f"Choose spec.lanIp inside {', '.join(cidrs)}.",
            {"lan_ip": gw.lan_ip, "subnet": gw.subnet, "cidrs": cidrs,
             "nb": _natgw_lsp(ctx, gw)}))
    return out


def natgw_lanip_duplicate(topo: Topology, ctx: Context) -> list[Finding]:
    groups: dict[str, list[VpcNatGateway]] = {}
    for gw in ctx.k8s.all("VpcNatGateway"):
        if gw.lan_ip:
            groups.setdefault(gw.lan_ip.strip(), []).append(gw)
    chaining = ctx.k8s.cilium_chaining
    severity = ERROR if chaining or ctx.unique_ips else WARNING
    out = []
    for ip, gws in groups.items():
        if len({g.vpc or DEFAULT_VPC for g in gws}) < 2:
            continue
        for gw in gws:
            others = [g for g in gws if g is not gw]
            same_ns = [g for g in others if g.pod_namespace == gw.pod_namespace]
            why = ("Cilium chaining is on (cilium-config cni-chaining-mode), and it refuses a "
                   "second endpoint with one IP" if chaining else
                   "a host datapath that needs cluster-wide unique pod IPs (Cilium chaining) "
                   "refuses the second one")
            out.append(Finding(
                "kubeovn-natgw-lanip-duplicate", severity, gw.meta.ref,
                f"spec.lanIp {ip} is also the lanIp of "
                f"{', '.join(f'{g.meta.ref} (VPC {g.vpc})' for g in others)}; the gateway "
                f"pods run in namespace{'s' if not same_ns else ''} {gw.pod_namespace}"
                f"{'' if same_ns else ' and others'}, outside VPC isolation: {why} "
                "(kubeovn/kube-ovn#4952, cilium/cilium#37459)",
                "Give each NAT gateway a lanIp unique in the whole cluster, or run the "
                "gateways in per-tenant namespaces.",
                {"lan_ip": ip, "vpc": gw.vpc, "others": [g.meta.ref for g in others],
                 "cilium_chaining": chaining, "nb": _natgw_lsp(ctx, gw)}))
    return out


def natgw_multiple_external_subnets(topo: Topology, ctx: Context) -> list[Finding]:
    out = []
    for gw in ctx.k8s.all("VpcNatGateway"):
        if len(gw.external_subnets) < 2:
            continue
        first, rest = gw.external_subnets[0], gw.external_subnets[1:]
        out.append(Finding(
            "kubeovn-natgw-multiple-external-subnets", WARNING, gw.meta.ref,
            f"spec.externalSubnets lists {', '.join(gw.external_subnets)}: the NAT gateway "
            f"pod gets an interface only on the first ({first}); EIPs of {', '.join(rest)} "
            "are never configured (kubeovn/kube-ovn#7134)",
            "Use one external subnet per VpcNatGateway (another gateway for the others).",
            {"external_subnets": list(gw.external_subnets),
             "nb": "none (the external interface of a NAT gateway is not in NB)"}))
    return out


# -- EIPs (field report d) -------------------------------------------------------------------
def _all_eips(ctx: Context) -> list[tuple[Any, str, str]]:
    """(CR, address, external subnet) of every IptablesEIP and OvnEip."""
    out = []
    for e in ctx.k8s.all("IptablesEIP"):
        for a in e.addresses:
            out.append((e, a, e.subnet_name))
    default_ext = "external"   # --external-gateway-switch default
    cm = ctx.k8s.configmap("ovn-external-gw-config")
    if cm is not None and cm.data.get("external-gw-switch"):
        default_ext = cm.data["external-gw-switch"]
    for e in ctx.k8s.all("OvnEip"):
        for a in e.addresses:
            out.append((e, a, e.external_subnet or default_ext))
    return out


def eip_off_link(topo: Topology, ctx: Context) -> list[Finding]:
    out = []
    for cr, ip, subnet in _all_eips(ctx):
        cidrs, where = ctx.matcher.subnet_cidrs(subnet)
        family = [c for c in cidrs if (":" in c) == (":" in ip)]
        if not family or in_any(ip, family):
            continue
        nb = ", ".join(f"NAT {n.external_ip} on {n.router}"
                       for n in topo.nats if same_ip(n.external_ip, ip)) or "no NAT row"
        out.append(Finding(
            "kubeovn-eip-off-link", ERROR, cr.meta.ref,
            f"EIP {ip} is outside every CIDR of its external subnet {subnet} "
            f"({', '.join(family)}, {where}): the upstream router finds it by ARP on that "
            "network, so it is never answered (kubeovn/kube-ovn#4916, #5010, #4217)",
            f"Allocate the EIP from {subnet} ({', '.join(family)}), or route the address to "
            "the gateway upstream (BGP / a static route) and say so in the subnet.",
            {"address": ip, "external_subnet": subnet, "cidrs": family, "nb": nb}))
    return out


def eip_duplicate(topo: Topology, ctx: Context) -> list[Finding]:
    groups: dict[str, list[tuple[Any, str, str]]] = {}
    for cr, ip, subnet in _all_eips(ctx):
        key = ip.strip()
        groups.setdefault(key, []).append((cr, ip, subnet))
    out = []
    for ip, items in groups.items():
        refs = list(dict.fromkeys(cr.meta.ref for cr, _, _ in items))
        if len(refs) < 2:
            continue
        nb = ", ".join(f"NAT {n.external_ip} on {n.router}"
                       for n in topo.nats if same_ip(n.external_ip, ip)) or "no NAT row"
        for ref in refs:
            others = [r for r in refs if r != ref]
            out.append(Finding(
                "kubeovn-eip-duplicate", ERROR, ref,
                f"EIP {ip} is also held by {', '.join(others)}: two gateways answer ARP for "
                "one address and return traffic goes to either (IptablesEIPs are not in NB, "
                "so NB alone cannot see this)",
                "Release one of the EIPs and give its NAT rules another address.",
                {"address": ip, "others": others, "nb": nb}))
    return out


# -- IP pools (field report e) ---------------------------------------------------------------
def _pool_entries(pool: IPPool) -> list[tuple[str, list[str]]]:
    """(entry, the addresses/CIDRs to test) for each spec.ips entry."""
    out = []
    for entry in pool.ips:
        if ".." in entry:
            a, b = entry.split("..", 1)
            out.append((entry, [a.strip(), b.strip()]))
        else:
            out.append((entry, [entry.strip()]))
    return out


def _inside(text: str, cidrs: list[str]) -> bool:
    """An address or a CIDR entirely inside one of ``cidrs``."""
    inner = bounds(text) if "/" in text else None
    if inner is None:
        return in_any(text, cidrs)
    for c in cidrs:
        outer = bounds(c)
        if outer is not None and outer[0] == inner[0] and outer[1] <= inner[1] \
                and inner[2] <= outer[2]:
            return True
    return False


def ippool_outside_subnet(topo: Topology, ctx: Context) -> list[Finding]:
    out = []
    for pool in ctx.k8s.all("IPPool"):
        cidrs, where = ctx.matcher.subnet_cidrs(pool.subnet)
        if not cidrs:
            continue
        bad = [entry for entry, parts in _pool_entries(pool)
               if not all(_inside(p, cidrs) for p in parts)]
        if not bad:
            continue
        aset = pool.meta.name.replace("-", ".")
        nb = f"Address_Set {aset}" if pool.enable_address_set else "not in NB"
        out.append(Finding(
            "kubeovn-ippool-outside-subnet", ERROR, pool.meta.ref,
            f"spec.ips {', '.join(bad)} outside subnet {pool.subnet} ({', '.join(cidrs)}, "
            f"{where}): workloads given these addresses cannot reach their gateway",
            f"Keep the pool inside {', '.join(cidrs)}, or bind it to the subnet that holds "
            "these addresses.",
            {"subnet": pool.subnet, "outside": bad, "cidrs": cidrs, "nb": nb}))
    return out


def _pools_of_namespace(cluster: Cluster) -> dict[str, list[IPPool]]:
    out: dict[str, list[IPPool]] = {}
    for pool in cluster.all("IPPool"):
        for ns in pool.namespaces:
            out.setdefault(ns, []).append(pool)
    return out


def ippool_namespace_overlap(topo: Topology, ctx: Context) -> list[Finding]:
    out = []
    for ns, pools in sorted(_pools_of_namespace(ctx.k8s).items()):
        if len(pools) < 2:
            continue
        for pool in pools:
            others = [p for p in pools if p is not pool]
            out.append(Finding(
                "kubeovn-ippool-namespace-overlap", WARNING, pool.meta.ref,
                f"namespace {ns} is bound to this pool (subnet {pool.subnet}) and to "
                f"{', '.join(f'{p.meta.ref} (subnet {p.subnet})' for p in others)}: before "
                "v1.13.9/v1.14.0 Kube-OVN used one of them for every interface of the "
                "namespace, whatever its subnet (kubeovn/kube-ovn#4573)",
                "Bind each namespace to one pool per subnet, or name the pool on the "
                "workload (ovn.kubernetes.io/ip_pool).",
                {"namespace": ns, "others": [p.meta.ref for p in others],
                 "nb": "not in NB"}))
    return out


def ippool_namespace_subnet_mismatch(topo: Topology, ctx: Context) -> list[Finding]:
    by_ns = _pools_of_namespace(ctx.k8s)
    version = kubeovn_version(topo, ctx.k8s)
    if version is None:
        severity, when = WARNING, "the Kube-OVN version is not known (give a kube-ovn Pod " \
            "or an NB with kube-ovn-version): "
    elif _ipam_fixed(version[1]):
        severity, when = INFO, f"Kube-OVN {version[0]} picks a namespace pool only for its " \
            "own subnet, so this is harmless there; older releases (before v1.13.9/v1.14.0): "
    else:
        severity, when = ERROR, f"Kube-OVN {version[0]} (before v1.13.9/v1.14.0): "
    out = []
    for work in ctx.k8s.workloads():
        pools = by_ns.get(work.meta.namespace, [])
        if not pools:
            continue
        for provider, subnet, own_pool in work.interfaces():
            if own_pool:
                continue
            foreign = [p for p in pools if p.subnet and p.subnet != subnet]
            if not foreign:
                continue
            iface = f"interface {provider}" if provider else "the default interface"
            lsp = f"{work.meta.name}.{work.meta.namespace}" + (f".{provider}" if provider
                                                               else "")
            nb = f"LSP {lsp}" if topo.lsp_exists(lsp) else f"LSP {lsp} missing"
            out.append(Finding(
                "kubeovn-ippool-namespace-subnet-mismatch", severity, work.meta.ref,
                f"{iface} asks for subnet {subnet} without naming a pool, but namespace "
                f"{work.meta.namespace} is bound to "
                f"{', '.join(f'{p.meta.ref} (subnet {p.subnet})' for p in foreign)}: "
                f"{when}the address is taken from that pool, outside {subnet}, or the "
                f"allocation fails ({nb}; kubeovn/kube-ovn#4573, #4687, #3260)",
                "Upgrade to v1.13.9 / v1.14.0 or later, or annotate the workload with the "
                f"pool of {subnet} ({provider + '.' if provider else 'ovn.'}kubernetes.io/"
                "ip_pool), or unbind the namespace from the other subnet's pool.",
                {"subnet": subnet, "provider": provider or None,
                 "pools": [p.meta.ref for p in foreign], "nb": nb,
                 "kube_ovn_version": version[0] if version else None}))
    return out


# -- status and existence ---------------------------------------------------------------------
def _missing(ctx: Context, cr: Any) -> Optional[str]:
    """What NB should hold for a ready CR and does not (None: found, or nothing expected)."""
    m, kind = ctx.matcher, cr.meta.kind
    if kind == "OvnFip":
        eip = m.rule_eip(cr)
        if eip and not m.fip_nats(cr):
            return f"no dnat_and_snat NAT with external_ip {eip} on router {cr.vpc_name or '?'}"
    elif kind == "OvnSnatRule":
        eip = m.rule_eip(cr)
        if eip and not m.snat_nats(cr):
            return f"no snat NAT with external_ip {eip} on router {cr.vpc_name or '?'}"
    elif kind == "OvnDnatRule":
        if not m.dnat_lbs(cr):
            return f"no Load_Balancer named {cr.meta.name}"
    elif kind == "OvnEip":
        if cr.eip_type == "lrp":
            if cr.meta.name not in m.lrps:
                return f"no router port {cr.meta.name}"
        elif cr.eip_type == "lsp":
            if not ctx.topo.lsp_exists(cr.meta.name):
                return f"no switch port {cr.meta.name}"
        elif cr.nat and cr.addresses:
            used = any(same_ip(n.external_ip, a) for n in ctx.topo.nats for a in cr.addresses)
            used = used or any(a in vip for lb in ctx.topo.load_balancers.values()
                               for vip in lb.vips for a in cr.addresses)
            if not used:
                return (f"status.nat={cr.nat} but no NAT or load-balancer VIP uses "
                        f"{', '.join(cr.addresses)}")
    elif kind == "Subnet":
        if not cr.is_ovn:
            return None
        if cr.meta.name not in m.switches:
            return f"no logical switch {cr.meta.name}"
        if cr.has_router_port and m.subnet_lrp(cr) is None:
            return f"no router port {cr.vpc_name}-{cr.meta.name}"
    elif kind == "Vpc":
        name = cr.router or cr.meta.name
        if name not in m.routers:
            return f"no logical router {name}"
    return None


def status_not_in_nb(topo: Topology, ctx: Context) -> list[Finding]:
    out = []
    for kind in ("OvnFip", "OvnEip", "OvnSnatRule", "OvnDnatRule", "Subnet", "Vpc"):
        for cr in ctx.k8s.all(kind):
            if cr.ready is not True:
                continue
            missing = _missing(ctx, cr)
            if missing is None:
                continue
            out.append(Finding(
                "kubeovn-status-not-in-nb", ERROR, cr.meta.ref,
                f"status says ready but NB has {missing}: the status is stale or the "
                "controller lost the row (kubeovn/kube-ovn#3815, #5114)",
                f"Restart kube-ovn-controller to resync, or delete and re-create {cr.meta.ref}.",
                {"nb": missing}))
    return out


def nb_not_in_crds(topo: Topology, ctx: Context) -> list[Finding]:
    cluster, m = _k(ctx)
    out = []

    def add(obj: str, message: str, nb: str) -> None:
        out.append(Finding("kubeovn-nb-not-in-crds", WARNING, obj, message,
                           "Delete the leftover NB row (kubectl ko nbctl ...) or re-create "
                           "the CR; check that --k8s holds every object of that kind.",
                           {"nb": nb}))

    vpcs = {v.router or v.meta.name for v in cluster.all("Vpc")}
    subnets = {s.meta.name for s in cluster.subnets()}
    for router in topo.iter_routers():
        if router.external_ids.get("vendor") != "kube-ovn":
            continue
        if cluster.has("Vpc") and router.name not in vpcs:
            add(f"Logical_Router {router.name}", f"Kube-OVN router {router.name} has no Vpc "
                "CR", f"Logical_Router {router.name}")
    if cluster.has("Subnet"):
        for sw in topo.iter_switches():
            if sw.external_ids.get("vendor") == "kube-ovn" and sw.name not in subnets:
                add(f"Logical_Switch {sw.name}", f"Kube-OVN switch {sw.name} has no Subnet CR",
                    f"Logical_Switch {sw.name}")
    if cluster.has("OvnFip", "OvnSnatRule", "OvnEip"):
        owned = m.crs_by_nat
        kube_routers = {r.uuid for r in topo.iter_routers()
                        if r.external_ids.get("vendor") == "kube-ovn"}
        for nat in topo.nats:
            if nat.router_uuid not in kube_routers or nat.type not in ("dnat_and_snat", "snat"):
                continue
            refs = [r for r in owned.get(nat.uuid, []) if not r.startswith("OvnEip/")]
            if refs:
                continue
            want = "OvnFip (or pod eip annotation)" if nat.type == "dnat_and_snat" else \
                "OvnSnatRule (or pod snat annotation)"
            add(ctx.nat_object(nat), f"{nat.type} {nat.external_ip} -> {nat.logical_ip} on "
                f"Kube-OVN router {nat.router} matches no {want} in --k8s",
                f"NAT {nat.uuid}")
    return out


# -- OvnFip target and type ------------------------------------------------------------------
def _fip_target(ctx: Context, fip: OvnNatRule) -> tuple[Optional[str], Optional[str], str]:
    """(logical_port, logical_ip) the OvnFip asks for and where the IP was read."""
    if fip.ip_name:
        ip = ctx.k8s.get("IP", fip.ip_name)
        if ip is not None and ip.v4:
            return fip.ip_name, ip.v4, f"IP/{fip.ip_name} spec.v4IpAddress"
        return fip.ip_name, fip.status_ip or None, "status.v4Ip"
    return None, fip.v4_ip or fip.status_ip or None, "spec.v4Ip"


def fip_target_mismatch(topo: Topology, ctx: Context) -> list[Finding]:
    out = []
    for fip in ctx.k8s.all("OvnFip"):
        port, ip, where = _fip_target(ctx, fip)
        for nat in ctx.matcher.fip_nats(fip):
            wrong = []
            if port and fip.ip_type != "vip" and nat.logical_port != port:
                wrong.append(f"logical_port {nat.logical_port or '(empty)'} instead of {port} "
                             "(spec.ipName)")
            if ip and not same_ip(nat.logical_ip, ip):
                wrong.append(f"logical_ip {nat.logical_ip} instead of {ip} ({where})")
            if not wrong:
                continue
            out.append(Finding(
                "kubeovn-fip-target-mismatch", ERROR, fip.meta.ref,
                f"{ctx.nat_object(nat)} has {'; '.join(wrong)}: traffic to "
                f"{nat.external_ip} goes to the old target (kubeovn/kube-ovn#3815, #5114)",
                f"Re-create {fip.meta.ref} (or restart kube-ovn-controller) so the NAT is "
                "rewritten for the current target.",
                ctx.nat_details(nat, nb=ctx.nat_object(nat), want_port=port, want_ip=ip)))
    return out


def fip_type_mismatch(topo: Topology, ctx: Context) -> list[Finding]:
    out = []
    verdicts = {v.nat.uuid: v for v in ctx.verdicts}
    cm_type = ctx.k8s.external_gw_type()
    for fip in ctx.k8s.all("OvnFip"):
        if fip.type:
            want, source = fip.type, "spec.type"
        elif cm_type:
            want, source = cm_type, "spec.type empty, ConfigMap ovn-external-gw-config type"
        else:
            want, source = CENTRALIZED, "spec.type empty (default centralized)"
        if want not in (CENTRALIZED, DISTRIBUTED):
            continue
        for nat in ctx.matcher.fip_nats(fip):
            v = verdicts.get(nat.uuid)
            if v is None or v.mode not in (CENTRALIZED, DISTRIBUTED) or v.mode == want:
                continue
            if want == CENTRALIZED:
                message = (f"asks for a centralized FIP ({source}={want}) but OVN distributes "
                           f"{ctx.nat_object(nat)}: Kube-OVN >= 1.12 writes logical_port "
                           f"{nat.logical_port} and external_mac {nat.external_mac} on every "
                           "OvnFip, so the EIP is answered and translated on the pod's node, "
                           "not on the gateway nodes (kubeovn/kube-ovn#5050)")
                hint = ("Plan for the distributed behaviour: the EIP follows the pod and every "
                        "node that may run it needs the external provider network.")
            else:
                message = (f"asks for a distributed FIP ({source}={want}) but OVN centralizes "
                           f"{ctx.nat_object(nat)}: {v.reason}")
                hint = ("A distributed FIP needs spec.ipName (so the NAT gets logical_port "
                        "and external_mac) on a VPC whose external switch has a localnet.")
            out.append(Finding("kubeovn-fip-type-mismatch", WARNING, fip.meta.ref, message,
                               hint, ctx.nat_details(nat, nb=ctx.nat_object(nat), intent=want,
                                                     intent_source=source, mode=v.mode)))
    return out


# -- Subnet spec against the router port and switch ----------------------------------------
def subnet_gateway_mismatch(topo: Topology, ctx: Context) -> list[Finding]:
    out = []
    for sub in ctx.k8s.subnets():
        lrp = ctx.matcher.subnet_lrp(sub)
        if lrp is None or not sub.gateway or sub.u2o_interconnection:
            continue
        for gw in split_ips(sub.gateway):
            nets = [n for n in lrp.networks if (":" in n) == (":" in gw)]
            if nets and not any(same_ip(n.split("/")[0], gw) for n in nets):
                out.append(Finding(
                    "kubeovn-subnet-gateway-mismatch", ERROR, sub.meta.ref,
                    f"spec.gateway {gw} but router port {lrp.name} has {', '.join(nets)}: "
                    "workloads send to a gateway address the router does not own",
                    "Let kube-ovn-controller reconcile the subnet (restart it), or fix "
                    "spec.gateway.",
                    {"gateway": gw, "nb": f"router port {lrp.name}",
                     "networks": list(lrp.networks)}))
    return out


def subnet_cidr_mismatch(topo: Topology, ctx: Context) -> list[Finding]:
    out = []
    m = ctx.matcher
    for sub in ctx.k8s.subnets():
        if not sub.cidr_block or not sub.is_ovn:
            continue
        seen: list[tuple[str, str]] = []   # (NB network, where)
        lrp = m.subnet_lrp(sub) if not sub.u2o_interconnection else None
        if lrp is not None:
            seen += [(n, f"router port {lrp.name}") for n in lrp.networks if "/" in n]
        uuid = m.switches.get(sub.meta.name)
        if uuid is not None:
            for ln in topo.localnets(uuid):
                for key in ("ipv4_network", "ipv6_network"):
                    seen += [(n, f"localnet {ln.name} external_ids:{key}")
                             for n in split_ips(ln.external_ids.get(key, ""))]
        cidrs = split_ips(sub.cidr_block)
        for net, where in seen:
            family = [c for c in cidrs if (":" in c) == (":" in net)]
            if family and not any(same_net(net, c) for c in family):
                out.append(Finding(
                    "kubeovn-subnet-cidr-mismatch", ERROR, sub.meta.ref,
                    f"spec.cidrBlock {', '.join(family)} but {where} has {net}: OVN routes and "
                    "answers for another network than Kube-OVN allocates from",
                    "Let kube-ovn-controller reconcile the subnet (a CIDR change needs the "
                    "subnet's pods re-created), or restore spec.cidrBlock.",
                    {"cidr_block": family, "nb": where, "nb_network": net}))
    return out


def ovnfip_nats(ctx: Context) -> set[str]:
    """NAT uuids matched by an OvnFip (fip-intent-mismatch leaves these to
    kubeovn-fip-type-mismatch when --k8s is given)."""
    return {n.uuid for fip in ctx.k8s.all("OvnFip") for n in ctx.matcher.fip_nats(fip)}

