"""The ``nat`` question: every NAT with its mode, gateway port, chassis and reason."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, Optional

from ..analysis.owners import Owner, labels
from ..analysis.placement import MODES, NatVerdict, classify_all
from ..topology import Router, Topology
from ..vocab import ChassisSource
from .common import hostnames, rules_meta
from .model import Answer, Field, Kind, chassis_label, decorate

if TYPE_CHECKING:
    from ..analysis.announce import Announcement

MODE_COLORS = {"distributed": "green", "centralized": "yellow", "inactive": "red"}


def verdict_row(verdict: NatVerdict) -> dict[str, Any]:
    """The JSON contract of one ``nat`` row (design.md) plus extra keys."""
    nat = verdict.nat
    port = verdict.gateway_port
    row: dict[str, Any] = {
        "router": nat.router, "uuid": nat.uuid, "type": nat.type,
        "external_ip": nat.external_ip, "logical_ip": nat.logical_ip,
        "logical_port": nat.logical_port, "external_mac": nat.external_mac,
        "mode": verdict.mode, "gateway_port": port.name if port is not None else None,
        "chassis": verdict.chassis, "reason": verdict.reason,
        "router_uuid": nat.router_uuid, "chassis_source": verdict.chassis_source,
        "cause": verdict.cause, "rules": verdict.rules, "flags": verdict.flags,
        "chassis_predicted": verdict.chassis_predicted,
    }
    if verdict.notes:
        row["notes"] = verdict.notes
    return row


def owner_dict(owner: Owner) -> dict[str, Any]:
    return {"cms": owner.cms, "kind": owner.kind, "details": dict(owner.details),
            "intent": owner.intent, "intent_source": owner.intent_source}


def _announced_text(row: dict[str, Any]) -> str:
    found = row.get("announced_from")
    if not found:
        return "-"
    where = found["chassis"] or found["scope"]
    tracked = f", tracks {found['tracked_port']}" if found["tracked_port"] and \
        found["tracked_port"] != found["port"] else ""
    return f"{where} ({found['port']}{tracked})"


def nat_rows(topo: Topology, verdicts: list[NatVerdict]) -> list[dict[str, Any]]:
    """Rows with the owner of each NAT (one shared owner dict per Owner object) and, when
    SB has dynamic-routing routes, where each address is announced from."""
    owners = labels(topo, [v.nat for v in verdicts])
    crs: Optional[dict[str, list[str]]] = None
    if topo.k8s is not None:
        from ..k8s.match import Matcher

        crs = Matcher(topo, topo.k8s).crs_by_nat
    announced: dict[str, Announcement] = {}
    if topo.rules.dynamic_routing:  # OVN >= 25.03: imported only then (start-up time)
        from ..analysis.announce import announcements

        announced = announcements(topo)
    shared: dict[int, tuple[dict, Owner]] = {}
    rows = []
    for verdict, owner in zip(verdicts, owners):
        row = verdict_row(verdict)
        where = announced.get(verdict.nat.uuid)
        row["announced_from"] = where.to_dict() if where is not None else None
        fields = shared.get(id(owner))
        if fields is None:
            fields = shared[id(owner)] = ({
                "owner": owner_dict(owner), "owner_cms": owner.cms, "owner_kind": owner.kind,
                "intent": owner.intent, "intent_mismatch": False}, owner)
        row.update(fields[0])
        if owner.intent is not None:
            row["intent_mismatch"] = owner.mismatch(verdict.mode)
        if crs is not None:   # --k8s: the CRs behind this row (a copy of the shared dict)
            row["owner"] = dict(row["owner"], crs=crs.get(verdict.nat.uuid, []))
            row["owner_crs"] = row["owner"]["crs"]
        rows.append(row)
    return rows


def _chassis_text(answer_hostnames: Optional[dict[str, str]]):
    def show(row: dict[str, Any]) -> str:
        names = answer_hostnames or {}
        text = chassis_label(row["chassis"], names.get(row["chassis"] or ""))
        source = row["chassis_source"]
        if row["chassis"] and source == ChassisSource.PREDICTED:
            text += " [predicted]"
        elif row["chassis"] and source == ChassisSource.REQUESTED:
            text += " [requested]"
        elif row["chassis_predicted"]:
            predicted = row["chassis_predicted"]
            text += f" [claimed; predicted {chassis_label(predicted, names.get(predicted))}]"
        return text
    return show


def nat_fields(names: Optional[dict[str, str]] = None, k8s: bool = False
               ) -> tuple[Field, ...]:
    crs = (Field("owner_crs", "CRS", Kind.LIST, wide_only=True),) if k8s else ()
    return (
        Field("router", "ROUTER", is_key=True),
        Field("type", "TYPE", is_key=True),
        Field("external_ip", "EXTERNAL_IP", is_key=True),
        Field("logical_ip", "LOGICAL_IP", is_key=True),
        Field("mode", "MODE", color=MODE_COLORS.get),
        Field("gateway_port", "GATEWAY_PORT"),
        Field("chassis", "CHASSIS", Kind.CHASSIS, show=_chassis_text(names)),
        Field("uuid", "UUID", wide_only=True, compared=False, show=lambda r: r["uuid"][:8]),
        Field("logical_port", "LOGICAL_PORT", wide_only=True),
        Field("external_mac", "EXTERNAL_MAC", wide_only=True),
        Field("owner_cms", "OWNER", wide_only=True, show=lambda r: " ".join(
            x for x in (r["owner_cms"], r["owner_kind"]) if x)),
        Field("owner_kind", "KIND", csv_only=True),
        Field("intent", "INTENT", wide_only=True, show=lambda r: (
            (r["intent"] or "-") + (" (MISMATCH)" if r["intent_mismatch"] else ""))),
        Field("intent_mismatch", "MISMATCH", Kind.BOOL, csv_only=True),
        *crs,
        Field("flags", "FLAGS", Kind.LIST, wide_only=True),
        Field("announced_from", "ANNOUNCED_FROM", wide_only=True, show=_announced_text),
        Field("reason", "REASON", wrap=True, compared=False),
    )


def nat_answer(topo: Topology, routers: Optional[list[Router]] = None,
               mode: Optional[str] = None) -> Answer:
    """Every NAT (of ``routers``; with ``mode`` only those) as ovn-northd places it."""
    verdicts = classify_all(topo, routers)
    if mode is not None:
        verdicts = [v for v in verdicts if v.mode == mode]
    return verdicts_answer(topo, verdicts)


def verdicts_answer(topo: Topology, verdicts: list[NatVerdict]) -> Answer:
    """The ``nat`` answer of verdicts already made."""
    rows = nat_rows(topo, verdicts)
    counts = Counter(v.mode for v in verdicts)
    summary = [f"{len(verdicts)} NAT(s): " + ", ".join(f"{counts.get(m, 0)} {m}" for m in MODES),
               *topo.rules.footer()]
    mismatches = sum(1 for r in rows if r["intent_mismatch"])
    if mismatches:
        summary.append(f"{mismatches} NAT(s) where the CMS intent differs from what OVN does "
                       "(OWNER/INTENT with --wide; ovninspect check explains each under "
                       "fip-intent-mismatch or neutron-fip-not-distributed)")
    names = hostnames(topo)
    meta = {**rules_meta(topo), "summary": {m.value: counts.get(m, 0) for m in MODES}}
    notes = sorted({n for v in verdicts for n in v.notes})[:20]
    return decorate(Answer("nat", "nats", nat_fields(names, topo.k8s is not None), rows, meta, summary, notes,
                           empty_message="no NAT rows", hostnames=names))
