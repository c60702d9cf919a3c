"""What-if failover: which external IPs stay reachable when some chassis are down (semantics
§2-§4, §7 rules 2, 17-25).

One entry per NAT row, per address of a DGP or gateway-router port (``router-port``) and per
load-balancer VIP on a gateway-handled router (``lb-vip``).  Each entry depends on one
:class:`Dependency`, built once and shared by every entry that needs the same thing:

* :class:`GatewaySet` - a DGP's centralized work (centralized NATs, SNAT return traffic, the
  DGP's own IPs, LB VIPs): reachable iff some registered member is up; the highest priority
  wins, ties to the greatest name (rules 18-20); with SB data the active gateway must also map
  the external switch's localnet network (rule 20);
* :class:`GatewayRouterDep` - everything on a gateway router: its one chassis (rule 2);
* :class:`PortChassis` - a distributed FIP: its port's chassis must be up; the chassis is
  from SB (rule 23) or NB ``requested-chassis`` (inferred) (rules 21-22);
* :class:`AnyOf` - LB VIPs that every DGP of the router serves (>= 25.03, rule 25);
* :class:`Fixed` - verdicts no failure can change: inactive or black-holed NATs, unbound
  ports, unknown locations (``reachable`` null).

A scenario evaluates each dependency touching a down chassis once and reuses the all-up
("before") outcome for the others, so a sweep over every gateway chassis costs little more
than building the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations
from typing import AbstractSet, Any, Callable, Iterable, Optional

from ..addr import in_network
from ..election import Ballot
from ..errors import UsageError
from ..topology import LoadBalancer, Router, RouterPort, Topology
from ..vocab import Change, Flag
from .gateways import claim_note, namer, registered_chassis
from .placement import CENTRALIZED, DISTRIBUTED, INACTIVE, NatVerdict, classify_all

KEPT, MOVED, LOST, UNKNOWN, UNREACHABLE = (Change.KEPT, Change.MOVED, Change.LOST,
                                          Change.UNKNOWN, Change.UNREACHABLE)
CHANGES = (KEPT, MOVED, LOST, UNKNOWN, UNREACHABLE)
NO_DOWN: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Outcome:
    """Whether an entry is reachable in one scenario, through which chassis, and why."""

    reachable: Optional[bool]          # None: cannot be decided from the data given
    via: Optional[str]
    reason: str
    rules: tuple[int, ...] = ()


class Dependency:
    """What a group of entries needs; evaluated once per scenario for all of them."""

    kind = "fixed"
    chassis: frozenset[str] = frozenset()      # chassis whose failure can change the outcome
    candidates: frozenset[str] = frozenset()   # chassis that could carry it (for SPOFs)
    label: Optional[str] = None                # DGP / router it is about

    def __init__(self) -> None:
        self.entries: list[int] = []           # indices into FailoverModel.entries
        self.before: Outcome = Outcome(None, None, "")

    def outcome(self, down: AbstractSet[str]) -> Outcome:
        raise NotImplementedError

    def state(self, down: AbstractSet[str]) -> tuple[Optional[bool], Optional[str]]:
        """(reachable, via) without the reason: the fast path of a sweep."""
        out = self.outcome(down)
        return out.reachable, out.via


class Fixed(Dependency):
    """An outcome no chassis failure changes."""

    def __init__(self, reachable: Optional[bool], reason: str, rules: tuple[int, ...] = ()
                 ) -> None:
        super().__init__()
        self.fixed = Outcome(reachable, None, reason, rules)

    def outcome(self, down: AbstractSet[str]) -> Outcome:
        return self.fixed


class GatewaySet(Dependency):
    """Centralized work of one DGP: the elected member (rules 17-20)."""

    kind = "gateway-port"

    def __init__(self, port: RouterPort, registered: Optional[AbstractSet[str]],
                 networks: tuple[str, ...], mappings: Optional[dict[str, dict[str, str]]],
                 show: Callable[[str], str] = str,
                 ref_chassis: Optional[AbstractSet[str]] = None) -> None:
        super().__init__()
        self.show = show
        self.port = port.name
        self.label = port.name
        self.ballot = Ballot(port.members, registered, ref_chassis)
        self.ref_chassis = ref_chassis
        # a ref_chassis going down can stop a lone survivor from taking over
        self.chassis = frozenset(self.ballot.eligible) | frozenset(ref_chassis or ())
        self.candidates = self.chassis
        # rule 20 mapping check only with SB data and a localnet on the peer switch
        self.networks = networks if mappings is not None else ()
        known = mappings or {}
        self._unmapped = frozenset(ch for ch in self.ballot.eligible if self.networks and not
                                   any(n in known.get(ch, {}) for n in self.networks))

    def before_active(self) -> Optional[str]:
        return self.ballot.winner(NO_DOWN)

    def state(self, down: AbstractSet[str]) -> tuple[Optional[bool], Optional[str]]:
        active = self.ballot.winner(down)
        if active is None or active in self._unmapped:
            return False, None
        return True, active

    def outcome(self, down: AbstractSet[str]) -> Outcome:
        active, why = self.ballot.explain(down, self.show)
        if active is None:
            return Outcome(False, None, f"centralized on DGP {self.port}, which has no active "
                           f"gateway: {why}", (18, 19, 20))
        if active in self._unmapped:
            return Outcome(False, None, f"centralized on DGP {self.port}: the active gateway "
                           f"{self.show(active)} has no bridge mapping for {', '.join(self.networks)}, so "
                           f"it cannot reach the external network (rule 20); elected: {why}",
                           (18, 20))
        return Outcome(True, active, f"centralized on DGP {self.port}: active gateway "
                       f"{self.show(active)}, {why}", (18, 20))


class GatewayRouterDep(Dependency):
    """Everything on a gateway router runs on its ``options:chassis``, no failover (rule 2)."""

    kind = "gateway-router"

    def __init__(self, router: Router, registered: Optional[AbstractSet[str]],
                 show: Callable[[str], str] = str) -> None:
        super().__init__()
        self.show = show
        self.router = router.name
        self.label = router.name
        self.gr_chassis = router.gr_chassis or None
        self.registered = registered
        usable = self.gr_chassis and (registered is None or self.gr_chassis in registered)
        self.chassis = frozenset([self.gr_chassis]) if usable and self.gr_chassis else frozenset()
        self.candidates = self.chassis

    def outcome(self, down: AbstractSet[str]) -> Outcome:
        ch = self.gr_chassis
        name = self.show(ch) if ch else ""
        if not ch:
            return Outcome(False, None, f"gateway router {self.router} has an empty "
                           "options:chassis: its ports are bound nowhere (rule 2)", (2,))
        if self.registered is not None and ch not in self.registered:
            return Outcome(False, None, f"gateway router {self.router}'s chassis {name} is not "
                           "registered in SB (rule 2)", (2,))
        if ch in down:
            return Outcome(False, None, f"gateway router {self.router}'s chassis {name} is down: "
                           "no failover (rule 2)", (2,))
        return Outcome(True, ch, f"gateway router {self.router} on its chassis {name} "
                       "(rule 2)", (2,))

    def state(self, down: AbstractSet[str]) -> tuple[Optional[bool], Optional[str]]:
        ch = self.gr_chassis
        return (True, ch) if ch in self.chassis and ch not in down else (False, None)


class PortChassis(Dependency):
    """A distributed FIP: handled on its port's chassis, whatever the gateways do (rule 21)."""

    kind = "port-chassis"

    def __init__(self, chassis: str, inferred: bool, network: str,
                 show: Callable[[str], str] = str) -> None:
        super().__init__()
        self.show = show
        self.port_chassis = chassis
        self.inferred = inferred
        self.network = network
        self.chassis = frozenset([chassis])
        self.candidates = self.chassis

    def outcome(self, down: AbstractSet[str]) -> Outcome:
        ch = self.port_chassis
        name = self.show(ch)
        if self.inferred:
            where = (f"on {name}, inferred from the port's requested-chassis; bridge mapping of "
                     f"{self.network} assumed (give --sb to check)")
        else:
            where = f"on {name}, where SB binds the port, which maps {self.network}"
        if ch in down:
            return Outcome(False, None, f"distributed {where}: that chassis is down and there "
                           "is no fallback to the gateway (rule 21)", (21, 23))
        return Outcome(True, ch, f"distributed {where} (rule 21)", (21, 23))

    def state(self, down: AbstractSet[str]) -> tuple[Optional[bool], Optional[str]]:
        return (False, None) if self.port_chassis in down else (True, self.port_chassis)


class AnyOf(Dependency):
    """Served by whichever of several DGPs is reachable (LB VIPs on >= 25.03, rule 25)."""

    kind = "any-gateway-port"

    def __init__(self, deps: list[Dependency]) -> None:
        super().__init__()
        self.deps = deps
        self.label = " or ".join(d.label or "?" for d in deps)
        self.chassis = frozenset().union(*(d.chassis for d in deps))
        self.candidates = frozenset().union(*(d.candidates for d in deps))

    def outcome(self, down: AbstractSet[str]) -> Outcome:
        outs = [d.outcome(down) for d in self.deps]
        for out in outs:
            if out.reachable:
                return Outcome(True, out.via, f"served by every DGP (rule 25); {out.reason}",
                               (25, *out.rules))
        return Outcome(False, None, "served by every DGP (rule 25), none reachable: "
                       + "; ".join(o.reason for o in outs), (25,))


@dataclass
class Entry:
    """One external IP an operator cares about, with what it depends on."""

    router: str
    router_uuid: str
    type: str                    # NAT type | router-port | lb-vip
    external_ip: str
    mode: str                    # distributed | centralized | inactive
    gateway_port: Optional[str]
    dep: Dependency
    uuid: Optional[str] = None   # NAT row
    logical_ip: Optional[str] = None
    logical_port: Optional[str] = None
    load_balancer: Optional[str] = None
    vip: Optional[str] = None

    def ident(self) -> dict[str, Any]:
        """The keys that identify the entry (design.md: router, type, external_ip)."""
        out: dict[str, Any] = {"router": self.router, "type": self.type,
                               "external_ip": self.external_ip}
        if self.uuid:
            out["uuid"] = self.uuid
        if self.gateway_port:
            out["gateway_port"] = self.gateway_port
        if self.vip:
            out["vip"] = self.vip
        return out


def change_of(before: Outcome, after: Outcome) -> str:
    """kept / moved / lost / unknown / unreachable, from the all-up and scenario outcomes.

    ``lost``: reachable with every chassis up, not reachable in the scenario.
    ``moved``: reachable in both, through another chassis.  ``unreachable``: already not
    reachable with every chassis up.  ``unknown``: undecidable in one of the two.
    """
    return _change(before.reachable, before.via, after.reachable, after.via)


def _change(b_reach: Optional[bool], b_via: Optional[str], a_reach: Optional[bool],
            a_via: Optional[str]) -> str:
    if b_reach is None or a_reach is None:
        return UNKNOWN
    if not b_reach:
        return UNREACHABLE
    if not a_reach:
        return LOST
    return KEPT if a_via == b_via else MOVED


@dataclass
class EntryResult:
    """One entry in one scenario."""

    entry: Entry
    outcome: Outcome

    @property
    def before(self) -> Outcome:
        return self.entry.dep.before

    @property
    def change(self) -> str:
        return change_of(self.before, self.outcome)

@dataclass
class Scenario:
    """Every entry with a set of chassis down."""

    down: list[str]
    results: list[EntryResult]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys((c.value for c in CHANGES), 0)
        for r in self.results:
            out[r.change] += 1
        return out

    @property
    def lost(self) -> list[EntryResult]:
        return [r for r in self.results if r.change == LOST]


@dataclass
class SweepCase:
    """One failure combination of a sweep: what it loses and moves."""

    down: tuple[str, ...]
    lost: list[tuple[Entry, Outcome]]
    moved: int

@dataclass
class SinglePoint:
    """A chassis whose failure alone loses entries that nothing else can carry."""

    kind: str                    # gateway-port | gateway-router | port-chassis | ...
    chassis: str
    router: Optional[str]
    port: Optional[str]
    entries: list[Entry]
    reason: str

@dataclass
class FailoverModel:
    """Entries and their dependencies, built once per topology (and router selection)."""

    topo: Topology
    entries: list[Entry]
    deps: list[Dependency]
    by_chassis: dict[str, list[Dependency]]
    gateway_chassis: list[str]          # every gateway chassis (DGP members, GR chassis)
    aliases: dict[str, str]             # what users may type for --down -> chassis name
    notes: list[str] = field(default_factory=list)


# -- building -------------------------------------------------------------------------------
class _Builder:
    def __init__(self, topo: Topology) -> None:
        self.topo = topo
        self.registered = registered_chassis(topo)
        self.show = namer(topo)
        self.entries: list[Entry] = []
        self.deps: dict[int, Dependency] = {}
        self._dgp: dict[str, GatewaySet] = {}
        self._gr: dict[str, GatewayRouterDep] = {}
        self._port: dict[tuple[str, bool, str], PortChassis] = {}
        self._networks: dict[str, tuple[str, ...]] = {}
        self.notes: set[str] = set()
        self.assumed_ref: list[str] = []     # DGPs whose SB ref_chassis are not known
        self.internal = 0                    # router addresses and VIPs left out: internal

    def add(self, entry: Entry) -> None:
        dep = entry.dep
        if id(dep) not in self.deps:
            self.deps[id(dep)] = dep
        dep.entries.append(len(self.entries))
        self.entries.append(entry)

    def external_ports(self, router: Router) -> list[RouterPort]:
        """The router's ports on external networks: its DGPs, and a gateway router's ports
        whose switch has a localnet port (all of them when none has: cannot tell)."""
        if not router.is_gateway_router:
            return list(router.dgps)
        ports = [p for p in router.ports if p in router.dgps or self._on_localnet(p)]
        return ports or list(router.ports)

    def _on_localnet(self, port: RouterPort) -> bool:
        peer = self.topo.peer_switch_port(port)
        return peer is not None and bool(self.topo.localnets(peer.switch_uuid))

    def networks(self, port: RouterPort) -> tuple[str, ...]:
        nets = self._networks.get(port.uuid)
        if nets is None:
            nets = tuple(dict.fromkeys(self.topo.external_networks(port)))
            self._networks[port.uuid] = nets
        return nets

    def dgp(self, port: RouterPort) -> GatewaySet:
        dep = self._dgp.get(port.uuid)
        if dep is None and port.disabled:
            # check dgp-disabled: no admission flows for the router MAC, broadcast or ARP
            # on this port (northd 23.03.1, 25.03.0, 26.03.1; tests/evidence)
            dep = Fixed(False, f"DGP {port.name} has enabled=false: northd admits no traffic "
                        "to the router MAC and answers no ARP on it, so nothing behind it is "
                        "reachable from outside (a distributed FIP only while an upstream ARP "
                        "entry for it lasts)", (20,))
            dep.label = port.name
            self._dgp[port.uuid] = dep  # type: ignore[assignment]
        if dep is None:
            mappings = None
            networks: tuple[str, ...] = ()
            if self.topo.has_sb:
                networks = self.networks(port)
                mappings = {m.chassis: self.topo.chassis[m.chassis].bridge_mappings
                            for m in port.members if m.chassis in self.topo.chassis}
            refs = self.topo.sb_ref_chassis(port)
            dep = GatewaySet(port, self.registered, networks, mappings, self.show, refs)
            self._dgp[port.uuid] = dep
            if refs is None and len(dep.ballot.eligible) > 1:
                self.assumed_ref.append(port.name)
            observed, source = self.topo.observed_active(port)
            if observed and observed != dep.before_active():
                self.notes.add(claim_note(self.topo, f"DGP {port.name}", observed,
                                          dep.before_active(), source, self.show)
                               + "; if a chassis is down already, add it to --down (rule 24)")
        return dep

    def gr(self, router: Router) -> GatewayRouterDep:
        dep = self._gr.get(router.uuid)
        if dep is None:
            dep = GatewayRouterDep(router, self.registered, self.show)
            self._gr[router.uuid] = dep
        return dep

    def port_chassis(self, chassis: str, inferred: bool, network: str) -> PortChassis:
        key = (chassis, inferred, network)
        dep = self._port.get(key)
        if dep is None:
            dep = self._port[key] = PortChassis(chassis, inferred, network, self.show)
        return dep

    def distributed(self, verdict: NatVerdict) -> Dependency:
        """Rules 21-23: what a distributed FIP needs."""
        nat, dgp, topo = verdict.nat, verdict.gateway_port, self.topo
        lp = nat.logical_port or ""
        assert dgp is not None
        if Flag.EMPTY_LOGICAL_PORT in verdict.flags:
            return Fixed(False, "logical_port is an empty string: resident on no chassis, "
                         "nothing answers for this FIP (rule 21)", (21,))
        if Flag.LOGICAL_PORT_MISSING in verdict.flags:
            return Fixed(False, f"no logical switch port named {lp}: resident on no chassis, "
                         "nothing answers for this FIP (rule 21)", (21,))
        nets = self.networks(dgp)
        if not nets:
            return Fixed(False, f"distributed, but DGP {dgp.name}'s peer switch has no localnet "
                         "port with a network_name: the FIP cannot reach the physical network "
                         "from the port's chassis (rule 21)", (21,))
        chassis = verdict.chassis
        if topo.has_sb:
            if chassis is None:
                if topo.binding(lp) is None:
                    return Fixed(None, f"SB has no Port_Binding for {lp} (SB older than NB?): "
                                 "its chassis is unknown (rule 23)", (23,))
                return Fixed(False, f"{lp} is not bound to any chassis in SB: resident nowhere, "
                             "nothing answers for this FIP (rules 21, 23)", (21, 23))
            ch = topo.chassis.get(chassis)
            mapped = ch.maps(nets) if ch is not None else []
            if not mapped:
                return Fixed(False, f"black-holed: {lp} is bound on {self.show(chassis)}, which "
                             "has no "
                             f"bridge mapping for {', '.join(nets)}; there is no fallback to "
                             "the gateway (rules 21, 22)", (21, 22))
            return self.port_chassis(chassis, False, mapped[0])
        if chassis is None:
            return Fixed(None, f"distributed on the chassis of {lp}, which is unknown without SB "
                         "data and the port has no requested-chassis: give --sb (rule 23)",
                         (21, 23))
        return self.port_chassis(chassis, True, nets[0])

    def nat_dep(self, router: Router, verdict: NatVerdict) -> Dependency:
        if verdict.mode == INACTIVE:
            return Fixed(False, f"inactive: {verdict.reason}", verdict.rules)
        if Flag.DNAT_BLACKHOLE in verdict.flags or Flag.SNAT_BLACKHOLE in verdict.flags:
            return Fixed(False, f"black-holed: {verdict.reason}", verdict.rules)
        if verdict.gateway_port is not None and verdict.gateway_port.disabled:
            return self.dgp(verdict.gateway_port)
        if verdict.datapath is not None and verdict.datapath.unreachable(verdict.nat.type):
            return Fixed(False, f"not translated: {verdict.reason}", verdict.rules)
        if router.is_gateway_router:
            return self.gr(router)
        if verdict.mode == DISTRIBUTED:
            return self.distributed(verdict)
        assert verdict.gateway_port is not None
        return self.dgp(verdict.gateway_port)

    def lb_dep(self, router: Router, lb: LoadBalancer, ip: str) -> tuple[Dependency, str]:
        """Rule 25 and §4: who serves an LB VIP on a gateway-handled router."""
        rules = self.topo.rules
        if router.disabled:
            return Fixed(False, f"router {router.name} has enabled=false (rule 4)", (4,)), INACTIVE
        if router.is_gateway_router:
            return self.gr(router), CENTRALIZED
        if rules.lb_distributed_option and lb.options.get("distributed", "").lower() == "true":
            return Fixed(None, f"load balancer {lb.name or lb.uuid} has options:distributed="
                         "true: served on its backends' chassis, which is not modelled (rule 25)",
                         (25,)), DISTRIBUTED
        dgps = router.dgps
        if len(dgps) == 1:
            return self.dgp(dgps[0]), CENTRALIZED
        if rules.multi_dgp_drops_nat:
            return Fixed(False, f"router {router.name} has {len(dgps)} DGPs: this OVN applies "
                         "no load balancer on it (rule 25)", (25,)), INACTIVE
        if rules.lb_first_dgp_only:
            self.notes.add(f"router {router.name} has {len(dgps)} DGPs: OVN before 25.03 gives "
                           f"LB flows only to the first one, {dgps[0].name} (rule 25)")
            return self.dgp(dgps[0]), CENTRALIZED
        matching = [d for d in dgps if any(in_network(ip, n) for n in d.networks)] or dgps
        if len(matching) == 1:
            return self.dgp(matching[0]), CENTRALIZED
        dep = AnyOf([self.dgp(d) for d in matching])
        return dep, CENTRALIZED

    def router(self, router: Router, verdicts: list[NatVerdict]) -> None:
        for verdict in verdicts:
            nat = verdict.nat
            gp = verdict.gateway_port.name if verdict.gateway_port else None
            self.add(Entry(router.name, router.uuid, nat.type, nat.external_ip, verdict.mode,
                           gp, self.nat_dep(router, verdict), uuid=nat.uuid,
                           logical_ip=nat.logical_ip, logical_port=nat.logical_port))
        if not router.is_gateway_router and not router.dgps:
            return  # not gateway-handled: no router-port or lb-vip entries
        disabled = (Fixed(False, f"router {router.name} has enabled=false: it drops all "
                          "traffic (rule 4)", (4,)) if router.disabled else None)
        outside = self.external_ports(router)
        networks = [n for p in outside for n in p.networks]
        inside = [n for p in router.ports if p not in outside for n in p.networks]
        if router.is_gateway_router:
            for port in outside:
                for ip in port.ips:
                    self.add(Entry(router.name, router.uuid, "router-port", ip, CENTRALIZED,
                                   None, disabled or self.gr(router), logical_port=port.name))
            self.internal += sum(len(p.ips) for p in router.ports if p not in outside)
        for port in router.dgps:
            for ip in port.ips:
                self.add(Entry(router.name, router.uuid, "router-port", ip, CENTRALIZED,
                               port.name, disabled or self.dgp(port), logical_port=port.name))
        for lb in router.load_balancers:
            for vip, ip in zip(lb.vips, lb.vip_ips()):
                if _internal_vip(router, lb, ip, networks, inside):
                    self.internal += 1     # a ClusterIP-like VIP: not reachable from outside
                    continue
                dep, mode = self.lb_dep(router, lb, ip)
                gp = dep.port if isinstance(dep, GatewaySet) else (
                    dep.label if isinstance(dep, AnyOf) else None)
                self.add(Entry(router.name, router.uuid, "lb-vip", ip, mode, gp, dep,
                               load_balancer=lb.name or lb.uuid, vip=vip))


#: Kube-OVN's Service (ClusterIP) load balancers (cms-footprints §2, step 5).
_KUBE_OVN_SERVICE_LB = re.compile(
    r"^(vpc-.+-(tcp|udp|sctp)-(load|sess-load)|cluster-(tcp|udp|sctp)(-session)?-loadbalancer)$")


def _internal_vip(router: Router, lb: LoadBalancer, ip: str, external: list[str],
                  internal: list[str]) -> bool:
    """A VIP not reachable from outside: inside an internal port's network, a Kube-OVN
    Service load balancer, or on a gateway router outside every external network (the
    ovn-kubernetes ClusterIPs on GR_<node>).  Other off-link VIPs may be routed upstream."""
    if any(in_network(ip, n) for n in external):
        return False
    if any(in_network(ip, n) for n in internal) or _KUBE_OVN_SERVICE_LB.match(lb.name or ""):
        return True
    return router.is_gateway_router


def gateway_chassis(topo: Topology) -> list[str]:
    """Every gateway chassis: effective members of any DGP, plus gateway routers' chassis."""
    found: set[str] = set()
    for router in topo.iter_routers():
        if router.gr_chassis:
            found.add(router.gr_chassis)
        for port in router.dgps:
            found.update(m.chassis for m in port.members)
    return sorted(found)


def _aliases(topo: Topology, model_chassis: Iterable[str]) -> dict[str, str]:
    """Names --down accepts: chassis names, Gateway_Chassis row names, SB hostnames."""
    out: dict[str, str] = {}
    for host, name in topo.hostnames.items():
        out[host] = name
    for router in topo.iter_routers():
        for port in router.ports:
            for m in port.gateway_chassis:
                if m.row:
                    out[m.row] = m.chassis
    names = set(topo.chassis) | set(model_chassis)
    for router in topo.iter_routers():
        if router.gr_chassis:
            names.add(router.gr_chassis)
        for port in router.ports:
            names.update(m.chassis for m in port.gateway_chassis)
            names.update(m.chassis for m in port.ha_members)
    for name in names:
        out[name] = name  # a chassis name beats a hostname or row name spelled the same
    return out


def build_model(topo: Topology, routers: Optional[list[Router]] = None) -> FailoverModel:
    """Entries and dependencies of ``routers`` (default all), with the all-up outcomes."""
    chosen = routers if routers is not None else list(topo.iter_routers())
    verdicts = classify_all(topo, routers)
    by_router: dict[str, list[NatVerdict]] = {}
    for verdict in verdicts:
        by_router.setdefault(verdict.nat.router_uuid, []).append(verdict)
    builder = _Builder(topo)
    for router in chosen:
        builder.router(router, by_router.get(router.uuid, []))
    deps = list(builder.deps.values())
    by_chassis: dict[str, list[Dependency]] = {}
    for dep in deps:
        dep.before = dep.outcome(NO_DOWN)
        for ch in dep.chassis:
            by_chassis.setdefault(ch, []).append(dep)
    notes = sorted(builder.notes)
    if not topo.has_sb and any(isinstance(d, GatewaySet) for d in deps):
        notes.append("no SB data: gateway chassis are assumed registered and mapping the "
                     "external network; give --sb to check (rules 18, 20)")
    if builder.internal:
        notes.append(f"{builder.internal} router address(es) and load-balancer VIP(s) on "
                     "internal networks (join switches, ClusterIPs) are not listed: they are "
                     "not reachable from outside")
    if builder.assumed_ref:
        names = sorted(builder.assumed_ref)
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        where = "no SB data" if not topo.has_sb else "no SB HA_Chassis_Group for them"
        notes.append(f"DGP {shown}: {where}, so a lone surviving gateway is assumed to have "
                     "BFD to a live ref_chassis (a chassis of a port bound behind the router) "
                     "and to take over; give --sb to check")
    return FailoverModel(topo, builder.entries, deps, by_chassis, gateway_chassis(topo),
                         _aliases(topo, by_chassis), notes)


# -- scenarios ------------------------------------------------------------------------------
def resolve_down(model: FailoverModel, names: Iterable[str]) -> list[str]:
    """Chassis names for what the user typed (names, Gateway_Chassis rows, hostnames)."""
    out: list[str] = []
    unknown: list[str] = []
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        resolved = model.aliases.get(name)
        if resolved is None:
            unknown.append(name)
        elif resolved not in out:
            out.append(resolved)
    if unknown:
        hint = "" if model.topo.has_sb else " (hostnames need --sb)"
        raise UsageError(f"--down: unknown chassis {', '.join(unknown)}: not a chassis name, "
                         f"Gateway_Chassis name or hostname{hint}")
    return out


def simulate(model: FailoverModel, down: Iterable[str]) -> Scenario:
    """Every entry with ``down`` chassis down (names already resolved)."""
    down_list = list(dict.fromkeys(down))
    down_set = frozenset(down_list)
    outcomes: dict[int, Outcome] = {}
    for ch in down_set:
        for dep in model.by_chassis.get(ch, ()):
            if id(dep) not in outcomes:
                outcomes[id(dep)] = dep.outcome(down_set)
    results = [EntryResult(e, outcomes.get(id(e.dep), e.dep.before)) for e in model.entries]
    return Scenario(down_list, results)


def affected(model: FailoverModel, down: AbstractSet[str]) -> list[Dependency]:
    """Dependencies touching a ``down`` chassis: the only ones a scenario can change."""
    seen: dict[int, Dependency] = {}
    for ch in sorted(down):
        for dep in model.by_chassis.get(ch, ()):
            seen.setdefault(id(dep), dep)
    return list(seen.values())


def sweep(model: FailoverModel, size: int = 1,
          candidates: Optional[list[str]] = None) -> list[SweepCase]:
    """Every combination of ``size`` chassis (default: the gateway chassis) failing together.

    Only dependencies that touch the down chassis are re-evaluated; lost and moved entries are
    exactly those a full :func:`simulate` of the same down set reports.
    """
    pool = sorted(set(candidates if candidates is not None else model.gateway_chassis))
    cases = []
    for combo in combinations(pool, size):
        lost: list[tuple[int, Entry, Outcome]] = []
        moved = 0
        down = frozenset(combo)
        for dep in affected(model, down):
            before = dep.before
            change = _change(before.reachable, before.via, *dep.state(down))
            if change == LOST:
                after = dep.outcome(down)   # the reason, only for what is lost
                lost.extend((i, model.entries[i], after) for i in dep.entries)
            elif change == MOVED:
                moved += len(dep.entries)
        lost.sort(key=lambda t: t[0])
        cases.append(SweepCase(combo, [(e, o) for _, e, o in lost], moved))
    return cases


def _service_key(entry: Entry) -> Optional[tuple[str, str]]:
    """What an entry provides that another router could provide too: egress SNAT for a
    source range, or a load-balancer VIP.  None for what is unique to the entry."""
    if entry.type == "snat" and entry.logical_ip:
        return ("snat", entry.logical_ip.strip().lower())
    if entry.type == "lb-vip" and entry.vip:
        return ("vip", entry.vip)
    return None


def _carried_elsewhere(model: FailoverModel) -> dict[tuple[str, str], set[str]]:
    """Service key -> chassis that can carry it, over every reachable entry."""
    out: dict[tuple[str, str], set[str]] = {}
    for entry in model.entries:
        key = _service_key(entry)
        if key is not None and entry.dep.before.reachable:
            out.setdefault(key, set()).update(entry.dep.candidates)
    return out


def _node_local(model: FailoverModel, entry: Entry) -> bool:
    """An SNAT of the router's own address (ovn-kubernetes' join IP SNAT): it serves only
    traffic from that chassis, which fails with it."""
    if entry.type != "snat" or not entry.logical_ip:
        return False
    router = model.topo.routers.get(entry.router_uuid)
    source, _, plen = entry.logical_ip.strip().partition("/")
    if plen not in ("", "32", "128"):
        return False
    return router is not None and any(source == ip for p in router.ports for ip in p.ips)


def single_points_of_failure(model: FailoverModel) -> list[SinglePoint]:
    """Reachable entries that exactly one chassis can carry and no other chassis takes over:
    one-member DGPs, gateway routers, distributed FIPs pinned to their port's chassis (rules
    2, 19, 21).  Egress SNAT of a source range and VIPs that another chassis also carries,
    SNAT of the router's own address, and router addresses alone do not make one."""
    carried = _carried_elsewhere(model)
    out = []
    for dep in model.deps:
        if not dep.before.reachable or len(dep.candidates) != 1 or not dep.entries:
            continue
        (chassis,) = tuple(dep.candidates)
        every = [model.entries[i] for i in dep.entries]
        unique = [e for e in every if e.type != "router-port" and not _node_local(model, e)
                  and not (carried.get(_service_key(e) or ("", ""), set()) - {chassis})]
        if not unique:
            continue
        keep = {id(e) for e in unique}
        entries = [e for e in every if id(e) in keep or e.type == "router-port"]
        n = len(entries)
        spared = len(every) - n
        also = (f"; {spared} more are carried by other chassis too or serve only this "
                "chassis" if spared else "")
        name = model.topo.hostname(chassis) or chassis
        if isinstance(dep, GatewaySet):
            total = len(dep.ballot.members)
            why = (f"DGP {dep.port} has a single member {name}" if total == 1 else
                   f"DGP {dep.port} has only one registered member, {name}")
            out.append(SinglePoint(dep.kind, chassis, entries[0].router, dep.port, entries,
                                   f"{why}: if it fails, {n} entries are lost (rule 19)"
                                   + also))
        elif isinstance(dep, GatewayRouterDep):
            out.append(SinglePoint(dep.kind, chassis, dep.router, None, entries,
                                   f"gateway router {dep.router} is pinned to {name}: if it "
                                   f"fails, {n} entries are lost (rule 2){also}"))
        elif isinstance(dep, PortChassis):
            routers = sorted({e.router for e in entries})
            out.append(SinglePoint(dep.kind, chassis, routers[0] if len(routers) == 1 else None,
                                   None, entries, f"{n} distributed FIP(s) handled only on "
                                   f"their port's chassis {name}: OVN does not move them "
                                   "(rule 21)"))
        else:
            out.append(SinglePoint(dep.kind, chassis, entries[0].router, dep.label, entries,
                                   f"{dep.label} can only be carried by {name}{also}"))
    out.sort(key=lambda s: (s.chassis, s.kind, s.router or "", s.port or ""))
    return out
