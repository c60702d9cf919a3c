"""What the data path does with unusual ``NAT.external_ip`` spellings, proven with the real
ovn-northd and ovn-trace of every OVN build the machine has (23.03, 25.03, 26.03).

One lab per build (tests/nat_trace_lab.py): ~85 one-NAT routers in one NB, one northd
run, one ovn-trace daemon, ~600 traces; the lab is stopped before the assertions run.
Evidence and explanations: tests/evidence/nat-external-ip.md.  Where releases differ the
expectation is keyed on the build: ``OLD`` is 23.03 (northd's strict ``ip_parse_masked``
for flows, lenient ``extract_ip_addresses`` for ARP), ``NEW`` is >= 25.03 (the lenient
parser for both, raw text copied into the flows).

The first tests need no OVN at all: they check the ovn-trace output parser on canned text.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

import pytest

from ovninspect.analysis.placement import CENTRALIZED, DISTRIBUTED, INACTIVE, classify_all
from ovninspect.sources import open_snapshot
from ovninspect.topology import Topology
from tests.nat_trace_lab import (
    KINDS,
    SPELLINGS,
    TWO_DGP,
    Observed,
    build,
    cases_for,
    ext_mac,
    first_address,
    observe,
    router_mac,
)
from tests.oracle import stop_lab
from tests.ovnlab import OvnBuild, OvnLab
from tests.ovntrace import TraceDaemon, parse_trace, parse_warnings

# --------------------------------------------------------------------------------------
# Parser (no OVN needed)
# --------------------------------------------------------------------------------------
_SAMPLE = """\
ingress(dp="r0", inport="r0-ext0") {
    xreg0[0..47] = 00:00:00:00:0a:01;
    ct_snat /* assuming no un-snat entry, so no change */ {
        ct_dnat_in_czone(192.168.1.100);
        ct_dnatin_czone(ip4.dst=192.168.1.100) {
            output;
            /* output to "r0-int0", type "patch" */;
            ingress(dp="int0", inport="int0-r0") {
                /* output to "vm1", type "" */;
            };
        };
    };
};
"""
_STDERR = (
    "2026-12-06T18:24:05Z|00001|ovntrace|WARN|ip && ip4.dst == 010.1.1.10 && "
    'inport == "r0-ext0": parsing expression failed (Invalid numeric constant.)\n'
    "2026-12-06T18:24:05Z|00002|ovntrace|WARN|ct_snat(10.1.1.10/32);: parsing actions "
    "failed (Syntax error at `10.1.1.10/32' expecting IPv4 or IPv6 address.)\n"
)


def test_parse_trace_outputs_and_nat() -> None:
    r = parse_trace("ext0", "flow", _SAMPLE, _STDERR)
    assert r.outputs == ("vm1",)
    assert r.nat == (("dnat", "ip4.dst", "192.168.1.100"),)
    assert r.dnat_to == "192.168.1.100" and r.snat_to is None and not r.dropped


def test_parse_warnings() -> None:
    warnings, unparsed = parse_warnings(_STDERR)
    assert len(warnings) == 2
    assert unparsed[0].what == "match" and unparsed[0].text.endswith('inport == "r0-ext0"')
    assert unparsed[0].error == "Invalid numeric constant."
    assert unparsed[1].what == "actions" and unparsed[1].text == "ct_snat(10.1.1.10/32);"


def test_parse_arp_reply_mac() -> None:
    text = ('ingress(dp="r", inport="r-ext0") {\n    xreg0[0..47] = 00:00:03:00:00:01;\n'
            "    eth.src = xreg0[0..47];\n    arp.op = 2;\n"
            '    /* output to "r-ln", type "localnet" */;\n};\n')
    assert parse_trace("ext", "f", text).reply_mac == "00:00:03:00:00:01"


def test_first_address() -> None:
    assert first_address(" 10.1.1.10") == "10.1.1.10"
    assert first_address("010.1.1.10") == "10.1.1.10"
    assert first_address("10.1.1.300") == "10.1.1.44"
    assert first_address("10.1.1.10,10.1.1.11") == "10.1.1.10"
    assert first_address("fd00:1::10/64") == "fd00:1::10"


# --------------------------------------------------------------------------------------
# The lab
# --------------------------------------------------------------------------------------
@dataclass
class LabResult:
    series: str
    obs: Dict[str, Observed]
    unparsed_errors: Tuple[str, ...]
    nb: Path          # a copy of the lab's NB, as northd left it


@pytest.fixture(scope="module")
def lab_result(ovn_build: OvnBuild, tmp_path_factory: pytest.TempPathFactory) -> LabResult:
    """Build every case on this build, trace it, stop the lab; the observations stay."""
    missing = [t for t in ("ovn-trace", "ovn-appctl") if not ovn_build.has(t)]
    if missing:
        pytest.skip(f"OVN {ovn_build.release} has no {', '.join(missing)}")
    cases = cases_for(ovn_build.series)
    lab = OvnLab(build=ovn_build)
    try:
        lab.start_nb().start_sb().start_northd()
        build(lab, cases)
        with TraceDaemon(lab) as td:
            obs = observe(lab, cases, td)
            errors = tuple(u.error for u in td.unparsed)
        nb = tmp_path_factory.mktemp("trace-nb") / "nb.db"
        shutil.copyfile(lab.nb_db, nb)
    finally:
        stop_lab(lab)
    return LabResult(ovn_build.series, obs, errors, nb)


def new(series: str) -> bool:
    """>= 25.03: one lenient parser (extract_ip_addresses) for flows and ARP."""
    return tuple(int(x) for x in series.split(".")) >= (25, 3)


# Per spelling: (northd builds NAT flows?, which flow texts fail to parse, ARP/ND answered
# for, DNAT covers the whole prefix and egress via next hops in it is black-holed?)
#   reject: ""       nothing rejected
#           "action" only ct_snat(<masked>) in lr_out_snat
#           "all"    every flow with the raw text: lr_in_unsnat/lr_in_dnat matches and
#                    the lr_out_snat action (lr_out_undnat matches the logical IP: fine)
@dataclass(frozen=True)
class Spelling:
    built: bool
    reject: str = ""
    arp: Optional[str] = "10.1.1.10"
    prefix: bool = False


def spelling_facts(tag: str, series: str) -> Spelling:
    n = new(series)
    return {
        "plain": Spelling(True),
        "m32": Spelling(True, "action"),
        "m24": Spelling(True, "action", prefix=True) if n else Spelling(False),
        "v6": Spelling(True, arp="fd00:1::10"),
        "v6m128": Spelling(True, "action", arp="fd00:1::10"),
        "v6m64": (Spelling(True, "action", arp="fd00:1::10", prefix=True) if n
                  else Spelling(False, arp="fd00:1::10")),
        "lsp": Spelling(True),
        "tsp": Spelling(True) if n else Spelling(False),
        "lz": Spelling(True, "all"),
        "ovf": Spelling(True, "all", arp="10.1.1.44"),
        "junk": Spelling(True, "all") if n else Spelling(False),
        "two": Spelling(False, arp=None),
        "comma": Spelling(True, "all") if n else Spelling(False),
    }[tag]


SNAT_KINDS = ("fipc", "fipd", "snat")
DNAT_KINDS = ("fipc", "fipd", "dnat")


def _stages(kind: str) -> set:
    s = set()
    if kind in SNAT_KINDS:
        s |= {"lr_in_unsnat", "lr_out_snat"}
    if kind in DNAT_KINDS:
        s |= {"lr_in_dnat", "lr_out_undnat"}
    return s


def _check_placement(o: Observed, kind: str, dgp: str = "ext0") -> None:
    r = o.case.name
    if kind == "fipd":
        assert o.placement() == "distributed", o.gating()
        assert o.gating()["lr_out_snat"] == [f"{r}-vm1"]
    else:
        assert o.placement() == "centralized", o.gating()
        assert {p for v in o.gating().values() for p in v} == {f"cr-{r}-{dgp}"}
    assert set(o.gating()) == _stages(kind)


def _reply_mac(o: Observed, kind: str, port: str = "ext0") -> str:
    return ext_mac(o.index) if kind == "fipd" else router_mac(o.index, port)


SPELLING_IDS = [f"{t}_{k}" for t in SPELLINGS for k in KINDS]


@pytest.mark.ovn
@pytest.mark.parametrize("name", SPELLING_IDS)
def test_spelling(lab_result: LabResult, name: str) -> None:
    """Cases 1-4: flows, gating, rejected flows, ARP, inbound and outbound traces."""
    tag, kind = name.split("_")
    o = lab_result.obs[name]
    f = spelling_facts(tag, lab_result.series)
    text = SPELLINGS[tag]
    addr = first_address(text)
    v6 = ":" in text
    # (a) northd's flows and their gating
    if not f.built:
        assert o.placement() == "none", o.gating()
    else:
        _check_placement(o, kind)
        want = set()
        if f.reject == "action" and kind in SNAT_KINDS:
            want = {"lr_out_snat"}
        elif f.reject == "all":
            want = _stages(kind) - {"lr_out_undnat"}
        assert set(o.rejected_stages()) == want
        raw = text if ":" in text or "/" in text or "," in text else text.strip()
        for fl in o.nat_flows("lr_in_dnat") + o.nat_flows("lr_in_unsnat"):
            assert raw in fl.match  # the raw text is copied into the flows
    # (b) ARP/ND: the address answered is the first one parsed, whatever the flows
    probe = f.arp or addr or "10.1.1.10"
    reply = o.traces[f"arp {probe}"].reply_mac
    if f.arp is None:
        assert reply is None
    elif v6 and f.prefix:
        # the NA to a requester inside the /64 is looped back by lr_out_egr_loop
        assert reply is None
        assert o.traces[f"nsll {probe}"].reply_mac == _reply_mac(o, kind)
    else:
        assert reply == _reply_mac(o, kind)
        assert any(f"== {f.arp}" in fl.match for fl in o.arp_flows())
    # (c) inbound
    inside = "fd01::100" if v6 else "192.168.1.100"
    works_in = f.built and kind in DNAT_KINDS and f.reject != "all"
    r_in = o.traces[f"in {probe}"]
    if works_in:
        assert r_in.dnat_to == inside and r_in.outputs == (f"{name}-vm1",)
    else:
        assert r_in.dnat_to is None and f"{name}-vm1" not in r_in.outputs
    other = o.traces["in fd00:1::99" if v6 else "in 10.1.1.99"]
    if works_in and f.prefix:
        assert other.dnat_to == inside  # the whole prefix is DNATed
    else:
        assert other.dnat_to is None
    # (c) outbound
    for vm in ("vm1", "vm2"):
        r_out = o.traces[f"out {vm}"]
        if f.built and f.prefix:
            assert r_out.dropped  # next hop inside the prefix: resolved to the router itself
            continue
        assert r_out.outputs == (f"{name}-ln",)
        snat = (f.built and not f.reject and kind in SNAT_KINDS
                and (vm == "vm1" or kind == "snat"))
        assert r_out.snat_to == (addr if snat else None)


@pytest.mark.ovn
def test_rejection_reasons(lab_result: LabResult) -> None:
    """The parse errors behind the rejected flows (same lexer on all three builds)."""
    errs = set(lab_result.unparsed_errors)
    assert "Invalid numeric constant." in errs                       # 010..., .300, .10.7
    assert "Syntax error at `10.1.1.10/32' expecting IPv4 or IPv6 address." in errs
    assert "Syntax error at `fd00:1::10/128' expecting IPv4 or IPv6 address." in errs
    # "a,b": >= 25.03 in the NAT flows; 23.03 too, in the external switch's ARP forwarding
    assert "Syntax error at `,' expecting end of input." in errs
    if new(lab_result.series):
        assert "Syntax error at `10.1.1.10/24' expecting IPv4 or IPv6 address." in errs
        assert "Syntax error at `10.1.1.11' expecting Integer for port range." in errs


@pytest.mark.ovn
def test_ovf_flows_keep_the_raw_text(lab_result: LabResult) -> None:
    """``10.1.1.300``: northd reads 10.1.1.44 (``%hhu`` wraps) for ARP, the flows say .300."""
    o = lab_result.obs["ovf_fipc"]
    assert [fl.match for fl in o.nat_flows("lr_in_dnat")] == [
        'ip && ip4.dst == 10.1.1.300 && inport == "ovf_fipc-ext0" && '
        'is_chassis_resident("cr-ovf_fipc-ext0")']
    assert any("arp.tpa == 10.1.1.44" in fl.match for fl in o.arp_flows())


TWO_DGP_IDS = [f"d2{t}_{k}" for t in TWO_DGP for k in ("fipc", "fipd", "snat")]


@pytest.mark.ovn
@pytest.mark.parametrize("name", TWO_DGP_IDS)
def test_two_dgps(lab_result: LabResult, name: str) -> None:
    """Case 5: without gateway_port, only a spelling inet_pton accepts finds its DGP."""
    tag, kind = name[2:].split("_")
    text, gw = TWO_DGP[tag]
    o = lab_result.obs[name]
    addr = first_address(text)
    dgp = "ext1" if addr.startswith("10.2.2.") else "ext0"
    reply = o.traces[f"arp {addr}"].reply_mac
    if tag in ("plain", "ext1", "m32gw"):
        _check_placement(o, kind, dgp)
        assert o.rejected_stages() == (["lr_out_snat"] if tag == "m32gw" and kind != "dnat"
                                       else [])
        assert reply == _reply_mac(o, kind, dgp)
        if kind in DNAT_KINDS:
            assert o.traces[f"in {addr}"].dnat_to == "192.168.1.100"
        return
    assert o.placement() == "none"
    assert o.traces[f"in {addr}"].dnat_to is None
    if new(lab_result.series):
        assert reply is None and not o.arp_flows()
    else:
        # 23.03: only the router-wide priority-90 responder, ungated, router MAC
        assert reply == router_mac(o.index, "ext0")
        assert [(fl.priority, fl.residents) for fl in o.arp_flows()] == [(90, [])]


@pytest.mark.ovn
@pytest.mark.parametrize("kind", list(KINDS))
def test_empty_networks(lab_result: LabResult, kind: str) -> None:
    """Case 6 (>= 25.03): a DGP with networks=[] still gets cr- and NAT flows."""
    if not new(lab_result.series):
        pytest.skip("NB schema < 7.11: Logical_Router_Port.networks needs an entry")
    o = lab_result.obs[f"nn_{kind}"]
    _check_placement(o, kind)
    assert o.rejected_stages() == []
    assert o.traces["arp 10.1.1.10"].reply_mac == _reply_mac(o, kind)
    assert o.traces["in 10.1.1.10"].dnat_to == ("192.168.1.100" if kind in DNAT_KINDS
                                                else None)
    snat = "10.1.1.10" if kind in SNAT_KINDS else None
    assert o.traces["out vm1"].snat_to == snat
    assert o.traces["out vm1"].outputs == (f"nn_{kind}-ln",)


@pytest.mark.ovn
@pytest.mark.parametrize("name", ["li32_fipc", "li32_fipd", "li32_snat", "li32_dnat",
                                  "li128_fipc", "li128_fipd"])
def test_logical_ip_host_prefix(lab_result: LabResult, name: str) -> None:
    """Case 7: ``logical_ip=192.168.1.100/32`` is accepted by northd, but
    ``ct_dnat(192.168.1.100/32)`` does not parse: SNAT works, DNAT does not."""
    kind = name.split("_")[1]
    o = lab_result.obs[name]
    v6 = name.startswith("li128")
    ext = "fd00:1::10" if v6 else "10.1.1.10"
    _check_placement(o, kind)
    assert o.rejected_stages() == (["lr_in_dnat"] if kind in DNAT_KINDS else [])
    assert o.traces[f"in {ext}"].dnat_to is None
    assert o.traces["out vm1"].snat_to == (ext if kind in SNAT_KINDS else None)


@pytest.mark.ovn
def test_prefix_overlaps_another_fip(lab_result: LabResult) -> None:
    """A /24 FIP next to a FIP for an address of that /24: on >= 25.03 both lr_in_dnat
    flows have priority 100 and overlap, so which VM gets .12 is undefined."""
    o = lab_result.obs["ov_fipc"]
    dnat = o.nat_flows("lr_in_dnat")
    r12 = o.traces["in 10.1.1.12"]
    if not new(lab_result.series):
        assert len(dnat) == 1 and r12.dnat_to == "192.168.1.101"
        return
    assert len(dnat) == 2 and {fl.priority for fl in dnat} == {100}
    assert r12.dnat_to in ("192.168.1.100", "192.168.1.101")
    assert o.traces["in 10.1.1.99"].dnat_to == "192.168.1.100"


# --------------------------------------------------------------------------------------
# ovninspect against the traces
# --------------------------------------------------------------------------------------
_MODES = {"none": INACTIVE, "centralized": CENTRALIZED, "distributed": DISTRIBUTED}


@pytest.mark.ovn
def test_ovninspect_predicts_the_traces(lab_result: LabResult) -> None:
    """For every one-NAT case: ovninspect's mode is northd's gating, and its data-path
    effect (``flows-rejected``: inbound/outbound not translated; ``prefix-external-ip``:
    the whole prefix DNATed) is what ovn-trace shows (rule 6; ovn-changes §3)."""
    topo = Topology(open_snapshot(str(lab_result.nb)))
    assert topo.version.source == "northd_internal_version"
    verdicts: Dict[str, list] = {}
    for v in classify_all(topo):
        verdicts.setdefault(v.nat.router, []).append(v)
    checked = 0
    for name, o in lab_result.obs.items():
        if len(o.case.nats) != 1:
            continue
        (v,) = verdicts[name]
        assert v.mode == _MODES[o.placement()], (name, v.reason, o.gating())
        checked += 1
        if v.mode == INACTIVE:
            continue
        nat_type = v.nat.type
        dp = v.datapath
        probe = o.case.targets[0]
        if nat_type != "snat":
            # reached from outside: DNATed, and the address resolves (ARP/ND answered)
            answered = any(o.traces[k].reply_mac for k in (f"arp {probe}", f"nsll {probe}")
                           if k in o.traces)
            inbound = o.traces[f"in {probe}"].dnat_to is not None and answered
            assert (dp.inbound if dp else True) == inbound, (name, v.reason)
        # the VMs' default route leaves through ext0: a NAT on ext1 sees no outbound traffic
        if nat_type != "dnat" and not (v.gateway_port and v.gateway_port.name.endswith("ext1")):
            outbound = o.traces["out vm1"].snat_to is not None
            assert (dp.outbound if dp else True) == outbound, (name, v.reason)
        other = next((t for t in o.case.targets[1:] if t.endswith(("99", ".99"))), None)
        if other is not None and nat_type != "snat":
            widened = o.traces[f"in {other}"].dnat_to is not None
            assert ("prefix-external-ip" in v.flags and dp is not None and dp.inbound) \
                == widened, (name, v.flags)
        if "prefix-external-ip" in v.flags:   # next hop 10.1.1.254 / fd00:1::fe inside
            assert o.traces["out vm2"].dropped and "egress through it is dropped" in v.reason
    assert checked >= 60


@pytest.mark.ovn
@pytest.mark.parametrize("name", ["macupper_fipd", "macshort_fipd", "macleadspace_fipd",
                                  "machex0x_fipd"])
def test_external_mac_spelling(lab_result: LabResult, name: str) -> None:
    """external_mac spellings OVS's eth_addr_from_string accepts: the FIP is distributed
    everywhere, but ovn-controller's lexer refuses short octets and a ``0x`` prefix, so the
    FIP's ARP reply (and its other MAC flows) are dropped; DNAT/SNAT flows still load."""
    o = lab_result.obs[name]
    _check_placement(o, "fipd")
    assert o.rejected_stages() == []
    refused = name in ("macshort_fipd", "machex0x_fipd")
    reply = o.traces["arp 10.1.1.10"].reply_mac
    assert (reply is None) is refused
    assert o.traces["out vm1"].snat_to == "10.1.1.10"
