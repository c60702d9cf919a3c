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


def dgp_disabled(topo: Topology, ctx: Context) -> list[Finding]:
    """A DGP with ``enabled=false``: northd builds no lr_in_admission flow for the router
    MAC or for broadcast on it, so ARP for its IPs and FIPs is never answered and nothing
    addressed to the router MAC enters (northd 23.03.1, 25.03.0, 26.03.1 and ovn-trace:
    tests/evidence/nb-rules-trace.txt).  A distributed FIP keeps its own-MAC admission
    flow, so a sender with a cached ARP entry still reaches it until the entry expires."""
    out = []
    for router in topo.iter_routers():
        for dgp in router.dgps:
            if not dgp.disabled:
                continue
            nats = [n for n in router.nats if n.gateway_port_uuid in (None, dgp.uuid)]
            lbs = sum(len(lb.vips) for lb in router.load_balancers)
            message = (f"distributed gateway port of {router.name} has enabled=false: northd "
                       f"admits no traffic to its MAC {dgp.mac} and answers no ARP on it, so "
                       f"its addresses ({', '.join(dgp.ips) or 'none'}), "
                       f"{len(nats)} NAT(s) (centralized ones and the return traffic of "
                       f"SNAT at once; distributed FIPs as soon as the upstream's ARP entry "
                       f"expires) and {lbs} load balancer VIP(s) are unreachable from outside")
            hint = (f"Enable it (ovn-nbctl set Logical_Router_Port {dgp.name} enabled=true), "
                    "or remove the router's NATs if it is meant to be down.")
            out.append(Finding("dgp-disabled", ERROR, dgp.name, message, hint,
                               _details(dgp, nat_uuids=[n.uuid for n in nats])))
    return out


def gw_duplicate_member(topo: Topology, ctx: Context) -> list[Finding]:
    """Two Gateway_Chassis rows of one LRP, or two HA_Chassis of one group, naming the same
    chassis (ovn-nbctl lrp-set-gateway-chassis could add a second row before 24.03.7,
    25.03.2, 25.09.0: ovn-changes §2.1).  Both reach SB; the priority used is ambiguous."""
    out = []
    for port in topo.router_ports.values():
        for source, members in (("gateway_chassis", port.gateway_chassis),
                                ("ha_chassis_group", port.ha_members)):
            seen: dict[str, list[int]] = {}
            for m in members:
                seen.setdefault(m.chassis, []).append(m.priority)
            dups = {ch: sorted(p, reverse=True) for ch, p in seen.items() if len(p) > 1}
            if not dups:
                continue
            where = (f"HA_Chassis_Group {port.ha_group}" if source == "ha_chassis_group"
                     else "its Gateway_Chassis rows")
            text = "; ".join(f"{ch} with priorities {', '.join(map(str, p))}"
                             for ch, p in sorted(dups.items()))
            used = "" if (source == "ha_chassis_group") == bool(port.has_ha_group) else \
                " (this set is not the effective one)"
            message = (f"router port of {port.router}: {where} name one chassis more than "
                       f"once ({text}){used}: both rows go to SB and which priority "
                       "ovn-controller uses for the election is not defined (older ovn-nbctl "
                       "added a second row instead of updating the first)")
            hint = ("Delete the extra row, keeping the intended priority (ovn-nbctl "
                    f"lrp-del-gateway-chassis {port.name} CHASSIS, then lrp-set-gateway-chassis "
                    "again; or ha-chassis-group-remove-chassis).")
            out.append(Finding("gw-duplicate-member", WARNING, port.name, message, hint,
                               _details(port, duplicated=dups, set=source)))
    return out


def gr_has_dgp(topo: Topology, ctx: Context) -> list[Finding]:
    """A gateway router's port with gateway chassis or an HA group: northd logs "Bad
    configuration: distributed gateway port configured on port ... on L3 gateway router",
    makes no cr port and binds the port as l3gateway on options:chassis (23.03.1, 25.03.0,
    26.03.1): the gateway members are ignored, there is no failover (rules 2-3)."""
    out = []
    for router in topo.iter_routers():
        if not router.is_gateway_router:
            continue
        for port in router.ports:
            if not port.has_gateway_config:
                continue
            message = (f"{router.name} is a gateway router (options:chassis="
                       f"{router.gr_chassis!r}) and its port {port.name} also has gateway "
                       f"members ({_members_text(port)}): northd logs \"Bad configuration: "
                       "distributed gateway port configured ... on L3 gateway router\", "
                       f"creates no {port.cr_name} and ignores the members; everything of "
                       f"{router.name} runs on {router.gr_chassis or 'no chassis'} with no "
                       "failover")
            hint = (f"Either remove the gateway members from {port.name} (a gateway router is "
                    f"pinned by options:chassis) or remove options:chassis from {router.name} "
                    "to make the port a real distributed gateway port with failover.")
            out.append(Finding("gr-has-dgp", ERROR, port.name, message, hint,
                               _details(port, gr_chassis=router.gr_chassis)))
    return out


def gr_chassis_empty(topo: Topology, ctx: Context) -> list[Finding]:
    """``options:chassis=""``: northd tests only that the key exists, so the router is a
    gateway router (its NAT flows are built unconditionally, its ports are l3gateway ports
    with l3gateway-chassis="" on 23.03.1, 25.03.0, 26.03.1), but no chassis is named ""
    and nothing ever binds them (rule 2)."""
    out = []
    for router in topo.iter_routers():
        if not router.is_gateway_router or (router.gr_chassis or "").strip():
            continue
        message = (f"{router.name} has options:chassis={router.gr_chassis!r}: OVN treats it as "
                   "a gateway router (not as a distributed router) bound to a chassis with "
                   f"an empty name, which never exists: its {len(router.ports)} port(s), "
                   f"{len(router.nats)} NAT(s) and load balancers are bound nowhere")
        hint = (f"Set options:chassis to the chassis name (system-id) that should host it, or "
                f"remove the key (ovn-nbctl remove Logical_Router {router.name} options "
                "chassis) and give it a distributed gateway port.")
        out.append(Finding("gr-chassis-empty", ERROR, router.name, message, hint,
                           {"router": router.name, "gr_chassis": router.gr_chassis}))
    return out


def gw_garp_disabled(topo: Topology, ctx: Context) -> list[Finding]:
    """GARP/RARP switched off for a DGP's external side: Logical_Router
    options:disable_garp_rarp (silences every peer port of the router; northd copies it to
    the datapath, seen on 26.03.1 and not on 25.03.0) or the DGP's peer LSP
    options:disable_garp_rarp (ovn-controller garp_rarp_is_enabled).  After a failover the
    upstream learns the new gateway only by ARP refresh (ovn-changes §2.2)."""
    out = []
    rules = topo.rules
    for router in topo.iter_routers():
        for dgp in router.dgps:
            places = []
            ignored = []
            if router.options.get("disable_garp_rarp", "").lower() == "true":
                (places if rules.lr_disable_garp_rarp else ignored).append(
                    f"router {router.name} options:disable_garp_rarp=true")
            peer = topo.peer_switch_port(dgp)
            if peer is not None and peer.options.get("disable_garp_rarp", "").lower() == "true":
                (places if rules.lsp_disable_garp_rarp else ignored).append(
                    f"peer port {peer.name} options:disable_garp_rarp=true")
            if not places and not ignored:
                continue
            if places:
                severity = WARNING
                message = (f"GARP/RARP is disabled for {dgp.name} ({'; '.join(places)}): "
                           "after a gateway failover the new gateway does not announce the "
                           "router and centralized NAT addresses, so the upstream keeps "
                           "sending to the old chassis until its ARP entries expire")
            else:
                severity = INFO
                message = (f"{'; '.join(ignored)} is set but OVN {rules.series} does not "
                           "honour it (LR option: 24.03.8, 25.03.3, 25.09.1, >= 26.03; LSP "
                           "option: >= 24.09): GARPs are still sent, and stop after an "
                           "upgrade")
            hint = ("Remove the option unless the upstream learns gateway moves another way "
                    "(dynamic routing, short ARP timeouts).")
            out.append(Finding("gw-garp-disabled", severity, dgp.name, message, hint,
                               _details(dgp, honoured=places, ignored=ignored)))
    return out


def external_switch_via_spine(topo: Topology, ctx: Context) -> list[Finding]:
    """OVN >= 25.03: the DGP's switch has no localnet but a ``switch``-type LSP links it to a
    switch that has one.  Rule 13 looks at the direct peer switch only, so northd creates a
    peer cr port and centralizes every NAT of the DGP (observed on 25.03.0 and 26.03.1:
    cr-<peer lsp> port binding, the FIP gated on cr-<dgp>)."""
    if not topo.rules.switch_lsp_links:
        return []
    lsps = topo.nb.table("Logical_Switch_Port")
    out = []
    for router in topo.iter_routers():
        if len(router.dgps) != 1:
            continue
        dgp = router.dgps[0]
        peer = topo.peer_switch_port(dgp)
        if peer is None or not peer.switch_uuid or topo.localnets(peer.switch_uuid):
            continue
        linked = []
        for port in topo.switch_ports(peer.switch_uuid):
            if port.type != "switch":
                continue
            row = lsps.get(port.uuid)
            other = topo.lsp(row.get("peer") if row is not None else None)
            if other is not None and topo.localnets(other.switch_uuid):
                linked.append((port.name, other.switch or "?"))
        if not linked:
            continue
        fips = [n.external_ip for n in router.nats if n.type == "dnat_and_snat"
                and n.logical_port and n.external_mac]
        via = ", ".join(f"{sw} (through {lsp})" for lsp, sw in linked)
        message = (f"the external switch {peer.switch} of {dgp.name} has no localnet port but "
                   f"is linked to {via}, which has one: northd looks for a localnet on the "
                   f"direct peer switch only, so it creates cr-{peer.name} and centralizes "
                   f"all NAT of {router.name} on the gateway"
                   + (f", including the FIPs {', '.join(fips)} that look distributed"
                      if fips else ""))
        hint = (f"Attach {dgp.name} to the switch with the localnet port (or add a localnet "
                f"port to {peer.switch}) if the FIPs should be distributed.")
        out.append(Finding("external-switch-via-spine", WARNING, dgp.name, message, hint,
                           _details(dgp, external_switch=peer.switch,
                                    linked=[sw for _, sw in linked])))
    return out
