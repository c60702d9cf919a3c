"""NAT rows northd drops, ignores or mis-wires, and external IPs that clash or are off-link.

Every verdict comes from ``analysis.placement`` (semantics §7 rules 4-16); these checks only
turn its causes and flags into findings with a fix.
"""

from __future__ import annotations

from typing import Optional

from ...addr import in_network, parse_ip
from ...topology import Router, RouterPort, Topology
from ...vocab import Cause, Flag
from ..datapath import FLOWS_REJECTED, PREFIX_EXTERNAL_IP, logical_ip_is_prefix
from ..owners import KUBE_OVN
from ..placement import DISTRIBUTED, INACTIVE
from .base import ERROR, INFO, WARNING, Context, Finding, norm_ip

# Fix hints for nat-invalid, by the semantics §7 rule that rejected the row.
_INVALID_HINTS = {
    6: "Set external_ip to exactly one IPv4 or IPv6 address, written plainly (no prefix, no "
       "list, no spaces).",
    7: "Keep only one of allowed_ext_ips and exempted_ext_ips.",
    8: "Use a logical_ip of the external_ip's address family; dnat and dnat_and_snat need a "
       "single host address (only snat takes a CIDR).",
    9: "Set external_mac to a valid MAC (six colon-separated hex octets) or clear it.",
    10: "Point gateway_port at a distributed gateway port of this router, or clear it (a "
        "gateway router takes no gateway_port).",
    11: "Set gateway_port to the DGP that should carry this external IP, or use an external IP "
        "inside one DGP's network; an external IP outside the DGP's networks also needs a "
        "route on the upstream router.",
}


def _outside_every_dgp(topo: Topology, nat) -> bool:
    ip = nat.external_ip.strip().split("/")[0]
    if parse_ip(ip) is None:
        return False
    return not any(in_network(ip, n) for p in topo.router_of(nat).dgps for n in p.networks)


def _same_family(ips: list[str], ip: str) -> list[str]:
    """``ips`` of ``ip``'s address family, global addresses before link-local ones."""
    v6 = ":" in ip
    same = [a for a in ips if (":" in a) == v6]
    return sorted(same, key=lambda a: a.lower().startswith("fe80:"))


def nat_invalid(topo: Topology, ctx: Context) -> list[Finding]:
    """northd rejects the row itself: no NAT flows at all (rules 6-11)."""
    out = []
    for v in ctx.verdicts:
        if v.cause != Cause.INVALID:
            continue
        hint = " ".join(_INVALID_HINTS[r] for r in v.rules if r in _INVALID_HINTS)
        message = v.reason
        if 11 in v.rules and _outside_every_dgp(topo, v.nat):
            message += (" (it is also outside every DGP's networks: once a gateway_port is "
                        "chosen, the upstream router needs a route to it)")
        out.append(Finding("nat-invalid", ERROR, ctx.nat_object(v.nat), message, hint,
                           ctx.nat_details(v.nat, ovn_rules=list(v.rules))))
    return out


def _inactive_hint(topo: Topology, router: Router, cause: Optional[str],
                   rules: tuple[int, ...]) -> str:
    if cause == Cause.ROUTER_DISABLED:
        return (f"If {router.name} should forward, set enabled=true on it "
                f"(ovn-nbctl set Logical_Router {router.name} enabled=true).")
    if 5 in rules:
        return ("OVN 21.09-22.03 applies no NAT on a router with several DGPs: keep one DGP or "
                "upgrade to OVN >= 22.06 (and set NAT.gateway_port).")
    names = [p.name for p in router.ports if p.options.get("redirect-chassis")]
    if names:
        return (f"Replace options:redirect-chassis on {', '.join(names)} with gateway chassis "
                "(ovn-nbctl lrp-set-gateway-chassis PORT CHASSIS PRIORITY).")
    return (f"Give {router.name} a distributed gateway port (ovn-nbctl lrp-set-gateway-chassis "
            "on its external port, or an ha_chassis_group), or make it a gateway router "
            "(options:chassis).")


def nat_inactive(topo: Topology, ctx: Context) -> list[Finding]:
    """The router processes no NAT: no DGP and not a gateway router, multi-DGP on 21.09-22.03
    (rules 4-5) -> error; enabled=false -> warning (a deliberate switch-off)."""
    out = []
    for v in ctx.verdicts:
        if v.cause not in (Cause.NOT_APPLIED, Cause.ROUTER_DISABLED):
            continue
        router = topo.router_of(v.nat)
        severity = WARNING if v.cause == Cause.ROUTER_DISABLED else ERROR
        message = v.reason
        if v.cause == Cause.NOT_APPLIED and 4 in v.rules:
            message += f"; only ARP for {v.nat.external_ip} is answered, so traffic is " \
                       "attracted and dropped"
        out.append(Finding("nat-inactive", severity, ctx.nat_object(v.nat), message,
                           _inactive_hint(topo, router, v.cause, v.rules),
                           ctx.nat_details(v.nat, cause=v.cause, ovn_rules=list(v.rules))))
    return out


def nat_prefix_external_ip(topo: Topology, ctx: Context) -> list[Finding]:
    """An ``external_ip`` with a network prefix that northd >= 25.03 accepts: its flows
    match the whole prefix (rule 6; ovn-changes §3)."""
    out = []
    for v in ctx.verdicts:
        if PREFIX_EXTERNAL_IP not in v.flags or v.datapath is None:
            continue
        message = v.datapath.reason
        hint = (f"Set external_ip to the single address: ovn-nbctl set NAT {v.nat.uuid} "
                f"external_ip={v.nat.external_ip.strip().split('/')[0]}")
        out.append(Finding("nat-prefix-external-ip", ERROR, ctx.nat_object(v.nat), message,
                           hint, ctx.nat_details(v.nat, mode=v.mode)))
    return out


def nat_flows_rejected(topo: Topology, ctx: Context) -> list[Finding]:
    """northd builds flows from the row's text, but ovn-controller cannot parse some or all
    of them (a leading zero, an octet over 255, trailing junk, a ``/32`` where an action
    needs an address, a MAC with short octets): rule 6, ovn-changes §3."""
    out = []
    for v in ctx.verdicts:
        if FLOWS_REJECTED not in v.flags or v.datapath is None:
            continue
        if _logical_ip_prefix_only(v):
            continue   # reported by fip-logical-ip-prefix
        reason = v.datapath.reason
        message = reason.split("; ")[-1] if PREFIX_EXTERNAL_IP in v.flags else reason
        hint = ("Write the addresses plainly (e.g. 10.1.1.10, not 010.1.1.10, 10.1.1.10/32 or "
                "10.1.1.10.7) and the MAC as six two-digit hex octets.")
        out.append(Finding("nat-flows-rejected", ERROR, ctx.nat_object(v.nat), message, hint,
                           ctx.nat_details(v.nat, mode=v.mode,
                                           translated_inbound=v.datapath.inbound,
                                           translated_outbound=v.datapath.outbound)))
    return out


def _blackhole(ctx: Context, kind: str) -> list[Finding]:
    """A ``dnat`` or ``snat`` with logical_port and a valid external_mac (rule 16): northd
    answers ARP for the external IP from the port's chassis with that MAC, but translates
    only on the gateway; one function for both rules (dnat-blackhole, snat-blackhole)."""
    flag = Flag.DNAT_BLACKHOLE if kind == "dnat" else Flag.SNAT_BLACKHOLE
    slug = f"{kind}-blackhole"
    out = []
    for v in ctx.verdicts:
        if flag not in v.flags:
            continue
        nat = v.nat
        dgp = v.gateway_port.name if v.gateway_port else "the gateway"
        lost = ("inbound traffic is black-holed" if kind == "dnat" else
                "the return traffic of every connection it SNATs is sent to "
                f"{nat.external_mac} and lost")
        message = (f"{kind} with logical_port {nat.logical_port} and external_mac "
                   f"{nat.external_mac}: ARP for {nat.external_ip} is answered from "
                   f"{nat.logical_port}'s chassis with {nat.external_mac}, but "
                   f"{'DNAT' if kind == 'dnat' else 'un-SNAT'} runs only on the active "
                   f"gateway of {dgp}: {lost}")
        if kind == "dnat":
            hint = ("Make it a dnat_and_snat to translate on the port's chassis, or clear "
                    "logical_port and external_mac to keep it centralized on the gateway.")
        else:
            hint = (f"Clear logical_port and external_mac (ovn-nbctl clear NAT {nat.uuid} "
                    "logical_port external_mac): an snat is always centralized; use a "
                    "dnat_and_snat if the port needs its own distributed address.")
        out.append(Finding(slug, ERROR, ctx.nat_object(nat), message, hint,
                           ctx.nat_details(nat, gateway_port=dgp,
                                           logical_port=nat.logical_port,
                                           external_mac=nat.external_mac,
                                           ovn_rules=list(v.rules))))
    return out


def _logical_ip_prefix_only(v) -> bool:
    """The only flow ovn-controller refuses is the DNAT action of a dnat/dnat_and_snat whose
    logical_ip is written as a prefix (``10.15.0.5/32``): ``ct_dnat`` takes an address
    only (rule 6; analysis/datapath.py)."""
    dp = v.datapath
    return (dp is not None and FLOWS_REJECTED in v.flags and v.nat.type != "snat"
            and logical_ip_is_prefix(v.nat) and not dp.inbound
            and dp.outbound == (v.nat.type == "dnat_and_snat")
            and PREFIX_EXTERNAL_IP not in v.flags)


def fip_logical_ip_prefix(topo: Topology, ctx: Context) -> list[Finding]:
    """A FIP (or dnat) whose logical_ip carries a prefix: northd accepts it (a /32 or /128
    is one host) and builds ``ct_dnat(<ip>/32)``, which ovn-controller cannot parse, so
    nothing is DNATed (rule 8 accepts, rule 6's data-path caveat; ovn-changes §3)."""
    out = []
    for v in ctx.verdicts:
        if not _logical_ip_prefix_only(v):
            continue
        nat = v.nat
        host = nat.logical_ip.strip().split("/")[0]
        message = (f"logical_ip {nat.logical_ip.strip()} is written with a prefix: northd "
                   f"accepts it ({v.mode}) but its DNAT action ct_dnat({nat.logical_ip.strip()}) "
                   "does not parse on the chassis, so traffic to "
                   f"{nat.external_ip.strip()} is never DNATed"
                   + (" (outbound SNAT still works)" if nat.type == "dnat_and_snat" else ""))
        hint = f"Write the address alone: ovn-nbctl set NAT {nat.uuid} logical_ip={host}"
        out.append(Finding("fip-logical-ip-prefix", ERROR, ctx.nat_object(nat), message, hint,
                           ctx.nat_details(nat, mode=v.mode)))
    return out


def fip_logical_ip_duplicate(topo: Topology, ctx: Context) -> list[Finding]:
    """Two dnat_and_snat of one router with the same logical_ip: northd emits one lr_out_snat
    flow per row with the same match and priority and different ct_snat addresses
    (observed on 23.03.1, 25.03.0, 26.03.1); which one a chassis installs is not defined,
    so outbound connections use either external IP.  Inbound DNAT works for both."""
    groups: dict[tuple[str, str], list] = {}
    for v in ctx.verdicts:
        if v.nat.type != "dnat_and_snat" or v.mode == INACTIVE or not v.nat.logical_ip:
            continue
        # rows whose SNAT flows have the same match: same DGP (outport), same mode, and for
        # distributed FIPs the same logical_port (its is_chassis_resident is in the match)
        port = v.nat.logical_port if v.mode == DISTRIBUTED else None
        dgp = v.gateway_port.uuid if v.gateway_port is not None else ""
        key = (v.nat.router_uuid, norm_ip(v.nat.logical_ip.strip().split("/")[0]),
               f"{v.mode}|{dgp}|{port or ''}")
        groups.setdefault(key, []).append(v)
    out = []
    for (_, log, _), vs in sorted(groups.items()):
        if len(vs) < 2:
            continue
        vs.sort(key=lambda v: v.nat.external_ip)
        router = vs[0].nat.router
        exts = [v.nat.external_ip for v in vs]
        message = (f"{len(vs)} {vs[0].mode} dnat_and_snat on {router} translate {log}: "
                   f"{', '.join(exts)}. Inbound DNAT works for each, but "
                   f"northd emits one SNAT flow per row with the same match and priority, so "
                   f"connections from {log} leave with whichever external IP the chassis "
                   "installed (not defined, may change after a restart)")
        hint = ("Keep one dnat_and_snat per logical IP; for extra inbound addresses use dnat "
                "rows (or a load balancer).")
        out.append(Finding("fip-logical-ip-duplicate", WARNING,
                           f"NAT {', '.join(exts)} on {router}", message, hint,
                           {"router": router, "logical_ip": log, "external_ips": exts,
                            "nat_uuids": [v.nat.uuid for v in vs]}))
    return out


def transit_router_nat(topo: Topology, ctx: Context) -> list[Finding]:
    """NAT on an OVN-IC transit router, or on a DGP facing an OVN-IC transit switch: the
    conntrack state of stateful NAT lives in one availability zone only (ovn-nb.xml
    "Transit router"; ovn-changes §2.4).  Stateless dnat_and_snat is not reported."""
    out = []
    for router in topo.iter_routers():
        stateful = [n for n in router.nats
                    if not (n.type == "dnat_and_snat"
                            and n.options.get("stateless", "").lower() == "true")]
        if not stateful and not router.load_balancers:
            continue
        why = []
        remote = [p.name for p in router.ports if p.options.get("requested-chassis")]
        if router.options.get("interconn-tr") or remote:
            what = "an OVN-IC transit router"
            if remote:
                what += f" (port {', '.join(remote)} has options:requested-chassis)"
            why.append(what)
        for port in router.ports:
            peer = topo.peer_switch_port(port)
            sw = topo.switch(peer.switch_uuid) if peer is not None else None
            if sw is not None and sw.other_config.get("interconn-ts"):
                role = "distributed gateway port" if port.is_dgp else "port"
                why.append(f"attached by its {role} {port.name} to transit switch {sw.name} "
                           f"(other_config:interconn-ts={sw.other_config['interconn-ts']})")
        if not why:
            continue
        items = [f"{n.type} {n.external_ip}" for n in stateful]
        if router.load_balancers:
            items.append(f"{len(router.load_balancers)} load balancer(s)")
        message = (f"{router.name} is {'; '.join(why)} and has stateful NAT/LB "
                   f"({', '.join(items)}): conntrack is not shared between availability "
                   "zones, so a connection whose packets cross zones in one direction only "
                   "loses its state and is dropped")
        hint = ("Do the NAT on a router local to one zone (the zone's own gateway), or use "
                "stateless dnat_and_snat (options:stateless=true) where the path is "
                "asymmetric.")
        out.append(Finding("transit-router-nat", WARNING, router.name, message, hint,
                           {"router": router.name, "reasons": why,
                            "nat_uuids": [n.uuid for n in stateful]}))
    return out


def dnat_blackhole(topo: Topology, ctx: Context) -> list[Finding]:
    """``dnat`` with logical_port and external_mac: ARP from the port's chassis, DNAT only on
    the gateway (rule 16)."""
    return _blackhole(ctx, "dnat")


def snat_blackhole(topo: Topology, ctx: Context) -> list[Finding]:
    """``snat`` with logical_port and external_mac: ARP from the port's chassis, un-SNAT of
    the return traffic only on the gateway (rule 16 applied to snat; observed on northd
    23.03.1, 25.03.0, 26.03.1)."""
    return _blackhole(ctx, "snat")


def fip_port_missing(topo: Topology, ctx: Context) -> list[Finding]:
    """A distributed FIP whose logical_port is empty or names no switch port: it is resident
    on no chassis, so nothing translates or answers for it (rule 12)."""
    out = []
    for v in ctx.verdicts:
        if Flag.EMPTY_LOGICAL_PORT in v.flags:
            message = (f"logical_port is an empty string but external_mac is set: OVN "
                       f"distributes {v.nat.external_ip} to a port that exists nowhere")
        elif Flag.LOGICAL_PORT_MISSING in v.flags:
            message = (f"logical_port {v.nat.logical_port} names no logical switch port: the "
                       f"distributed FIP {v.nat.external_ip} is resident on no chassis")
        else:
            continue
        hint = ("Point logical_port at the workload's switch port, or delete the stale NAT "
                "(clear external_mac to centralize it on the gateway instead).")
        out.append(Finding("fip-port-missing", ERROR, ctx.nat_object(v.nat), message, hint,
                           ctx.nat_details(v.nat, logical_port=v.nat.logical_port)))
    return out


def fip_pinned_to_gateway(topo: Topology, ctx: Context) -> list[Finding]:
    """A distributed FIP on a switch whose router port has reside-on-redirect-chassis=true:
    routing for that switch runs on the gateway chassis (semantics §1.7, for review)."""
    out = []
    for v in ctx.verdicts:
        if Flag.RESIDE_ON_REDIRECT_CHASSIS not in v.flags:
            continue
        message = (f"OVN distributes {v.nat.external_ip} on {v.nat.logical_port}'s chassis, but "
                   "a router port of its switch has options:reside-on-redirect-chassis=true, "
                   "which sends that switch's routed traffic through the gateway chassis: the "
                   "FIP may not work in a distributed way")
        hint = ("Decide which one you want: clear reside-on-redirect-chassis (VLAN tenant "
                "networks then need redirect-type/bridge mappings on every chassis) or clear "
                "external_mac to centralize the FIP on the gateway.")
        out.append(Finding("fip-pinned-to-gateway", WARNING, ctx.nat_object(v.nat), message,
                           hint, ctx.nat_details(v.nat, logical_port=v.nat.logical_port)))
    return out


def nat_ambiguous_gateway_port(topo: Topology, ctx: Context) -> list[Finding]:
    """Several DGPs' networks contain the external IP and gateway_port is empty (rule 11)."""
    out = []
    router_dgps = {}
    for v in ctx.verdicts:
        if Flag.AMBIGUOUS_GATEWAY_PORT not in v.flags:
            continue
        router = topo.router_of(v.nat)
        names = router_dgps.setdefault(router.uuid, [
            d.name for d in router.dgps
            if any(in_network(v.nat.external_ip, n) for n in d.networks)])
        chosen = v.gateway_port.name if v.gateway_port else "?"
        message = (f"{v.nat.external_ip} is inside the networks of several DGPs "
                   f"({', '.join(names)}) and gateway_port is empty: northd picks one by its "
                   f"internal order (predicted {chosen}), which may change")
        out.append(Finding("nat-ambiguous-gateway-port", WARNING, ctx.nat_object(v.nat),
                           message, "Set NAT.gateway_port to the DGP that should carry it.",
                           ctx.nat_details(v.nat, candidates=names)))
    return out


def _redistributes_nat(router: Router, dgp: RouterPort) -> bool:
    """OVN dynamic routing advertises NAT external IPs of this DGP (OVN >= 25.03)."""
    if router.options.get("dynamic-routing", "").lower() != "true":
        return False
    value = dgp.options.get("dynamic-routing-redistribute")
    if value is None:
        value = router.options.get("dynamic-routing-redistribute", "")
    return "nat" in {x.strip() for x in value.split(",")}


def eip_off_link(topo: Topology, ctx: Context) -> list[Finding]:
    """The external IP is outside every network of the DGP it uses: OVN applies it, but the
    upstream must route it to the DGP (cms-footprints R-d).  The several-DGP case, where
    northd drops the row, is reported by nat-invalid only."""
    out = []
    for v in ctx.verdicts:
        dgp = v.gateway_port
        if v.mode == INACTIVE or dgp is None:
            continue
        if any(in_network(v.nat.external_ip, n) for n in dgp.networks):
            continue
        router = topo.router_of(v.nat)
        dynamic = _redistributes_nat(router, dgp)
        if dynamic and topo.rules.dynamic_routing:
            continue   # OVN advertises it itself: nothing to do upstream
        via = ", ".join(_same_family(dgp.ips, v.nat.external_ip)) or dgp.name
        nets = ", ".join(dgp.networks)
        severity = WARNING
        message = (f"external IP {v.nat.external_ip} is outside every network of DGP "
                   f"{dgp.name} ({nets}): OVN applies the NAT, but unless the upstream router "
                   f"has that subnet on the same L2 segment it needs a route for "
                   f"{v.nat.external_ip} via {via}")
        peer = ctx.external_switch(v)
        if peer is not None and peer.switch_uuid:
            onlink = [n for n in ctx.switch_networks(peer.switch_uuid)
                      if in_network(v.nat.external_ip, n.cidr)]
            if onlink:
                severity = INFO
                message += (f"; the external switch {peer.switch} declares {onlink[0].cidr} "
                            f"({onlink[0].source}), which contains it, so it is probably "
                            "on-link upstream")
        if dynamic:
            message += (f"; options:dynamic-routing is set but OVN {topo.rules.series} "
                        "predates dynamic routing (25.03), so nothing is advertised")
        owner = ctx.owners.get(v.nat.uuid)
        if owner is not None and owner.cms == KUBE_OVN:
            message += ("; Kube-OVN allocates OvnEips inside the external subnet, so this row "
                        "suggests a manual NB edit")
        hint = (f"Route {v.nat.external_ip} to {via} on the upstream router, or let OVN "
                f"(>= 25.03) advertise it: ovn-nbctl set Logical_Router {router.name} "
                "options:dynamic-routing=true options:dynamic-routing-redistribute=nat.")
        out.append(Finding("eip-off-link", severity, ctx.nat_object(v.nat), message, hint,
                           ctx.nat_details(v.nat, gateway_port=dgp.name,
                                           dgp_networks=list(dgp.networks))))
    return out


def eip_duplicate(topo: Topology, ctx: Context) -> list[Finding]:
    """The same external IP on NATs of different routers attached to one external switch, or
    equal to another router's port address there (cms-footprints R-a4)."""
    groups: dict[tuple[str, str], list] = {}
    switch_name: dict[str, str] = {}
    arp_only: set[str] = set()   # NATs of routers with no DGP: ARP answered, never applied
    for v in ctx.verdicts:
        peers = []
        if v.mode == INACTIVE:
            if not _answers_arp_only(topo, v):
                continue
            arp_only.add(v.nat.uuid)
            router = topo.router_of(v.nat)
            peers = [topo.peer_switch_port(p) for p in router.ports]
        else:
            peers = [ctx.external_switch(v)]
        for peer in peers:
            if peer is None or not peer.switch_uuid:
                continue
            switch_name[peer.switch_uuid] = peer.switch or peer.switch_uuid
            # normalise the address text so 2001:db8::1 and 2001:0db8::1 group together
            key = (peer.switch_uuid, norm_ip(v.nat.external_ip))
            groups.setdefault(key, []).append(v)
    out = []
    for (sw, _), verdicts in sorted(groups.items(), key=lambda kv: kv[0]):
        ext = verdicts[0].nat.external_ip
        routers = sorted({v.nat.router_uuid for v in verdicts})
        owners = ctx.router_addresses_on_switch.get(sw, {}).get(norm_ip(ext), [])
        port_clash = [p for p in owners if p.router_uuid not in routers]
        if len(routers) < 2 and not port_clash:
            continue
        names = sorted({v.nat.router for v in verdicts} | {p.router for p in port_clash})
        claims = [f"NAT on {v.nat.router} ({v.nat.type} -> {v.nat.logical_ip}"
                  + ("; not applied: the router has no DGP and is not a gateway router, "
                     "but answers ARP for it on every chassis" if v.nat.uuid in arp_only
                     else "") + ")"
                  for v in sorted(verdicts, key=lambda v: (v.nat.router, v.nat.type))]
        claims += [f"router port {p.name} of {p.router}" for p in port_clash]
        message = (f"{ext} is claimed on external switch {switch_name[sw]} by {len(names)} "
                   f"routers: {'; '.join(claims)}: each answers ARP for it and return traffic "
                   "reaches only one of them")
        hint = ("Give each router its own external IP.  Kube-OVN lets several VPCs share one "
                "SNAT EIP, but return traffic is dropped (kubeovn/kube-ovn#5825).  EIPs of "
                "iptables VPC NAT gateways are not in NB and are not checked here.")
        details = {"external_ip": ext, "switch": switch_name[sw], "routers": names,
                   "nat_uuids": sorted(v.nat.uuid for v in verdicts),
                   "arp_only_nat_uuids": sorted(v.nat.uuid for v in verdicts
                                                if v.nat.uuid in arp_only),
                   "router_ports": [p.name for p in port_clash]}
        out.append(Finding("eip-duplicate", ERROR, f"NAT {ext} on {', '.join(names)}", message,
                           hint, details))
    return out



def _answers_arp_only(topo: Topology, v) -> bool:
    """A NAT on a router with neither DGP nor options:chassis (rule 4): northd still answers
    ARP for its external IP (lr_in_ip_input priority 90, no port or chassis condition;
    observed on 23.03.1, 25.03.0 and 26.03.1), so it attracts traffic it drops."""
    if v.cause != Cause.NOT_APPLIED or 4 not in v.rules:
        return False
    router = topo.router_of(v.nat)
    return not router.disabled and not router.dgps and not router.is_gateway_router
