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
