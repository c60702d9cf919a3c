"""``ovninspect failover-sim``: which external IPs survive when chassis go down."""

from __future__ import annotations

from math import comb
from typing import Any, Optional

import typer

from ..analysis.failover import (
    CHANGES,
    LOST,
    FailoverModel,
    Scenario,
    SinglePoint,
    SweepCase,
    build_model,
    resolve_down,
    simulate,
    single_points_of_failure,
    sweep,
)
from ..errors import UsageError
from ..render import Column, Report
from . import common
from .gateways import with_host
from .nat import select_routers

CHANGE_COLORS = {"kept": "green", "moved": "yellow", "lost": "red", "unknown": "cyan",
                 "unreachable": "dim"}
MAX_COMBINATIONS = 200_000


def _reach_color(value: Any) -> Optional[str]:
    return {True: "green", False: "red"}.get(value, "cyan") if value is not None else "cyan"


def _reachable_text(value: Optional[bool]) -> str:
    return "unknown" if value is None else ("yes" if value else "NO")


def scenario_report(model: FailoverModel, scenario: Scenario,
                    only: Optional[set[str]] = None) -> Report:
    """The report of one scenario: one row per entry."""
    topo = model.topo
    counts = scenario.counts()
    results = [r for r in scenario.results if only is None or r.change in only]
    rows = [r.to_dict(topo) for r in results]
    down = ", ".join(with_host(topo, c) for c in scenario.down) or "none"
    summary = [
        f"down: {down}",
        f"{len(scenario.results)} entries: {counts['kept']} kept, {counts['moved']} moved to "
        f"another chassis, {counts['lost']} lost, {counts['unknown']} unknown, "
        f"{counts['unreachable']} unreachable even with every chassis up",
        *topo.rules.footer(),
    ]
    if only is not None:
        summary.append(f"showing {len(rows)} entries ({', '.join(sorted(only))})")
    columns = [
        Column("router", "ROUTER"), Column("type", "TYPE"),
        Column("external_ip", "EXTERNAL_IP"), Column("mode", "MODE"),
        Column("reachable", "REACHABLE", color=_reach_color,
               show=lambda r: _reachable_text(r["reachable"])),
        Column("via", "VIA", show=lambda r: with_host(topo, r["via"])),
        Column("via_before", "BEFORE", show=lambda r: with_host(topo, r["via_before"])),
        Column("change", "CHANGE", color=CHANGE_COLORS.get),
        Column("gateway_port", "GATEWAY_PORT", wide_only=True),
        Column("logical_ip", "LOGICAL_IP", wide_only=True),
        Column("logical_port", "LOGICAL_PORT", wide_only=True),
        Column("vip", "VIP", wide_only=True),
        Column("uuid", "UUID", wide_only=True, show=lambda r: (r["uuid"] or "")[:8] or None),
        Column("reason", "REASON"),
    ]
    extra = {"down": list(scenario.down), "summary": counts,
             "ovn_version": topo.version.label(), "ovn_rules": topo.rules.to_dict(),
             "notes": list(model.notes)}
    if topo.has_sb:
        extra["down_hostnames"] = [topo.hostname(c) for c in scenario.down]
    return Report("entries", rows, columns, extra=extra, summary=summary, notes=model.notes,
                  empty_message="no external IPs (NATs, gateway port addresses, LB VIPs)")


def _lost_text(row: dict[str, Any]) -> str:
    ips = row["lost_ips"]
    text = ", ".join(ips[:4])
    return text + (f" (+{len(ips) - 4} more)" if len(ips) > 4 else "") if ips else "-"


def sweep_report(model: FailoverModel, cases: list[SweepCase], spofs: list[SinglePoint],
                 size: int) -> Report:
    """The report of a sweep: one row per failure combination, plus single points."""
    topo = model.topo
    rows = [c.to_dict(topo) for c in cases]
    worst = max(cases, key=lambda c: len(c.lost), default=None)
    losing = sum(1 for c in cases if c.lost)
    summary = [f"{len(cases)} scenario(s) of {size} gateway chassis down among "
               f"{len(model.gateway_chassis)}; entries are lost in {losing} of them"
               + (f"; worst: {', '.join(with_host(topo, c) for c in worst.down)} loses "
                  f"{len(worst.lost)}" if worst is not None and worst.lost else "")]
    if spofs:
        summary.append(f"{len(spofs)} single point(s) of failure:")
        for s in spofs[:25]:
            summary.append(f"  {with_host(topo, s.chassis)}: {s.reason}")
        if len(spofs) > 25:
            summary.append(f"  ... {len(spofs) - 25} more (see --format json)")
    else:
        summary.append("no single points of failure")
    summary += topo.rules.footer()
    columns = [
        Column("down", "DOWN", show=lambda r: ", ".join(with_host(topo, c) for c in r["down"])),
        Column("lost", "LOST", color=lambda v: "red" if v else "green"),
        Column("moved", "MOVED"),
        Column("lost_ips", "LOST_ENTRIES", show=_lost_text),
    ]
    extra = {"single_points_of_failure": [s.to_dict(topo) for s in spofs],
             "candidates": list(model.gateway_chassis), "size": size,
             "ovn_version": topo.version.label(), "ovn_rules": topo.rules.to_dict(),
             "notes": list(model.notes)}
    return Report("sweep", rows, columns, extra=extra, summary=summary, notes=model.notes,
                  empty_message="no gateway chassis to sweep")


def _parse_only(only: Optional[str]) -> Optional[set[str]]:
    if only is None:
        return None
    chosen = {p.strip() for p in only.split(",") if p.strip()}
    bad = sorted(chosen - set(CHANGES))
    if bad or not chosen:
        raise UsageError(f"--only takes a comma list of {', '.join(CHANGES)}, not {only!r}")
    return chosen


@common.handle_errors
def failover_sim(
    size: Optional[int] = typer.Argument(
        None, metavar="N", show_default=False,
        help="With --sweep: how many chassis fail together (default 1; 2 = every pair)."),
    db: Optional[str] = common.DB,
    sb: Optional[str] = common.SB,
    router: Optional[str] = common.ROUTER,
    down: Optional[str] = typer.Option(
        None, "--down", "-d", metavar="A,B",
        help="Chassis to take down: chassis names, Gateway_Chassis row names or (with --sb) "
             "hostnames, comma separated.  Default: every gateway chassis."),
    do_sweep: bool = typer.Option(
        False, "--sweep", help="Fail every gateway chassis in turn (--sweep 2: every pair) and "
                               "report each one's blast radius and the single points of "
                               "failure."),
    fail_on_loss: bool = typer.Option(
        False, "--fail-on-loss", help="Exit 1 when an entry is lost: reachable with every "
                                      "chassis up but not in the scenario (any scenario of a "
                                      "sweep)."),
    only: Optional[str] = typer.Option(
        None, "--only", metavar="CHANGE[,..]",
        help="Only show entries whose change is one of kept, moved, lost, unknown, "
             "unreachable (the summary and exit code still count every entry)."),
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
    """Simulate chassis failures: which external IPs stay reachable, through which chassis.

    One entry per NAT row, per address of a distributed gateway port or gateway-router port
    (type router-port) and per load-balancer VIP on a gateway-handled router (type lb-vip).
    Centralized entries need a live gateway member (highest priority wins, ties to the
    greatest name); a distributed FIP needs its port's chassis up and mapping the external
    network (checked with --sb; a chassis without the mapping black-holes the FIP whatever
    the gateways do).  REACHABLE is unknown when the data cannot tell, e.g. where a port
    runs without --sb.  CHANGE compares with every chassis up: kept, moved (other chassis),
    lost, unknown, or unreachable (already not reachable with every chassis up).

    Without --down every gateway chassis (DGP members and gateway-router chassis) is down.
    --sweep fails each gateway chassis in turn (--sweep 2: each pair) and lists what each
    failure loses, plus the single points of failure.

    Exit status: 0 ok; 1 with --fail-on-loss when an entry is lost (reachable with every
    chassis up, not reachable in the scenario, or in any scenario of a sweep); 2 usage or
    unreadable input.

    Examples:

      ovninspect failover-sim --db nb.db --sb sb.db

      ovninspect failover-sim --db nb.db --down node-177,node-46 --router vpc1

      ovninspect failover-sim --db nb.db --sweep 2 --fail-on-loss --format json
    """
    common.check_format(fmt)
    chosen_only = _parse_only(only)
    if size is not None and not do_sweep:
        raise UsageError(f"unexpected argument {size}: N is only for --sweep N")
    if do_sweep and down is not None:
        raise UsageError("--sweep and --down cannot be combined")
    sweep_size = 1 if size is None else size
    if sweep_size < 1:
        raise UsageError(f"--sweep {sweep_size}: N must be 1 or more")
    inputs = common.Inputs(db, sb, fmt, private_key, certificate, ca_cert, timeout,
                           allow_truncated, ovn_version, verify=verify)
    topo = common.load_topology(inputs)
    model = build_model(topo, select_routers(topo, router))
    if do_sweep:
        combos = comb(len(model.gateway_chassis), sweep_size)
        if combos > MAX_COMBINATIONS:
            raise UsageError(f"--sweep {sweep_size}: {combos} combinations of "
                             f"{len(model.gateway_chassis)} gateway chassis is too many")
        cases = sweep(model, sweep_size)
        common.emit(sweep_report(model, cases, single_points_of_failure(model), sweep_size),
                    fmt, wide)
        lost = any(c.lost for c in cases)
    else:
        names = model.gateway_chassis if down is None else resolve_down(model, down.split(","))
        scenario = simulate(model, names)
        common.emit(scenario_report(model, scenario, chosen_only), fmt, wide)
        lost = any(r.change == LOST for r in scenario.results)
    if fail_on_loss and lost:
        raise typer.Exit(1)
