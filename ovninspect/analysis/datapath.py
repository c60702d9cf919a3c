"""What a NAT's flows do once ovn-controller reads them (semantics §7 rule 6; ovn-changes §3).

northd copies ``external_ip``, ``logical_ip`` and ``external_mac`` into its logical flows as
written.  ovn-controller's lexer is stricter than northd's parsers, so a spelling northd
accepts can make a flow fail to parse, and every chassis drops it; a prefix where an address
belongs makes a match cover the whole prefix.  Which flow holds which value (northd.c
build_lrouter_nat_flows and friends):

=================  ======================================  ===========================
stage              match                                   action
=================  ======================================  ===========================
lr_in_unsnat       ``ipN.dst == EXT``                      ``ct_snat``
lr_in_dnat         ``ipN.dst == EXT``                      ``ct_dnat(LOG)`` /
                                                           ``ipN.dst = LOG`` (stateless)
lr_out_undnat      ``ipN.src == LOG``                      ``ct_dnat``
lr_out_snat        ``ipN.src == LOG``                      ``ct_snat(EXT)`` /
                                                           ``ipN.src = EXT`` (stateless);
                                                           ``eth.src = MAC`` (distributed)
lr_in_ip_input     ARP/ND for the parsed external address  ``eth.src = MAC`` (distributed:
                                                           a MAC ovn-controller cannot
                                                           parse means no ARP reply)
=================  ======================================  ===========================

``ct_snat(X)``/``ct_dnat(X)`` take a plain address only (lib/actions.c parse_ct_nat); a
stateless load also takes a masked one.  The result is a flag plus a sentence that says
what is and is not translated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..ovn_parse import MASKED, Address, Constant, lex_constant
from ..topology import Nat
from ..vocab import Flag

PREFIX_EXTERNAL_IP = Flag.PREFIX_EXTERNAL_IP
FLOWS_REJECTED = Flag.FLOWS_REJECTED


@dataclass(frozen=True, slots=True)
class DatapathEffect:
    """Flows of one NAT that do something other than the row says."""

    flags: tuple[str, ...]
    reason: str
    inbound: bool      # traffic to the external IP is still DNATed (or un-SNATed)
    outbound: bool     # traffic from the logical side is still SNATed

    @property
    def nothing_translated(self) -> bool:
        return not self.inbound and not self.outbound

    def unreachable(self, nat_type: str) -> bool:
        """What failover-sim asks: a dnat/FIP is reached from outside only through its
        DNAT; an snat serves only outbound traffic."""
        return not self.outbound if nat_type == "snat" else not self.inbound


def _stateless(nat: Nat) -> bool:
    """``options:stateless`` matters for dnat_and_snat only (semantics §1.7)."""
    return nat.type == "dnat_and_snat" and nat.options.get("stateless", "").lower() == "true"


def logical_ip_is_prefix(nat: Nat) -> bool:
    """``logical_ip`` written with a prefix length (``10.15.0.5/32``)."""
    return lex_constant(nat.logical_ip).kind == MASKED


def datapath_effect(nat: Nat, ext: Address, distributed: bool) -> Optional[DatapathEffect]:
    """None when the NAT's flows do what the row says; otherwise what they do.

    ``ext`` is the address northd parsed from ``external_ip`` (rule 6)."""
    ext_c = lex_constant(nat.external_ip)
    log_c = lex_constant(nat.logical_ip)
    mac_ok = True
    if distributed and nat.external_mac is not None:
        mac_c = lex_constant(nat.external_mac)
        mac_ok = mac_c.kind != "bad" and mac_c.format == "mac"
    stateless = _stateless(nat)
    action_ok = (lambda c: c.in_load) if stateless else (lambda c: c.in_ct_nat)
    has_dnat = nat.type in ("dnat", "dnat_and_snat")
    has_snat = nat.type in ("snat", "dnat_and_snat")
    prefix = ext_c.kind == MASKED and not ext.is_host and ext_c.in_match
    # a distributed FIP's MAC is in its ARP reply: without one nothing reaches it
    inbound = has_dnat and ext_c.in_match and action_ok(log_c) and mac_ok
    outbound = has_snat and action_ok(ext_c) and log_c.in_match
    want_in, want_out = has_dnat, has_snat
    if inbound == want_in and outbound == want_out and not prefix:
        return None

    flags: list[str] = []
    parts: list[str] = []
    if prefix and inbound:
        flags.append(PREFIX_EXTERNAL_IP)
        parts.append(f"external_ip {nat.external_ip.strip()} is a prefix: its flows match "
                     f"every address of {ext.network_text}, so all of them are DNATed to "
                     f"{nat.logical_ip.strip()}")
    elif prefix:
        flags.append(PREFIX_EXTERNAL_IP)
    if (want_in and not inbound) or (want_out and not outbound):
        flags.append(FLOWS_REJECTED)
        parts.append(_rejected_text(nat, ext, ext_c, log_c, mac_ok, stateless,
                                    want_in and not inbound, want_out and not outbound,
                                    inbound, outbound))
    return DatapathEffect(tuple(flags), "; ".join(parts), inbound, outbound)


def _rejected_text(nat: Nat, ext: Address, ext_c: Constant, log_c: Constant, mac_ok: bool,
                   stateless: bool, in_lost: bool, out_lost: bool, inbound: bool,
                   outbound: bool) -> str:
    """The sentence for flows ovn-controller cannot parse."""
    if not mac_ok and ext_c.in_match and log_c.in_match and (
            ext_c.in_load if stateless else ext_c.in_ct_nat) and (
            log_c.in_load if stateless else log_c.in_ct_nat):
        return (f"northd builds flows with external_mac {nat.external_mac!r}, which "
                f"ovn-controller cannot parse: ARP for {ext.text} is not answered, so nothing "
                "reaches the FIP from outside (outbound SNAT works)")
    culprits = []
    if not mac_ok:
        culprits.append(f"external_mac {nat.external_mac!r}")
    if not ext_c.in_match or (out_lost and not (ext_c.in_load if stateless else ext_c.in_ct_nat)):
        culprits.append(f"external_ip {nat.external_ip!r}")
    if not log_c.in_match or (in_lost and not (log_c.in_load if stateless else log_c.in_ct_nat)):
        culprits.append(f"logical_ip {nat.logical_ip!r}")
    what = " and ".join(culprits) or "its values"
    head = f"northd builds flows with {what}, which ovn-controller cannot parse"
    if in_lost and out_lost:
        tail = f"nothing is translated; ARP for {ext.text} is still answered"
    elif in_lost:
        tail = (f"traffic to {nat.external_ip.strip()} is not DNATed to "
                f"{nat.logical_ip.strip()} (outbound SNAT works)")
    else:
        tail = (f"connections from {nat.logical_ip.strip()} are not SNATed to "
                f"{ext.text}" + (" (inbound DNAT works)" if inbound else ""))
    return f"{head}: {tail}"
