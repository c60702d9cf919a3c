"""The ``check`` question: findings with stable rule slugs, and the list of rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Optional

from .common import rules_meta
from .model import Answer, Field, Kind

if TYPE_CHECKING:
    from ..analysis.checks import Finding, Rule
    from ..topology import Topology

SEVERITY_COLORS = {"error": "red", "warning": "yellow", "info": "cyan"}


def finding_row(f: Finding) -> dict[str, Any]:
    return {"rule": f.rule, "severity": f.severity, "object": f.object,
            "message": f.message, "hint": f.hint, "details": dict(f.details)}


def _message_cell(row: dict[str, Any]) -> str:
    return row["message"] + (f"\nfix: {row['hint']}" if row.get("hint") else "")


FINDING_FIELDS = (
    Field("severity", "SEVERITY", color=SEVERITY_COLORS.get),
    Field("rule", "RULE", is_key=True),
    Field("object", "OBJECT", is_key=True, wrap=True),
    Field("message", "MESSAGE", show=_message_cell, wrap=True),
    Field("hint", "HINT", wide_only=True, compared=False),  # the table folds it in
)


def check_answer(topo: Topology, rules: Optional[Iterable[str]] = None,
                 ignore: Optional[Iterable[str]] = None, min_severity: str = "info",
                 unique_ips: bool = False) -> Answer:
    """Every finding of the selected rules at least as severe as ``min_severity``;
    exit code 1 when an error-severity finding remains."""
    from ..analysis.checks import SEVERITIES, run_checks

    result = run_checks(topo, rules, ignore, min_severity, unique_ips)
    rows = [finding_row(f) for f in result.findings]
    counts = result.counts()
    summary = [f"{len(rows)} finding(s): " + ", ".join(f"{counts[s]} {s}" for s in SEVERITIES),
               *topo.rules.footer()]
    notes = []
    skipped = []
    for names, option in ((result.skipped_rules, "--sb"), (result.skipped_k8s, "--k8s")):
        if names:
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3
                                            else "")
            skipped.append(f"{len(names)} rule(s) need {option} and were skipped ({shown})")
    if skipped:
        notes.append("; ".join(skipped) + "; check --list-rules names them")
    meta = {"skipped_rules": list(result.skipped_rules),
            "skipped_rules_k8s": list(result.skipped_k8s), "rules_run": list(result.rules_run),
            "summary": counts, **rules_meta(topo)}
    return Answer("check", "findings", FINDING_FIELDS, rows, meta, summary, notes,
                  exit_code=1 if result.has_errors else 0, empty_message="no findings")


def rule_row(r: Rule) -> dict[str, Any]:
    return {"rule": r.slug, "severity": r.severity, "needs": r.needs,
            "description": r.description}


def rules_answer() -> Answer:
    """``check --list-rules``."""
    from ..analysis.checks import RULES

    fields = (Field("rule", "RULE", is_key=True),
              Field("severity", "SEVERITY", color=SEVERITY_COLORS.get),
              Field("needs", "NEEDS"),
              Field("description", "DESCRIPTION", Kind.TEXT, wrap=True))
    return Answer("rules", "rules", fields, [rule_row(r) for r in RULES])
