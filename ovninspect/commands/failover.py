"""``ovninspect failover-sim``: which external IPs survive when chassis go down."""

from __future__ import annotations

from typing import Optional

import typer

from ..errors import UsageError
from . import common


def failover_sim(
    size: Optional[int] = typer.Argument(
        None, metavar="N", show_default=False,
        help="With --sweep: how many chassis fail together (default 1; 2 = every pair)."),
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
):
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
    from ..answers.common import select_routers
    from ..answers.failover import failover_answer, parse_only, sweep_answer

    chosen_only = parse_only(only)
    if size is not None and not do_sweep:
        raise UsageError(f"unexpected argument {size}: N is only for --sweep N")
    if do_sweep and down is not None:
        raise UsageError("--sweep and --down cannot be combined")
    sweep_size = 1 if size is None else size
    if sweep_size < 1:
        raise UsageError(f"--sweep {sweep_size}: N must be 1 or more")

    def ask(topo):
        routers = select_routers(topo, router)
        if do_sweep:
            answer = sweep_answer(topo, routers, sweep_size)
        else:
            answer = failover_answer(topo, routers, down.split(",") if down is not None
                                     else None, chosen_only)
        if fail_on_loss and answer.meta["lost"]:
            answer.exit_code = 1
        return answer
    return ask
