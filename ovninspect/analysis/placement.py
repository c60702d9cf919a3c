"""Where OVN handles each NAT: distributed, centralized or inactive (semantics §7 rules 1-16,
23-25), with the deciding fact as a sentence.

The verdict mirrors ovn-northd (checked against its logical flows in tests/test_oracle_*):
distributed NATs are gated on ``is_chassis_resident(<logical_port>)``, centralized ones on
``is_chassis_resident("cr-<dgp>")`` (or pinned to a gateway router's chassis), inactive ones
get no NAT flows at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

from ..ovn_parse import (
    Address,
    eth_addr_from_string,
    extract_ip_addresses,
    find_member_address,
    ip_parse_masked,
    ipv6_parse_masked,
    plain_address,
    plain_cidr,
    plain_mac,
)
from ..rules import OvnRules
from ..topology import Nat, Router, RouterPort, Topology, first_value, predicted_active
from ..vocab import Cause, ChassisSource, Flag, Mode
from .datapath import PREFIX_EXTERNAL_IP, DatapathEffect, datapath_effect

DISTRIBUTED, CENTRALIZED, INACTIVE = Mode.DISTRIBUTED, Mode.CENTRALIZED, Mode.INACTIVE
MODES = tuple(Mode)


@dataclass(slots=True)
class NatVerdict:
    """The placement of one NAT row and why."""

    nat: Nat
    mode: str
    reason: str
    rules: tuple[int, ...]
    gateway_port: Optional[RouterPort] = None
    chassis: Optional[str] = None
    chassis_source: Optional[str] = None   # sb | nb-status | predicted | requested-chassis |
    #                                        gateway-router
    chassis_predicted: Optional[str] = None   # centralized: the prediction, when the claim differs
    cause: Optional[str] = None            # inactive: router-disabled | not-applied | invalid
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    datapath: Optional[DatapathEffect] = None   # flows that do not do what the row says

    @property
    def router(self) -> str:
        return self.nat.router

def _rule13(topo: Topology, router: Router) -> dict[str, str]:
    """DGPs whose peer switch gets its own chassisredirect port (rule 13)."""
    mode = topo.rules.peer_cr_port
    if mode is None or len(router.dgps) != 1:
        return {}
    dgp = router.dgps[0]
    if mode == "centralize_routing" and dgp.options.get(
            "centralize_routing", "").lower() != "true":
        return {}
    peer = topo.peer_switch_port(dgp)
    if peer is None or peer.switch_uuid is None or topo.localnets(peer.switch_uuid):
        return {}
    why = (f"DGP {dgp.name}'s peer switch {peer.switch} has no localnet port, so OVN "
           f"{'>= 25.03' if mode == 'auto' else '24.03.6-24.09 with centralize_routing'} "
           "centralizes all its routing and NAT on the gateway")
    return {dgp.uuid: why}


class _RouterFacts:
    """What holds for every NAT of one router, worked out once (a router may have
    thousands of NATs): router-wide verdicts, rule 13, DGP subnets, pinned ports."""

    __slots__ = ("router", "is_gr", "inactive", "centralize_all", "dgp_nets", "pinned")

    def __init__(self, topo: Topology, router: Router) -> None:
        self.router = router
        self.is_gr = router.is_gateway_router
        self.inactive = _router_inactive(topo, router)
        self.centralize_all = _rule13(topo, router)
        # each DGP with its networks as northd reads them, for rules 10-11
        self.dgp_nets = [(dgp, net_bounds(dgp.northd_networks or ())) for dgp in router.dgps]
        # internal ports with reside-on-redirect-chassis (§1.7)
        self.pinned = [p for p in router.ports if not p.is_dgp and p.options.get(
            "reside-on-redirect-chassis", "").lower() == "true"]


def _router_inactive(topo: Topology, router: Router
                     ) -> Optional[tuple[str, str, tuple[int, ...]]]:
    """(cause, reason, rules) when no NAT of the router is applied (rules 4-5)."""
    if router.disabled:
        return (Cause.ROUTER_DISABLED, f"router {router.name} has enabled=false: it drops all "
                "traffic, NAT included", (4,))
    if not router.is_gateway_router and not router.dgps:
        extra = "; ".join(f"{p.name}: {p.not_dgp_reason}" for p in router.ports
                          if p.not_dgp_reason)
        return (Cause.NOT_APPLIED, f"router {router.name} is neither a gateway router nor has a "
                "distributed gateway port: northd builds no NAT flows"
                + (f" ({extra})" if extra else ""), (4,))
    if len(router.dgps) > 1 and topo.rules.multi_dgp_drops_nat:
        return (Cause.NOT_APPLIED, f"router {router.name} has {len(router.dgps)} DGPs: OVN "
                f"{topo.rules.series} applies no NAT on such routers", (5,))
    return None


def _inactive(nat: Nat, cause: str, reason: str, rules: tuple[int, ...],
              flags: Optional[list[str]] = None) -> NatVerdict:
    return NatVerdict(nat, INACTIVE, reason, rules, cause=cause, flags=flags or [])


def _external_address(rules: OvnRules, text: str) -> tuple[Optional[Address], str]:
    """Rule 6: the one address northd reads from ``external_ip``, or why there is none."""
    if rules.external_ip_parser == "extract":      # >= 25.03: extract_ip_addresses
        found = extract_ip_addresses(text)
        if len(found) == 1:
            return found[0], ""
        return None, ("holds no IP address" if not found else
                      f"holds {len(found)} addresses ({', '.join(a.text for a in found)})")
    for parse, host in ((ip_parse_masked, 32), (ipv6_parse_masked, 128)):
        address = parse(text)                        # <= 24.09: ip_parse_masked
        if address is not None and address.plen == host:
            return address, ""
    return None, "is not one IPv4 or IPv6 host address (a /32 or /128 suffix is allowed)"


def _logical_problem(nat: Nat, ext: Address) -> Optional[str]:
    """Rule 8: why northd refuses ``logical_ip`` for a NAT whose external address is
    ``ext``, or None."""
    parse = ipv6_parse_masked if ext.version == 6 else ip_parse_masked
    logical = parse(nat.logical_ip)
    family = f"IPv{ext.version}"
    if logical is None:
        what = "address or network" if nat.type == "snat" else "address"
        return f"logical_ip {nat.logical_ip!r} is not an {family} {what} (external_ip is {family})"
    if nat.type != "snat" and not logical.is_host:
        return (f"logical_ip {nat.logical_ip} is a network; a {nat.type} needs a single "
                "address")
    return None


def _mac_checked(rules: OvnRules, router: Router, nat: Nat) -> bool:
    """Rule 9: does northd validate this NAT's ``external_mac``?"""
    return rules.mac_always_validated or (
        nat.type == "dnat_and_snat" and nat.logical_port is not None and bool(router.dgps))


def _plain_row(nat: Nat) -> Optional[Address]:
    """The external address when the row is written plainly, the way CMSs write it:
    every parser of every release and ovn-controller's lexer read it alike, so only rules
    7 and 10-11 can reject it and its flows do what it says (the fast path of a large
    NB).  None: take the careful path."""
    ext = nat.ext
    if ext is None or "/" in nat.external_ip:
        return None
    mac = nat.external_mac
    if mac is not None and not plain_mac(mac):
        return None
    logical = nat.logical_ip
    if nat.type == "snat" and "/" in logical:
        if not plain_cidr(logical, ext[0]):
            return None
    elif plain_address(logical) != ext[0]:
        return None
    return Address(ext[0], ext[1], 32 if ext[0] == 4 else 128)


def _validity(topo: Topology, facts: _RouterFacts, nat: Nat
              ) -> tuple[Optional[NatVerdict], Optional[Address], Optional[RouterPort], list[str],
                         bool]:
    """Rules 6-11 in northd's order for the release (the first failure is the one northd
    logs): an invalid verdict, or the external address and the NAT's DGP (None on a
    gateway router) with flags from the DGP choice, and whether the row is plain."""
    rules, router = topo.rules, facts.router
    plain = _plain_row(nat)
    if plain is not None:     # only rule 7 (before the DGP choice on every release) and 10-11
        if nat.allowed_ext_ips and nat.exempted_ext_ips and rules.both_ext_ips_invalid:
            return _inactive(nat, Cause.INVALID, "both allowed_ext_ips and exempted_ext_ips "
                             "are set: northd drops this NAT", (7,)), None, None, [], True
        choice = _choose_dgp(topo, facts, nat, plain)
        if choice.problem:
            return _inactive(nat, Cause.INVALID, f"{choice.problem}: northd drops this NAT",
                             (choice.rule,)), None, None, [], True
        return None, plain, choice.port, choice.flags, True
    ext, why = _external_address(rules, nat.external_ip)
    choice: Optional[DgpChoice] = None

    def check(rule: int) -> Optional[tuple[str, int]]:
        nonlocal choice
        if rule == 6 and ext is None:
            return f"external_ip {nat.external_ip!r} {why}", 6
        if (rule == 9 and nat.external_mac is not None and _mac_checked(rules, router, nat)
                and not eth_addr_from_string(nat.external_mac)):
            return f"external_mac {nat.external_mac!r} is not a MAC", 9
        if (rule == 7 and nat.allowed_ext_ips and nat.exempted_ext_ips
                and rules.both_ext_ips_invalid):
            return "both allowed_ext_ips and exempted_ext_ips are set", 7
        if rule == 8:
            assert ext is not None
            problem = _logical_problem(nat, ext)
            return (problem, 8) if problem else None
        if rule == 10:
            choice = _choose_dgp(topo, facts, nat, ext)
            return (choice.problem, choice.rule) if choice.problem else None
        return None

    # en-lr-nat.c lr_nat_record_init (>= 25.03); northd.c lrouter_check_nat_entry (older)
    order = (6, 9, 7, 8, 10) if rules.external_ip_parser == "extract" else (7, 6, 10, 8, 9)
    for rule in order:
        failed = check(rule)
        if failed is not None:
            return _inactive(nat, Cause.INVALID, f"{failed[0]}: northd drops this NAT",
                             (failed[1],)), None, None, [], False
    assert choice is not None
    return None, ext, choice.port, choice.flags, False


@dataclass(slots=True)
class DgpChoice:
    """The DGP a NAT uses (rules 10-11), or why it has none."""

    port: Optional[RouterPort] = None
    problem: Optional[str] = None
    rule: int = 10
    flags: list[str] = field(default_factory=list)


Bounds = list[tuple[int, int, int]]   # (IP version, first, last) of each network


def net_bounds(nets: Iterable[Address]) -> Bounds:
    """Networks as integer ranges, for fast membership tests."""
    out = []
    for net in nets:
        bits = 32 if net.version == 4 else 128
        host = (1 << (bits - net.plen)) - 1
        first = net.value & ~host
        out.append((net.version, first, first | host))
    return out


def _in_networks(address: Optional[tuple[int, int]], bounds: Bounds) -> bool:
    """``find_lport_address``: the address inside one of the port's networks."""
    if address is None:
        return False
    version, value = address
    for v, first, last in bounds:  # noqa: SIM110  (a plain loop: the hot path of a big NB)
        if v == version and first <= value <= last:
            return True
    return False


def _choose_dgp(topo: Topology, facts: _RouterFacts, nat: Nat, ext: Optional[Address]
                ) -> DgpChoice:
    """Rules 10-11: the NAT's DGP (None on a gateway router), or why there is none."""
    router = facts.router
    if nat.gateway_port_uuid:
        if facts.is_gr:
            return DgpChoice(problem=f"gateway_port is set but {router.name} is a gateway "
                             "router, which has no DGPs")
        port = topo.router_ports.get(nat.gateway_port_uuid)
        if port is None or port.router_uuid != router.uuid:
            owner = f" of router {port.router}" if port is not None else ""
            name = port.name if port is not None else nat.gateway_port_uuid
            return DgpChoice(problem=f"gateway_port {name}{owner} is not a port of router "
                             f"{router.name}")
        if not port.is_dgp:
            return DgpChoice(problem=f"gateway_port {port.name} is not a distributed gateway "
                             "port")
        return DgpChoice(port)
    if facts.is_gr:
        return DgpChoice()
    if len(facts.dgp_nets) == 1:
        dgp, nets = facts.dgp_nets[0]
        inside = ext is not None and _in_networks((ext.version, ext.value), nets)
        return DgpChoice(dgp, flags=[] if inside else [Flag.OFF_LINK])
    # several DGPs: northd matches the raw text, parsed strictly (find_lport_address)
    member = find_member_address(nat.external_ip)
    matching = [dgp for dgp, nets in facts.dgp_nets if _in_networks(member, nets)]
    if not matching:
        names = ", ".join(d.name for d in router.dgps)
        if member is None:
            return DgpChoice(problem=f"router has {len(router.dgps)} DGPs ({names}), "
                             "gateway_port is not set, and northd cannot match "
                             f"{nat.external_ip!r} against their networks (only a bare "
                             "address matches)", rule=11)
        return DgpChoice(problem=f"router has {len(router.dgps)} DGPs ({names}), "
                         f"{nat.external_ip} is in none of their subnets and gateway_port is "
                         "not set", rule=11)
    flags = [Flag.AMBIGUOUS_GATEWAY_PORT] if len(matching) > 1 else []
    return DgpChoice(matching[0], flags=flags)


def _where_centralized(topo: Topology, dgp: RouterPort, cache: dict
                       ) -> tuple[Optional[str], Optional[str], Optional[str]]:
    """(chassis, source, predicted) of a centralized NAT on ``dgp``: the claim when SB or
    NB status has one (rule 24), else the prediction (rule 18); ``predicted`` is set only
    when it differs from the claim (ovn-changes §1.1)."""
    found = cache.get(dgp.uuid)
    if found is None:
        observed, source = topo.observed_active(dgp)
        registered = set(topo.chassis) if topo.has_sb else None
        member = predicted_active(dgp, frozenset(), registered)
        predicted = member.chassis if member else None
        if observed:
            found = (observed, source, predicted if predicted != observed else None)
        else:
            found = (predicted, ChassisSource.PREDICTED if predicted else None, None)
        cache[dgp.uuid] = found
    return found


def _where_distributed(topo: Topology, nat: Nat, verdict: NatVerdict) -> None:
    port_name = nat.logical_port or ""
    if topo.has_sb:
        binding = topo.binding(port_name)
        if binding is not None and binding.chassis:
            verdict.chassis, verdict.chassis_source = binding.chassis, ChassisSource.SB
        elif binding is None:
            verdict.notes.append(f"no SB port binding for {port_name!r}")
        else:
            verdict.notes.append(f"{port_name} is not bound to any chassis in SB")
        return
    requested = first_value(topo.lsp_option(port_name, "requested-chassis"))
    if requested:
        verdict.chassis, verdict.chassis_source = requested, ChassisSource.REQUESTED
        verdict.notes.append(_REQUESTED_NOTE)


_REQUESTED_NOTE = "chassis inferred from the port's options:requested-chassis (no SB given)"


def classify(topo: Topology, facts: _RouterFacts, nat: Nat, where: dict) -> NatVerdict:
    """The placement of one NAT of ``facts.router`` (rules 1-16, 23-25)."""
    router = facts.router
    if facts.inactive is not None:
        return _inactive(nat, *facts.inactive)
    invalid, ext, dgp, flags, plain = _validity(topo, facts, nat)
    if invalid is not None:
        return invalid
    assert ext is not None

    if facts.is_gr:
        chassis = router.gr_chassis or None
        verdict = NatVerdict(nat, CENTRALIZED, f"gateway router: handled on its chassis "
                             f"{chassis or '(empty options:chassis)'}, with no failover", (2,),
                             chassis=chassis, chassis_source=ChassisSource.GATEWAY_ROUTER)
        if not plain:
            _apply_datapath(topo, router, ext, verdict)
        return verdict

    assert dgp is not None
    if nat.type == "dnat_and_snat":
        verdict = _classify_fip(topo, nat, dgp, facts)
    else:
        verdict = NatVerdict(nat, CENTRALIZED, f"{nat.type} is never distributed: handled on "
                             f"the active gateway of DGP {dgp.name}", (14,), gateway_port=dgp)
        if (nat.logical_port is not None and nat.external_mac is not None
                and eth_addr_from_string(nat.external_mac)):
            _blackhole(nat, verdict)
    if flags:
        verdict.flags[:0] = flags
        if Flag.AMBIGUOUS_GATEWAY_PORT in flags:
            verdict.notes.append(f"{nat.external_ip} is in the subnets of several DGPs; "
                                 "northd's choice depends on its internal order (set "
                                 "gateway_port)")
    if not plain:
        _apply_datapath(topo, router, ext, verdict)
    if verdict.mode == DISTRIBUTED:
        _where_distributed(topo, nat, verdict)
    else:
        (verdict.chassis, verdict.chassis_source,
         verdict.chassis_predicted) = _where_centralized(topo, dgp, where)
    return verdict


BLACKHOLE_FLAGS = {"dnat": Flag.DNAT_BLACKHOLE, "snat": Flag.SNAT_BLACKHOLE}


def _blackhole(nat: Nat, verdict: NatVerdict) -> None:
    """Rule 16 for dnat and snat alike: northd programs the ARP reply for external_ip with
    external_mac on the logical_port's chassis (it checks only MAC and port, not the type),
    but the translation of a dnat or snat runs only on the gateway, and the external switch
    has no L2 entry for that MAC (dnat_and_snat only).  Observed with northd 23.03.1, 25.03.0
    and 26.03.1 (tests/evidence/nb-rules-trace.txt)."""
    verdict.flags.append(BLACKHOLE_FLAGS[nat.type])
    verdict.rules = (14, 16)
    lost = ("inbound traffic" if nat.type == "dnat"
            else "return traffic of its connections (un-SNAT)")
    verdict.reason += (f"; but with logical_port and external_mac set, ARP for "
                       f"{nat.external_ip} is answered from {nat.logical_port}'s chassis "
                       f"while {nat.type.upper()} runs only on the gateway: {lost} is "
                       "black-holed")


def _apply_datapath(topo: Topology, router: Router, ext: Address, verdict: NatVerdict) -> None:
    """Flows northd builds that do not do what the row says (rule 6; ovn-changes §3)."""
    nat = verdict.nat
    effect = datapath_effect(nat, ext, verdict.mode == DISTRIBUTED)
    if effect is None:
        return
    verdict.datapath = effect
    verdict.flags.extend(effect.flags)
    verdict.reason += "; but " + effect.reason
    verdict.rules = tuple(dict.fromkeys((*verdict.rules, 6)))
    if PREFIX_EXTERNAL_IP in effect.flags:
        trapped = [r.nexthop for r in topo.static_routes(router)
                   if _in_networks(find_member_address(r.nexthop), net_bounds([ext]))]
        if trapped:
            verdict.reason += (f"; the router's next hop {trapped[0]} is inside "
                               f"{ext.network_text}, so it resolves to the router itself and "
                               "egress through it is dropped")


def _classify_fip(topo: Topology, nat: Nat, dgp: RouterPort, facts: _RouterFacts) -> NatVerdict:
    """dnat_and_snat on a DGP router: rules 12-13."""
    if nat.logical_port is None or nat.external_mac is None:
        missing = [c for c, val in (("logical_port", nat.logical_port),
                                    ("external_mac", nat.external_mac)) if val is None]
        what = " and ".join(missing)
        return NatVerdict(nat, CENTRALIZED, f"{what} {'is' if len(missing) == 1 else 'are'} not "
                          f"set, so the FIP is centralized on DGP {dgp.name}", (12,),
                          gateway_port=dgp)
    exception = facts.centralize_all.get(dgp.uuid)
    if exception:
        return NatVerdict(nat, CENTRALIZED, exception, (12, 13), gateway_port=dgp)
    verdict = NatVerdict(nat, DISTRIBUTED, f"logical_port {nat.logical_port} and external_mac "
                         f"{nat.external_mac} set on a router with DGP {dgp.name}: translated on "
                         "the port's chassis", (12,), gateway_port=dgp)
    if nat.logical_port == "":
        verdict.flags.append(Flag.EMPTY_LOGICAL_PORT)
        verdict.reason = (f"logical_port is an empty string and external_mac is set on a router "
                          f"with DGP {dgp.name}: distributed, but resident on no chassis")
    elif not topo.lsp_exists(nat.logical_port):
        verdict.flags.append(Flag.LOGICAL_PORT_MISSING)
        verdict.notes.append(f"no logical switch port named {nat.logical_port}: nothing answers "
                             "for this FIP")
    elif facts.pinned:
        pinned = _reside_on_redirect(topo, facts, nat)
        if pinned is not None:
            verdict.flags.append(Flag.RESIDE_ON_REDIRECT_CHASSIS)
            verdict.notes.append(
                f"router port {pinned} has options:reside-on-redirect-chassis=true: routing for "
                f"{nat.logical_port}'s switch is pinned to the gateway chassis, so FIP "
                f"{nat.external_ip} may not work in a distributed way (semantics §1.7; review)")
    return verdict


def _reside_on_redirect(topo: Topology, facts: _RouterFacts, nat: Nat) -> Optional[str]:
    """The internal router port whose ``reside-on-redirect-chassis`` pins the FIP's switch
    to the gateway (honoured with exactly one DGP and a localnet on that switch, §1.7)."""
    if len(facts.router.dgps) != 1:
        return None
    lsp = topo.lsp(nat.logical_port)
    if lsp is None or not topo.localnets(lsp.switch_uuid):
        return None
    for port in facts.pinned:
        peer = topo.peer_switch_port(port)
        if peer is not None and peer.switch_uuid == lsp.switch_uuid:
            return port.name
    return None


def classify_nats(topo: Topology, router: Router, nats: Iterable[Nat]) -> list[NatVerdict]:
    """Verdicts for some NATs of one router (a history reader's per-transaction update)."""
    facts, where = _RouterFacts(topo, router), {}
    return [classify(topo, facts, nat, where) for nat in nats]


def classify_all(topo: Topology, routers: Optional[list[Router]] = None) -> list[NatVerdict]:
    """Verdicts for every NAT (of ``routers`` when given), in router then NAT order.  The
    verdicts of every router are worked out once per topology (``topo.derived``) and shared
    by the answers that ask (``diff`` asks for nat, check and failover on each side);
    callers must not change them."""
    every = topo.derived.get("verdicts")
    if every is None:
        if routers is not None:
            return _classify(topo, routers)
        every = topo.derived["verdicts"] = _classify(topo, topo.iter_routers())
    if routers is None:
        return list(every)
    by_router: dict[str, list[NatVerdict]] = {}
    for verdict in every:
        by_router.setdefault(verdict.nat.router_uuid, []).append(verdict)
    return [v for router in routers for v in by_router.get(router.uuid, ())]


def _classify(topo: Topology, routers: Iterable[Router]) -> list[NatVerdict]:
    where: dict = {}  # DGP uuid -> where its centralized NATs are handled
    out = []
    for router in routers:
        if router.nats:
            facts = _RouterFacts(topo, router)
            out.extend([classify(topo, facts, nat, where) for nat in router.nats])
    return out
