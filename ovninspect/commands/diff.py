"""``ovninspect diff``: every question asked of two snapshots, and what differs."""

from __future__ import annotations

from typing import Optional

import typer

from ..errors import UsageError
from . import common

QUESTIONS = ("nat", "gateways", "failover-sim", "check")


@common.handle_errors
def diff(
    db: Optional[str] = common.DB,
    sb: Optional[str] = common.SB,
    against: Optional[str] = typer.Option(
        None, "--against", metavar="OLD",
        help="The older NB to compare with (same forms as --db).  Required."),
    against_sb: Optional[str] = common.AGAINST_SB,
    only: Optional[str] = typer.Option(
        None, "--only", metavar="Q[,Q]",
        help="Questions to compare: nat, gateways, failover-sim, check (default: all)."),
    fail_on_change: bool = typer.Option(False, "--fail-on-change",
                                        help="Exit 1 when anything changed (CI gates)."),
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
    """What changed between two snapshots, question by question.

    Asks nat, gateways, failover-sim (every gateway chassis down) and check of both
    snapshots and prints the rows that were added, removed or changed, joined on each
    question's key (nat: router, type, external_ip, logical_ip; gateways: router, port;
    failover-sim: router, type, external_ip; check: rule, object), with a summary such as
    "12 FIPs became centralized (were distributed)" or "DGP vpc1-external0 lost member
    node-46".  Differences the questions do not see (rows of unrelated tables) are not
    reported.  Each snapshot is judged with the rules of its own OVN release.

    Exit status: 0 ok; 1 with --fail-on-change when anything changed; 2 usage or
    unreadable input.

    Examples:

      ovninspect diff --db after.db --against before.db

      ovninspect diff --db nb.db --sb sb.db --against old-nb.db --against-sb old-sb.db

      ovninspect diff --db new.db --against old.db --only nat --fail-on-change --format json
    """
    from ..answers.check import check_answer
    from ..answers.diff import diff_answer
    from ..answers.failover import failover_answer
    from ..answers.gateways import gateways_answer
    from ..answers.nat import nat_answer

    common.check_format(fmt)
    if against is None:
        raise UsageError("diff needs --against OLD (the snapshot to compare with)")
    chosen = list(QUESTIONS) if only is None else [q.strip() for q in only.split(",")
                                                    if q.strip()]
    bad = [q for q in chosen if q not in QUESTIONS]
    if bad or not chosen:
        raise UsageError(f"--only takes a comma list of {', '.join(QUESTIONS)}, not {only!r}")
    askers = {"nat": nat_answer, "gateways": gateways_answer,
              "failover-sim": failover_answer, "check": check_answer}

    def answers(nb: str, sb_spec: Optional[str]) -> list:
        inputs = common.Inputs(nb, sb_spec, fmt, private_key, certificate, ca_cert, timeout,
                               allow_truncated, ovn_version, verify=verify)
        topo = common.load_topology(inputs)
        return [askers[q](topo) for q in chosen]

    new = answers(db or "", sb)
    old = answers(against, against_sb)
    answer = diff_answer(zip(old, new), against, db or "", fail_on_change)
    common.emit(answer, fmt, wide)
    if answer.exit_code:
        raise typer.Exit(answer.exit_code)
