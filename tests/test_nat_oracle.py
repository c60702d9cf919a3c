"""``ovninspect nat`` against ovn-northd itself: the logical flows are the ground truth.

For every fixture NB and for random topologies (hypothesis), northd 23.03 runs on the NB,
the oracle (tests/oracle.py) reads which port gates each NAT's flows, and the placement
analysis must agree (semantics §7 rules 2-16):

    distributed  <=> flows gated on is_chassis_resident(<logical_port>)
    centralized  <=> flows gated on is_chassis_resident("cr-<gateway_port>"), or a gateway
                     router (no gating)
    inactive     <=> no NAT flows at all
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ovninspect.analysis.placement import CENTRALIZED, DISTRIBUTED, INACTIVE, classify_all
from ovninspect.sources import open_snapshot
from ovninspect.topology import Topology
from tests.oracle import OracleVerdict, clear_nb, oracle_from_lab, run_northd_oracle, stop_lab
from tests.ovnlab import OvnLab

pytestmark = pytest.mark.ovn
ROOT = Path(__file__).resolve().parent.parent
NORTHD_RELEASE = "23.03.1"  # Debian bookworm's ovn-northd, the oracle's version


def disagreement(topo: Topology, oracle: dict[str, OracleVerdict]) -> list[str]:
    """Every NAT where the analysis and northd's flows differ, as readable lines."""
    problems = []
    for v in classify_all(topo):
        o = oracle.get(v.nat.uuid)
        label = f"{v.nat.router} {v.nat.type} {v.nat.external_ip} ({v.nat.uuid[:8]})"
        if o is None:
            problems.append(f"{label}: oracle has no verdict")
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
            problems.append(f"{label}: ovninspect {v.mode} via "
                            f"{v.gateway_port.name if v.gateway_port else None} "
                            f"({v.reason}) but northd: {o.summary()}")
    return problems


def fixture_nbs() -> list[Path]:
    """One NB database file per fixture scenario."""
    out = []
    for scenario in sorted((ROOT / "fixtures").iterdir()):
        for name in ("nb.db", "nb-compacted.db"):
            if (scenario / name).is_file():
                out.append(scenario / name)
                break
    return out


@pytest.mark.parametrize("nb_file", fixture_nbs(), ids=lambda p: p.parent.name)
def test_fixture_verdicts_match_northd(nb_file: Path) -> None:
    oracle = run_northd_oracle(nb_file)
    topo = Topology(open_snapshot(str(nb_file)), ovn_version=NORTHD_RELEASE)
    assert topo.nats, "fixture has NATs"
    assert disagreement(topo, oracle) == []


# -- random topologies ------------------------------------------------------------------


@dataclass(frozen=True)
class NatSpec:
    type: str
    ext: str        # in-dgp0 | in-dgp1 | off-link | bad | v6 | with-prefix
    logical: str    # host | cidr | other-family | bad
    port: str       # none | pod | ghost | empty
    mac: str        # none | good | bad
    gw_port: str    # none | dgp0 | dgp1 | internal | foreign
    ext_ips: str    # none | allowed | both
    stateless: bool


@dataclass(frozen=True)
class RouterSpec:
    kind: str       # plain | gc | hcg | two-dgp | gr | disabled | gc-no-localnet | gc-and-hcg
    nats: tuple[NatSpec, ...]


NAT_SPECS = st.builds(
    NatSpec,
    type=st.sampled_from(["snat", "dnat", "dnat_and_snat", "dnat_and_snat"]),
    ext=st.sampled_from(["in-dgp0", "in-dgp0", "in-dgp1", "off-link", "bad", "v6",
                         "with-prefix"]),
    logical=st.sampled_from(["host", "host", "host", "cidr", "other-family", "bad"]),
    port=st.sampled_from(["none", "pod", "pod", "ghost", "empty"]),
    mac=st.sampled_from(["none", "good", "good", "bad"]),
    gw_port=st.sampled_from(["none", "none", "none", "dgp0", "dgp1", "internal", "foreign"]),
    ext_ips=st.sampled_from(["none", "none", "none", "allowed", "both"]),
    stateless=st.booleans(),
)
ROUTER_SPECS = st.builds(
    RouterSpec,
    kind=st.sampled_from(["plain", "gc", "gc", "hcg", "two-dgp", "two-dgp", "gr", "disabled",
                          "gc-no-localnet", "gc-and-hcg"]),
    nats=st.lists(NAT_SPECS, min_size=1, max_size=5).map(tuple),
)


def _q(text: str) -> str:
    return '"' + text + '"'


def build_commands(routers: list[RouterSpec]) -> list[str]:
    """ovn-nbctl commands (one transaction) that create these routers."""
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
            if spec.kind not in ("plain", "gr") and spec.kind != "hcg":
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
            col = [f"name={lrp}", f"mac={_q(f'00:00:00:{n:02x}:1{d}:01')}",
                   f"networks=[{_q(f'10.{n}.{d + 1}.1/24')},{_q(f'fd00:{n}:{d + 1}::1/64')}]"]
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
            cmds += _nat_commands(nat, r, n, j, nat_id, dgps)
            nat_ids.append(nat_id)
        router_cols.append(f"nat=[{','.join(nat_ids)}]")
        cmds.append([f"--id=@{r}", "create", "Logical_Router", *router_cols])
    flat: list[str] = []
    for cmd in cmds:
        if flat:
            flat.append("--")
        flat.extend(cmd)
    return flat


def _nat_commands(nat: NatSpec, r: str, n: int, j: int, nat_id: str, dgps: int
                  ) -> list[list[str]]:
    host = 10 + j
    ext = {"in-dgp0": f"10.{n}.1.{host}", "in-dgp1": f"10.{n}.2.{host}",
           "off-link": f"198.18.{n}.{host}", "bad": f"10.{n}.1.{host}.7",
           "v6": f"fd00:{n}:1::{host:x}", "with-prefix": f"10.{n}.1.{host}/{32 if j % 2 else 24}"}[nat.ext]
    v6 = nat.ext == "v6"
    if nat.logical == "host":
        logical = f"fd10:{n}::{100 + j:x}" if v6 else f"192.168.{n}.{100 + j}"
    elif nat.logical == "cidr":
        logical = f"fd10:{n}::/64" if v6 else f"192.168.{n}.0/24"
    elif nat.logical == "other-family":
        logical = f"192.168.{n}.{100 + j}" if v6 else f"fd10:{n}::{100 + j:x}"
    else:
        logical = "not-an-ip"
    cols = [f"type={nat.type}", f"external_ip={_q(ext)}", f"logical_ip={_q(logical)}"]
    port = {"none": None, "pod": f"{r}-pod{j % 3}", "ghost": f"{r}-ghost", "empty": ""}[nat.port]
    if port is not None:
        cols.append(f"logical_port={_q(port)}")
    mac = {"none": None, "good": f"0a:00:00:{n:02x}:02:{j:02x}", "bad": "zz:00"}[nat.mac]
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
    cmds.append([f"--id={nat_id}", "create", "NAT", *cols])
    return cmds


@pytest.fixture(scope="module")
def lab():
    lab = OvnLab().start_nb().start_sb().start_northd()
    yield lab
    stop_lab(lab)


EXAMPLES = int(os.environ.get("OVNINSPECT_ORACLE_EXAMPLES", "40"))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(routers=st.lists(ROUTER_SPECS, min_size=5, max_size=8))
def test_random_topologies_match_northd(lab: OvnLab, routers: list[RouterSpec]) -> None:
    """At least 200 random router topologies in CI (40 examples of 5-8 routers)."""
    clear_nb(lab)
    lab.nbctl(*build_commands(routers))
    oracle = oracle_from_lab(lab)
    topo = Topology(open_snapshot(lab.nb_remote), ovn_version=NORTHD_RELEASE)
    assert topo.version.release == (23, 3, 1)
    problems = disagreement(topo, oracle)
    assert problems == [], "\n".join(problems)


def test_generator_covers_every_mode(lab: OvnLab) -> None:
    """The random generator can reach all three verdicts (so the property test can fail)."""
    spec = [RouterSpec("gc", (NatSpec("dnat_and_snat", "in-dgp0", "host", "pod", "good", "none",
                                      "none", False),
                              NatSpec("snat", "in-dgp0", "cidr", "none", "none", "none", "none",
                                      False),
                              NatSpec("dnat_and_snat", "bad", "host", "none", "none", "none",
                                      "none", False))),
            RouterSpec("two-dgp", (NatSpec("dnat", "off-link", "host", "none", "none", "none",
                                           "none", False),)),
            RouterSpec("gr", (NatSpec("snat", "in-dgp0", "cidr", "none", "none", "none", "none",
                                      False),))]
    clear_nb(lab)
    lab.nbctl(*build_commands(spec))
    oracle = oracle_from_lab(lab)
    topo = Topology(open_snapshot(lab.nb_remote), ovn_version=NORTHD_RELEASE)
    modes = {v.mode for v in classify_all(topo)}
    assert modes == {DISTRIBUTED, CENTRALIZED, INACTIVE}
    assert disagreement(topo, oracle) == []

