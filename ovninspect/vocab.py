"""The words verdicts are made of: string-valued enums, so JSON and CSV print the plain
values (``"distributed"``, ``"off-link"``) and comparisons with strings keep working."""

from __future__ import annotations

from enum import Enum


class Word(str, Enum):
    """A str whose ``str()`` and ``format()`` are its value on every Python version."""

    __str__ = str.__str__
    __format__ = str.__format__


class Mode(Word):
    """Where northd handles a NAT (semantics §7 rules 2-16)."""

    DISTRIBUTED = "distributed"
    CENTRALIZED = "centralized"
    INACTIVE = "inactive"


class Cause(Word):
    """Why a NAT is inactive."""

    ROUTER_DISABLED = "router-disabled"   # rule 4
    NOT_APPLIED = "not-applied"           # rules 4-5: the router processes no NAT
    INVALID = "invalid"                   # rules 6-11: northd drops the row


class ChassisSource(Word):
    """Where a NAT's or gateway's chassis comes from."""

    SB = "sb"                             # SB Port_Binding.chassis (rules 23-24)
    NB_STATUS = "nb-status"               # NB LRP status:hosting-chassis (rule 24)
    PREDICTED = "predicted"               # the election with nothing down (rule 18)
    REQUESTED = "requested-chassis"       # NB LSP options:requested-chassis (rule 23)
    GATEWAY_ROUTER = "gateway-router"     # Logical_Router options:chassis (rule 2)


class Flag(Word):
    """Something about a NAT that its mode does not say."""

    OFF_LINK = "off-link"
    AMBIGUOUS_GATEWAY_PORT = "ambiguous-gateway-port"
    DNAT_BLACKHOLE = "dnat-blackhole"
    SNAT_BLACKHOLE = "snat-blackhole"
    EMPTY_LOGICAL_PORT = "empty-logical-port"
    LOGICAL_PORT_MISSING = "logical-port-missing"
    RESIDE_ON_REDIRECT_CHASSIS = "reside-on-redirect-chassis"
    PREFIX_EXTERNAL_IP = "prefix-external-ip"
    FLOWS_REJECTED = "flows-rejected"


class Change(Word):
    """How an external IP fares in a failover scenario against every chassis up."""

    KEPT = "kept"
    MOVED = "moved"
    LOST = "lost"
    UNKNOWN = "unknown"
    UNREACHABLE = "unreachable"
