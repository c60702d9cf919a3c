"""The ``info`` question: what a source is and what it holds (a Snapshot, no topology)."""

from __future__ import annotations

from typing import Any

from ..ovn_version import resolve
from ..rules import rules_for
from ..snapshot import Snapshot
from .model import Answer, Field, Kind


def info_answer(snap: Snapshot) -> Answer:
    """Format, schema, versions, records, raft details and row counts of one snapshot."""
    info = snap.info
    version = resolve(snap) if snap.name == "OVN_Northbound" else None
    rules = rules_for(version) if version else None
    facts: dict[str, Any] = {
        "source": info.source, "format": info.format, "schema_name": snap.name,
        "schema_version": snap.version or None,
        "northd_internal_version": snap.northd_internal_version(),
        "ovn_version": version.label() if version else None,
        "ovn_rules": rules.to_dict() if rules else None,
        "records": info.records, "transactions": info.transactions,
        "clustered": info.clustered or None, "warnings": info.warnings, "notes": info.notes,
    }
    rows = [{"table": t, "rows": n} for t, n in snap.row_counts().items()]
    summary = [f"{k}: {v}" for k, v in facts.items() if v not in (None, [], {})
               and k not in ("clustered", "warnings", "notes", "ovn_rules")]
    if rules is not None:
        summary += [f"OVN rule in force: {line}" for line in rules.describe()]
        summary += [f"warning: {w}" for w in rules.warnings()]
    for k, v in (info.clustered or {}).items():
        summary.append(f"raft {k}: {v if v is not None else '-'}")
    summary += [f"note: {n}" for n in info.notes]  # warnings go to stderr (load_snapshot)
    fields = (Field("table", "TABLE", is_key=True), Field("rows", "ROWS", Kind.NUMBER))
    return Answer("info", "tables", fields, rows, facts, summary)


def add_k8s(answer: Answer, cluster: Any) -> None:
    """``info --k8s``: what the Kubernetes input holds (kinds and counts, what was skipped,
    the Kube-OVN version and Cilium chaining when they can be told)."""
    if answer.question != "info":
        return
    counts = cluster.counts()
    version = cluster.kube_ovn_version()
    facts = {"source": cluster.source, "files": cluster.files, "kinds": counts,
             "skipped": dict(sorted(cluster.skipped.items())),
             "duplicates": cluster.duplicates,
             "kube_ovn_version": version[0] if version else None,
             "cilium_chaining": cluster.cilium_chaining}
    answer.meta["k8s"] = facts
    kinds = ", ".join(f"{k} {n}" for k, n in counts.items()) or "no known kind"
    answer.summary.append(f"k8s {cluster.source}: {kinds}")
    if cluster.skipped:
        answer.summary.append("k8s skipped (unknown kinds): " + ", ".join(
            f"{k} {n}" for k, n in sorted(cluster.skipped.items())))
    if version:
        answer.summary.append(f"k8s Kube-OVN version: {version[0]}")
    if cluster.cilium_chaining is not None:
        answer.summary.append(f"k8s Cilium chaining: {'on' if cluster.cilium_chaining else 'off'}")
