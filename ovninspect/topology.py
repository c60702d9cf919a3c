"""OVN objects built once from an NB Snapshot (and an optional SB): no I/O, no verdicts.

Routers with their ports, distributed gateway ports (DGPs) and gateway members, gateway
routers, NATs with their owning router, load balancers, switches and ports, DHCP_Options,
and from SB the chassis (names, hostnames, bridge mappings) and port bindings.  Switches,
switch ports and DHCP_Options are read lazily, on first use: a large NB has 100k switch
ports and most analyses need only a few.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from typing import AbstractSet, Any, Iterable, Iterator, Optional

from .addr import host_value, parse_ip
from .election import GatewayMember, elect_member, order_members
from .ovn_parse import Address, lrp_networks
from .ovn_version import OvnVersion, resolve
from .rules import OvnRules, rules_for
from .snapshot import Row, Snapshot
from .vocab import ChassisSource

# What the analyses read: used to check old schemas and to limit live reads.
NB_NEEDS: dict[str, list[str]] = {
    "Logical_Router": ["name", "ports", "nat", "options"],
    "Logical_Router_Port": ["name", "mac", "networks"],
    "NAT": ["type", "external_ip", "logical_ip"],
}
# The NB tables a Topology reads whole whatever is asked of it.
TOPOLOGY_READS = ("NB_Global", "Logical_Router", "Logical_Router_Port", "NAT",
                  "Gateway_Chassis", "HA_Chassis_Group", "HA_Chassis")
NB_LIVE_TABLES: dict[str, Optional[list[str]]] = {
    "NB_Global": ["options", "external_ids"],
    "Logical_Router": None, "Logical_Router_Port": None, "NAT": None,
    "Gateway_Chassis": None, "HA_Chassis_Group": None, "HA_Chassis": None,
    "Logical_Switch": ["name", "ports", "external_ids", "other_config", "load_balancer"],
    "Logical_Switch_Port": ["name", "type", "options", "addresses", "external_ids", "up",
                            "dynamic_addresses", "tag", "peer", "dhcpv4_options",
                            "dhcpv6_options"],
    "DHCP_Options": None,
    "Load_Balancer": None, "Load_Balancer_Group": None,
    "Logical_Router_Static_Route": None, "Logical_Router_Policy": None,
    "Address_Set": ["name"],
}
SB_LIVE_TABLES: dict[str, Optional[list[str]]] = {
    "Chassis": ["name", "hostname", "external_ids", "other_config"],
    "Port_Binding": ["logical_port", "type", "chassis", "options", "up", "ha_chassis_group"],
    "HA_Chassis_Group": None, "HA_Chassis": None,
    "Chassis_Private": ["name", "chassis"], "Advertised_Route": None,
}


@dataclass
class RouterPort:
    uuid: str
    name: str
    router_uuid: str
    router: str
    mac: str
    networks: tuple[str, ...]
    options: dict[str, str]
    external_ids: dict[str, str]
    status: dict[str, str]
    peer: Optional[str]
    gateway_chassis: list[GatewayMember] = field(default_factory=list)
    ha_group: Optional[str] = None              # HA_Chassis_Group name
    ha_members: list[GatewayMember] = field(default_factory=list)
    has_ha_group: bool = False
    is_dgp: bool = False
    not_dgp_reason: Optional[str] = None        # when it has gateway config but is not a DGP
    enabled: Optional[bool] = None              # LRP ``enabled`` (absent = enabled)

    @property
    def disabled(self) -> bool:
        """``enabled=false``: northd builds no admission flows for the port (dgp-disabled)."""
        return self.enabled is False

    @functools.cached_property
    def northd_networks(self) -> Optional[tuple[Address, ...]]:
        """The port's addresses as northd reads them (IPv6 link-local included); None
        when its ``mac`` does not parse."""
        return lrp_networks(self.mac, self.networks)

    @property
    def usable(self) -> bool:
        """northd keeps the port: its ``mac`` parses (rule 3).  ``networks`` need not give
        an address: northd always adds the IPv6 link-local one (and >= 25.03 allows
        ``networks=[]``)."""
        return self.northd_networks is not None

    @property
    def has_gateway_config(self) -> bool:
        return self.has_ha_group or bool(self.gateway_chassis)

    @property
    def gateway_source(self) -> Optional[str]:
        """Where the effective member list comes from (rule 17)."""
        if self.has_ha_group:
            return "ha_chassis_group"
        if self.gateway_chassis:
            return "gateway_chassis"
        if self.options.get("redirect-chassis"):
            return "redirect-chassis"
        return None

    @functools.cached_property
    def members(self) -> list[GatewayMember]:
        """Effective gateway members, highest priority first, ties to the greater name."""
        source = self.gateway_source
        if source == "ha_chassis_group":
            chosen = self.ha_members
        elif source == "gateway_chassis":
            chosen = self.gateway_chassis
        elif source == "redirect-chassis":
            chosen = [GatewayMember(self.options["redirect-chassis"], 0)]
        else:
            chosen = []
        return order_members(chosen)

    @property
    def cr_name(self) -> str:
        return f"cr-{self.name}"

    @property
    def ips(self) -> list[str]:
        return [n.split("/")[0] for n in self.networks if parse_ip(n)]


@dataclass(slots=True)
class Nat:
    uuid: str
    router_uuid: str
    router: str
    type: str
    external_ip: str
    logical_ip: str
    logical_port: Optional[str]
    external_mac: Optional[str]
    gateway_port_uuid: Optional[str]
    options: dict[str, str]
    external_ids: dict[str, str]
    allowed_ext_ips: Optional[str]
    exempted_ext_ips: Optional[str]
    ext: Optional[tuple[int, int]]      # external_ip as (version, value) if one address
    external_port_range: str = ""
    match: str = ""
    priority: int = 0


@dataclass
class LoadBalancer:
    uuid: str
    name: str
    vips: dict[str, str]
    protocol: Optional[str]
    options: dict[str, str]
    external_ids: dict[str, str]

    def vip_ips(self) -> list[str]:
        """VIP addresses without ports: ``10.0.0.1:80`` and ``[fd00::1]:80`` -> the IP."""
        out = []
        for vip in self.vips:
            if vip.startswith("["):
                out.append(vip[1:vip.index("]")] if "]" in vip else vip)
            elif vip.count(":") == 1:
                out.append(vip.split(":")[0])
            else:
                out.append(vip)
        return out


@dataclass
class Router:
    uuid: str
    name: str
    enabled: Optional[bool]
    options: dict[str, str]
    external_ids: dict[str, str]
    ports: list[RouterPort]
    nats: list[Nat]
    load_balancers: list[LoadBalancer]
    static_route_uuids: tuple[str, ...]
    policy_uuids: tuple[str, ...]
    dgps: list[RouterPort] = field(default_factory=list)

    @property
    def is_gateway_router(self) -> bool:
        """``options`` has the key ``chassis``, even with an empty value (rule 2)."""
        return "chassis" in self.options

    @property
    def gr_chassis(self) -> Optional[str]:
        return self.options.get("chassis") if self.is_gateway_router else None

    @property
    def disabled(self) -> bool:
        return self.enabled is False

    def port(self, name_or_uuid: str) -> Optional[RouterPort]:
        for port in self.ports:
            if name_or_uuid in (port.name, port.uuid):
                return port
        return None


@dataclass(slots=True)
class StaticRoute:
    uuid: str
    ip_prefix: str
    nexthop: str
    policy: str                  # dst-ip (default) | src-ip
    output_port: Optional[str]
    route_table: str
    external_ids: dict[str, str]


@dataclass(slots=True)
class RouterPolicy:
    uuid: str
    priority: int
    match: str
    action: str
    nexthops: list[str]          # ``nexthops``, or the older single ``nexthop``
    external_ids: dict[str, str]


@dataclass(slots=True)
class SwitchPort:
    uuid: str
    name: str
    type: str
    addresses: tuple[str, ...]
    options: dict[str, str]
    external_ids: dict[str, str]
    up: Optional[bool]
    switch: Optional[str]        # switch name
    switch_uuid: Optional[str]


@dataclass(slots=True)
class Switch:
    """One logical switch: its name, its port UUIDs (in the stored set's order) and the
    maps the analyses read (``other_config:subnet`` is OVN IPAM's subnet)."""

    uuid: str
    name: str
    port_uuids: tuple[str, ...]
    other_config: dict[str, str]
    external_ids: dict[str, str]


@dataclass(frozen=True, slots=True)
class DhcpOptions:
    """One DHCP_Options row: the subnet (``cidr``) it serves and its settings."""

    uuid: str
    cidr: str
    options: dict[str, str]
    external_ids: dict[str, str]


@dataclass(slots=True)
class Chassis:
    name: str
    hostname: str
    bridge_mappings: dict[str, str]
    other_config: dict[str, str]

    def maps(self, networks: Iterable[str]) -> list[str]:
        """The ``networks`` (localnet network_name) this chassis's bridge mappings carry
        (rule 20)."""
        return [n for n in networks if n in self.bridge_mappings]


@dataclass(slots=True)
class Binding:
    logical_port: str
    type: str
    chassis: Optional[str]       # chassis name (system-id)
    dangling: bool = False       # ``chassis`` references no Chassis row


def _nat_order(nat: Nat) -> tuple:
    return (nat.ext or (9, 0), nat.external_ip, nat.type, nat.logical_ip, nat.uuid)


def parse_bridge_mappings(text: str) -> dict[str, str]:
    """``physnet1:br-ex,physnet2:br-eth1`` -> {physnet1: br-ex, ...}."""
    out = {}
    for item in (text or "").split(","):
        net, sep, bridge = item.strip().partition(":")
        if sep and net:
            out[net] = bridge
    return out


class Topology:
    """The OVN vocabulary for one NB (+ optional SB) snapshot."""

    def __init__(self, nb: Snapshot, sb: Optional[Snapshot] = None,
                 ovn_version: Optional[str] = None) -> None:
        self.nb = nb
        self.sb = sb
        self.version: OvnVersion = resolve(nb, ovn_version)
        self.rules: OvnRules = rules_for(self.version)
        self.routers: dict[str, Router] = {}
        self.router_ports: dict[str, RouterPort] = {}
        self._nats: Optional[list[Nat]] = None   # every NAT in router order (``nats``)
        self.load_balancers: dict[str, LoadBalancer] = {}
        self._lsp_cache: dict[str, Optional[SwitchPort]] = {}
        self._lsp_rows: Optional[dict[str, Optional[Row]]] = None
        self._switch_of_port: Optional[dict[str, str]] = None
        self._router_lsp: Optional[dict[str, str]] = None  # LRP name -> peer LSP UUID
        self._router_lsp_rows: dict[str, dict] = {}   # the LSP rows that index was built from
        self._localnets: dict[str, list[SwitchPort]] = {}
        self.chassis: dict[str, Chassis] = {}
        self.hostnames: dict[str, str] = {}
        self._bindings: Optional[dict[str, Binding]] = None
        self._observed: dict[str, tuple[Optional[str], Optional[str]]] = {}
        self._deps: dict[str, set[str]] = {}          # row UUID -> routers built from it
        self._router_deps: dict[str, set[str]] = {}   # router UUID -> its rows
        self._special_lsps: Optional[set[str]] = None  # router/localnet/NAT-named ports
        self._special_switches: Optional[dict[str, set[str]]] = None  # per switch
        self._special_info: dict[str, tuple[str, str, Optional[str], Optional[str]]] = {}
        self._port_users: dict[str, set[str]] = {}    # NAT logical_port -> routers
        self._lrp_names: dict[str, str] = {}           # router port name -> UUID
        self.nat_changes: dict[str, set[str]] = {}    # refresh: routers whose NATs changed
        self._port_names: Counter[str] = Counter()  # NAT logical_port names (refresh)
        self._override = ovn_version
        self._tracking = False                        # refresh() will be called
        self.k8s: Optional[Any] = None                # k8s.model.Cluster from --k8s
        #: what analyses derived from this whole topology, shared by the answers of one
        #: run (e.g. every NAT's verdict); emptied by ``refresh``
        self.derived: dict[str, Any] = {}
        self._build_routers()
        if sb is not None:
            self._build_chassis()

    # -- NB -----------------------------------------------------------------------------
    _PORT_COLUMNS = ("networks", "options", "external_ids", "status", "peer",
                     "gateway_chassis", "ha_chassis_group", "enabled")

    def _members(self, uuids: Iterable[str], table: str) -> list[GatewayMember]:
        rows = self.nb.table(table).decoded_rows(("name", "chassis_name", "priority"))
        out = []
        for uuid in uuids:
            data = rows.get(uuid)
            if data is not None:
                name = data.get("name", "") if table == "Gateway_Chassis" else None
                out.append(GatewayMember(data.get("chassis_name", ""),
                                         int(data.get("priority", 0)), name))
        return out

    def _router_port(self, uuid: str, data: dict, router_uuid: str,
                     router_name: str) -> RouterPort:
        get = data.get
        port = RouterPort(
            uuid=uuid, name=get("name", ""), router_uuid=router_uuid, router=router_name,
            mac=get("mac", ""), networks=tuple(get("networks", ())), options=get("options", {}),
            external_ids=get("external_ids", {}), status=get("status") or {},
            peer=get("peer"), enabled=get("enabled"),
        )
        port.gateway_chassis = self._members(get("gateway_chassis", ()), "Gateway_Chassis")
        group_uuid = get("ha_chassis_group")
        if group_uuid:
            port.has_ha_group = True
            group = self.nb.table("HA_Chassis_Group").get(group_uuid)
            if group is not None:
                port.ha_group = group["name"]
                port.ha_members = self._members(group["ha_chassis"], "HA_Chassis")
        return port

    _LSP_COLUMNS = ("name", "type", "addresses", "options", "external_ids", "up")
    _NAT_COLUMNS = ("type", "external_ip", "logical_ip", "logical_port", "external_mac",
                    "gateway_port", "options", "external_ids", "allowed_ext_ips",
                    "exempted_ext_ips", "external_port_range", "match", "priority")

    def _build_nats(self, uuids: Iterable[str], rows: dict[str, dict], router_uuid: str,
                    router_name: str) -> list[Nat]:
        """The router's NATs from their decoded row data (the hot path of a large NB)."""
        out = []
        for uuid in uuids:
            data = rows.get(uuid)
            if data is None:
                continue
            get = data.get
            external_ip = get("external_ip", "")
            out.append(Nat(uuid, router_uuid, router_name, get("type", ""), external_ip,
                           get("logical_ip", ""), get("logical_port"), get("external_mac"),
                           get("gateway_port"), get("options") or {}, get("external_ids") or {},
                           get("allowed_ext_ips"), get("exempted_ext_ips"),
                           host_value(external_ip), get("external_port_range") or "",
                           get("match") or "", int(get("priority") or 0)))
        return out

    def _build_routers(self) -> None:
        for row in self.nb.table("Logical_Router"):
            self._build_router(row)
        self._order_routers()

    def _build_router(self, row: Row) -> Router:
        """One router with its ports, DGPs, NATs and load balancers; notes which rows it
        was built from (``refresh``)."""
        lrps = self.nb.table("Logical_Router_Port").decoded_rows(self._PORT_COLUMNS)
        nat_rows = self.nb.table("NAT").decoded_rows(self._NAT_COLUMNS)
        lbs = self.nb.table("Load_Balancer")
        lb_groups = self.nb.table("Load_Balancer_Group")
        track = self._tracking
        deps: set[str] = {row.uuid}
        ports = []
        name = row["name"]
        for uuid in sorted(row["ports"]):  # northd walks the set in UUID order
            pdata = lrps.get(uuid)
            if pdata is not None:
                port = self._router_port(uuid, pdata, row.uuid, name)
                ports.append(port)
                self.router_ports[port.uuid] = port
                if track:
                    self._lrp_names[port.name] = uuid
                    deps.add(uuid)
                    deps.update(pdata.get("gateway_chassis", ()))
                    group = self.nb.table("HA_Chassis_Group").get(
                        pdata.get("ha_chassis_group"))
                    if group is not None:
                        deps.add(group.uuid)
                        deps.update(group["ha_chassis"])
        lb_uuids = list(row.get("load_balancer", ()))
        for group_uuid in row.get("load_balancer_group", ()):
            deps.add(group_uuid)
            group = lb_groups.get(group_uuid)
            if group is not None:
                lb_uuids.extend(group["load_balancer"])
        router_lbs = [self._load_balancer(lbs.get(u)) for u in dict.fromkeys(lb_uuids)
                      if lbs.get(u) is not None]
        nat_uuids = row["nat"]
        static_routes = tuple(row.get("static_routes", ()))
        policies = tuple(row.get("policies", ()))
        router = Router(
            uuid=row.uuid, name=name, enabled=row.get("enabled"),
            options=row.get("options", {}), external_ids=row.get("external_ids", {}),
            ports=ports, nats=self._build_nats(nat_uuids, nat_rows, row.uuid, name),
            load_balancers=router_lbs, static_route_uuids=static_routes,
            policy_uuids=policies,
        )
        router.dgps = self._dgps(router)
        router.nats.sort(key=_nat_order)
        self.routers[router.uuid] = router
        if track:
            deps.update(lb_uuids, nat_uuids, static_routes, policies)
            for nat in router.nats:
                if nat.logical_port:
                    self._port_names[nat.logical_port] += 1
                    self._port_users.setdefault(nat.logical_port, set()).add(router.uuid)
            self._router_deps[router.uuid] = deps
            for uuid in deps:
                self._deps.setdefault(uuid, set()).add(router.uuid)
        return router

    def _order_routers(self) -> None:
        """A stable order whatever the source's row order (files and live selects
        differ); the NATs follow it."""
        self.routers = dict(sorted(self.routers.items(),
                                   key=lambda item: (item[1].name, item[0])))
        self._nats = None

    @property
    def nats(self) -> list[Nat]:
        """Every NAT, in router order (shared, do not modify)."""
        if self._nats is None:
            self._nats = [nat for router in self.routers.values() for nat in router.nats]
        return self._nats

    def _drop_router(self, uuid: str, keep_place: bool = False) -> None:
        """Forget router ``uuid`` and what was built from it; with ``keep_place`` its entry
        in ``routers`` stays, for a router built again to keep its place in their order."""
        router = self.routers.get(uuid) if keep_place else self.routers.pop(uuid, None)
        if router is not None:
            for nat in router.nats:
                if nat.logical_port:
                    self._port_names[nat.logical_port] -= 1
                    users = self._port_users.get(nat.logical_port)
                    if users is not None:
                        users.discard(uuid)
            for port in router.ports:
                self.router_ports.pop(port.uuid, None)
                self._observed.pop(port.uuid, None)
                if self._lrp_names.get(port.name) == port.uuid:
                    del self._lrp_names[port.name]
        for dep in self._router_deps.pop(uuid, ()):
            owners = self._deps.get(dep)
            if owners is not None:
                owners.discard(uuid)
                if not owners:
                    del self._deps[dep]

    def _load_balancer(self, row: Row) -> LoadBalancer:
        lb = self.load_balancers.get(row.uuid)
        if lb is None:
            lb = LoadBalancer(row.uuid, row.get("name", ""), row["vips"], row.get("protocol"),
                              row.get("options", {}), row.get("external_ids", {}))
            self.load_balancers[row.uuid] = lb
        return lb

    def _dgps(self, router: Router) -> list[RouterPort]:
        """The router's DGPs under the applicable release (rule 3)."""
        old_redirect = self.rules.redirect_chassis_dgp
        dgps = []
        for port in router.ports:
            configured = port.has_gateway_config or (
                old_redirect and bool(port.options.get("redirect-chassis")))
            if not configured:
                if port.options.get("redirect-chassis"):
                    port.not_dgp_reason = ("options:redirect-chassis is ignored since OVN "
                                           "20.12; set gateway_chassis or ha_chassis_group")
                continue
            if router.is_gateway_router:
                port.not_dgp_reason = "a gateway router cannot have distributed gateway ports"
                continue
            if not port.usable:
                port.not_dgp_reason = "its mac does not parse, so northd skips it"
                continue
            if dgps and self.rules.one_dgp_per_router:
                port.not_dgp_reason = (f"OVN before 21.09 allows one DGP per router; "
                                       f"{dgps[0].name} is the one")
                continue
            port.is_dgp = True
            dgps.append(port)
        return dgps

    # -- history: keeping up with transactions -------------------------------------------------
    _ROUTER_TABLES = ("NAT", "Logical_Router_Port", "Gateway_Chassis", "HA_Chassis",
                      "HA_Chassis_Group", "Load_Balancer", "Load_Balancer_Group",
                      "Logical_Router_Static_Route", "Logical_Router_Policy")
    _CACHED = ("switches", "switch_names", "dhcp_options", "_dhcp_of_switch",
               "nb_global_ids")

    def refresh(self, touched: dict[str, Optional[set[str]]],
                columns: Optional[dict[str, dict[str, frozenset[str]]]] = None
                ) -> Optional[set[str]]:
        """Catch up with one transaction that changed ``touched`` NB rows (table -> row
        UUIDs; None: any row of it), without rebuilding what it did not touch.  Returns
        the UUIDs of the routers rebuilt (None: everything was, e.g. NB_Global changed, so
        the OVN release and its rules may have).  Routers whose NATs alone changed (the
        ``columns`` the transaction wrote say so) only get their NAT list again:
        ``nat_changes`` maps them to the NAT UUIDs touched.  For history readers."""
        self.nat_changes = {}
        self.derived.clear()
        for name, uuids in touched.items():
            if self.nb.has_table(name):
                self.nb.table(name).changed(uuids)
        if "NB_Global" in touched or any(u is None for u in touched.values()):
            self.__init__(self.nb, self.sb, self._override)  # type: ignore[misc]
            self.track()
            return None
        written = (columns or {}).get("Logical_Router", {})
        nat_only: dict[str, set[str]] = {}
        affected: set[str] = set()
        for uuid in touched.get("Logical_Router") or ():
            if uuid in self.routers and written.get(uuid, frozenset({""})) <= {"nat"}:
                nat_only.setdefault(uuid, set())
            else:
                affected.add(uuid)
        for uuid in touched.get("NAT") or ():
            for router in self._deps.get(uuid, ()):
                nat_only.setdefault(router, set()).add(uuid)
        for name in self._ROUTER_TABLES[1:]:
            for uuid in touched.get(name) or ():
                affected |= self._deps.get(uuid, set())
        affected |= self._switch_side(touched)
        for uuid in set(nat_only) - affected:
            self._renat(uuid, touched.get("NAT") or set())
            self.nat_changes[uuid] = nat_only[uuid] | {
                n.uuid for n in self.routers[uuid].nats if n.uuid in (touched.get("NAT") or ())}
        if "Logical_Switch" in touched or "DHCP_Options" in touched:
            for name in self._CACHED:
                self.__dict__.pop(name, None)
        for uuid in touched.get("Load_Balancer") or ():
            self.load_balancers.pop(uuid, None)
        reorder = False
        for uuid in affected:
            old = self.routers.get(uuid)
            row = self.nb.table("Logical_Router").get(uuid)
            self._drop_router(uuid, keep_place=row is not None)
            if row is not None:   # built again in its old place, unless new or renamed
                name = self._build_router(row).name
                reorder |= old is None or name != old.name
        if reorder:
            self._order_routers()
        elif affected or self.nat_changes:
            self._nats = None
        self._special()    # what the next transaction is checked against
        return affected

    def _renat(self, uuid: str, nats: set[str]) -> None:
        """Rebuild only the NAT list of router ``uuid`` (its ports did not change)."""
        router = self.routers[uuid]
        row = self.nb.table("Logical_Router").get(uuid)
        assert row is not None
        old = {n.uuid for n in router.nats}
        for nat in router.nats:
            if nat.logical_port:
                self._port_names[nat.logical_port] -= 1
                self._port_users.get(nat.logical_port, set()).discard(uuid)
        rows = self.nb.table("NAT").decoded_rows(self._NAT_COLUMNS)
        router.nats = self._build_nats(row["nat"], rows, uuid, router.name)
        router.nats.sort(key=_nat_order)
        deps = self._router_deps[uuid]
        for gone in old - set(row["nat"]):
            deps.discard(gone)
            owners = self._deps.get(gone)
            if owners is not None:
                owners.discard(uuid)
                if not owners:
                    del self._deps[gone]
        for nat in router.nats:
            deps.add(nat.uuid)
            self._deps.setdefault(nat.uuid, set()).add(uuid)
            if nat.logical_port:
                self._port_names[nat.logical_port] += 1
                self._port_users.setdefault(nat.logical_port, set()).add(uuid)

    def track(self) -> None:
        """Get ready for ``refresh``: note which rows each router is built from and which
        switch ports verdicts depend on, before the next transaction changes or deletes
        them (the routers are built again, and the switch ports scanned once)."""
        if not self._tracking:
            self._tracking = True
            self.derived.clear()     # derived from the routers about to be built again
            self.routers.clear()
            self.router_ports.clear()
            self._build_routers()
        self._special()

    def _switch_side(self, touched: dict[str, Optional[set[str]]]) -> set[str]:
        """Keep the switch-side caches true after a transaction and say which routers a
        change of them concerns: ports a NAT names, router ports (a DGP's peer), localnet
        ports (rule 13, bridge mappings) and the switches holding them.  A pod added
        beside them changes nothing."""
        lsps = touched.get("Logical_Switch_Port") or set()
        switches = touched.get("Logical_Switch") or set()
        special, by_switch = self._special()
        info = self._special_info
        table = self.nb.table("Logical_Switch_Port")
        value = table.value
        owner = self.switch_of_port
        ls_table = self.nb.table("Logical_Switch")
        out: set[str] = set()
        moved: set[str] = set()           # switches whose special ports changed
        localnet_on: set[str] = set()     # switches whose localnet ports changed
        for uuid in switches:             # keep switch_of_port true for every port
            row = ls_table.get(uuid)
            for port in row["ports"] if row is not None else ():
                owner[port] = uuid
            now = {p for p in row["ports"] if p in special} if row is not None else set()
            if now != by_switch.get(uuid, set()):
                moved.add(uuid)
        # ports newly named by a NAT (the NAT's own router is rebuilt anyway)
        names = {port for uuid in touched.get("NAT") or ()
                 if (port := self._nat_port(uuid)) and self._port_names[port] <= 0}
        for name in names:
            found = table.find("name", name)
            if found is not None:
                lsps = lsps | {found.uuid}
        for uuid in lsps:
            old = info.get(uuid)
            data = table.rows.get(uuid)
            new = self._port_info(uuid, data, value) if data is not None else None
            if new is not None and not (new[1] in ("router", "localnet") or new[0] in names
                                        or self._port_names[new[0]] > 0):
                new = None                # an ordinary port
            if old == new:
                continue
            for entry in (old, new):
                if entry is None:
                    continue
                name, kind, router_port, switch = entry
                out |= self._port_users.get(name, set())
                self._lsp_cache.pop(name, None)
                if self._lsp_rows is not None:
                    self._lsp_rows.pop(name, None)
                if kind == "router" and router_port:
                    out |= self._routers_of_port_name(router_port)
                    if self._router_lsp is not None:
                        if entry is old and self._router_lsp.get(router_port) == uuid:
                            del self._router_lsp[router_port]
                        elif entry is new:
                            self._router_lsp.setdefault(router_port, uuid)
                if switch:
                    moved.add(switch)
                    if kind == "localnet":
                        localnet_on.add(switch)
            if new is None:
                special.discard(uuid)
                info.pop(uuid, None)
            else:
                special.add(uuid)
                info[uuid] = new
        for switch in moved:
            row = ls_table.get(switch)
            members = {p for p in row["ports"] if p in special} if row is not None else set()
            before = by_switch.get(switch, set())
            if members:
                by_switch[switch] = members
            else:
                by_switch.pop(switch, None)
            changed = members ^ before
            localnet = switch in localnet_on
            for port in changed:
                entry = info.get(port)
                if entry is None:
                    continue
                if port in members and entry[3] != switch:     # it moved here
                    info[port] = entry = (*entry[:3], switch)
                name, kind, router_port, _ = entry
                out |= self._port_users.get(name, set())
                if kind == "router" and router_port:
                    out |= self._routers_of_port_name(router_port)
                localnet = localnet or kind == "localnet"
            if localnet:   # every router peered on the switch, and FIP ports there
                self._localnets.pop(switch, None)
                for port in members | before:
                    entry = info.get(port)
                    if entry is None:
                        continue
                    if entry[1] == "router" and entry[2]:
                        out |= self._routers_of_port_name(entry[2])
                    out |= self._port_users.get(entry[0], set())
        return out

    def _nat_port(self, uuid: str) -> Optional[str]:
        data = self.nb.table("NAT").rows.get(uuid)
        port = data.get("logical_port") if data is not None else None
        return port if isinstance(port, str) and port else None

    def _port_info(self, uuid: str, data: dict, value: Any
                   ) -> tuple[str, str, Optional[str], Optional[str]]:
        """(name, type, options:router-port, switch) of a switch port."""
        options = value(uuid, data, "options", {}) or {}
        return (value(uuid, data, "name", ""), value(uuid, data, "type", ""),
                options.get("router-port"), self.switch_of_port.get(uuid))

    def _routers_of_port_name(self, name: str) -> set[str]:
        port = self.router_ports.get(self._lrp_names.get(name, ""))
        return {port.router_uuid} if port is not None else set()

    def _special(self) -> tuple[set[str], dict[str, set[str]]]:
        """Switch ports that can change a verdict (router and localnet ports, ports a NAT
        names) and, per switch, those it holds; one scan, kept up to date by refresh."""
        if self._special_lsps is None or self._special_switches is None:
            table = self.nb.table("Logical_Switch_Port")
            value, names = table.value, self._port_names
            info = {}
            for uuid, data in table.rows.items():
                entry = self._port_info(uuid, data, value)
                if entry[1] in ("router", "localnet") or names[entry[0]] > 0:
                    info[uuid] = entry
            by_switch: dict[str, set[str]] = {}
            for uuid, entry in info.items():
                if entry[3]:
                    by_switch.setdefault(entry[3], set()).add(uuid)
            self._special_info = info
            self._special_lsps, self._special_switches = set(info), by_switch
        return self._special_lsps, self._special_switches

    # -- lookups --------------------------------------------------------------------------
    def iter_routers(self) -> Iterator[Router]:
        return iter(self.routers.values())

    def find_routers(self, name_or_uuid: str) -> list[Router]:
        """Routers whose name or UUID (or UUID prefix of 4+ chars) matches."""
        exact = [r for r in self.routers.values() if name_or_uuid in (r.name, r.uuid)]
        if exact:
            return exact
        if len(name_or_uuid) >= 4:
            return [r for r in self.routers.values() if r.uuid.startswith(name_or_uuid)]
        return []

    def router_of(self, nat: Nat) -> Router:
        return self.routers[nat.router_uuid]

    def _index_switches(self) -> None:
        owner: dict[str, str] = {}
        for sw in self.nb.table("Logical_Switch"):
            for uuid in sw["ports"]:
                owner[uuid] = sw.uuid
        self._switch_of_port = owner

    def _switch_port(self, row: Row) -> SwitchPort:
        if self._switch_of_port is None:
            self._index_switches()
        assert self._switch_of_port is not None
        sw_uuid = self._switch_of_port.get(row.uuid)
        sw = self.nb.table("Logical_Switch").get(sw_uuid) if sw_uuid else None
        return SwitchPort(row.uuid, row["name"], row.get("type", ""),
                          tuple(row.get("addresses", ())), row.get("options", {}),
                          row.get("external_ids", {}), row.get("up"),
                          sw["name"] if sw is not None else None, sw_uuid)

    def _lsp_row(self, name: Optional[str]) -> Optional[Row]:
        """The switch port row named ``name``.  The first lookup fetches every port a NAT
        names in one go: a large table is searched, not parsed (sources/table_slice)."""
        if not name:
            return None
        rows = self._lsp_rows
        if rows is None:
            wanted = {nat.logical_port for nat in self.nats if nat.logical_port}
            wanted.add(name)
            rows = self._lsp_rows = self.nb.table("Logical_Switch_Port").find_many(
                "name", sorted(wanted))
        if name not in rows:
            rows[name] = self.nb.table("Logical_Switch_Port").find("name", name)
        return rows[name]

    def lsp_exists(self, name: Optional[str]) -> bool:
        """True when a logical switch port has this name (cheaper than ``lsp``)."""
        if not name:
            return False
        if self._lsp_rows is not None and name in self._lsp_rows:
            return self._lsp_rows[name] is not None
        return self.nb.table("Logical_Switch_Port").has_value("name", name)

    def lsp_option(self, name: Optional[str], key: str) -> Optional[str]:
        """One ``options`` value of the named switch port (None when absent)."""
        row = self._lsp_row(name)
        return None if row is None else row.get("options", {}).get(key)

    def lsp(self, name: Optional[str]) -> Optional[SwitchPort]:
        """The logical switch port with this name, or None."""
        if not name:
            return None
        if name in self._lsp_cache:
            return self._lsp_cache[name]
        row = self._lsp_row(name)
        port = self._switch_port(row) if row is not None else None
        self._lsp_cache[name] = port
        return port

    def switch_ports(self, switch_uuid: str) -> list[SwitchPort]:
        sw = self.nb.table("Logical_Switch").get(switch_uuid)
        lsps = self.nb.table("Logical_Switch_Port")
        out = []
        for uuid in sw["ports"] if sw is not None else ():
            row = lsps.get(uuid)
            if row is not None:
                out.append(self._switch_port(row))
        return out

    def peer_switch_port(self, port: RouterPort) -> Optional[SwitchPort]:
        """The router-type LSP whose ``options:router-port`` names this LRP."""
        lsps = self.nb.table("Logical_Switch_Port")
        if self._router_lsp is None:
            index: dict[str, str] = {}
            value = lsps.value
            # only the rows naming a router port are read (a large NB has 100k ports)
            found = self._router_lsp_rows = lsps.rows_with_string("router-port")
            for uuid, data in found.items():
                if value(uuid, data, "type", "") == "router":
                    target = value(uuid, data, "options", {}).get("router-port")
                    if target:
                        index.setdefault(target, uuid)
            self._router_lsp = index
        uuid = self._router_lsp.get(port.name)
        if not uuid:
            return None
        if lsps.is_loaded:   # (a history replay changes rows: read the table's own)
            row = lsps.get(uuid)
        else:
            data = self._router_lsp_rows.get(uuid)
            row = Row(lsps, uuid, data) if data is not None else None
        return self._switch_port(row) if row is not None else None

    def localnets(self, switch_uuid: Optional[str]) -> list[SwitchPort]:
        """The switch's localnet ports (in port order)."""
        if not switch_uuid:
            return []
        cached = self._localnets.get(switch_uuid)
        if cached is None:
            # the type from the row data first: a SwitchPort for every port of every
            # switch costs seconds at 100k ports
            sw = self.nb.table("Logical_Switch").get(switch_uuid)
            lsps = self.nb.table("Logical_Switch_Port")
            rows, value = lsps.rows_with_string("localnet"), lsps.value
            cached = []
            for uuid in sw["ports"] if sw is not None else ():
                data = rows.get(uuid)
                if data is not None and value(uuid, data, "type", "") == "localnet":
                    cached.append(self._switch_port(Row(lsps, uuid, data)))
            self._localnets[switch_uuid] = cached
        return cached

    # -- switches, all of them (built on first use: a large NB has 100k switch ports) ---
    @functools.cached_property
    def switches(self) -> dict[str, Switch]:
        """Every logical switch by UUID, in the snapshot's row order."""
        out: dict[str, Switch] = {}
        for row in self.nb.table("Logical_Switch"):
            out[row.uuid] = Switch(row.uuid, row["name"], tuple(row["ports"]),
                                   row.get("other_config", {}) or {},
                                   row.get("external_ids", {}) or {})
        return out

    def iter_switches(self) -> Iterator[Switch]:
        """Every logical switch, in the snapshot's row order."""
        return iter(self.switches.values())

    def switch(self, switch_uuid: Optional[str]) -> Optional[Switch]:
        """The logical switch with this UUID, or None."""
        return self.switches.get(switch_uuid) if switch_uuid else None

    @functools.cached_property
    def switch_names(self) -> dict[str, str]:
        """Logical switch UUID -> name."""
        return {uuid: sw.name for uuid, sw in self.switches.items()}

    @property
    def switch_of_port(self) -> dict[str, str]:
        """Logical_Switch_Port UUID -> the UUID of the switch listing it in ``ports``
        (shared, do not modify)."""
        if self._switch_of_port is None:
            self._index_switches()
        assert self._switch_of_port is not None
        return self._switch_of_port

    def iter_switch_ports(self, skip_types: AbstractSet[str] = frozenset()
                          ) -> Iterator[SwitchPort]:
        """Every logical switch port whose ``type`` is not in ``skip_types``, in row order.

        Built straight from the row data with one switch index, not cached: the way to
        scan all of a large NB's ports (``lsp()`` and ``switch_ports()`` are per-port).
        """
        table = self.nb.table("Logical_Switch_Port")
        owner = self.switch_of_port
        names = self.switch_names
        rows = table.decoded_rows(self._LSP_COLUMNS)
        # what an omitted column reads as (Table.value); maps get a fresh dict each
        value = table.value
        no_type, no_name, no_up = (value("", {}, c, d) for c, d in (("type", ""), ("name", None),
                                                                     ("up", None)))
        no_addresses = tuple(value("", {}, "addresses", ()))
        for uuid, data in rows.items():
            get = data.get
            port_type = get("type", no_type)
            if port_type in skip_types:
                continue
            sw_uuid = owner.get(uuid)
            addresses = get("addresses")
            options = get("options")
            external_ids = get("external_ids")
            yield SwitchPort(uuid, get("name", no_name), port_type,
                             no_addresses if addresses is None else tuple(addresses),
                             {} if options is None else options,
                             {} if external_ids is None else external_ids,
                             get("up", no_up),
                             names.get(sw_uuid) if sw_uuid else None, sw_uuid)

    # -- DHCP_Options ---------------------------------------------------------------------
    @functools.cached_property
    def dhcp_options(self) -> dict[str, DhcpOptions]:
        """Every DHCP_Options row by UUID (empty when the snapshot has no such table, e.g.
        a live read that did not fetch it)."""
        out: dict[str, DhcpOptions] = {}
        if not self.nb.has_table("DHCP_Options"):
            return out
        for row in self.nb.table("DHCP_Options"):
            out[row.uuid] = DhcpOptions(row.uuid, row.get("cidr") or "",
                                        row.get("options", {}) or {},
                                        row.get("external_ids", {}) or {})
        return out

    @functools.cached_property
    def _dhcp_of_switch(self) -> dict[str, set[str]]:
        """Switch UUID -> the DHCP_Options UUIDs tagged
        ``external_ids:ls=<switch name>`` or referenced by the switch's ports'
        ``dhcpv4_options``/``dhcpv6_options``.  Skips the port scan without DHCP rows."""
        out: dict[str, set[str]] = {}
        dhcp = self.dhcp_options
        if not dhcp:
            return out
        by_name = {name: uuid for uuid, name in self.switch_names.items()}
        for row in dhcp.values():
            sw = by_name.get(row.external_ids.get("ls", ""))
            if sw:
                out.setdefault(sw, set()).add(row.uuid)
        owner = self.switch_of_port
        table = self.nb.table("Logical_Switch_Port")
        value = table.value
        for uuid, data in table.rows.items():
            sw = owner.get(uuid)
            if not sw:
                continue
            for col in ("dhcpv4_options", "dhcpv6_options"):
                ref = value(uuid, data, col)
                if ref:
                    out.setdefault(sw, set()).add(ref)
        return out

    def switch_dhcp_options(self, switch_uuid: Optional[str]) -> list[DhcpOptions]:
        """The DHCP_Options rows of a switch, in UUID order (the same for a file and a live
        read): those tagged ``external_ids:ls=<its name>`` (Kube-OVN) and those its ports
        reference (``dhcpv4_options``/``dhcpv6_options``), each once; references to
        missing rows are dropped."""
        dhcp = self.dhcp_options
        return [dhcp[uuid] for uuid in sorted(self._dhcp_of_switch.get(switch_uuid or "", ()))
                if uuid in dhcp]

    def external_networks(self, port: RouterPort) -> list[str]:
        """``network_name`` of the localnet ports on the DGP's peer switch."""
        peer = self.peer_switch_port(port)
        if peer is None:
            return []
        return [ln.options.get("network_name", "") for ln in self.localnets(peer.switch_uuid)
                if ln.options.get("network_name")]

    def static_routes(self, router: Router) -> list[StaticRoute]:
        table = self.nb.table("Logical_Router_Static_Route")
        out = []
        for uuid in router.static_route_uuids:
            row = table.get(uuid)
            if row is not None:
                out.append(StaticRoute(uuid, row["ip_prefix"], row["nexthop"],
                                       row.get("policy") or "dst-ip", row.get("output_port"),
                                       row.get("route_table", "") or "",
                                       row.get("external_ids", {}) or {}))
        return out

    def policies(self, router: Router) -> list[RouterPolicy]:
        table = self.nb.table("Logical_Router_Policy")
        out = []
        for uuid in router.policy_uuids:
            row = table.get(uuid)
            if row is not None:
                hops = list(row.get("nexthops", ()) or ())
                if not hops and row.get("nexthop"):
                    hops = [row["nexthop"]]
                out.append(RouterPolicy(uuid, int(row["priority"]), row["match"], row["action"],
                                        hops, row.get("external_ids", {}) or {}))
        return out

    @functools.cached_property
    def nb_global_ids(self) -> dict[str, str]:
        """NB_Global external_ids (CMS markers such as kube-ovn-version)."""
        for row in self.nb.table("NB_Global"):
            return row.get("external_ids", {}) or {}
        return {}

    # -- SB -------------------------------------------------------------------------------
    def _build_chassis(self) -> None:
        assert self.sb is not None
        for row in self.sb.table("Chassis"):
            other = row.get("other_config", {}) or {}
            ext = row.get("external_ids", {}) or {}
            mappings = other.get("ovn-bridge-mappings") or ext.get("ovn-bridge-mappings", "")
            ch = Chassis(row["name"], row.get("hostname", "") or "",
                         parse_bridge_mappings(mappings), other)
            self.chassis[ch.name] = ch
            if ch.hostname:
                self.hostnames.setdefault(ch.hostname, ch.name)

    @property
    def has_sb(self) -> bool:
        return self.sb is not None

    def _index_bindings(self) -> dict[str, Binding]:
        if self._bindings is None:
            out: dict[str, Binding] = {}
            if self.sb is not None:
                chassis_names = {r.uuid: r["name"] for r in self.sb.table("Chassis")}
                for row in self.sb.table("Port_Binding"):
                    ch = row.get("chassis")
                    name = chassis_names.get(ch) if ch else None
                    out[row["logical_port"]] = Binding(row["logical_port"], row.get("type", ""),
                                                       name, bool(ch) and name is None)
            self._bindings = out
        return self._bindings

    def binding(self, logical_port: str) -> Optional[Binding]:
        return self._index_bindings().get(logical_port)

    def bindings(self) -> Iterable[Binding]:
        """Every SB Port_Binding (none without SB)."""
        return self._index_bindings().values()

    def bound_behind(self, router: Router) -> list[str]:
        """Workload ports on the switches attached to ``router`` that SB binds to a chassis
        (what northd's ref_chassis is made from)."""
        out = []
        for port in router.ports:
            peer = self.peer_switch_port(port)
            if peer is None or peer.switch_uuid is None:
                continue
            for lsp in self.switch_ports(peer.switch_uuid):
                if lsp.type in ("", "virtual", "external"):
                    binding = self.binding(lsp.name)
                    if binding is not None and binding.chassis:
                        out.append(lsp.name)
        return sorted(set(out))

    def chassis_name(self, name_or_hostname: str) -> Optional[str]:
        """Resolve a chassis name or hostname to the chassis name (SB needed for hostnames)."""
        if name_or_hostname in self.chassis:
            return name_or_hostname
        return self.hostnames.get(name_or_hostname)

    def hostname(self, chassis: Optional[str]) -> Optional[str]:
        ch = self.chassis.get(chassis or "")
        return ch.hostname or None if ch else None

    def _sb_cr_group(self, port: RouterPort) -> Optional[Row]:
        """The SB HA_Chassis_Group row of ``cr-<port>``'s binding, if SB has one."""
        sb = self.sb
        if sb is None or not sb.has_table("HA_Chassis_Group"):
            return None
        pb = sb.table("Port_Binding").find("logical_port", port.cr_name)
        return sb.table("HA_Chassis_Group").get(pb.get("ha_chassis_group")) if pb else None

    def sb_ha_group(self, port: RouterPort) -> Optional[tuple[str, list[tuple[str, int, bool]]]]:
        """The SB HA_Chassis_Group northd wrote for ``cr-<port>``: its name and members as
        (chassis name, priority, registered) (§2.1); None without SB data."""
        group = self._sb_cr_group(port)
        if group is None:
            return None
        assert self.sb is not None
        chassis_tbl, ha_tbl = self.sb.table("Chassis"), self.sb.table("HA_Chassis")
        members = []
        for uuid in group["ha_chassis"]:
            ha = ha_tbl.get(uuid)
            if ha is None:
                continue
            ch = chassis_tbl.get(ha.get("chassis"))
            name = ch["name"] if ch is not None else (ha.get("external_ids") or {}).get(
                "chassis-name", "")
            members.append((name, int(ha["priority"]), ch is not None))
        return group["name"], members

    def sb_ref_chassis(self, port: RouterPort) -> Optional[frozenset[str]]:
        """The ``ref_chassis`` of the SB HA_Chassis_Group of ``cr-<port>`` (chassis
        names): a lone surviving gateway takes over only with BFD to one of them
        (ovn-changes §1.2).  None without SB data or without such a group."""
        group = self._sb_cr_group(port)
        if group is None:
            return None
        assert self.sb is not None
        chassis_tbl = self.sb.table("Chassis")
        names = set()
        for uuid in group.get("ref_chassis", ()) or ():
            ch = chassis_tbl.get(uuid)
            if ch is not None:
                names.add(ch["name"])
        return frozenset(names)

    def observed_active(self, port: RouterPort) -> tuple[Optional[str], Optional[str]]:
        """(chassis, source) holding ``cr-<port>`` at snapshot time (rule 24)."""
        cached = self._observed.get(port.uuid)
        if cached is None:
            cached = self._observed[port.uuid] = self._find_observed(port)
        return cached

    def _find_observed(self, port: RouterPort) -> tuple[Optional[str], Optional[str]]:
        if self.sb is not None:
            binding = self.binding(port.cr_name)
            if binding is not None and binding.chassis:
                return binding.chassis, ChassisSource.SB
        hosting = port.status.get("hosting-chassis")
        if hosting:
            return hosting, ChassisSource.NB_STATUS
        return None, None


def predicted_active(port: RouterPort, down: AbstractSet[str] = frozenset(),
                     registered: Optional[AbstractSet[str]] = None) -> Optional[GatewayMember]:
    """The gateway member of ``port`` predicted to hold its cr port (rules 18-19)."""
    return elect_member(port.members, down, registered)


def first_value(value: Any) -> Any:
    """The first entry of a comma list (``requested-chassis`` may list several)."""
    if not value:
        return None
    return str(value).split(",")[0].strip() or None
