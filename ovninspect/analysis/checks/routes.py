"""Static routes and reroute policies whose nexthop is the router's own address
(cms-footprints §5 R-a2, kubeovn/kube-ovn#5490).

northd accepts such a route (cms-footprints §0); the router then ARPs for its own address and
the traffic goes nowhere.  Kube-OVN >= 1.14 adds one on purpose to every custom-VPC subnet
(src-ip ``<subnet CIDR>`` -> ``<subnet gateway>``): that vendor pattern is a warning, raised
to an error when it outranks a user dst-ip default route — static-route priority is prefix
length first, and only on equal length does dst-ip beat src-ip, so a src-ip /24 beats a
dst-ip /0.
"""

from __future__ import annotations

from typing import Optional

from ...addr import network, parse_ip, port_addresses, same_address
from ...topology import Router, RouterPort, StaticRoute, Topology
from .base import ERROR, WARNING, Context, Finding


def _owner(router: Router, ip: str) -> Optional[RouterPort]:
    for port in router.ports:
        if any(same_address(ip, own) for own in port.ips):
            return port
    return None


def _plen(prefix: str) -> Optional[int]:
    parsed = parse_ip(prefix)
    if parsed is None:
        return None
    return parsed.plen if parsed.plen is not None else (32 if parsed.version == 4 else 128)


def _is_vendor_auto_route(route: StaticRoute, port: RouterPort) -> bool:
    """Kube-OVN's automatic src-ip route: vendor ids, src-ip, prefix = the subnet of the LRP
    whose address is the nexthop."""
    if route.external_ids.get("vendor") != "kube-ovn" or route.policy != "src-ip":
        return False
    target = network(route.ip_prefix)
    if target is None:
        return False
    for text in port.networks:
        net = network(text)
        if net is not None and "/" in text and net.version == target.version \
                and net.cidr == target.cidr:
            return True
    return False


def _switch_port_with(topo: Topology, ctx: Context, port: RouterPort, ip: str) -> Optional[str]:
    """A non-router switch port on ``port``'s switch that also has ``ip`` (R-a1 collision)."""
    peer = topo.peer_switch_port(port)
    if peer is None or not peer.switch_uuid:
        return None
    for lsp in topo.switch_ports(peer.switch_uuid):
        if lsp.type != "router" and any(same_address(ip, a)
                                        for a in port_addresses(lsp.addresses)):
            return lsp.name
    return None


def _route_object(route: StaticRoute, router: Router) -> str:
    src = "src " if route.policy == "src-ip" else ""
    table = f" (table {route.route_table})" if route.route_table else ""
    return f"route {src}{route.ip_prefix} via {route.nexthop} on {router.name}{table}"


def nexthop_self(topo: Topology, ctx: Context) -> list[Finding]:
    """A static route or reroute policy whose nexthop is an address of the same router."""
    out: list[Finding] = []
    for router in topo.iter_routers():
        routes = topo.static_routes(router)
        for route in routes:
            port = _owner(router, route.nexthop)
            if port is None:
                continue
            out.append(_route_finding(topo, ctx, router, route, port, routes))
        out.extend(_policy_findings(topo, ctx, router))
    return out


def _route_finding(topo: Topology, ctx: Context, router: Router, route: StaticRoute,
                   port: RouterPort, routes: list[StaticRoute]) -> Finding:
    nexthop = route.nexthop
    obj = _route_object(route, router)
    details = {"router": router.name, "route_uuid": route.uuid,
               "ip_prefix": route.ip_prefix, "nexthop": nexthop, "policy": route.policy,
               "router_port": port.name}
    if _is_vendor_auto_route(route, port):
        plen = _plen(route.ip_prefix)
        family = parse_ip(route.ip_prefix).version
        outranked = [r for r in routes
                     if r.policy == "dst-ip" and r.route_table == route.route_table
                     and _plen(r.ip_prefix) is not None and plen is not None
                     and _plen(r.ip_prefix) < plen
                     and parse_ip(r.ip_prefix).version == family
                     and _plen(r.ip_prefix) == 0]
        message = (f"Kube-OVN >= 1.14 automatic src-ip route {route.ip_prefix} -> {nexthop}: "
                   f"the nexthop is {router.name}'s own port {port.name}, so the router ARPs "
                   "for itself (known Kube-OVN behaviour, kubeovn/kube-ovn#5490)")
        hint = ("Nothing to fix in NB (Kube-OVN re-creates it); watch for it outranking your "
                "default route.")
        if not outranked:
            return Finding("nexthop-self", WARNING, obj, message, hint, details)
        user = outranked[0]
        message += (f"; it outranks the user default route {user.ip_prefix} via "
                    f"{user.nexthop} (longer prefix wins before dst-ip beats src-ip), so "
                    f"traffic from {route.ip_prefix} leaving the VPC is sent to the router "
                    f"itself instead of {user.nexthop}")
        hint = ("Route the subnet's egress explicitly (a src-ip route or a policy for "
                f"{route.ip_prefix} via {user.nexthop}), or upgrade Kube-OVN to a release "
                "that does not add the automatic route for this VPC.")
        details["outranks"] = user.uuid
        return Finding("nexthop-self", ERROR, obj, message, hint, details)
    message = (f"the nexthop {nexthop} is {router.name}'s own address (router port "
               f"{port.name}): the router ARPs for itself and drops what this route carries "
               "(kubeovn/kube-ovn#5490)")
    clash = _switch_port_with(topo, ctx, port, nexthop)
    if clash:
        message += (f"; switch port {clash} also has {nexthop} (see lanip-is-gateway): the "
                    "route was probably meant for it")
        details["switch_port"] = clash
    hint = ("Point the route at the real next hop (for a VPC NAT gateway, its lanIp must "
            "differ from the subnet gateway).")
    return Finding("nexthop-self", ERROR, obj, message, hint, details)


def _policy_findings(topo: Topology, ctx: Context, router: Router) -> list[Finding]:
    out = []
    for row in topo.policies(router):
        if row.action != "reroute":
            continue
        for hop in row.nexthops:
            port = _owner(router, hop)
            if port is None:
                continue
            match = row.match if len(row.match) <= 60 else row.match[:57] + "..."
            obj = f"policy {row.priority} {match!r} on {router.name}"
            message = (f"reroute nexthop {hop} is {router.name}'s own address (router port "
                       f"{port.name}): the router ARPs for itself and drops the rerouted "
                       "traffic")
            clash = _switch_port_with(topo, ctx, port, hop)
            if clash:
                message += f"; switch port {clash} also has {hop} (see lanip-is-gateway)"
            out.append(Finding("nexthop-self", ERROR, obj, message,
                               "Reroute to the real next hop.",
                               {"router": router.name, "policy_uuid": row.uuid,
                                "priority": row.priority, "nexthop": hop,
                                "router_port": port.name}))
    return out
