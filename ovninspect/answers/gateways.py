"""The ``gateways`` question: per DGP and gateway router, members, predicted and observed
active chassis."""

from __future__ import annotations

from typing import Any, Optional

from ..analysis.gateways import GatewayPortView, Member, gateway_views, non_dgp_notes
from ..topology import Router, Topology
from .common import hostnames, rules_meta
from .model import Answer, Field, Kind, chassis_label, decorate


def member_dict(m: Member) -> dict[str, Any]:
    out: dict[str, Any] = {"chassis": m.chassis, "priority": m.priority}
    if m.registered is not None:
        out["registered"] = m.registered
        out["hostname"] = m.hostname
    if m.row:
        out["gateway_chassis_row"] = m.row
    return out


def view_row(view: GatewayPortView, with_sb: bool) -> dict[str, Any]:
    """The ``gateways`` JSON contract (design.md) plus extra keys."""
    row: dict[str, Any] = {
        "router": view.router, "port": view.port, "source": view.source,
        "members": [member_dict(m) for m in view.members],
        "member_list": " ".join(m.chassis + (f":{m.priority}" if m.priority is not None
                                             else "") for m in view.members),
        "active_predicted": view.active_predicted, "active_observed": view.active_observed,
        "differs": view.differs, "kind": view.kind, "router_uuid": view.router_uuid,
        "port_uuid": view.port_uuid, "observed_source": view.observed_source,
        "claimed_source": view.claimed_source,
        "ha_chassis_group": view.ha_chassis_group, "reason": view.reason,
        "rules": list(view.rules),
    }
    if view.ignored_gateway_chassis:
        row["ignored_gateway_chassis"] = [member_dict(m) for m in view.ignored_gateway_chassis]
    if view.ports:
        row["ports"] = list(view.ports)
    if with_sb:
        row["sb_ha_chassis_group"] = view.sb_group
        row["sb_members"] = ([member_dict(m) for m in view.sb_members]
                             if view.sb_members is not None else None)
        row["sb_differs"] = view.sb_differs
    if view.notes:
        row["notes"] = list(view.notes)
    return row


def _members_text(names: dict[str, str]):
    def show(row: dict[str, Any]) -> str:
        parts = []
        for m in row["members"]:
            text = chassis_label(m["chassis"], names.get(m["chassis"])) + (
                f" {m['priority']}" if m["priority"] is not None else "")
            if m.get("registered") is False:
                text += " (unregistered)"
            parts.append(text)
        return ", ".join(parts) or "-"
    return show


def _observed_text(names: dict[str, str]):
    def show(row: dict[str, Any]) -> str:
        chassis = row["active_observed"]
        return chassis_label(chassis, names.get(chassis or "")) + (
            f" [{row['observed_source']}]" if row["observed_source"] else "")
    return show


def gateways_answer(topo: Topology, routers: Optional[list[Router]] = None) -> Answer:
    """One row per DGP and gateway router (of ``routers``)."""
    views = gateway_views(topo, routers)
    rows = [view_row(v, topo.has_sb) for v in views]
    dgps = sum(1 for v in views if v.kind == "dgp")
    differ = sum(1 for v in views if v.differs)
    observed = sum(1 for v in views if v.active_observed)
    summary = [f"{len(views)} gateway port(s): {dgps} DGP(s), {len(views) - dgps} gateway "
               f"router(s); claim known for {observed}, differs from predicted for {differ}", *topo.rules.footer()]
    summary.append("PREDICTED: highest-priority live member (rule 18); CLAIMED: the last "
                   "claim in SB or NB status (rule 24), not liveness; forwarding follows each "
                   "chassis's own BFD view and is in no snapshot")
    if not topo.has_sb:
        summary.append("no SB data: predictions assume every member chassis is registered; "
                       "give --sb for bindings and hostnames")
    sb_diff = [v for v in views if v.sb_differs]
    if sb_diff:
        summary.append(f"{len(sb_diff)} port(s) whose SB HA_Chassis_Group differs from NB: "
                       + ", ".join(v.port or v.router for v in sb_diff))
    names = hostnames(topo)
    shown = names or {}
    fields = (
        Field("router", "ROUTER", is_key=True),
        Field("port", "PORT", is_key=True, show=lambda r: r["port"] or "(gateway router)"),
        Field("source", "SOURCE"),
        Field("member_list", "MEMBERS (by priority)", show=_members_text(shown)),
        Field("active_predicted", "PREDICTED", Kind.CHASSIS),
        Field("active_observed", "CLAIMED", Kind.CHASSIS, show=_observed_text(shown)),
        Field("differs", "DIFFERS", Kind.BOOL, color=lambda v: "red" if v else None,
              show=lambda r: "DIFFERS" if r["differs"] else "-"),
        Field("ha_chassis_group", "HA_GROUP", wide_only=True),
        Field("sb_ha_chassis_group", "SB_GROUP", wide_only=True),
        Field("reason", "REASON", wide_only=True, wrap=True, compared=False),
    )
    notes = sorted({n for v in views for n in v.notes} | set(non_dgp_notes(topo, routers)))
    return decorate(Answer("gateways", "gateway_ports", fields, rows, rules_meta(topo),
                           summary, notes[:40], hostnames=names,
                           empty_message="no distributed gateway ports or gateway routers"))
