"""Data-path evidence for two ``check`` rules, with the real ovn-northd and ovn-trace of
every OVN build the machine has (23.03, 25.03, 26.03), on the ``nb_rules`` scenario of
tests/check_scenarios.py:

* dgp-disabled: vpcD's DGP has enabled=false, vpcE's is enabled.  ARP for vpcD's router
  IP and FIP gets no reply, a packet to its centralized FIP (router MAC) is dropped; the
  same packets on vpcE are answered / DNATed.  A packet sent straight to vpcD's
  distributed FIP MAC is still DNATed (its own admission flow stays): the FIP dies only
  when the upstream's ARP entry expires, which the rule's message says.
* eip-duplicate: ARP for 10.9.101.61, a NAT of vpcI (no DGP, not a gateway router, so
  the NAT is not applied), is answered with vpcI's router MAC.
* snat-blackhole: ARP for vpcE's snat 10.9.101.52 (logical_port podE2, external_mac
  0e:52) is answered with 0e:52, and a return packet to that MAC is dropped, while the
  FIP 10.9.101.51's MAC gets DNATed.

The listing of every build is kept in tests/evidence/nb-rules-trace.txt; the test
regenerates it and compares (``OVNINSPECT_WRITE_EVIDENCE=1`` rewrites the file).
ovn-trace treats every port as resident (tests/ovntrace.py), so chassis placement is read
from the flows (tests/test_check.py), not from these traces.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.check_scenarios import built
from tests.nat_trace_lab import arp_microflow
from tests.oracle import stop_lab, sync_northd
from tests.ovnlab import OvnBuild, OvnLab
from tests.ovntrace import TraceDaemon, ip_microflow

EVIDENCE = Path(__file__).resolve().parent / "evidence" / "nb-rules-trace.txt"
UPSTREAM = "00:00:00:00:ff:01"
LN = "ln-external0"

# label -> (rule, microflow on external0)
TRACES = {
    "arp 10.9.101.4 vpcD router IP (DGP disabled)":
        arp_microflow(LN, UPSTREAM, "10.9.101.254", "10.9.101.4"),
    "arp 10.9.101.5 vpcE router IP": arp_microflow(LN, UPSTREAM, "10.9.101.254", "10.9.101.5"),
    "arp 10.9.101.41 vpcD FIP (DGP disabled)":
        arp_microflow(LN, UPSTREAM, "10.9.101.254", "10.9.101.41"),
    "arp 10.9.101.57 vpcE FIP": arp_microflow(LN, UPSTREAM, "10.9.101.254", "10.9.101.57"),
    "in 10.9.101.43 vpcD centralized FIP via router MAC (DGP disabled)":
        ip_microflow(LN, UPSTREAM, "00:00:00:e1:0d:01", "8.8.8.8", "10.9.101.43"),
    "in 10.9.101.58 vpcE centralized FIP via router MAC":
        ip_microflow(LN, UPSTREAM, "00:00:00:e1:0e:01", "8.8.8.8", "10.9.101.58"),
    "in 10.9.101.41 vpcD FIP via its external_mac (DGP disabled)":
        ip_microflow(LN, UPSTREAM, "00:00:00:00:0d:41", "8.8.8.8", "10.9.101.41"),
    "in 10.9.101.51 vpcE FIP via its external_mac":
        ip_microflow(LN, UPSTREAM, "00:00:00:00:0e:51", "8.8.8.8", "10.9.101.51"),
    "arp 10.9.101.52 vpcE snat with logical_port/external_mac":
        arp_microflow(LN, UPSTREAM, "10.9.101.254", "10.9.101.52"),
    "in 10.9.101.52 return traffic to 00:00:00:00:0e:52":
        ip_microflow(LN, UPSTREAM, "00:00:00:00:0e:52", "8.8.8.8", "10.9.101.52"),
    "arp 10.9.101.61 NAT of vpcI, a router without DGP":
        arp_microflow(LN, UPSTREAM, "10.9.101.254", "10.9.101.61"),
}


def _line(label: str, outputs: tuple, nat: tuple, reply: str | None) -> str:
    # ARP requests are flooded to the gateway routers' ports too: keep the replies only
    outs = sorted(o for o in outputs if not o.startswith("external0-gw"))
    res = ",".join(outs) or "DROP"
    if reply:
        res += f" reply={reply}"
    if nat:
        res += " " + " ".join(f"{k}={a}" for k, _, a in nat)
    return f"{label:<68} -> {res}"


@pytest.fixture(scope="module")
def listing(ovn_build: OvnBuild) -> list[str]:
    if not ovn_build.has("ovn-trace"):
        pytest.skip(f"OVN {ovn_build.release} has no ovn-trace")
    nb, _ = built("nb_rules")
    lab = OvnLab(build=ovn_build)
    try:
        lab.start_nb(nb, upgrade=True).start_sb().start_northd()
        sync_northd(lab)
        with TraceDaemon(lab) as daemon:
            out = []
            for label, flow in TRACES.items():
                r = daemon.trace("external0", flow)
                out.append(_line(label, r.outputs, r.nat, r.reply_mac))
    finally:
        stop_lab(lab)
    return out


def _stored(series: str) -> list[str]:
    text = EVIDENCE.read_text() if EVIDENCE.exists() else ""
    m = re.search(rf"^### OVN {re.escape(series)}\n(.*?)(?=^### |\Z)", text, re.M | re.S)
    return m.group(1).strip().splitlines() if m else []


def _write(series: str, lines: list[str]) -> None:
    text = EVIDENCE.read_text() if EVIDENCE.exists() else ""
    blocks = dict(re.findall(r"^### OVN (\S+)\n(.*?)(?=^### |\Z)", text, re.M | re.S))
    blocks[series] = "\n".join(lines) + "\n\n"
    EVIDENCE.write_text("".join(f"### OVN {s}\n{b}" for s, b in sorted(blocks.items())))


def _result(lines: list[str], label: str) -> str:
    return next(x for x in lines if x.startswith(label)).split("-> ", 1)[1]


@pytest.mark.ovn
def test_dgp_disabled_and_snat_blackhole_traces(listing: list[str], ovn_build: OvnBuild):
    if os.environ.get("OVNINSPECT_WRITE_EVIDENCE") == "1":
        _write(ovn_build.series, listing)
    r = {label: _result(listing, label) for label in TRACES}
    # dgp-disabled: nothing answers or enters through the router MAC
    assert r["arp 10.9.101.4 vpcD router IP (DGP disabled)"] == "DROP"
    assert r["arp 10.9.101.5 vpcE router IP"] == "ln-external0 reply=00:00:00:e1:0e:01"
    assert r["arp 10.9.101.41 vpcD FIP (DGP disabled)"] == "DROP"
    assert r["arp 10.9.101.57 vpcE FIP"] == "ln-external0 reply=00:00:00:00:0e:57"
    assert r["in 10.9.101.43 vpcD centralized FIP via router MAC (DGP disabled)"] == "DROP"
    assert r["in 10.9.101.58 vpcE centralized FIP via router MAC"] == \
        "podE4 dnat=192.168.5.23"
    # ... but a sender that still has the FIP's MAC reaches it (the message says so)
    assert r["in 10.9.101.41 vpcD FIP via its external_mac (DGP disabled)"] == \
        "podD dnat=192.168.4.20"
    assert r["in 10.9.101.51 vpcE FIP via its external_mac"] == "podE dnat=192.168.5.20"
    # snat-blackhole: ARP answered with the VM-side MAC, traffic to that MAC dropped
    assert r["arp 10.9.101.52 vpcE snat with logical_port/external_mac"] == \
        "ln-external0 reply=00:00:00:00:0e:52"
    assert r["in 10.9.101.52 return traffic to 00:00:00:00:0e:52"] == "DROP"
    # eip-duplicate: a router with no DGP (its NAT not applied) still answers ARP for it
    assert r["arp 10.9.101.61 NAT of vpcI, a router without DGP"] == \
        "ln-external0 reply=00:00:00:e1:12:01"
    assert listing == _stored(ovn_build.series), \
        "tests/evidence/nb-rules-trace.txt differs: rerun with OVNINSPECT_WRITE_EVIDENCE=1"
