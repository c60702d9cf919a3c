"""What the southbound shows and the NB cannot: unclaimed gateway ports, bindings on chassis
that are gone, FIPs answering from an unexpected chassis, gateway groups where a lone
survivor can never take over, and active gateways that cannot reach the external network
(semantics §7 rules 18-24, ovn-changes §1.1-§1.3).  All need ``--sb``."""

from __future__ import annotations

from typing import Optional

from ...topology import RouterPort, Topology
from ..gateways import unmapped_active
from ..placement import DISTRIBUTED
from .base import ERROR, INFO, WARNING, Context, Finding

#: How many port names a finding lists before "and N more".
SHOWN = 5


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def _registered_members(topo: Topology, port: RouterPort) -> list[str]:
    return [m.chassis for m in port.members if m.chassis in topo.chassis]


def sb_cr_unclaimed(topo: Topology, ctx: Context) -> list[Finding]:
    """A ``cr-<dgp>`` binding with no chassis although members are registered: no gateway's
    ovn-controller holds the claim (rule 24)."""
    out = []
    for router in topo.iter_routers():
        for dgp in router.dgps:
            binding = topo.binding(dgp.cr_name)
            registered = _registered_members(topo, dgp)
            if binding is None or binding.chassis or binding.dangling or not registered:
                continue
            names = ", ".join(f"{c} ({topo.hostname(c)})" if topo.hostname(c) else c
                              for c in registered)
            message = (f"{dgp.cr_name} is claimed by no chassis although its members {names} "
                       "are registered: no gateway's ovn-controller holds it (stopped, not "
                       "connected to SB, or its tunnels are down); computes may still send "
                       "to a gateway their BFD shows active, but nothing sends GARPs or "
                       "announces its centralized NAT addresses")
            hint = ("On each member: ovn-appctl -t ovn-controller connection-status; "
                    "ovs-appctl bfd/show; then ovn-sbctl show.")
            out.append(Finding("sb-cr-unclaimed", ERROR, dgp.name, message, hint,
                               {"router": router.name, "port": dgp.name,
                                "registered_members": registered}))
    return out


def _stale_reasons(topo: Topology) -> dict[str, str]:
    """Registered chassis that no ovn-controller answers for: renamed (another chassis row
    has the same hostname and does report) or without a Chassis_Private row."""
    sb = topo.sb
    assert sb is not None
    private: Optional[set[str]] = None
    if sb.has_table("Chassis_Private"):
        names = {row.get("name") for row in sb.table("Chassis_Private")}
        private = {n for n in names if n} or None     # empty table: not written here
    by_host: dict[str, list[str]] = {}
    for ch in topo.chassis.values():
        if ch.hostname:
            by_host.setdefault(ch.hostname, []).append(ch.name)
    out = {}
    for ch in topo.chassis.values():
        reporting = private is None or ch.name in private
        twins = [n for n in by_host.get(ch.hostname, ()) if n != ch.name]
        live_twins = [n for n in twins if private is None or n in private]
        if twins and live_twins and not reporting:
            out[ch.name] = (f"host {ch.hostname} registered again as chassis "
                            f"{', '.join(live_twins)} (renamed): no ovn-controller runs as "
                            f"{ch.name} any more")
        elif not reporting:
            out[ch.name] = ("it has no Chassis_Private row: its ovn-controller has not "
                            "reported since the chassis row was made (gone, or re-registered)")
    return out


def sb_binding_dead_chassis(topo: Topology, ctx: Context) -> list[Finding]:
    """Ports bound to a chassis that is gone (a reference to no Chassis row) or whose
    ovn-controller no longer reports under that name (renamed host, no Chassis_Private).
    One finding per chassis, listing its ports."""
    stale = _stale_reasons(topo)
    gone: list[str] = []
    on_stale: dict[str, list[str]] = {}
    for binding in topo.bindings():
        if binding.dangling:
            gone.append(binding.logical_port)
        elif binding.chassis in stale:
            on_stale.setdefault(binding.chassis, []).append(binding.logical_port)
    out = []
    if gone:
        gone.sort()
        out.append(Finding(
            "sb-binding-dead-chassis", ERROR, "Port_Binding",
            f"{len(gone)} port binding(s) name a chassis row that does not exist "
            f"({_listed(gone)}): SB is inconsistent or was edited by hand; nothing is bound "
            "there", "Restart the ports' ovn-controller so it claims them again, or clear "
            "the binding (ovn-sbctl lsp-unbind PORT).", {"ports": gone}))
    for chassis, ports in sorted(on_stale.items()):
        ports.sort()
        gateway = [p for p in ports if p.startswith("cr-")]
        what = f"{len(ports)} port(s) ({_listed(ports)}" + (
            f"; gateway port(s) {_listed(gateway)})" if gateway else ")")
        message = (f"{what} bound to chassis {chassis}, but {stale[chassis]}: their traffic "
                   "goes to a chassis that does not forward it")
        hint = (f"Delete the stale chassis (ovn-sbctl chassis-del {chassis}) so its ports are "
                "claimed again, after checking that no ovn-controller still uses that name.")
        out.append(Finding("sb-binding-dead-chassis", ERROR, chassis, message, hint,
                           {"chassis": chassis, "ports": ports, "why": stale[chassis]}))
    return out


def fip_bound_elsewhere(topo: Topology, ctx: Context) -> list[Finding]:
    """A distributed FIP whose port is bound on a chassis other than its NB
    ``options:requested-chassis``: the FIP answers from where SB binds it (rule 23)."""
    out = []
    for v in ctx.verdicts:
        port = v.nat.logical_port
        if v.mode != DISTRIBUTED or not port:
            continue
        requested = topo.lsp_option(port, "requested-chassis")
        binding = topo.binding(port)
        if not requested or binding is None or not binding.chassis:
            continue
        wanted = [r.strip() for r in str(requested).split(",") if r.strip()]
        resolved = {topo.chassis_name(r) or r for r in wanted}
        if binding.chassis in resolved:
            continue
        host = topo.hostname(binding.chassis)
        where = f"{binding.chassis} ({host})" if host else binding.chassis
        message = (f"distributed FIP {v.nat.external_ip}: {port} is bound on {where}, not on "
                   f"its requested-chassis {', '.join(wanted)}: the FIP is answered from "
                   f"{where} (a live migration in progress, or a requested chassis that "
                   "does not exist or cannot claim the port)")
        hint = (f"Check the workload's placement and ovn-controller on {wanted[0]}; "
                f"ovn-sbctl find Port_Binding logical_port={port}.")
        out.append(Finding("fip-bound-elsewhere", WARNING, ctx.nat_object(v.nat), message, hint,
                           ctx.nat_details(v.nat, bound=binding.chassis, requested=wanted)))
    return out


def gw_no_ref_chassis(topo: Topology, ctx: Context) -> list[Finding]:
    """An SB gateway group of two or more registered members with no ``ref_chassis``: a
    member left alone never takes over (ovn-changes §1.2)."""
    out = []
    for router in topo.iter_routers():
        for dgp in router.dgps:
            refs = topo.sb_ref_chassis(dgp)
            registered = _registered_members(topo, dgp)
            if refs is None or refs or len(registered) < 2:
                continue
            bound = topo.bound_behind(router)
            severity = WARNING if bound else INFO
            behind = (f"{len(bound)} port(s) behind {router.name} are bound "
                      f"({_listed(bound)}), yet northd listed none of their chassis"
                      if bound else f"no port behind {router.name} is bound yet")
            message = (f"the SB gateway group of {dgp.cr_name} ({len(registered)} registered "
                       f"members) has no ref_chassis: {behind}; if all members but one fail, "
                       "the survivor does not take over (it needs BFD to a ref_chassis)")
            hint = ("ref_chassis is written by ovn-northd from bound ports on the routers' "
                    "switches; check that northd is running and current (ovn-sbctl list "
                    "HA_Chassis_Group).")
            out.append(Finding("gw-no-ref-chassis", severity, dgp.name, message, hint,
                               {"router": router.name, "port": dgp.name,
                                "members": registered, "bound_behind": bound}))
    return out


def gw_active_no_bridge_mapping(topo: Topology, ctx: Context) -> list[Finding]:
    """The claimed or predicted active gateway maps none of the external networks: every
    centralized NAT and the router's own address are unreachable from outside (rule 20)."""
    out = []
    for router in topo.iter_routers():
        for dgp in router.dgps:
            for role, chassis, nets in unmapped_active(topo, dgp):
                ch = topo.chassis[chassis]
                mapped = ", ".join(f"{k}:{b}" for k, b in ch.bridge_mappings.items()) or "none"
                host = f" ({ch.hostname})" if ch.hostname else ""
                message = (f"the {role} active gateway of {dgp.name}, {chassis}{host}, has "
                           f"ovn-bridge-mappings {mapped}, without the external network "
                           f"{' or '.join(nets)}: centralized NAT, load balancers and the "
                           f"router address of {router.name} cannot reach the physical "
                           "network while it is active")
                hint = (f"Map {nets[0]} on {chassis} (ovs-vsctl set open . external-ids:"
                        f"ovn-bridge-mappings={nets[0]}:BRIDGE) or lower its priority.")
                out.append(Finding("gw-active-no-bridge-mapping", ERROR, dgp.name, message,
                                   hint, {"router": router.name, "port": dgp.name,
                                          "role": role, "chassis": chassis,
                                          "networks": nets}))
    return out
