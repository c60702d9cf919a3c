"""One NB with many small routers, one NAT shape each, traced with the build's ovn-trace.

Used by tests/test_datapath_trace.py (assertions) and scripts/trace_evidence.py (the raw
material of tests/evidence/nat-external-ip.md).  Every router ``<name>`` is independent:

* ``<name>-in``: internal switch, LRP ``<name>-int`` 192.168.1.1/24 fd01::1/64, VMs
  ``<name>-vm1`` (192.168.1.100, fd01::100) and ``<name>-vm2`` (.101, fd01::101);
* ``<name>-ext``: external switch with localnet ``<name>-ln`` (``network_name=physnet1``),
  DGP ``<name>-ext0`` 10.1.1.1/24 fd00:1::1/64 with Gateway_Chassis ``gw1`` (no such
  chassis needs to exist); default routes via 10.1.1.254 / fd00:1::fe, whose MACs are SB
  ``MAC_Binding`` rows (as ARP would have learned them, so ``get_arp`` resolves them);
* shape ``two-dgp``: a second DGP ``<name>-ext1`` 10.2.2.1/24 fd00:2::1/64 (``gw2``) on
  ``<name>-ext1sw`` with localnet ``<name>-ln1``; no ``gateway_port`` unless the case says;
* shape ``no-networks`` (NB schema >= 7.11, OVN >= 25.03): the DGP has a MAC and
  ``networks=[]``; the default route names the port (``lr-route-add ... <name>-ext0``).

Routers may share addresses: they are separate datapaths.  Flows that are identical on
several routers are stored once with a ``Logical_DP_Group``; :func:`observe` expands them.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from tests.oracle import _select, sync_northd
from tests.ovnlab import OvnLab
from tests.ovntrace import TraceDaemon, TraceResult, ip_microflow

#: The four stages whose flows implement a NAT (docs/lab-notes.md §3).
NAT_STAGES = ("lr_in_unsnat", "lr_in_dnat", "lr_out_undnat", "lr_out_snat")
OUTSIDE4, OUTSIDE6 = "8.8.8.8", "2001:db8::8"
PEER_MAC = "00:00:00:00:ff:01"
NEXTHOP_LL = "fe80::fe"  # the next hop of a ``no-networks`` router (link-local only)  # the outside host sending inbound packets / ARP requests
KINDS = {  # short name -> (NAT.type, distributed columns?)
    "fipc": ("dnat_and_snat", False),
    "fipd": ("dnat_and_snat", True),
    "snat": ("snat", False),
    "dnat": ("dnat", False),
}


@dataclass(frozen=True)
class NatSpec:
    """One NAT row: ``kind`` is fipc (dnat_and_snat, centralized), fipd (dnat_and_snat with
    logical_port=vm1 and external_mac), snat (logical_ip = the internal /24 or /64) or dnat."""

    kind: str
    external_ip: str
    logical_ip: Optional[str] = None      # default: vm1's address, or the subnet for snat
    vm: str = "vm1"
    gateway_port: Optional[str] = None    # "ext0" / "ext1": sets NAT.gateway_port
    mac_style: str = "plain"              # how external_mac is spelled: see MAC_STYLES


@dataclass(frozen=True)
class Case:
    """A router of one ``shape`` (``one-dgp``, ``two-dgp``, ``no-networks``) with its NATs,
    and what to trace: inbound IP packets and ARP/ND requests to ``targets`` (entering
    the external switch named by the target's subnet), outbound packets from ``sources``
    (VM names) to the outside."""

    name: str
    group: str
    nats: Tuple[NatSpec, ...]
    shape: str = "one-dgp"
    targets: Tuple[str, ...] = ()
    sources: Tuple[str, ...] = ("vm1", "vm2")
    min_series: str = "23.03"

    @property
    def v6(self) -> bool:
        return ":" in self.nats[0].external_ip


def mac(i: int, kind: int, last: int) -> str:
    """A MAC unique to router ``i``: 00:00:<kind>:<i hi>:<i lo>:<last>."""
    return f"00:00:{kind:02x}:{i // 256:02x}:{i % 256:02x}:{last:02x}"


def router_mac(i: int, port: str = "ext0") -> str:
    return mac(i, {"int": 1, "ext0": 3, "ext1": 6}[port], 1)


def vm_mac(i: int, vm: str) -> str:
    return mac(i, 2, 0x64 if vm == "vm1" else 0x65)


def ext_mac(i: int, j: int = 0) -> str:
    """external_mac of the ``j``-th NAT of router ``i`` (the MAC on the wire)."""
    return mac(i, 5, 0xAA + j)


#: Spellings of the same external_mac that OVS's eth_addr_from_string accepts.
MAC_STYLES: Dict[str, Callable[[str], str]] = {
    "plain": lambda m: m,
    "upper": str.upper,
    "short": lambda m: ":".join(f"{int(o, 16):x}" for o in m.split(":")),
    "lead-space": lambda m: " " + m,
    "hex0x": lambda m: "0x" + m,
}


def nexthop_mac(i: int) -> str:
    return mac(i, 4, 0xFE)


def vm_ip(vm: str, v6: bool) -> str:
    host = "100" if vm == "vm1" else "101"
    return f"fd01::{host}" if v6 else f"192.168.1.{host}"


def first_address(text: str) -> Optional[str]:
    """The address an ``extract_ip_addresses``-style scan finds first, as OVS's
    ``ip_parse_masked_len`` reads it: leading blanks skipped, octets decimal ``%hhu``
    (``010`` is 10, ``300`` wraps to 44), the rest ignored.  None when nothing parses."""
    m = re.match(r"\s*(\d+)\.(\d+)\.(\d+)\.(\d+)", text)
    if m:
        return ".".join(str(int(o) % 256) for o in m.groups())
    m = re.match(r"\s*([0-9A-Fa-f:.]+)", text)
    if m:
        try:
            return str(ipaddress.IPv6Address(m.group(1)))
        except ValueError:
            return None
    return None


# --------------------------------------------------------------------------------------
# NB construction
# --------------------------------------------------------------------------------------
def _lsp_router(ls: str, lsp: str, lrp: str) -> List[str]:
    return ["--", "lsp-add", ls, lsp, "--", "lsp-set-type", lsp, "router",
            "--", "lsp-set-addresses", lsp, "router",
            "--", "lsp-set-options", lsp, f"router-port={lrp}"]


def _localnet(ls: str, lsp: str) -> List[str]:
    return ["--", "lsp-add", ls, lsp, "--", "lsp-set-type", lsp, "localnet",
            "--", "lsp-set-addresses", lsp, "unknown",
            "--", "lsp-set-options", lsp, "network_name=physnet1"]


def router_commands(case: Case, i: int) -> List[str]:
    """ovn-nbctl commands (each led by ``--``) that build ``case`` as router number ``i``."""
    r = case.name
    c: List[str] = ["--", "lr-add", r, "--", "ls-add", f"{r}-in", "--", "ls-add", f"{r}-ext"]
    c += ["--", "lrp-add", r, f"{r}-int", router_mac(i, "int"), "192.168.1.1/24", "fd01::1/64"]
    c += _lsp_router(f"{r}-in", f"{r}-in-r", f"{r}-int")
    for vm in ("vm1", "vm2"):
        c += ["--", "lsp-add", f"{r}-in", f"{r}-{vm}", "--", "lsp-set-addresses", f"{r}-{vm}",
              f"{vm_mac(i, vm)} {vm_ip(vm, False)} {vm_ip(vm, True)}"]
    if case.shape == "no-networks":
        c += ["--", f"--id=@p{i}", "create", "Logical_Router_Port", f"name={r}-ext0",
              f'mac="{router_mac(i)}"', "networks=[]",
              "--", "add", "Logical_Router", r, "ports", f"@p{i}"]
    else:
        c += ["--", "lrp-add", r, f"{r}-ext0", router_mac(i), "10.1.1.1/24", "fd00:1::1/64"]
    c += ["--", "lrp-set-gateway-chassis", f"{r}-ext0", "gw1", "10"]
    c += _lsp_router(f"{r}-ext", f"{r}-ext-r", f"{r}-ext0") + _localnet(f"{r}-ext", f"{r}-ln")
    if case.shape == "two-dgp":
        c += ["--", "ls-add", f"{r}-ext1sw",
              "--", "lrp-add", r, f"{r}-ext1", router_mac(i, "ext1"), "10.2.2.1/24", "fd00:2::1/64",
              "--", "lrp-set-gateway-chassis", f"{r}-ext1", "gw2", "10"]
        c += _lsp_router(f"{r}-ext1sw", f"{r}-ext1-r", f"{r}-ext1")
        c += _localnet(f"{r}-ext1sw", f"{r}-ln1")
    if case.shape == "no-networks":
        # no IPv4/IPv6 network to reach a next hop in: route through the port's
        # link-local address to a link-local next hop (IPv4 via IPv6 next hop)
        c += ["--", "lr-route-add", r, "0.0.0.0/0", NEXTHOP_LL, f"{r}-ext0",
              "--", "lr-route-add", r, "::/0", NEXTHOP_LL, f"{r}-ext0"]
    else:
        c += ["--", "lr-route-add", r, "0.0.0.0/0", "10.1.1.254",
              "--", "lr-route-add", r, "::/0", "fd00:1::fe"]
    for j, nat in enumerate(case.nats):
        ntype, distributed = KINDS[nat.kind]
        v6 = ":" in nat.external_ip
        lip = nat.logical_ip or (("fd01::/64" if v6 else "192.168.1.0/24") if nat.kind == "snat"
                                 else vm_ip(nat.vm, v6))
        nid = f"@n{i}x{j}"
        cols = [f"type={ntype}", f"external_ip={json.dumps(nat.external_ip)}",
                f"logical_ip={json.dumps(lip)}"]
        if distributed:
            spelled = MAC_STYLES[nat.mac_style](ext_mac(i, j))
            cols += [f'logical_port="{r}-{nat.vm}"', f'external_mac="{spelled}"']
        pre: List[str] = []
        if nat.gateway_port:
            gid = f"@g{i}x{j}"
            pre = ["--", f"--id={gid}", "get", "Logical_Router_Port", f"{r}-{nat.gateway_port}"]
            cols.append(f"gateway_port={gid}")
        c += pre + ["--", f"--id={nid}", "create", "NAT", *cols,
                    "--", "add", "Logical_Router", r, "nat", nid]
    return c


def build(lab: OvnLab, cases: Sequence[Case], timeout: float = 60) -> None:
    """Create every case in the lab's NB (one transaction), wait for northd, then give
    each router's next hops SB MAC_Binding rows."""
    cmds: List[str] = []
    for i, case in enumerate(cases):
        cmds += router_commands(case, i)
    lab.nbctl(*cmds[1:], timeout=int(timeout))
    sync_northd(lab, timeout)
    dps = _select(lab, "sb", [("Datapath_Binding", [], ["_uuid", "external_ids"])])[0]
    uuid_of = {dict(row[1][1]).get("name"): row[0][1] for row in dps["data"]}
    mb: List[str] = []
    for i, case in enumerate(cases):
        dp = uuid_of[case.name]
        for ip in ("10.1.1.254", "fd00:1::fe", NEXTHOP_LL):
            mb += ["--", "create", "MAC_Binding", f"logical_port={case.name}-ext0",
                   f'ip="{ip}"', f'mac="{nexthop_mac(i)}"', f"datapath={dp}"]
    lab.sbctl(*mb[1:], timeout=int(timeout))


# --------------------------------------------------------------------------------------
# Observation
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LFlow:
    """One SB logical flow as seen on one datapath; ``rejected`` is ovn-trace's reason
    when it skipped the flow (match or actions did not parse), else None."""

    datapath: str
    stage: str
    priority: int
    match: str
    actions: str
    rejected: Optional[str] = None

    @property
    def residents(self) -> List[str]:
        return re.findall(r'is_chassis_resident\("([^"]*)"\)', self.match)


@dataclass
class Observed:
    """What northd built for one case and what ovn-trace did with it.  ``traces`` keys:
    ``in <addr>`` (IP packet from the outside), ``arp <addr>`` (ARP request, or for IPv6
    a neighbour solicitation from the next hop's global address), ``nsll <addr>`` (the
    solicitation from ``fe80::1``), ``out <vm>`` (packet from a VM to the outside)."""

    case: Case
    index: int
    flows: List[LFlow] = field(default_factory=list)
    traces: Dict[str, TraceResult] = field(default_factory=dict)

    def nat_flows(self, stage: Optional[str] = None) -> List[LFlow]:
        stages = (stage,) if stage else NAT_STAGES
        return [f for f in self.flows if f.stage in stages and f.datapath == self.case.name]

    def gating(self) -> Dict[str, List[str]]:
        """NAT stage -> sorted resident ports gating its flows (``-`` for none)."""
        out: Dict[str, set] = {}
        for f in self.nat_flows():
            out.setdefault(f.stage, set()).update(f.residents or ["-"])
        return {k: sorted(v) for k, v in sorted(out.items())}

    def placement(self) -> str:
        """``none``, ``centralized`` (every NAT flow gated on one ``cr-`` port),
        ``distributed`` (only lr_out_snat gated, on a VM port) or ``other``."""
        g = self.gating()
        if not g:
            return "none"
        ports = {p for v in g.values() for p in v}
        if len(ports) == 1 and next(iter(ports)).startswith("cr-"):
            return "centralized"
        if g.get("lr_out_snat") and all(p != "-" and not p.startswith("cr-")
                                        for p in g["lr_out_snat"]) and all(
                v == ["-"] for k, v in g.items() if k != "lr_out_snat"):
            return "distributed"
        return "other"

    def rejected_stages(self) -> List[str]:
        """NAT stages that have at least one flow ovn-trace skipped."""
        return sorted({f.stage for f in self.nat_flows() if f.rejected})

    def arp_flows(self) -> List[LFlow]:
        """The router's ARP/ND responder flows for the NAT (lr_in_ip_input)."""
        return [f for f in self.flows if f.stage == "lr_in_ip_input" and f.datapath ==
                self.case.name and re.search(r"arp\.tpa|nd\.target", f.match)]


def _as_list(v: Any) -> List[str]:
    if isinstance(v, list) and v and v[0] == "set":
        return [x[1] for x in v[1]]
    if isinstance(v, list) and v and v[0] == "uuid":
        return [v[1]]
    return []


def observe(lab: OvnLab, cases: Sequence[Case], daemon: TraceDaemon) -> Dict[str, Observed]:
    """Collect each case's flows (by NAT stage-hint, expanded over datapath groups; plus
    the external switches' flows that name a NAT address or MAC) and run its traces."""
    nb = _select(lab, "nb", [("NAT", [], ["_uuid", "external_ip", "external_mac"]),
                             ("Logical_Router", [], ["name", "nat"])])
    nat_rows = {row[0][1]: (row[1], row[2]) for row in nb[0]["data"]}
    hints = {u[:8] for u in nat_rows}
    cols = ["logical_datapath", "logical_dp_group", "priority", "match", "actions",
            "external_ids"]
    sb = _select(lab, "sb", [("Datapath_Binding", [], ["_uuid", "external_ids"]),
                             ("Logical_DP_Group", [], ["_uuid", "datapaths"]),
                             ("Logical_Flow", [], cols)])
    dp_name = {row[0][1]: dict(row[1][1]).get("name") for row in sb[0]["data"]}
    groups = {row[0][1]: [dp_name[d] for d in _as_list(row[1])] for row in sb[1]["data"]}
    rejected: Dict[Tuple[str, str], str] = {(u.what, u.text): u.error for u in daemon.unparsed}
    by_dp: Dict[str, List[LFlow]] = {}
    for ldp, grp, prio, match, actions, eids in sb[2]["data"]:
        e = dict(eids[1])
        names = [dp_name[ldp[1]]] if _as_list(ldp) else groups.get(_as_list(grp)[0], [])
        why = rejected.get(("match", match)) or rejected.get(("actions", actions))
        hinted = e.get("stage-hint") in hints
        for n in names:
            if hinted or (n or "").endswith(("-ext", "-ext1sw")):
                by_dp.setdefault(n, []).append(
                    LFlow(n, e.get("stage-name", ""), prio, match, actions, why))
    out: Dict[str, Observed] = {}
    for i, case in enumerate(cases):
        obs = Observed(case, i)
        obs.flows = list(by_dp.get(case.name, []))
        keys = _switch_keys(case, i)
        for sw in (f"{case.name}-ext", f"{case.name}-ext1sw"):
            obs.flows += [f for f in by_dp.get(sw, []) if any(k in f.match for k in keys)]
        _trace_case(obs, daemon)
        out[case.name] = obs
    return out


def _switch_keys(case: Case, i: int) -> List[str]:
    """Text that marks an external-switch flow as belonging to the case's NATs."""
    keys = []
    for j, nat in enumerate(case.nats):
        keys.append(f"== {nat.external_ip.strip()}")
        first = first_address(nat.external_ip)
        if first:
            keys.append(f"== {first}")
        if KINDS[nat.kind][1]:
            keys.append(ext_mac(i, j))
    return keys


def _ext_side(case: Case, addr: str) -> Tuple[str, str, str]:
    """(switch, localnet port, router port MAC name) where a packet to ``addr`` enters."""
    r = case.name
    if addr.startswith(("10.2.2.", "fd00:2:")):
        return f"{r}-ext1sw", f"{r}-ln1", "ext1"
    return f"{r}-ext", f"{r}-ln", "ext0"


def arp_microflow(inport: str, eth_src: str, spa: str, tpa: str) -> str:
    """An ARP request (or, for an IPv6 ``tpa``, a neighbour solicitation) for ``tpa``."""
    if ":" in tpa:
        t = ipaddress.IPv6Address(tpa).packed
        sn = "ff02::1:ff" + f"{t[13]:02x}:{t[14]:02x}{t[15]:02x}"
        sn_mac = f"33:33:ff:{t[13]:02x}:{t[14]:02x}:{t[15]:02x}"
        return (f'inport == "{inport}" && eth.src == {eth_src} && eth.dst == {sn_mac} && '
                f"ip6.src == {spa} && ip6.dst == {sn} && nd_ns && nd.target == {tpa} && "
                f"nd.sll == {eth_src} && ip.ttl == 255 && icmp6.code == 0")
    return (f'inport == "{inport}" && eth.src == {eth_src} && eth.dst == ff:ff:ff:ff:ff:ff && '
            f"arp.op == 1 && arp.sha == {eth_src} && arp.spa == {spa} && "
            f"arp.tha == 00:00:00:00:00:00 && arp.tpa == {tpa}")


def _trace_case(obs: Observed, daemon: TraceDaemon) -> None:
    case, i = obs.case, obs.index
    r = case.name
    fip_macs = {j: ext_mac(i, j) for j, n in enumerate(case.nats) if KINDS[n.kind][1]}
    for addr in case.targets:
        sw, ln, port = _ext_side(case, addr)
        v6 = ":" in addr
        # a distributed FIP is reached at its external_mac (what its ARP reply announces)
        dst_mac = router_mac(i, port)
        for j, nat in enumerate(case.nats):
            if j in fip_macs and first_address(nat.external_ip) == addr:
                dst_mac = fip_macs[j]
        obs.traces[f"in {addr}"] = daemon.trace(sw, ip_microflow(
            ln, PEER_MAC, dst_mac, OUTSIDE6 if v6 else OUTSIDE4, addr))
        spa = ("fd00:2::fe" if addr.startswith("fd00:2:") else "fd00:1::fe") if v6 else (
            "10.2.2.254" if addr.startswith("10.2.2.") else "10.1.1.254")
        obs.traces[f"arp {addr}"] = daemon.trace(sw, arp_microflow(ln, PEER_MAC, spa, addr))
        if v6:  # the same solicitation from a link-local source
            obs.traces[f"nsll {addr}"] = daemon.trace(
                sw, arp_microflow(ln, PEER_MAC, "fe80::1", addr))
    for vm in case.sources:
        v6 = case.v6
        obs.traces[f"out {vm}"] = daemon.trace(f"{r}-in", ip_microflow(
            f"{r}-{vm}", vm_mac(i, vm), router_mac(i, "int"), vm_ip(vm, v6),
            OUTSIDE6 if v6 else OUTSIDE4))


# --------------------------------------------------------------------------------------
# The cases of tests/evidence/nat-external-ip.md
# --------------------------------------------------------------------------------------
#: external_ip spellings (tag -> text) tried with every kind on a one-DGP router.
SPELLINGS: Dict[str, str] = {
    "plain": "10.1.1.10",
    "m32": "10.1.1.10/32",
    "m24": "10.1.1.10/24",
    "v6": "fd00:1::10",
    "v6m128": "fd00:1::10/128",
    "v6m64": "fd00:1::10/64",
    "lsp": " 10.1.1.10",
    "tsp": "10.1.1.10 ",
    "lz": "010.1.1.10",
    "ovf": "10.1.1.300",
    "junk": "10.1.1.10.7",
    "two": "10.1.1.10 10.1.1.11",
    "comma": "10.1.1.10,10.1.1.11",
}
#: spellings tried on a router with two DGPs and no gateway_port (tag -> (text, gateway_port)).
TWO_DGP: Dict[str, Tuple[str, Optional[str]]] = {
    "plain": ("10.1.1.10", None),
    "ext1": ("10.2.2.10", None),
    "m32": ("10.1.1.10/32", None),
    "m32gw": ("10.1.1.10/32", "ext0"),
    "v6m128": ("fd00:1::10/128", None),
    "lsp": (" 10.1.1.10", None),
    "tsp": ("10.1.1.10 ", None),
}


def _targets(text: str) -> Tuple[str, ...]:
    """Where to send inbound packets / ARP requests for an external_ip spelling: its first
    address, another address of its /24 or /64 (.99), and any second address it names."""
    first = first_address(text) or "10.1.1.10"
    if ":" in first:
        return (first, "fd00:1::99")
    net = first.rsplit(".", 1)[0]
    extra = [a for a in ("10.1.1.11",) if a in text]
    return tuple(dict.fromkeys([first, *extra, f"{net}.99"]))


def all_cases() -> List[Case]:
    """Every router of the evidence lab (filter with :func:`cases_for`)."""
    out: List[Case] = []
    for tag, text in SPELLINGS.items():
        for kind in KINDS:
            out.append(Case(f"{tag}_{kind}", "spelling", (NatSpec(kind, text),),
                            targets=_targets(text)))
    for tag, (text, gw) in TWO_DGP.items():
        for kind in ("fipc", "fipd", "snat"):
            out.append(Case(f"d2{tag}_{kind}", "two-dgp",
                            (NatSpec(kind, text, gateway_port=gw),), shape="two-dgp",
                            targets=_targets(text)[:1]))
    for style in MAC_STYLES:
        if style != "plain":
            out.append(Case(f"mac{style.replace('-', '')}_fipd", "mac",
                            (NatSpec("fipd", "10.1.1.10", mac_style=style),),
                            targets=("10.1.1.10",)))
    for kind in KINDS:
        out.append(Case(f"nn_{kind}", "no-networks", (NatSpec(kind, "10.1.1.10"),),
                        shape="no-networks", targets=("10.1.1.10",), min_series="25.03"))
    for kind in KINDS:
        lip = "192.168.1.100/32"
        out.append(Case(f"li32_{kind}", "logical-ip", (NatSpec(kind, "10.1.1.10", lip),),
                        targets=("10.1.1.10",)))
    for kind in ("fipc", "fipd"):
        out.append(Case(f"li128_{kind}", "logical-ip",
                        (NatSpec(kind, "fd00:1::10", "fd01::100/128"),), targets=("fd00:1::10",)))
    out.append(Case("ov_fipc", "overlap", (NatSpec("fipc", "10.1.1.10/24"),
                                           NatSpec("fipc", "10.1.1.12", vm="vm2")),
                    targets=("10.1.1.12", "10.1.1.10", "10.1.1.99")))
    return out


def cases_for(series: str) -> List[Case]:
    """The cases a build of ``series`` (``23.03``...) can load."""
    key = tuple(int(x) for x in series.split("."))
    return [c for c in all_cases() if tuple(int(x) for x in c.min_series.split(".")) <= key]
