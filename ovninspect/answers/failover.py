"""The ``failover-sim`` question: which external IPs survive when chassis go down, and the
sweep of every gateway chassis (or combination)."""

from __future__ import annotations

from math import comb
from typing import Any, Iterable, Optional

from ..analysis.failover import (
    CHANGES,
    LOST,
    EntryResult,
    FailoverModel,
    SinglePoint,
    SweepCase,
    build_model,
    resolve_down,
    simulate,
    single_points_of_failure,
    sweep,
)
from ..errors import UsageError
from ..topology import Router, Topology
from .common import hostnames, rules_meta
from .model import Answer, Field, Kind, chassis_label, decorate

CHANGE_COLORS = {"kept": "green", "moved": "yellow", "lost": "red", "unknown": "cyan",
                 "unreachable": "dim"}
MAX_COMBINATIONS = 200_000


def _reach_color(value: Any) -> Optional[str]:
    return {True: "green", False: "red"}.get(value, "cyan") if value is not None else "cyan"


def _reachable_text(value: Optional[bool]) -> str:
    return "unknown" if value is None else ("yes" if value else "NO")


def entry_row(result: EntryResult) -> dict[str, Any]:
    """The ``failover-sim`` JSON contract (design.md) plus extra keys."""
    e, out, before = result.entry, result.outcome, result.before
    return {
        "router": e.router, "external_ip": e.external_ip, "type": e.type, "mode": e.mode,
        "reachable": out.reachable, "via": out.via, "reason": out.reason,
        "reachable_before": before.reachable, "via_before": before.via,
        "change": result.change, "gateway_port": e.gateway_port, "rules": list(out.rules),
        "router_uuid": e.router_uuid, "uuid": e.uuid, "logical_ip": e.logical_ip,
        "logical_port": e.logical_port, "load_balancer": e.load_balancer, "vip": e.vip,
    }


ENTRY_FIELDS = (
    Field("router", "ROUTER", is_key=True),
    Field("type", "TYPE", is_key=True),
    Field("external_ip", "EXTERNAL_IP", is_key=True),
    Field("mode", "MODE"),
    Field("reachable", "REACHABLE", Kind.BOOL, color=_reach_color,
          show=lambda r: _reachable_text(r["reachable"])),
    Field("via", "VIA", Kind.CHASSIS),
    Field("via_before", "BEFORE", Kind.CHASSIS),
    Field("change", "CHANGE", color=CHANGE_COLORS.get),
    Field("gateway_port", "GATEWAY_PORT", wide_only=True),
    Field("logical_ip", "LOGICAL_IP", wide_only=True),
    Field("logical_port", "LOGICAL_PORT", wide_only=True),
    Field("vip", "VIP", wide_only=True),
    Field("uuid", "UUID", wide_only=True, compared=False,
          show=lambda r: (r["uuid"] or "")[:8] or None),
    Field("reason", "REASON", wrap=True, compared=False),
)


def model_of(topo: Topology, routers: Optional[list[Router]] = None) -> FailoverModel:
    """The failover model; with --k8s also the iptables EIPs of VpcNatGateway pods."""
    model = build_model(topo, routers)
    if topo.k8s is not None:
        from ..k8s.failover import extend_model

        chosen = {r.name for r in routers} if routers is not None else None
        if chosen is None or any(g.vpc in chosen for g in topo.k8s.all("VpcNatGateway")):
            extend_model(model, topo, topo.k8s)
    return model


def _with_eip_crs(topo: Topology, model: FailoverModel, results: list[EntryResult],
                  rows: list[dict[str, Any]]) -> tuple[Field, ...]:
    """--k8s: each row's ``eip_cr`` (the OvnEip / IptablesEIP holding its address) and
    the EIP_CR column for --wide."""
    if topo.k8s is None:
        return ENTRY_FIELDS
    from ..k8s.failover import eip_crs

    crs = eip_crs(model, topo, topo.k8s)
    for result, row in zip(results, rows):
        row["eip_cr"] = crs.get(id(result.entry))
    at = [f.key for f in ENTRY_FIELDS].index("uuid")
    return (*ENTRY_FIELDS[:at], Field("eip_cr", "EIP_CR", wide_only=True), *ENTRY_FIELDS[at:])


def failover_answer(topo: Topology, routers: Optional[list[Router]] = None,
                    down: Optional[Iterable[str]] = None,
                    only: Optional[set[str]] = None,
                    model: Optional[FailoverModel] = None) -> Answer:
    """One scenario: ``down`` (names, Gateway_Chassis rows or hostnames; None = every
    gateway chassis); ``only`` keeps entries whose change is in it."""
    model = model or model_of(topo, routers)
    names = model.gateway_chassis if down is None else resolve_down(model, list(down))
    scenario = simulate(model, names)
    counts = scenario.counts()
    results = [r for r in scenario.results if only is None or r.change in only]
    rows = [entry_row(r) for r in results]
    fields = _with_eip_crs(topo, model, results, rows)
    hosts = hostnames(topo)
    down_text = ", ".join(chassis_label(c, (hosts or {}).get(c)) for c in scenario.down)
    summary = [
        f"down: {down_text or 'none'}",
        f"{len(scenario.results)} entries: {counts['kept']} kept, {counts['moved']} moved to "
        f"another chassis, {counts['lost']} lost, {counts['unknown']} unknown, "
        f"{counts['unreachable']} unreachable even with every chassis up",
        *topo.rules.footer(),
    ]
    if only is not None:
        summary.append(f"showing {len(rows)} entries ({', '.join(sorted(only))})")
    meta: dict[str, Any] = {"down": list(scenario.down), "summary": counts,
                            **rules_meta(topo), "notes": list(model.notes)}
    if hosts is not None:
        meta["down_hostnames"] = [hosts.get(c) for c in scenario.down]
    lost = any(r.change == LOST for r in scenario.results)
    answer = Answer("failover-sim", "entries", fields, rows, meta, summary,
                    list(model.notes), empty_message="no external IPs (NATs, gateway port "
                    "addresses, LB VIPs)", hostnames=hosts)
    answer.meta["lost"] = lost
    return decorate(answer)


def _lost_text(row: dict[str, Any]) -> str:
    ips = row["lost_ips"]
    text = ", ".join(ips[:4])
    return text + (f" (+{len(ips) - 4} more)" if len(ips) > 4 else "") if ips else "-"


def case_row(case: SweepCase, hosts: Optional[dict[str, str]]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "down": list(case.down), "lost": len(case.lost), "moved": case.moved,
        "lost_entries": [dict(e.ident(), reason=o.reason) for e, o in case.lost],
        "lost_ips": [f"{e.router}:{e.type}:{e.external_ip}" for e, _ in case.lost],
    }
    if hosts is not None:
        row["down_hostnames"] = [hosts.get(c) for c in case.down]
    return row


def spof_dict(s: SinglePoint, hosts: Optional[dict[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": s.kind, "chassis": s.chassis, "router": s.router, "port": s.port,
        "reason": s.reason, "entries": len(s.entries),
        "external_ips": [dict(e.ident()) for e in s.entries],
    }
    if hosts is not None:
        out["chassis_hostname"] = hosts.get(s.chassis)
    return out


def sweep_answer(topo: Topology, routers: Optional[list[Router]] = None, size: int = 1,
                 model: Optional[FailoverModel] = None) -> Answer:
    """Every combination of ``size`` gateway chassis down, plus the single points."""
    if size < 1:
        raise UsageError(f"--sweep {size}: N must be 1 or more")
    model = model or model_of(topo, routers)
    combos = comb(len(model.gateway_chassis), size)
    if combos > MAX_COMBINATIONS:
        raise UsageError(f"--sweep {size}: {combos} combinations of "
                         f"{len(model.gateway_chassis)} gateway chassis is too many")
    cases = sweep(model, size)
    spofs = single_points_of_failure(model)
    hosts = hostnames(topo)
    label = lambda c: chassis_label(c, (hosts or {}).get(c))  # noqa: E731
    rows = [case_row(c, hosts) for c in cases]
    worst = max(cases, key=lambda c: len(c.lost), default=None)
    losing = sum(1 for c in cases if c.lost)
    summary = [f"{len(cases)} scenario(s) of {size} gateway chassis down among "
               f"{len(model.gateway_chassis)}; entries are lost in {losing} of them"
               + (f"; worst: {', '.join(label(c) for c in worst.down)} loses "
                  f"{len(worst.lost)}" if worst is not None and worst.lost else "")]
    if spofs:
        summary.append(f"{len(spofs)} single point(s) of failure:")
        summary += [f"  {label(s.chassis)}: {s.reason}" for s in spofs[:25]]
        if len(spofs) > 25:
            summary.append(f"  ... {len(spofs) - 25} more (see --format json)")
    else:
        summary.append("no single points of failure")
    summary += topo.rules.footer()
    fields = (
        Field("down", "DOWN", Kind.CHASSIS_LIST, is_key=True),
        Field("lost", "LOST", Kind.NUMBER, color=lambda v: "red" if v else "green"),
        Field("moved", "MOVED", Kind.NUMBER),
        Field("lost_ips", "LOST_ENTRIES", Kind.LIST, show=_lost_text, wrap=True),
    )
    meta = {"single_points_of_failure": [spof_dict(s, hosts) for s in spofs],
            "candidates": list(model.gateway_chassis), "size": size, **rules_meta(topo),
            "notes": list(model.notes), "lost": any(c.lost for c in cases)}
    return Answer("failover-sim", "sweep", fields, rows, meta, summary, list(model.notes),
                  empty_message="no gateway chassis to sweep", hostnames=hosts)


def parse_only(only: Optional[str]) -> Optional[set[str]]:
    """``--only kept,lost`` -> a set of changes; UsageError for anything else."""
    if only is None:
        return None
    chosen = {p.strip() for p in only.split(",") if p.strip()}
    bad = sorted(chosen - {c.value for c in CHANGES})
    if bad or not chosen:
        raise UsageError(f"--only takes a comma list of {', '.join(CHANGES)}, not {only!r}")
    return chosen
