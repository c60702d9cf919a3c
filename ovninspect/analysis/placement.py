"""Where OVN handles each NAT: distributed, centralized or inactive (semantics §7 rules 1-16,
23-25), with the deciding fact as a sentence.

The verdict mirrors ovn-northd (checked against its logical flows in tests/test_oracle_*):
distributed NATs are gated on ``is_chassis_resident(<logical_port>)``, centralized ones on
``is_chassis_resident("cr-<dgp>")`` (or pinned to a gateway router's chassis), inactive ones
get no NAT flows at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ..addr import bounds, parse_ip, valid_mac
from ..topology import Nat, Router, RouterPort, Topology, first_value, predicted_active

DISTRIBUTED, CENTRALIZED, INACTIVE = "distributed", "centralized", "inactive"
MODES = (DISTRIBUTED, CENTRALIZED, INACTIVE)


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
    cause: Optional[str] = None            # inactive: router-disabled | not-applied | invalid
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def router(self) -> str:
        return self.nat.router

    def to_dict(self, topo: Optional[Topology] = None) -> dict[str, Any]:
        """The JSON contract of ``ovninspect nat`` (design.md) plus extra keys."""
        nat = self.nat
        port = self.gateway_port
        out: dict[str, Any] = {
            "router": nat.router, "uuid": nat.uuid, "type": nat.type,
            "external_ip": nat.external_ip, "logical_ip": nat.logical_ip,
            "logical_port": nat.logical_port, "external_mac": nat.external_mac,
            "mode": self.mode, "gateway_port": port.name if port is not None else None,
            "chassis": self.chassis, "reason": self.reason,
            "router_uuid": nat.router_uuid, "chassis_source": self.chassis_source,
            "cause": self.cause, "rules": self.rules, "flags": self.flags,
        }
        if topo is not None and topo.sb is not None:
            out["chassis_hostname"] = topo.hostname(self.chassis)
        if self.notes:
            out["notes"] = self.notes
        return out


def _rule13(topo: Topology, router: Router) -> dict[str, str]:
    """DGPs whose peer switch gets its own chassisredirect port (rule 13)."""
    v = topo.version
    if len(router.dgps) != 1:
        return {}
    dgp = router.dgps[0]
    if v.at_least(25, 3):
        needs_option = False
    elif v.at_least(24, 3, 6) and not v.at_least(24, 10):
        needs_option = True
    else:
        return {}
    if needs_option and dgp.options.get("centralize_routing", "").lower() != "true":
        return {}
    peer = topo.peer_switch_port(dgp)
    if peer is None or peer.switch_uuid is None or topo.localnets(peer.switch_uuid):
        return {}
    why = (f"DGP {dgp.name}'s peer switch {peer.switch} has no localnet port, so OVN "
           f"{'>= 25.03' if not needs_option else '24.03.6-24.09 with centralize_routing'} "
           "centralizes all its routing and NAT on the gateway")
    return {dgp.uuid: why}


class _RouterFacts:
    """What holds for every NAT of one router, worked out once (a router may have
    thousands of NATs): router-wide verdicts, rule 13, DGP subnets, pinned ports."""

    __slots__ = ("router", "is_gr", "inactive", "centralize_all", "dgp_bounds", "pinned")

    def __init__(self, topo: Topology, router: Router) -> None:
        self.router = router
        self.is_gr = router.is_gateway_router
        self.inactive = _router_inactive(topo, router)
        self.centralize_all = _rule13(topo, router)
        # each DGP with the (version, first, last) of its networks, for rules 10-11
        self.dgp_bounds = [(dgp, [b for b in map(bounds, dgp.networks) if b is not None])
                           for dgp in router.dgps]
        # internal ports with reside-on-redirect-chassis (§1.7)
        self.pinned = [p for p in router.ports if not p.is_dgp and p.options.get(
            "reside-on-redirect-chassis", "").lower() == "true"]


def _router_inactive(topo: Topology, router: Router
                     ) -> Optional[tuple[str, str, tuple[int, ...]]]:
    """(cause, reason, rules) when no NAT of the router is applied (rules 4-5)."""
    v = topo.version
    if router.disabled:
        return ("router-disabled", f"router {router.name} has enabled=false: it drops all "
                "traffic, NAT included", (4,))
    if not router.is_gateway_router and not router.dgps:
        extra = "; ".join(f"{p.name}: {p.not_dgp_reason}" for p in router.ports
                          if p.not_dgp_reason)
        return ("not-applied", f"router {router.name} is neither a gateway router nor has a "
                "distributed gateway port: northd builds no NAT flows"
                + (f" ({extra})" if extra else ""), (4,))
    if len(router.dgps) > 1 and v.between((21, 9, 0), (22, 3)):
        return ("not-applied", f"router {router.name} has {len(router.dgps)} DGPs: OVN "
                f"{v.release[0]}.{v.release[1]:02d} applies no NAT on such routers", (5,))
    return None


def _inactive(nat: Nat, cause: str, reason: str, rules: tuple[int, ...],
              flags: Optional[list[str]] = None) -> NatVerdict:
    return NatVerdict(nat, INACTIVE, reason, rules, cause=cause, flags=flags or [])


def _validity(topo: Topology, router: Router, nat: Nat
              ) -> tuple[Optional[NatVerdict], Optional[tuple[int, int]]]:
    """Rules 6-9: reasons northd rejects the row itself (§1.3 order); else the external
    IP as (version, integer value) for the DGP choice."""
    v = topo.version
    ext = nat.ext  # "/32" passes, "/24" does not (checked on 23.03)
    if ext is None:
        return _inactive(nat, "invalid", f"external_ip {nat.external_ip!r} is not one IPv4 or "
                         "IPv6 address: northd drops this NAT", (6,)), None
    if nat.external_mac is not None and not valid_mac(nat.external_mac):
        mac_checked = v.at_least(25, 3) or (
            nat.type == "dnat_and_snat" and nat.logical_port is not None and bool(router.dgps))
        if mac_checked:
            return _inactive(nat, "invalid", f"external_mac {nat.external_mac!r} is not a MAC: "
                             "northd drops this NAT", (9,)), None
    if nat.allowed_ext_ips and nat.exempted_ext_ips and v.at_least(20, 9):
        return _inactive(nat, "invalid", "both allowed_ext_ips and exempted_ext_ips are set: "
                         "northd drops this NAT", (7,)), None
    logical = parse_ip(nat.logical_ip)
    if logical is None:
        return _inactive(nat, "invalid", f"logical_ip {nat.logical_ip!r} is not an IP address "
                         "or network: northd drops this NAT", (8,)), None
    if logical.version != ext[0]:
        return _inactive(nat, "invalid", f"logical_ip {nat.logical_ip} is IPv{logical.version} "
                         f"but external_ip {nat.external_ip} is IPv{ext[0]}: northd drops "
                         "this NAT", (8,)), None
    if nat.type != "snat" and not logical.is_host:
        return _inactive(nat, "invalid", f"logical_ip {nat.logical_ip} is a network; a "
                         f"{nat.type} needs a single address: northd drops this NAT", (8,)), None
    return None, ext


def _inside(value: Optional[tuple[int, int]], nets: list[tuple[int, int, int]]) -> bool:
    if value is None:
        return False
    version, number = value
    return any(v == version and first <= number <= last for v, first, last in nets)


def _choose_dgp(topo: Topology, facts: _RouterFacts, nat: Nat,
                ext: Optional[tuple[int, int]]
                ) -> tuple[Optional[RouterPort], Optional[NatVerdict], list[str]]:
    """Rules 10-11: the NAT's DGP, or an invalid verdict."""
    router = facts.router
    flags: list[str] = []
    if nat.gateway_port_uuid:
        port = topo.router_ports.get(nat.gateway_port_uuid)
        if port is None or port.router_uuid != router.uuid:
            owner = f" of router {port.router}" if port is not None else ""
            name = port.name if port is not None else nat.gateway_port_uuid
            return None, _inactive(nat, "invalid", f"gateway_port {name}{owner} is not a port of "
                                   f"router {router.name}: northd drops this NAT", (10,)), flags
        if not port.is_dgp:
            return None, _inactive(nat, "invalid", f"gateway_port {port.name} is not a "
                                   "distributed gateway port: northd drops this NAT", (10,)), flags
        return port, None, flags
    if len(facts.dgp_bounds) == 1:
        dgp, nets = facts.dgp_bounds[0]
        if not _inside(ext, nets):
            flags.append("off-link")
        return dgp, None, flags
    matching = [dgp for dgp, nets in facts.dgp_bounds if _inside(ext, nets)]
    if not matching:
        names = ", ".join(d.name for d in router.dgps)
        return None, _inactive(nat, "invalid", f"router has {len(router.dgps)} DGPs ({names}), "
                               f"{nat.external_ip} is in none of their subnets and gateway_port "
                               "is not set: northd drops this NAT", (11,)), flags
    if len(matching) > 1:
        flags.append("ambiguous-gateway-port")
    return matching[0], None, flags


def _where_centralized(topo: Topology, dgp: RouterPort, cache: dict
                       ) -> tuple[Optional[str], Optional[str]]:
    found = cache.get(dgp.uuid)
    if found is None:
        observed, source = topo.observed_active(dgp)
        if observed:
            found = (observed, source)
        else:
            registered = set(topo.chassis) if topo.has_sb else None
            member = predicted_active(dgp, frozenset(), registered)
            found = (member.chassis, "predicted") if member else (None, None)
        cache[dgp.uuid] = found
    return found


def _where_distributed(topo: Topology, nat: Nat, verdict: NatVerdict) -> None:
    port_name = nat.logical_port or ""
    if topo.has_sb:
        binding = topo.binding(port_name)
        if binding is not None and binding.chassis:
            verdict.chassis, verdict.chassis_source = binding.chassis, "sb"
        elif binding is None:
            verdict.notes.append(f"no SB port binding for {port_name!r}")
        else:
            verdict.notes.append(f"{port_name} is not bound to any chassis in SB")
        return
    requested = first_value(topo.lsp_option(port_name, "requested-chassis"))
    if requested:
        verdict.chassis, verdict.chassis_source = requested, "requested-chassis"
        verdict.notes.append(_REQUESTED_NOTE)


_REQUESTED_NOTE = "chassis inferred from the port's options:requested-chassis (no SB given)"


def classify(topo: Topology, facts: _RouterFacts, nat: Nat, where: dict) -> NatVerdict:
    """The placement of one NAT of ``facts.router`` (rules 1-16, 23-25)."""
    router = facts.router
    if facts.inactive is not None:
        return _inactive(nat, *facts.inactive)
    invalid, ext = _validity(topo, router, nat)
    if invalid is not None:
        return invalid

    if facts.is_gr:
        if nat.gateway_port_uuid:
            return _inactive(nat, "invalid", f"gateway_port is set but {router.name} is a gateway "
                             "router, which has no DGPs: northd drops this NAT", (10,))
        chassis = router.gr_chassis or None
        return NatVerdict(nat, CENTRALIZED, f"gateway router: handled on its chassis "
                          f"{chassis or '(empty options:chassis)'}, with no failover", (2,),
                          chassis=chassis, chassis_source="gateway-router")

    dgp, invalid, flags = _choose_dgp(topo, facts, nat, ext)
    if invalid is not None:
        return invalid
    assert dgp is not None
    if nat.type == "dnat_and_snat":
        verdict = _classify_fip(topo, nat, dgp, facts)
    else:
        verdict = NatVerdict(nat, CENTRALIZED, f"{nat.type} is never distributed: handled on "
                             f"the active gateway of DGP {dgp.name}", (14,), gateway_port=dgp)
        if (nat.type == "dnat" and nat.logical_port is not None
                and nat.external_mac is not None and valid_mac(nat.external_mac)):
            verdict.flags.append("dnat-blackhole")
            verdict.rules = (14, 16)
            verdict.reason += (f"; but with logical_port and external_mac set, ARP for "
                               f"{nat.external_ip} is answered from {nat.logical_port}'s chassis "
                               "while DNAT runs only on the gateway: inbound traffic is "
                               "black-holed")
    if flags:
        verdict.flags[:0] = flags
        if "ambiguous-gateway-port" in flags:
            verdict.notes.append(f"{nat.external_ip} is in the subnets of several DGPs; "
                                 "northd's choice depends on its internal order (set "
                                 "gateway_port)")
    if verdict.mode == DISTRIBUTED:
        _where_distributed(topo, nat, verdict)
    else:
        verdict.chassis, verdict.chassis_source = _where_centralized(topo, dgp, where)
    return verdict


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
        verdict.flags.append("empty-logical-port")
        verdict.reason = (f"logical_port is an empty string and external_mac is set on a router "
                          f"with DGP {dgp.name}: distributed, but resident on no chassis")
    elif not topo.lsp_exists(nat.logical_port):
        verdict.flags.append("logical-port-missing")
        verdict.notes.append(f"no logical switch port named {nat.logical_port}: nothing answers "
                             "for this FIP")
    elif facts.pinned:
        pinned = _reside_on_redirect(topo, facts, nat)
        if pinned is not None:
            verdict.flags.append("reside-on-redirect-chassis")
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


def classify_all(topo: Topology, routers: Optional[list[Router]] = None) -> list[NatVerdict]:
    """Verdicts for every NAT (of ``routers`` when given), in router then NAT order."""
    where: dict = {}  # DGP uuid -> where its centralized NATs are handled
    out = []
    for router in routers if routers is not None else topo.iter_routers():
        if router.nats:
            facts = _RouterFacts(topo, router)
            out.extend([classify(topo, facts, nat, where) for nat in router.nats])
    return out
