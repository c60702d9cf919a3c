"""``ovninspect check``: misconfigurations as findings with stable rule slugs and severities."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any, List, Optional

import typer

from ..errors import UsageError
from ..render import Column, Report
from . import common

if TYPE_CHECKING:  # the rules are imported when the command runs (a faster start for others)
    from ..analysis.checks import CheckResult
    from ..topology import Topology

SEVERITY_COLORS = {"error": "red", "warning": "yellow", "info": "cyan"}
_WIDTH = 72


def _fill(text: str, width: int = _WIDTH, indent: str = "") -> str:
    return textwrap.fill(text, width, subsequent_indent=indent, break_on_hyphens=False,
                         break_long_words=False)


def _message_cell(row: dict[str, Any]) -> str:
    text = _fill(row["message"])
    if row.get("hint"):
        text += "\n" + _fill("fix: " + row["hint"], indent="     ")
    return text


def check_report(topo: Topology, result: CheckResult) -> Report:
    from ..analysis.checks import SEVERITIES

    rows = [f.to_dict() for f in result.findings]
    counts = result.counts()
    summary = [f"{len(rows)} finding(s): " + ", ".join(f"{counts[s]} {s}" for s in SEVERITIES),
               *topo.rules.footer()]
    columns = [
        Column("severity", "SEVERITY", color=SEVERITY_COLORS.get),
        Column("rule", "RULE"),
        Column("object", "OBJECT", show=lambda r: _fill(r["object"], 40)),
        Column("message", "MESSAGE", show=_message_cell),
        Column("hint", "HINT", wide_only=True),   # in CSV (and JSON); the table folds it in
    ]
    notes = []
    if result.skipped_rules:
        notes.append(f"rules needing --sb were skipped: {', '.join(result.skipped_rules)} "
                     "(give --sb to run them)")
    extra = {"skipped_rules": list(result.skipped_rules), "rules_run": list(result.rules_run),
             "summary": counts, "ovn_version": topo.version.label(),
             "ovn_rules": topo.rules.to_dict()}
    return Report("findings", rows, columns, extra=extra, summary=summary, notes=notes,
                  empty_message="no findings")


def rules_report() -> Report:
    from ..analysis.checks import RULES

    rows = [r.to_dict() for r in RULES]
    columns = [Column("rule", "RULE"),
               Column("severity", "SEVERITY", color=SEVERITY_COLORS.get),
               Column("needs", "NEEDS"),
               Column("description", "DESCRIPTION",
                      show=lambda r: _fill(r["description"], 80))]
    return Report("rules", rows, columns)


@common.handle_errors
def check(
    db: Optional[str] = common.DB,
    sb: Optional[str] = common.SB,
    rule: Optional[List[str]] = typer.Option(
        None, "--rule", metavar="SLUG", help="Run only this rule (repeat, or comma-separate)."),
    ignore: Optional[List[str]] = typer.Option(
        None, "--ignore", metavar="SLUG", help="Skip this rule (repeat, or comma-separate)."),
    min_severity: str = typer.Option(
        "info", "--min-severity", metavar="info|warning|error",
        help="Show only findings at least this severe."),
    unique_ips: bool = typer.Option(
        False, "--unique-ips",
        help="The host datapath needs cluster-wide unique pod IPs (e.g. Cilium chaining): "
             "ip-not-unique becomes an error."),
    list_rules: bool = typer.Option(
        False, "--list-rules", help="List the rules (slug, severity, needs, description)."),
    fmt: str = common.FORMAT,
    ovn_version: Optional[str] = common.OVN_VERSION,
    private_key: Optional[str] = common.PRIVATE_KEY,
    certificate: Optional[str] = common.CERTIFICATE,
    ca_cert: Optional[str] = common.CA_CERT,
    timeout: float = common.TIMEOUT,
    allow_truncated: bool = common.ALLOW_TRUNCATED,
    verify: bool = common.VERIFY,
) -> None:
    """Find misconfigurations: NATs northd drops or ignores, black-holed FIPs,
    EIP clashes, gateway ports without failover, self-pointing routes, address
    collisions.

    Each finding has a stable rule slug, a severity (error, warning, info), the
    object to look for, what is wrong and a fix.  Exit code 1 when an
    error-severity finding remains after the filters.  Rules marked "sb" in
    --list-rules need --sb and are skipped without it.

    Examples:

      ovninspect check --db ovnnb_db.db

      ovninspect check --db nb.db --sb sb.db --min-severity warning --format json

      ovninspect check --db nb.db --rule nat-invalid,dnat-blackhole

      ovninspect check --list-rules
    """
    from ..analysis.checks import SEVERITIES, resolve_slugs, run_checks

    common.check_format(fmt)
    if min_severity not in SEVERITIES:
        raise UsageError(f"--min-severity must be one of {', '.join(SEVERITIES)}, "
                         f"not {min_severity!r}")
    try:
        resolve_slugs(rule)
        resolve_slugs(ignore)
    except ValueError as exc:
        raise UsageError(f"--rule/--ignore: {exc}") from None
    if list_rules:
        common.emit(rules_report(), fmt)
        return
    inputs = common.Inputs(db, sb, fmt, private_key, certificate, ca_cert, timeout,
                           allow_truncated, ovn_version, verify=verify)
    topo = common.load_topology(inputs)
    result = run_checks(topo, rule, ignore, min_severity, unique_ips)
    common.emit(check_report(topo, result), fmt)
    if result.has_errors:
        raise typer.Exit(1)
