"""``ovninspect gateways``: per DGP and gateway router, members, predicted and observed
active chassis."""

from __future__ import annotations

from typing import Any, Optional

from ..analysis.gateways import GatewayPortView, gateway_views, non_dgp_notes
from ..render import Column, Report
from ..topology import Topology
from . import common
from .nat import select_routers


def with_host(topo: Topology, name: Optional[str]) -> str:
    """Table text for a chassis: its hostname first when SB gives one (UUID names are long)."""
    if not name:
        return "-"
    host = topo.hostname(name)
    if not host or host == name:
        return name
    return f"{host} ({name[:8]}…)" if len(name) > 16 else f"{host} ({name})"


def _members_text(topo: Topology, row: dict[str, Any]) -> str:
    parts = []
    for m in row["members"]:
        text = with_host(topo, m["chassis"]) + (
            f" {m['priority']}" if m["priority"] is not None else "")
        if m.get("registered") is False:
            text += " (unregistered)"
        parts.append(text)
    return ", ".join(parts) or "-"


def gateways_report(topo: Topology, views: list[GatewayPortView],
                    notes: Optional[list[str]] = None) -> Report:
    """The ``gateways`` report: one row per DGP / gateway router."""
    rows = [v.to_dict(topo) for v in views]
    dgps = sum(1 for v in views if v.kind == "dgp")
    differ = sum(1 for v in views if v.differs)
    observed = sum(1 for v in views if v.active_observed)
    summary = [f"{len(views)} gateway port(s): {dgps} DGP(s), {len(views) - dgps} gateway "
               f"router(s); observed active known for {observed}, differs from predicted "
               f"for {differ}", *topo.rules.footer()]
    if not topo.has_sb:
        summary.append("no SB data: predictions assume every member chassis is registered; "
                       "give --sb for bindings and hostnames")
    sb_diff = [v for v in views if v.sb_differs]
    if sb_diff:
        summary.append(f"{len(sb_diff)} port(s) whose SB HA_Chassis_Group differs from NB: "
                       + ", ".join(v.port or v.router for v in sb_diff))
    columns = [
        Column("router", "ROUTER"), Column("port", "PORT"), Column("source", "SOURCE"),
        Column("member_list", "MEMBERS (by priority)", show=lambda r: _members_text(topo, r)),
        Column("active_predicted", "PREDICTED", show=lambda r: with_host(
            topo, r["active_predicted"])),
        Column("active_observed", "OBSERVED", show=lambda r: with_host(
            topo, r["active_observed"]) + (f" [{r['observed_source']}]"
                                           if r["observed_source"] else "")),
        Column("differs", "DIFFERS", color=lambda v: "red" if v else None,
               show=lambda r: "DIFFERS" if r["differs"] else "-"),
        Column("ha_chassis_group", "HA_GROUP", wide_only=True),
        Column("sb_ha_chassis_group", "SB_GROUP", wide_only=True),
        Column("reason", "REASON", wide_only=True),
    ]
    all_notes = sorted({n for v in views for n in v.notes} | set(notes or []))
    return Report("gateway_ports", rows, columns, summary=summary, notes=all_notes[:40],
                  extra={"ovn_version": topo.version.label(),
                         "ovn_rules": topo.rules.to_dict()},
                  empty_message="no distributed gateway ports or gateway routers")


@common.handle_errors
def gateways(
    db: Optional[str] = common.DB,
    sb: Optional[str] = common.SB,
    router: Optional[str] = common.ROUTER,
    fmt: str = common.FORMAT,
    wide: bool = common.WIDE,
    ovn_version: Optional[str] = common.OVN_VERSION,
    private_key: Optional[str] = common.PRIVATE_KEY,
    certificate: Optional[str] = common.CERTIFICATE,
    ca_cert: Optional[str] = common.CA_CERT,
    timeout: float = common.TIMEOUT,
    allow_truncated: bool = common.ALLOW_TRUNCATED,
    verify: bool = common.VERIFY,
) -> None:
    """List every distributed gateway port and gateway router with its gateway chassis.

    For each: the member chassis by priority and where the list comes from
    (ha_chassis_group, which wins over gateway_chassis; gateway_chassis; or a gateway
    router's options:chassis), the predicted active chassis (highest priority, ties to the
    greatest name; unregistered chassis never win when --sb is given), the observed one
    (SB cr-<port> binding or NB status:hosting-chassis) and DIFFERS when they disagree.
    With --sb, --wide also shows the HA_Chassis_Group northd wrote into SB.

    Examples:

      ovninspect gateways --db ovnnb_db.db

      ovninspect gateways --db nb.db --sb sb.db --router vpc1 --format json
    """
    common.check_format(fmt)
    inputs = common.Inputs(db, sb, fmt, private_key, certificate, ca_cert, timeout,
                           allow_truncated, ovn_version, verify=verify)
    topo = common.load_topology(inputs)
    routers = select_routers(topo, router)
    views = gateway_views(topo, routers)
    common.emit(gateways_report(topo, views, non_dgp_notes(topo, routers)), fmt, wide)
