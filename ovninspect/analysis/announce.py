"""Where OVN dynamic routing announces each NAT address from (ovn-changes §2.1, >= 25.03).

northd writes one SB ``Advertised_Route`` per NAT ``external_ip`` of a router with
``options:dynamic-routing=true`` whose port redistributes ``nat``: ``logical_port`` is the
advertising router port, ``tracked_port`` the port the address follows (the VIF of a
distributed FIP, else the DGP).  ovn-controller installs the route only where the
advertising port is local: for a DGP, only on the chassis holding the ``cr-`` claim; for a
gateway router's port, its chassis; for a plain patch port, every chassis.  With
``dynamic-routing-redistribute-local-only=true`` a chassis also skips routes whose
tracked port is not local there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..topology import Nat, RouterPort, Topology

CLAIM, GATEWAY_ROUTER, EVERY_CHASSIS, NOWHERE = "claim", "gateway-router", "every-chassis", \
    "nowhere"


@dataclass(frozen=True)
class Announcement:
    """Where one NAT address is announced, and why."""

    port: str                        # the advertising router port
    scope: str                       # claim | gateway-router | every-chassis | nowhere
    chassis: Optional[str]           # the announcing chassis (claim, gateway-router)
    tracked_port: Optional[str]
    tracked_chassis: Optional[str]
    reason: str

    def to_dict(self) -> dict[str, Optional[str]]:
        return {"port": self.port, "scope": self.scope, "chassis": self.chassis,
                "tracked_port": self.tracked_port, "tracked_chassis": self.tracked_chassis,
                "reason": self.reason}


def _routes(topo: Topology) -> dict[tuple[str, str], tuple[RouterPort, Optional[str]]]:
    """(router UUID, address) -> (advertising port, tracked port), from SB."""
    sb = topo.sb
    if sb is None or not sb.has_table("Advertised_Route"):
        return {}
    names = {row.uuid: row["logical_port"] for row in sb.table("Port_Binding")}
    ports = {p.name: p for p in topo.router_ports.values()}
    out = {}
    for row in sb.table("Advertised_Route"):
        port = ports.get(names.get(row.get("logical_port") or "", ""))
        if port is None:
            continue
        address = str(row.get("ip_prefix") or "").split("/")[0].lower()
        tracked = names.get(row.get("tracked_port") or "")
        out[(port.router_uuid, address)] = (port, tracked)
    return out


def announcements(topo: Topology) -> dict[str, Announcement]:
    """NAT UUID -> where its external IP is announced; empty without SB routes."""
    routes = _routes(topo)
    out = {}
    for nat in topo.nats if routes else ():
        found = routes.get((nat.router_uuid, nat.external_ip.strip().lower()))
        if found is not None:
            out[nat.uuid] = _where(topo, nat, *found)
    return out


def _where(topo: Topology, nat: Nat, port: RouterPort, tracked: Optional[str]
           ) -> Announcement:
    router = topo.routers[nat.router_uuid]
    port_name = port.name
    tracked_binding = topo.binding(tracked) if tracked else None
    tracked_chassis = tracked_binding.chassis if tracked_binding else None
    local_only = topo.rules.holds("redistribute_local_only") and (
        port.options.get("dynamic-routing-redistribute-local-only")
        or router.options.get("dynamic-routing-redistribute-local-only")) == "true"
    if port in router.dgps:
        chassis, _ = topo.observed_active(port)
        scope, where = CLAIM, (f"announced by {chassis}, the holder of {port.cr_name}"
                               if chassis else f"{port.cr_name} is claimed by no chassis: "
                               "announced nowhere")
    elif router.is_gateway_router:
        chassis = router.gr_chassis
        scope, where = GATEWAY_ROUTER, f"announced by the gateway router's chassis {chassis}"
    else:
        chassis, scope, where = None, EVERY_CHASSIS, f"{port_name} is a patch port: " \
            "every chassis installs the route"
    if chassis is None and scope != EVERY_CHASSIS:
        scope = NOWHERE
    if tracked and tracked != port_name:
        where += f"; it tracks {tracked}" + (f" on {tracked_chassis}" if tracked_chassis
                                             else " (not bound)")
        if local_only and scope != EVERY_CHASSIS and tracked_chassis != chassis:
            scope, chassis = NOWHERE, None
            where += ("; with dynamic-routing-redistribute-local-only=true a chassis where "
                      "the tracked port is not local skips it: announced nowhere (inferred)")
    return Announcement(port_name, scope, chassis, tracked, tracked_chassis, where)
