"""``ovninspect nat``: every NAT with its mode, gateway port, chassis and reason."""

from __future__ import annotations

from collections import Counter
from typing import Any, Optional

import typer

from ..analysis.owners import Owner, labels
from ..analysis.placement import MODES, NatVerdict, classify_all
from ..errors import UsageError
from ..render import Column, Report
from ..topology import Router, Topology
from . import common

MODE_COLORS = {"distributed": "green", "centralized": "yellow", "inactive": "red"}


def select_routers(topo: Topology, router: Optional[str]) -> Optional[list[Router]]:
    """The routers named by ``--router`` (None = all); exit 2 when none matches."""
    if router is None:
        return None
    found = topo.find_routers(router)
    if not found:
        raise UsageError(f"--router {router}: no logical router with that name or UUID")
    return found


def chassis_text(chassis: Optional[str], source: Optional[str],
                 hostname: Optional[str] = None) -> str:
    if not chassis:
        return "-"
    text = chassis + (f" ({hostname})" if hostname and hostname != chassis else "")
    if source in ("predicted", "requested-chassis"):
        text += " [predicted]" if source == "predicted" else " [requested]"
    return text


def nat_rows(topo: Topology, verdicts: list[NatVerdict]) -> list[dict[str, Any]]:
    owners = labels(topo, [v.nat for v in verdicts])
    shared: dict[int, tuple[dict, Owner]] = {}  # per Owner object (unknown is shared)
    rows = []
    for verdict, owner in zip(verdicts, owners):
        row = verdict.to_dict(topo)
        fields = shared.get(id(owner))
        if fields is None:
            fields = shared[id(owner)] = ({
                "owner": owner.to_dict(), "owner_cms": owner.cms, "owner_kind": owner.kind,
                "intent": owner.intent, "intent_mismatch": False}, owner)
        row.update(fields[0])
        if owner.intent is not None:
            row["intent_mismatch"] = owner.mismatch(verdict.mode)
        rows.append(row)
    return rows


def nat_report(topo: Topology, verdicts: list[NatVerdict]) -> Report:
    rows = nat_rows(topo, verdicts)
    counts = Counter(v.mode for v in verdicts)
    summary = [f"{len(verdicts)} NAT(s): " + ", ".join(f"{counts.get(m, 0)} {m}" for m in MODES),
               *topo.rules.footer()]
    mismatches = sum(1 for r in rows if r["intent_mismatch"])
    if mismatches:
        summary.append(f"{mismatches} NAT(s) where the CMS intent differs from what OVN does "
                       "(see OWNER/INTENT with --wide, or ovninspect check)")
    columns = [
        Column("router", "ROUTER"), Column("type", "TYPE"),
        Column("external_ip", "EXTERNAL_IP"), Column("logical_ip", "LOGICAL_IP"),
        Column("mode", "MODE", color=MODE_COLORS.get),
        Column("gateway_port", "GATEWAY_PORT"),
        Column("chassis", "CHASSIS", show=lambda r: chassis_text(
            r["chassis"], r["chassis_source"], r.get("chassis_hostname"))),
        Column("uuid", "UUID", wide_only=True, show=lambda r: r["uuid"][:8]),
        Column("logical_port", "LOGICAL_PORT", wide_only=True),
        Column("external_mac", "EXTERNAL_MAC", wide_only=True),
        Column("owner_cms", "OWNER", wide_only=True, show=lambda r: " ".join(
            x for x in (r["owner_cms"], r["owner_kind"]) if x)),
        Column("owner_kind", "KIND", csv_only=True),
        Column("intent", "INTENT", wide_only=True, show=lambda r: (
            (r["intent"] or "-") + (" (MISMATCH)" if r["intent_mismatch"] else ""))),
        Column("intent_mismatch", "MISMATCH", csv_only=True),
        Column("flags", "FLAGS", wide_only=True),
        Column("reason", "REASON"),
    ]
    notes = sorted({n for v in verdicts for n in v.notes})[:20]
    extra = {"ovn_version": topo.version.label(), "ovn_rules": topo.rules.to_dict(),
             "summary": {m.value: counts.get(m, 0) for m in MODES}}
    return Report("nats", rows, columns, extra=extra, summary=summary, notes=notes,
                  empty_message="no NAT rows")


@common.handle_errors
def nat(
    db: Optional[str] = common.DB,
    sb: Optional[str] = common.SB,
    router: Optional[str] = common.ROUTER,
    mode: Optional[str] = typer.Option(None, "--mode", "-m",
                                       metavar="distributed|centralized|inactive",
                                       help="Only NATs with this mode."),
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
    """Classify every NAT as ovn-northd does: distributed, centralized or inactive.

    For each NAT: the mode, the distributed gateway port it uses, the chassis handling it at
    snapshot time (bound chassis from --sb, observed or [predicted] active gateway), and the
    reason.  --wide adds the owner (Kube-OVN, Neutron, ovn-kubernetes), the CMS intent and
    flags such as dnat-blackhole or off-link.

    Examples:

      ovninspect nat --db ovnnb_db.db --router vpc1

      ovninspect nat --db nb.db --sb sb.db --mode distributed --wide

      OVN_NB_DB=unix:/var/run/ovn/ovnnb_db.sock ovninspect nat --format json
    """
    common.check_format(fmt)
    if mode is not None and mode not in MODES:
        raise UsageError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    inputs = common.Inputs(db, sb, fmt, private_key, certificate, ca_cert, timeout,
                           allow_truncated, ovn_version, verify=verify)
    topo = common.load_topology(inputs)
    verdicts = classify_all(topo, select_routers(topo, router))
    if mode is not None:
        verdicts = [v for v in verdicts if v.mode == mode]
    common.emit(nat_report(topo, verdicts), fmt, wide)
