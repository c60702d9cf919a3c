"""``ovninspect gateways``: per DGP and gateway router, members, predicted and observed
active chassis."""

from __future__ import annotations

from typing import Optional

from . import common


def gateways(router: Optional[str] = common.ROUTER):
    """List every distributed gateway port and gateway router with its gateway chassis.

    For each: the member chassis by priority and where the list comes from
    (ha_chassis_group, which wins over gateway_chassis; gateway_chassis; or a gateway
    router's options:chassis), the predicted active chassis (highest priority, ties to the
    greatest name; unregistered chassis never win when --sb is given), the observed one
    (SB cr-<port> binding or NB status:hosting-chassis) and DIFFERS when they disagree.
    With --sb, --wide also shows the HA_Chassis_Group northd wrote into SB.

    Examples:

      ovninspect gateways --db ovnnb_db.db

      ovninspect gateways --db nb.db --sb sb.db --router vpc1 --format json

      ovninspect gateways --db today.db --against yesterday.db
    """
    from ..answers.common import select_routers
    from ..answers.gateways import gateways_answer

    return lambda topo: gateways_answer(topo, select_routers(topo, router))
