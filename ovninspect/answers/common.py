"""What every topology question adds: hostnames for chassis fields, the OVN rules in force."""

from __future__ import annotations

from typing import Any, Optional

from ..errors import UsageError
from ..topology import Router, Topology


def hostnames(topo: Topology) -> Optional[dict[str, str]]:
    """Chassis name -> hostname from SB; None without SB (no ``*_hostname`` keys then)."""
    if not topo.has_sb:
        return None
    return {name: ch.hostname for name, ch in topo.chassis.items() if ch.hostname}


def rules_meta(topo: Topology) -> dict[str, Any]:
    """The ``ovn_version`` and ``ovn_rules`` keys of every answer's JSON."""
    return {"ovn_version": topo.version.label(), "ovn_rules": topo.rules.to_dict()}


def select_routers(topo: Topology, router: Optional[str]) -> Optional[list[Router]]:
    """The routers named by ``--router`` (None = all); UsageError when none matches."""
    if router is None:
        return None
    found = topo.find_routers(router)
    if not found:
        raise UsageError(f"--router {router}: no logical router with that name or UUID")
    return found
