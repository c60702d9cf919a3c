"""``ovninspect check``: misconfigurations as findings with stable rule slugs and severities."""

from __future__ import annotations

from typing import Any, List, Optional

import typer

from ..errors import UsageError


def check(
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
):
    """Find misconfigurations: NATs northd drops or ignores, black-holed FIPs,
    EIP clashes, gateway ports without failover, self-pointing routes, address
    collisions.

    Each finding has a stable rule slug, a severity (error, warning, info), the
    object to look for, what is wrong and a fix.  Exit code 1 when an
    error-severity finding remains after the filters.  Rules marked "sb" in
    --list-rules need --sb and are skipped without it.  With --against OLD only
    new, resolved and changed findings are shown.

    Examples:

      ovninspect check --db ovnnb_db.db

      ovninspect check --db nb.db --sb sb.db --min-severity warning --format json

      ovninspect check --db nb.db --rule nat-invalid,dnat-blackhole

      ovninspect check --list-rules
    """
    from ..analysis.checks import SEVERITIES, resolve_slugs
    from ..answers.check import check_answer, rules_answer

    if min_severity not in SEVERITIES:
        raise UsageError(f"--min-severity must be one of {', '.join(SEVERITIES)}, "
                         f"not {min_severity!r}")
    try:
        resolve_slugs(rule)
        resolve_slugs(ignore)
    except ValueError as exc:
        raise UsageError(f"--rule/--ignore: {exc}") from None
    if list_rules:
        return rules_answer()
    def asker(topo: Any) -> Any:
        return check_answer(topo, rule, ignore, min_severity, unique_ips)

    if not rule:  # every rule: the address rules scan every switch port
        asker.reads = ("Logical_Switch", "Logical_Switch_Port")  # type: ignore[attr-defined]
    return asker
