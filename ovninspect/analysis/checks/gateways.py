"""Gateway ports: member lists without failover, conflicting configuration, chassis SB does
not know, distributed FIPs on chassis without the external bridge mapping, and an active
gateway that is not the preferred one (semantics §7 rules 17-24)."""

from __future__ import annotations

from ...election import order_members
from ...topology import RouterPort, Topology, predicted_active
from ...vocab import ChassisSource
from ..placement import DISTRIBUTED
from .base import ERROR, INFO, WARNING, Context, Finding


def _members_text(port: RouterPort) -> str:
    return ", ".join(f"{m.chassis}/{m.priority}" for m in port.members) or "none"


def _details(port: RouterPort, **extra) -> dict:
    out = {"router": port.router, "port": port.name, "source": port.gateway_source,
           "members": [{"chassis": m.chassis, "priority": m.priority} for m in port.members]}
    out.update(extra)
    return out


def gw_single_chassis(topo: Topology, ctx: Context) -> list[Finding]:
    """A DGP with exactly one gateway member: when that chassis fails nothing takes over
    (rule 19)."""
    out = []
    for router in topo.iter_routers():
        for dgp in router.dgps:
            if len(dgp.members) != 1:
                continue
            only = dgp.members[0].chassis
            message = (f"distributed gateway port of {router.name} has one gateway chassis "
                       f"({only}, from {dgp.gateway_source}): if it fails, every centralized "
                       f"NAT, load balancer and the north-south routing of {router.name} stop")
            hint = (f"Add a second chassis with a lower priority (ovn-nbctl "
                    f"lrp-set-gateway-chassis {dgp.name} CHASSIS PRIORITY, or add an HA_Chassis "
                    "to its group).")
            out.append(Finding("gw-single-chassis", WARNING, dgp.name, message, hint,
                               _details(dgp)))
    return out


def gw_no_members(topo: Topology, ctx: Context) -> list[Finding]:
    """A DGP whose effective member list is empty (e.g. an empty HA_Chassis_Group): northd
    creates cr-<port> but no chassis can ever claim it."""
    out = []
    for router in topo.iter_routers():
        for dgp in router.dgps:
            if dgp.members:
                continue
            group = f"HA_Chassis_Group {dgp.ha_group}" if dgp.ha_group else "its gateway set"
            message = (f"distributed gateway port of {router.name} has no gateway chassis "
                       f"({group} is empty): {dgp.cr_name} is never bound, so every centralized "
                       f"NAT and the north-south routing of {router.name} are down")
            if dgp.gateway_chassis and dgp.has_ha_group:
                message += (f"; its gateway_chassis ({len(dgp.gateway_chassis)}) are ignored "
                            "because ha_chassis_group is set")
            hint = "Add HA_Chassis members to the group (or gateway chassis to the port)."
            out.append(Finding("gw-no-members", ERROR, dgp.name, message, hint, _details(dgp)))
    return out


def gw_both_hcg_and_gc(topo: Topology, ctx: Context) -> list[Finding]:
    """An LRP with both ha_chassis_group and gateway_chassis: the group wins (rule 17)."""
    out = []
    for port in topo.router_ports.values():
        if not (port.has_ha_group and port.gateway_chassis):
            continue
        ignored = ", ".join(f"{m.chassis}/{m.priority}"
                            for m in order_members(port.gateway_chassis))
        message = (f"router port of {port.router} has both ha_chassis_group "
                   f"{port.ha_group or '?'} (members {_members_text(port)}) and "
                   f"gateway_chassis ({ignored}): northd uses the HA group and ignores the "
                   "gateway_chassis rows")
        hint = (f"Remove the gateway_chassis rows (ovn-nbctl lrp-del-gateway-chassis "
                f"{port.name} CHASSIS) or clear ha_chassis_group, so the intended members are "
                "the only ones.")
        out.append(Finding("gw-both-hcg-and-gc", WARNING, port.name, message, hint,
                           _details(port, ignored_gateway_chassis=[
                               m.chassis for m in port.gateway_chassis])))
    return out


def gw_unknown_chassis(topo: Topology, ctx: Context) -> list[Finding]:
    """Gateway members (or a gateway router's options:chassis) naming a chassis SB does not
    know: that member can never be active (needs --sb)."""
    out = []
    known = set(topo.chassis)
    for router in topo.iter_routers():
        if router.is_gateway_router and router.gr_chassis and router.gr_chassis not in known:
            name = router.gr_chassis
            extra = _hostname_note(topo, name)
            out.append(Finding(
                "gw-unknown-chassis", ERROR, router.name,
                f"gateway router {router.name} is pinned (options:chassis) to {name}, which "
                f"is not registered in SB{extra}: none of its ports, NATs or load balancers "
                "are bound", "Set options:chassis to a registered chassis name (system-id).",
                {"router": router.name, "unknown": [name]}))
        for dgp in router.dgps:
            unknown = [m for m in dgp.members if m.chassis not in known]
            if not unknown:
                continue
            left = [m for m in dgp.members if m.chassis in known]
            names = ", ".join(f"{m.chassis}/{m.priority}{_hostname_note(topo, m.chassis)}"
                              for m in unknown)
            if left:
                severity = WARNING
                tail = f"; only {', '.join(m.chassis for m in left)} can host it"
            else:
                severity = ERROR
                tail = f": no member is registered, so {dgp.cr_name} is never bound"
            message = (f"gateway member(s) {names} of {router.name}'s DGP are not registered "
                       f"chassis in SB{tail}")
            hint = ("Use the SB Chassis name (the OVS system-id, not the hostname), or remove "
                    "decommissioned chassis from the gateway set.")
            out.append(Finding("gw-unknown-chassis", severity, dgp.name, message, hint,
                               _details(dgp, unknown=[m.chassis for m in unknown])))
    return out


def _hostname_note(topo: Topology, name: str) -> str:
    real = topo.hostnames.get(name)
    return f" (it is the hostname of chassis {real})" if real else ""


def fip_no_bridge_mapping(topo: Topology, ctx: Context) -> list[Finding]:
    """A distributed FIP whose port is bound to a chassis that does not map the external
    network's localnet: no fallback to the gateway, it is black-holed (rules 21-22)."""
    out = []
    for v in ctx.verdicts:
        if v.mode != DISTRIBUTED or v.gateway_port is None or not v.nat.logical_port:
            continue
        nets = topo.external_networks(v.gateway_port)
        if not nets:
            continue
        binding = topo.binding(v.nat.logical_port)
        if binding is None or not binding.chassis:
            continue
        chassis = topo.chassis.get(binding.chassis)
        if chassis is None or chassis.maps(nets):
            continue
        host = f" ({chassis.hostname})" if chassis.hostname else ""
        mapped = ", ".join(f"{k}:{b}" for k, b in chassis.bridge_mappings.items()) or "none"
        message = (f"distributed FIP: {v.nat.logical_port} is bound to {chassis.name}{host}, "
                   f"whose ovn-bridge-mappings ({mapped}) lack the external network "
                   f"{' or '.join(nets)} of {v.gateway_port.name}: {v.nat.external_ip} is "
                   "black-holed there, with no fallback to the gateway")
        hint = (f"Map {nets[0]} on {chassis.name} (ovs-vsctl set open . external-ids:"
                f"ovn-bridge-mappings={nets[0]}:BRIDGE), or keep the workload on chassis that "
                "map it.")
        out.append(Finding("fip-no-bridge-mapping", ERROR, ctx.nat_object(v.nat), message,
                           hint, ctx.nat_details(v.nat, chassis=chassis.name, networks=nets)))
    return out


def active_not_preferred(topo: Topology, ctx: Context) -> list[Finding]:
    """The observed active gateway (SB cr-<port> binding or NB status:hosting-chassis) is not
    the highest-priority live member (rules 18, 24)."""
    out = []
    registered = set(topo.chassis) if topo.has_sb else None
    for router in topo.iter_routers():
        for dgp in router.dgps:
            observed, source = topo.observed_active(dgp)
            if not observed:
                continue
            preferred = predicted_active(dgp, frozenset(), registered)
            if preferred is None or preferred.chassis == observed:
                continue
            member = {m.chassis: m.priority for m in dgp.members}
            if observed in member:
                what = f"{observed} (priority {member[observed]})"
                why = (f"{preferred.chassis} is probably down or fails BFD; the gateway "
                       "moves back when it recovers")
            else:
                what = f"{observed}, which is not a member of the gateway set"
                why = "the gateway set changed after the snapshot, or SB is stale"
            src = "SB" if source == ChassisSource.SB else "NB status:hosting-chassis"
            message = (f"active gateway ({src}) is {what}, not the preferred "
                       f"{preferred.chassis} (priority {preferred.priority}): {why}")
            hint = (f"Check {preferred.chassis}: ovn-controller running, tunnels and BFD up "
                    "(ovn-sbctl show; ovs-appctl bfd/show).")
            out.append(Finding("active-not-preferred", INFO, dgp.name, message, hint,
                               _details(dgp, observed=observed, observed_source=source,
                                        preferred=preferred.chassis)))
    return out
