"""The gateway election, in one place (semantics §7 rules 17-19): which member of a
gateway set becomes active.

Members are ordered highest priority first, ties to the greater chassis name in byte
order (ovn-controller compares with strcmp); the active one is the first that is up and,
with SB data, registered.  Placement, ``gateways``, ``failover-sim`` and ``check`` all ask
here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import AbstractSet, Callable, Iterable, Optional


@dataclass(frozen=True, slots=True)
class GatewayMember:
    """One chassis that may host a gateway port, with its priority."""

    chassis: str
    priority: int
    row: Optional[str] = None   # Gateway_Chassis name, when from gateway_chassis


def order_members(members: Iterable[GatewayMember]) -> list[GatewayMember]:
    """Highest priority first; ties to the greater chassis name in byte order (rule 18)."""
    return sorted(members, key=lambda m: (m.priority, m.chassis.encode()), reverse=True)


def elect_member(members: Iterable[GatewayMember], down: AbstractSet[str] = frozenset(),
                 registered: Optional[AbstractSet[str]] = None) -> Optional[GatewayMember]:
    """The member that becomes active: the first live (and, with SB, registered) one in
    priority order, or None when none is (rules 18-19)."""
    for member in order_members(members):
        if member.chassis not in down and (registered is None or member.chassis in registered):
            return member
    return None


def lone_survivor_blocked(eligible: list[str], down: AbstractSet[str],
                          ref_chassis: Optional[AbstractSet[str]]) -> bool:
    """ovn-controller's ``ha_chassis_group_is_active``: in a group of two or more
    registered members, a member left alone takes over only with BFD to at least one
    ``ref_chassis`` (the chassis of ports bound on the router group's switches; SB keeps
    them).  None: not known (no SB), no rule applied."""
    if ref_chassis is None or len(eligible) < 2:
        return False
    live = [c for c in eligible if c not in down]
    return len(live) == 1 and not (set(ref_chassis) - set(down) - {live[0]})


def elect(members: Iterable[GatewayMember], down: AbstractSet[str] = frozenset(),
          registered: Optional[AbstractSet[str]] = None,
          show: Callable[[str], str] = str,
          ref_chassis: Optional[AbstractSet[str]] = None) -> tuple[Optional[str], str]:
    """The active chassis and why (rules 18-19); ``show`` names chassis in the reason
    (ties are explained with the names that are compared).  With ``ref_chassis`` (from
    SB), a lone survivor needs one of them alive (:func:`lone_survivor_blocked`)."""
    order = order_members(members)
    if not order:
        return None, "no members: nothing can host it"
    unregistered = [m.chassis for m in order if registered is not None
                    and m.chassis not in registered]
    eligible = [m for m in order if m.chassis not in unregistered]
    alive = [m for m in eligible if m.chassis not in down]
    skipped = ""
    if unregistered:
        skipped = f"; {', '.join(map(show, unregistered))} not registered in SB, never active"
    if not alive:
        if len(order) == 1:
            why = ("is not registered in SB" if unregistered else "is down")
            return None, (f"its only member {show(order[0].chassis)} {why}: nothing fails "
                          "over (rule 19)")
        dead = [show(m.chassis) for m in eligible]
        if not dead:
            return None, f"no member is registered in SB (rule 18){skipped}"
        return None, f"every member is down ({', '.join(dead)}) (rule 18){skipped}"
    best = alive[0]
    if lone_survivor_blocked([m.chassis for m in eligible], down, ref_chassis):
        refs = sorted(ref_chassis or ())
        gone = [show(c) for c in refs if c != best.chassis]
        parts = [", ".join(gone) + " down"] if gone else []
        if best.chassis in refs:   # its own ports do not count: BFD runs to other chassis
            parts.append(f"{show(best.chassis)} itself does not count")
        why = (f"the other members are down and {show(best.chassis)} has no BFD session to "
               "a live ref_chassis ("
               + ("; ".join(parts) if refs else "the SB group has none")
               + "): it does not take over (ovn-controller ha_chassis_group_is_active)")
        return None, why + skipped
    ties = [m.chassis for m in alive if m.priority == best.priority]
    if len(order) == 1:
        why = f"single member {show(best.chassis)}: no failover (rule 19)"
    elif len(ties) > 1:
        why = (f"priority {best.priority} is shared by {', '.join(ties)}: the greatest name "
               f"{best.chassis} wins (rule 18)")
    else:
        why = f"highest live priority {best.priority} (rule 18)"
    dead = [show(m.chassis) for m in eligible if m.chassis in down]
    if dead:
        why += f"; down: {', '.join(dead)}"
    return best.chassis, why + skipped


class Ballot:
    """One gateway set's election prepared once, for many what-if scenarios: ``winner``
    answers with a plain scan of the eligible members (the fast path of a sweep)."""

    __slots__ = ("members", "registered", "eligible", "ref_chassis")

    def __init__(self, members: Iterable[GatewayMember],
                 registered: Optional[AbstractSet[str]] = None,
                 ref_chassis: Optional[AbstractSet[str]] = None) -> None:
        self.members = order_members(members)
        self.registered = registered
        self.ref_chassis = ref_chassis
        self.eligible = [m.chassis for m in self.members
                         if registered is None or m.chassis in registered]

    def winner(self, down: AbstractSet[str] = frozenset()) -> Optional[str]:
        """The same answer as :func:`elect`, without re-sorting."""
        for chassis in self.eligible:
            if chassis not in down:
                if lone_survivor_blocked(self.eligible, down, self.ref_chassis):
                    return None
                return chassis
        return None

    def explain(self, down: AbstractSet[str] = frozenset(),
                show: Callable[[str], str] = str) -> tuple[Optional[str], str]:
        return elect(self.members, down, self.registered, show, self.ref_chassis)
