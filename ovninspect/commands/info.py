"""``ovninspect info``: what a source is and what it holds."""

from __future__ import annotations

from typing import Any, Optional

import typer

from ..ovn_version import resolve
from ..render import Column, Report
from ..rules import rules_for
from ..snapshot import Snapshot
from . import common


def info_report(snap: Snapshot) -> Report:
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
    return Report("tables", rows, [Column("table", "TABLE"), Column("rows", "ROWS")],
                  extra=facts, summary=summary)


@common.handle_errors
def info(
    db: Optional[str] = common.DB,
    sb: bool = typer.Option(False, "--sb-role", help="Read the source as a Southbound DB."),
    fmt: str = common.FORMAT,
    private_key: Optional[str] = common.PRIVATE_KEY,
    certificate: Optional[str] = common.CERTIFICATE,
    ca_cert: Optional[str] = common.CA_CERT,
    timeout: float = common.TIMEOUT,
    allow_truncated: bool = common.ALLOW_TRUNCATED,
    verify: bool = common.VERIFY,
) -> None:
    """Show what a source is: format, schema, OVN version, raft state, rows per table.

    Examples:

      ovninspect info --db ovnnb_db.db

      ovninspect info --db must-gather.local/ --format json

      ovninspect info --db unix:/var/run/ovn/ovnsb_db.sock --sb-role
    """
    common.check_format(fmt)
    inputs = common.Inputs(db, None, fmt, private_key, certificate, ca_cert, timeout,
                           allow_truncated, verify=True)
    # live: row counts need only the UUIDs (and the global row for versions)
    tables = {"*": [], "NB_Global": None, "SB_Global": None}
    snap = common.load_snapshot(db, "sb" if sb else "nb", inputs, tables)
    common.emit(info_report(snap), fmt)
