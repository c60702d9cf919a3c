"""Gateway ports: which chassis may host each one, which should, which does (semantics §2,
§7 rules 2, 17-19 and 24).

One view per distributed gateway port (DGP) and per gateway router (GR):

* the effective member list, highest priority first, ties to the greater chassis name, and
  where it came from: ``ha_chassis_group`` (wins when both are set, rule 17),
  ``gateway_chassis``, or the GR's ``options:chassis`` (rule 2);
* the predicted active chassis with nothing down (rules 18-19; with SB data, members whose
  chassis is not registered never become active);
* the claimed one (JSON ``active_observed``): SB ``Port_Binding["cr-<dgp>"].chassis`` or NB
  ``status:hosting-chassis`` (rule 24), the *last claim*, not liveness; for a GR the chassis
  its ports are bound to.  Forwarding follows each chassis's own BFD view and is in no
  snapshot (ovn-changes §1.1);
* with SB data, the HA_Chassis_Group northd wrote for the ``cr-`` port, as a cross-check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from ..election import GatewayMember, elect, order_members
from ..topology import Router, RouterPort, Topology, predicted_active
from ..vocab import ChassisSource

DGP, GATEWAY_ROUTER = "dgp", "gateway-router"


@dataclass(frozen=True)
class Member:
    """One chassis that may host a gateway port."""

    chassis: str
    priority: Optional[int]          # None on a gateway router (no election)
    registered: Optional[bool]       # None without SB data
    hostname: Optional[str] = None
    row: Optional[str] = None        # Gateway_Chassis row name, when from gateway_chassis

@dataclass
class GatewayPortView:
    """One DGP or gateway router with its members, predicted and observed active chassis."""

    router: str
    router_uuid: str
    port: Optional[str]              # LRP name; None for a gateway router
    port_uuid: Optional[str]
    kind: str                        # dgp | gateway-router
    source: Optional[str]            # ha_chassis_group | gateway_chassis | gateway_router |
    #                                  redirect-chassis (<= 20.09)
    members: list[Member]
    active_predicted: Optional[str]
    reason: str
    rules: tuple[int, ...]
    active_observed: Optional[str] = None    # the claim (rule 24)
    observed_source: Optional[str] = None    # sb | nb-status
    claimed_source: Optional[str] = None     # CLAIM_SOURCES
    ha_chassis_group: Optional[str] = None
    ignored_gateway_chassis: list[Member] = field(default_factory=list)
    sb_group: Optional[str] = None
    sb_members: Optional[list[Member]] = None
    ports: list[str] = field(default_factory=list)   # a GR's router ports
    notes: list[str] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        """Observed and predicted active chassis are both known and are not the same."""
        return self.active_observed is not None and self.active_observed != self.active_predicted

    @property
    def sb_differs(self) -> Optional[bool]:
        """The SB group northd wrote differs from the NB effective members (None: no SB)."""
        if self.sb_members is None:
            return None
        return _member_key(self.sb_members) != _member_key(self.members)

#: Where a claim is read, for ``claimed_source`` (JSON).
CLAIM_SOURCES = {ChassisSource.SB: "sb-port-binding", ChassisSource.NB_STATUS: "nb-hosting-chassis"}


def claim_note(topo: Topology, label: str, claimed: str, predicted: Optional[str],
               source: Optional[str], show: Callable[[str], str] = str) -> str:
    """Why the claim of ``label`` can differ from the prediction, for this release
    (ovn-changes §1.1, rules 18 and 24)."""
    where = "SB cr- binding" if source == ChassisSource.SB else "NB status:hosting-chassis"
    text = (f"{label}: claimed by {show(claimed)} ({where}), predicted "
            f"{show(predicted) if predicted else 'none'}")
    rules = topo.rules
    if topo.has_sb and claimed not in topo.chassis:
        text += (f"; {claimed} is no longer a registered chassis: a stale last claim (every "
                 "member may have died)")
    elif rules.holds("claim_fighting"):
        text += (f"; on OVN {rules.series} two gateways that lose BFD to each other can take "
                 "the claim from each other every 500 ms (fixed in 24.03.7, 25.03.2, "
                 "25.09.0): computes still send to the gateway their own BFD view shows "
                 "active")
    else:
        text += ("; the predicted member is down, not registered, or split from the others by "
                 "BFD; computes send to the gateway their own BFD view shows active")
    if rules.holds("only_claimer_announces"):
        text += f"; only {show(claimed)} sends GARPs and announces routes"
    return text


def unmapped_active(topo: Topology, port: RouterPort) -> list[tuple[str, str, list[str]]]:
    """(role, chassis, networks) for the claimed and the predicted active gateway of
    ``port`` when that chassis is registered but maps none of the external switch's
    localnet networks (rule 20).  Empty without SB or without a localnet."""
    nets = topo.external_networks(port)
    if not topo.has_sb or not nets:
        return []
    claimed, _ = topo.observed_active(port)
    member = predicted_active(port, frozenset(), set(topo.chassis))
    out = []
    for role, chassis in (("claimed", claimed), ("predicted", member.chassis if member else None)):
        ch = topo.chassis.get(chassis or "")
        if ch is not None and not ch.maps(nets) and all(c != chassis for _, c, _ in out):
            out.append((role, ch.name, nets))
    return out


def _member_key(members: list[Member]) -> list[tuple[str, Optional[int]]]:
    return sorted((m.chassis, m.priority) for m in members)


def _member(topo: Topology, m: GatewayMember) -> Member:
    registered = (m.chassis in topo.chassis) if topo.has_sb else None
    return Member(m.chassis, m.priority, registered, topo.hostname(m.chassis), m.row)


def registered_chassis(topo: Topology) -> Optional[set[str]]:
    """Chassis names registered in SB, or None without SB data (rule 18)."""
    return set(topo.chassis) if topo.has_sb else None


def namer(topo: Topology) -> Callable[[str], str]:
    """How reasons name a chassis: its SB hostname when known, else its name."""
    if not topo.has_sb:
        return str
    return lambda ch: topo.hostname(ch) or ch


def _sb_group(topo: Topology, port: RouterPort) -> tuple[Optional[str], Optional[list[Member]]]:
    """The SB HA_Chassis_Group northd wrote for ``cr-<port>`` (§2.1), if SB has one."""
    found = topo.sb_ha_group(port)
    if found is None:
        return None, None
    name, raw = found
    members = [Member(ch, prio, registered, topo.hostname(ch)) for ch, prio, registered in raw]
    members.sort(key=lambda m: (m.priority or 0, m.chassis.encode()), reverse=True)
    return name, members


def dgp_view(topo: Topology, router: Router, port: RouterPort) -> GatewayPortView:
    """The view of one DGP (rules 17-19, 24)."""
    source = port.gateway_source
    effective = order_members(port.members)
    members = [_member(topo, m) for m in effective]
    active, why = elect(effective, frozenset(), registered_chassis(topo), namer(topo))
    rules: tuple[int, ...] = (17, 18) if len(members) != 1 else (17, 18, 19)
    origin = {"ha_chassis_group": f"HA_Chassis_Group {port.ha_group or '(missing row)'}",
              "gateway_chassis": "gateway_chassis",
              "redirect-chassis": "options:redirect-chassis (OVN <= 20.09)"}.get(
                  source or "", "no gateway configuration")
    reason = f"members from {origin}; predicted {active or 'none'}: {why}"
    view = GatewayPortView(
        router=router.name, router_uuid=router.uuid, port=port.name, port_uuid=port.uuid,
        kind=DGP, source=source, members=members, active_predicted=active, reason=reason,
        rules=rules, ha_chassis_group=port.ha_group if port.has_ha_group else None)
    if port.has_ha_group and port.gateway_chassis:
        view.ignored_gateway_chassis = [_member(topo, m) for m in order_members(port.gateway_chassis)]
        view.notes.append(f"{port.name} has both ha_chassis_group and gateway_chassis: northd "
                          "ignores gateway_chassis (rule 17)")
    view.active_observed, view.observed_source = topo.observed_active(port)
    view.claimed_source = CLAIM_SOURCES.get(view.observed_source)  # type: ignore[arg-type]
    if view.differs:
        view.notes.append(claim_note(topo, port.name, view.active_observed or "", active,
                                     view.observed_source))
    for role, chassis, nets in unmapped_active(topo, port):
        view.notes.append(f"{port.name}: the {role} active gateway {chassis} maps none of "
                          f"{', '.join(nets)}: it cannot reach the external network (rule 20)")
    view.sb_group, view.sb_members = _sb_group(topo, port)
    if view.sb_differs:
        view.notes.append(f"{port.name}: the SB HA_Chassis_Group {view.sb_group} northd wrote "
                          "differs from the NB members (SB taken at another time?)")
    return view


def gr_view(topo: Topology, router: Router) -> GatewayPortView:
    """The view of one gateway router: its ``options:chassis``, no failover (rule 2)."""
    chassis = router.gr_chassis or None
    registered = registered_chassis(topo)
    members = ([Member(chassis, None, chassis in registered if registered is not None else None,
                       topo.hostname(chassis))] if chassis else [])
    if not chassis:
        active, why = None, "options:chassis is empty: its ports are bound nowhere"
    elif registered is not None and chassis not in registered:
        active, why = None, f"{chassis} is not registered in SB"
    else:
        active, why = chassis, "pinned to options:chassis, no failover"
    view = GatewayPortView(
        router=router.name, router_uuid=router.uuid, port=None, port_uuid=None,
        kind=GATEWAY_ROUTER, source="gateway_router", members=members,
        active_predicted=active, reason=f"gateway router: {why} (rule 2)", rules=(2,),
        ports=[p.name for p in router.ports])
    if topo.has_sb:
        for port in router.ports:
            binding = topo.binding(port.name)
            if binding is not None and binding.chassis:
                view.active_observed, view.observed_source = binding.chassis, ChassisSource.SB
                view.claimed_source = CLAIM_SOURCES[ChassisSource.SB]
                break
    if view.differs:
        view.notes.append(f"gateway router {router.name}: ports bound on "
                          f"{view.active_observed}, not on options:chassis {chassis}")
    return view


def gateway_views(topo: Topology, routers: Optional[list[Router]] = None
                  ) -> list[GatewayPortView]:
    """One view per DGP and gateway router (of ``routers`` when given), in router order."""
    out = []
    for router in routers if routers is not None else topo.iter_routers():
        if router.is_gateway_router:
            out.append(gr_view(topo, router))
        for port in router.dgps:
            out.append(dgp_view(topo, router, port))
    return out


def non_dgp_notes(topo: Topology, routers: Optional[list[Router]] = None) -> list[str]:
    """Ports with gateway configuration that northd does not treat as DGPs (rule 3)."""
    return [f"{p.router}/{p.name} is not a gateway port: {p.not_dgp_reason}"
            for r in (routers if routers is not None else topo.iter_routers())
            for p in r.ports if p.not_dgp_reason]
