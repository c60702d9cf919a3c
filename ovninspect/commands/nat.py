"""``ovninspect nat``: every NAT with its mode, gateway port, chassis and reason."""

from __future__ import annotations

from typing import Optional

from ..errors import UsageError
from . import common
from .options import Option

# live: the switch tables are read when an analysis first needs them, except the switch
# ports the NATs name (Topology._lsp_row), read up front by name: in a 43 MB NB that is
# 26k of 104k ports, and the 2k switches only when a port's switch is asked for
LIVE_LAZY = {"Logical_Switch": None,
             "Logical_Switch_Port": ("name", "NAT", "logical_port")}
QUESTION = {"lazy": LIVE_LAZY}


def nat(
    router: Optional[str] = common.ROUTER,
    mode: Optional[str] = Option(None, "--mode", "-m",
                                 metavar="distributed|centralized|inactive",
                                 help="Only NATs with this mode."),
):
    """Classify every NAT as ovn-northd does: distributed, centralized or inactive.

    For each NAT: the mode, the distributed gateway port it uses, the chassis handling it at
    snapshot time (bound chassis from --sb, observed or [predicted] active gateway), and the
    reason.  --wide adds the owner (Kube-OVN, Neutron, ovn-kubernetes), the CMS intent and
    flags such as dnat-blackhole, off-link or flows-rejected.  --against OLD prints only
    the NATs that differ from an older snapshot (key: router, type, external_ip,
    logical_ip).

    Examples:

      ovninspect nat --db ovnnb_db.db --router vpc1

      ovninspect nat --db nb.db --sb sb.db --mode distributed --wide

      ovninspect nat --db after-upgrade.db --against before-upgrade.db

      OVN_NB_DB=unix:/var/run/ovn/ovnnb_db.sock ovninspect nat --format json
    """
    from ..analysis.placement import MODES
    from ..answers.common import select_routers
    from ..answers.nat import nat_answer

    if mode is not None and mode not in MODES:
        raise UsageError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    return lambda topo: nat_answer(topo, select_routers(topo, router), mode)
