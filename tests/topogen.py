"""Random router topologies for the northd oracle, and the comparison with ovninspect.

A topology is a list of :class:`RouterSpec` (one router each, with its DGPs, switches and
NATs); :func:`build_commands` turns it into one ``ovn-nbctl`` transaction.  The choices
live in plain tables (:data:`NAT_CHOICES`, :data:`ROUTER_KINDS`) so that hypothesis
(``tests/test_nat_oracle.py``) and the seeded sweep (``scripts/oracle_sweep.py``) draw from
the same space.  Each NAT row carries ``external_ids:ovninspect-spec`` naming its choices,
so a disagreement can be put in its class.

The space covers the classes of issue #10 / ovn-changes §3: ``external_ip`` spellings
(prefixes, spaces, leading zeros, octet overflow, trailing junk, two addresses), the
``/32`` on several DGPs, DGPs with ``networks=[]`` (>= 25.03) or unparsable networks,
``logical_ip`` and ``external_mac`` spellings, ``NAT.match`` (>= 24.09), plus everything
the earlier generator had (gateway routers, HA groups, disabled routers, DGPs without a
localnet, gateway_port choices, allowed/exempted addresses, stateless).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields
from typing import AbstractSet, Optional

from hypothesis import strategies as st

from ovninspect.analysis.placement import DISTRIBUTED, INACTIVE, classify_all
from ovninspect.topology import Topology
from tests.oracle import OracleVerdict


@dataclass(frozen=True)
class NatSpec:
    type: str
    ext: str        # see NAT_CHOICES
    logical: str
    port: str       # none | pod | ghost | empty
    mac: str
    gw_port: str    # none | dgp0 | dgp1 | internal | foreign
    ext_ips: str    # none | allowed | both
    stateless: bool
    match: str      # none | src  (NAT.match, when the schema has it)

    def label(self) -> str:
        return "|".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


@dataclass(frozen=True)
class RouterSpec:
    kind: str
    nats: tuple[NatSpec, ...]


#: Each NatSpec field and its values (repeats weight the common cases).
NAT_CHOICES: dict[str, list] = {
    "type": ["snat", "dnat", "dnat_and_snat", "dnat_and_snat"],
    "ext": ["in-dgp0", "in-dgp0", "in-dgp0", "in-dgp1", "off-link", "v6", "junk", "host32",
            "prefix24", "v6-128", "v6-64", "lead-space", "trail-space", "lead-zero",
            "octet-300", "two-addrs", "comma"],
    "logical": ["host", "host", "host", "cidr", "other-family", "bad", "host32",
                "lead-zero"],
    "port": ["none", "pod", "pod", "ghost", "empty"],
    "mac": ["none", "good", "good", "bad", "upper", "short", "trail-space"],
    "gw_port": ["none", "none", "none", "dgp0", "dgp1", "internal", "foreign"],
    "ext_ips": ["none", "none", "none", "allowed", "both"],
    "stateless": [False, True],
    "match": ["none", "none", "none", "src"],
}
#: Router kinds: plain (no DGP), gc / hcg / gc-and-hcg (one DGP on Gateway_Chassis, an HA
#: group, or both), two-dgp, gr (gateway router), disabled, gc-no-localnet (rule 13),
#: bad-networks (a DGP whose networks do not parse), empty-networks (networks=[], >= 25.03).
ROUTER_KINDS = ["plain", "gc", "gc", "hcg", "two-dgp", "two-dgp", "gr", "disabled",
                "gc-no-localnet", "gc-and-hcg", "bad-networks", "empty-networks"]


def nat_strategy() -> st.SearchStrategy[NatSpec]:
    return st.builds(NatSpec, **{k: st.sampled_from(v) for k, v in NAT_CHOICES.items()})


def router_strategy(kinds: list[str] = ROUTER_KINDS) -> st.SearchStrategy[RouterSpec]:
    return st.builds(RouterSpec, kind=st.sampled_from(kinds),
                     nats=st.lists(nat_strategy(), min_size=1, max_size=5).map(tuple))


def random_topology(rng: random.Random, kinds: list[str] = ROUTER_KINDS,
                    routers: tuple[int, int] = (5, 8)) -> list[RouterSpec]:
    """The same space as the strategies, drawn with a seeded RNG (for sweeps)."""
    out = []
    for _ in range(rng.randint(*routers)):
        nats = tuple(NatSpec(**{k: rng.choice(v) for k, v in NAT_CHOICES.items()})
                     for _ in range(rng.randint(1, 5)))
        out.append(RouterSpec(rng.choice(kinds), nats))
    return out


def kinds_for(release: tuple[int, int, int]) -> list[str]:
    """Router kinds a release's schema accepts (``networks=[]`` needs NB 7.11, 25.03)."""
    return [k for k in ROUTER_KINDS if k != "empty-networks" or release >= (25, 3, 0)]


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_commands(routers: list[RouterSpec], nat_columns: AbstractSet[str] = frozenset()
                   ) -> list[str]:
    """ovn-nbctl commands (one transaction) that create these routers.  ``nat_columns``
    are the NAT columns of the served schema (``match`` is used only when present)."""
    cmds: list[list[str]] = []
    for i, spec in enumerate(routers):
        r, n = f"r{i}", i + 1
        dgps = {"plain": 0, "gr": 1, "two-dgp": 2}.get(spec.kind, 1)
        ports = [f"@{r}int"]
        cmds += [["ls-add", f"{r}-int"],
                 ["--id=@" + r + "int", "create", "Logical_Router_Port", f"name={r}-int",
                  f"mac={_q(f'00:00:00:{n:02x}:00:01')}",
                  f"networks=[{_q(f'192.168.{n}.1/24')},{_q(f'fd10:{n}::1/64')}]"],
                 ["lsp-add", f"{r}-int", f"{r}-int-rp"],
                 ["lsp-set-type", f"{r}-int-rp", "router"],
                 ["lsp-set-addresses", f"{r}-int-rp", "router"],
                 ["lsp-set-options", f"{r}-int-rp", f"router-port={r}-int"]]
        for k in range(3):
            cmds += [["lsp-add", f"{r}-int", f"{r}-pod{k}"],
                     ["lsp-set-addresses", f"{r}-pod{k}",
                      f"00:00:00:{n:02x}:01:{k:02x} 192.168.{n}.{100 + k}"]]
        for d in range(max(dgps, 1)):
            lrp, sw = f"{r}-ext{d}", f"{r}-ext{d}-sw"
            gcs, hcg = [], None
            if spec.kind not in ("plain", "gr", "hcg"):
                for c, prio in (("ch1", 20), ("ch2", 10)):
                    cmds.append([f"--id=@{r}gc{d}{c}", "create", "Gateway_Chassis",
                                 f"name={lrp}-{c}", f"chassis_name={c}", f"priority={prio}"])
                    gcs.append(f"@{r}gc{d}{c}")
            if spec.kind in ("hcg", "gc-and-hcg"):
                cmds += [[f"--id=@{r}hc{d}", "create", "HA_Chassis", "chassis_name=ch3",
                          "priority=30"],
                         [f"--id=@{r}hg{d}", "create", "HA_Chassis_Group", f"name={lrp}-grp",
                          f"ha_chassis=[@{r}hc{d}]"]]
                hcg = f"@{r}hg{d}"
            if spec.kind == "plain":
                continue
            networks = {"bad-networks": [_q("not-a-network")], "empty-networks": []}.get(
                spec.kind, [_q(f"10.{n}.{d + 1}.1/24"), _q(f"fd00:{n}:{d + 1}::1/64")])
            col = [f"name={lrp}", f"mac={_q(f'00:00:00:{n:02x}:1{d}:01')}",
                   f"networks=[{','.join(networks)}]"]
            if gcs:
                col.append(f"gateway_chassis=[{','.join(gcs)}]")
            if hcg:
                col.append(f"ha_chassis_group={hcg}")
            cmds += [[f"--id=@{r}d{d}", "create", "Logical_Router_Port", *col],
                     ["ls-add", sw],
                     ["lsp-add", sw, f"{sw}-rp"], ["lsp-set-type", f"{sw}-rp", "router"],
                     ["lsp-set-addresses", f"{sw}-rp", "router"],
                     ["lsp-set-options", f"{sw}-rp", f"router-port={lrp}"]]
            if spec.kind != "gc-no-localnet":
                cmds += [["lsp-add", sw, f"{sw}-ln"], ["lsp-set-type", f"{sw}-ln", "localnet"],
                         ["lsp-set-addresses", f"{sw}-ln", "unknown"],
                         ["lsp-set-options", f"{sw}-ln", "network_name=physnet1"]]
            ports.append(f"@{r}d{d}")
        router_cols = [f"name={r}", f"ports=[{','.join(ports)}]"]
        if spec.kind == "gr":
            router_cols.append("options:chassis=ch1")
        if spec.kind == "disabled":
            router_cols.append("enabled=false")
        nat_ids = []
        for j, nat in enumerate(spec.nats):
            nat_id = f"@{r}n{j}"
            cmds += _nat_commands(nat, spec.kind, r, n, j, nat_id, dgps, nat_columns)
            nat_ids.append(nat_id)
        router_cols.append(f"nat=[{','.join(nat_ids)}]")
        cmds.append([f"--id=@{r}", "create", "Logical_Router", *router_cols])
    flat: list[str] = []
    for cmd in cmds:
        if flat:
            flat.append("--")
        flat.extend(cmd)
    return flat


def _external_ip(nat: NatSpec, n: int, j: int) -> str:
    host = 10 + j
    return {
        "in-dgp0": f"10.{n}.1.{host}", "in-dgp1": f"10.{n}.2.{host}",
        "off-link": f"198.18.{n}.{host}", "junk": f"10.{n}.1.{host}.7",
        "v6": f"fd00:{n}:1::{host:x}", "host32": f"10.{n}.1.{host}/32",
        "prefix24": f"10.{n}.1.{host}/24", "v6-128": f"fd00:{n}:1::{host:x}/128",
        "v6-64": f"fd00:{n}:1::{host:x}/64", "lead-space": f" 10.{n}.1.{host}",
        "trail-space": f"10.{n}.1.{host} ", "lead-zero": f"010.{n}.1.{host}",
        "octet-300": f"10.{n}.1.{host + 290}", "two-addrs": f"10.{n}.1.{host} 10.{n}.1.99",
        "comma": f"10.{n}.1.{host},10.{n}.1.99",
    }[nat.ext]


def _nat_commands(nat: NatSpec, kind: str, r: str, n: int, j: int, nat_id: str, dgps: int,
                  nat_columns: AbstractSet[str]) -> list[list[str]]:
    ext = _external_ip(nat, n, j)
    v6 = nat.ext.startswith("v6")
    if nat.logical == "host":
        logical = f"fd10:{n}::{100 + j:x}" if v6 else f"192.168.{n}.{100 + j}"
    elif nat.logical == "cidr":
        logical = f"fd10:{n}::/64" if v6 else f"192.168.{n}.0/24"
    elif nat.logical == "other-family":
        logical = f"192.168.{n}.{100 + j}" if v6 else f"fd10:{n}::{100 + j:x}"
    elif nat.logical == "host32":
        logical = f"fd10:{n}::{100 + j:x}/128" if v6 else f"192.168.{n}.{100 + j}/32"
    elif nat.logical == "lead-zero":
        logical = f"fd10:{n}::{100 + j:x}" if v6 else f"192.168.{n}.0{100 + j}"
    else:
        logical = "not-an-ip"
    cols = [f"type={nat.type}", f"external_ip={_q(ext)}", f"logical_ip={_q(logical)}",
            f"external_ids:ovninspect-spec={_q(f'kind={kind}|' + nat.label())}"]
    port = {"none": None, "pod": f"{r}-pod{j % 3}", "ghost": f"{r}-ghost", "empty": ""}[nat.port]
    if port is not None:
        cols.append(f"logical_port={_q(port)}")
    mac = {"none": None, "good": f"0a:00:00:{n:02x}:02:{j:02x}", "bad": "zz:00",
           "upper": f"0A:00:00:{n:02X}:02:{j:02X}", "short": f"a:0:0:{n:x}:2:{j:x}",
           "trail-space": f"0a:00:00:{n:02x}:02:{j:02x} "}[nat.mac]
    if mac is not None:
        cols.append(f"external_mac={_q(mac)}")
    gw = {"none": None, "dgp0": f"@{r}d0", "dgp1": f"@{r}d1" if dgps > 1 else None,
          "internal": f"@{r}int", "foreign": f"@r{max(0, int(r[1:]) - 1)}int"
          if r != "r0" else None}[nat.gw_port]
    if gw is not None and (nat.gw_port != "dgp0" or dgps > 0):
        cols.append(f"gateway_port={gw}")
    cmds: list[list[str]] = []
    if nat.ext_ips != "none":
        cmds.append([f"--id={nat_id}a", "create", "Address_Set", f"name={r}_{j}_a",
                     f"addresses={_q('10.99.0.1')}"])
        cols.append(f"allowed_ext_ips={nat_id}a")
        if nat.ext_ips == "both":
            cmds.append([f"--id={nat_id}e", "create", "Address_Set", f"name={r}_{j}_e",
                         f"addresses={_q('10.99.0.2')}"])
            cols.append(f"exempted_ext_ips={nat_id}e")
    if nat.stateless:
        cols.append("options:stateless=true")
    if nat.match == "src" and "match" in nat_columns:
        src = f"fd10:{n}::/64" if v6 else f"192.168.{n}.0/24"
        cols.append(f"match={_q(f'ip{6 if v6 else 4}.src == {src}')}")
        cols.append("priority=10")
    cmds.append([f"--id={nat_id}", "create", "NAT", *cols])
    return cmds


# -- comparing with northd ----------------------------------------------------------------
@dataclass(frozen=True)
class Disagreement:
    """One NAT where ovninspect and northd's flows differ."""

    label: str            # router, type, external_ip, uuid prefix
    ovninspect: str       # mode, e.g. "centralized via r0-ext0"
    northd: str           # the oracle's summary
    reason: str           # ovninspect's reason
    spec: str             # external_ids:ovninspect-spec ("" for rows not generated)

    def __str__(self) -> str:
        return (f"{self.label}: ovninspect {self.ovninspect} ({self.reason}) but northd: "
                f"{self.northd}" + (f" [{self.spec}]" if self.spec else ""))

    @property
    def cls(self) -> str:
        """The class a sweep counts: the row's kind, type and external_ip spelling plus
        the two verdicts."""
        parts = dict(p.split("=", 1) for p in self.spec.split("|") if "=" in p)
        shape = " ".join(f"{k}={parts[k]}" for k in ("kind", "type", "ext", "logical", "mac")
                         if k in parts)
        return f"{shape}: {self.ovninspect.split()[0]} -> {self.northd.split()[0]}"


def disagreements(topo: Topology, oracle: dict[str, OracleVerdict]) -> list[Disagreement]:
    """Every NAT where the analysis and northd's flows differ (semantics §7 rules 2-16):

        distributed  <=> flows gated on is_chassis_resident(<logical_port>)
        centralized  <=> flows gated on is_chassis_resident("cr-<gateway_port>"), or a
                         gateway router (no gating)
        inactive     <=> no NAT flows at all
    """
    out = []
    for v in classify_all(topo):
        o: Optional[OracleVerdict] = oracle.get(v.nat.uuid)
        label = f"{v.nat.router} {v.nat.type} {v.nat.external_ip!r} ({v.nat.uuid[:8]})"
        spec = v.nat.external_ids.get("ovninspect-spec", "")
        mine = f"{v.mode} via {v.gateway_port.name if v.gateway_port else None}"
        if o is None:
            out.append(Disagreement(label, mine, "no verdict", v.reason, spec))
            continue
        if v.mode == INACTIVE:
            ok = o.verdict == "no-nat-flows"
        elif v.mode == DISTRIBUTED:
            ok = o.verdict == "distributed" and o.resident_port == v.nat.logical_port
        elif topo.router_of(v.nat).is_gateway_router:
            ok = o.verdict == "centralized" and o.gateway_router
        else:
            assert v.gateway_port is not None
            ok = o.verdict == "centralized" and o.resident_port == v.gateway_port.cr_name
        if not ok:
            out.append(Disagreement(label, mine, o.summary(), v.reason, spec))
    return out
