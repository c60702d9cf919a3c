"""Version-specific placement rules that Debian's northd (23.03) cannot show.

Each snapshot is built with ovn-nbctl on a real ovsdb-server, saved, and classified under
an explicit ``--ovn-version``; the expected verdict follows docs/ovn-semantics.md §7 (the
rule number is in each test name).  Rules 23.03 *can* show are checked against northd in
test_nat_oracle.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ovninspect.analysis.checks import run_checks
from ovninspect.analysis.owners import label_all
from ovninspect.analysis.placement import CENTRALIZED, DISTRIBUTED, INACTIVE, classify_all
from ovninspect.sources import open_snapshot
from ovninspect.topology import Topology
from tests.oracle import stop_lab
from tests.ovnlab import OvnLab

pytestmark = pytest.mark.ovn
ROOT = Path(__file__).resolve().parent.parent
POD_MAC = "0a:00:00:00:00:04"


def _vpc(lab: OvnLab, lr: str = "vpc1", localnet: bool = True) -> None:
    """Router ``lr`` with internal switch + pod and an external switch, no gateway yet."""
    lab.nbctl("lr-add", lr)
    lab.add_switch(f"{lr}-int")
    lab.connect(lr, f"{lr}-int", f"{lr}-int", "00:00:00:00:01:01", "192.168.0.1/24")
    lab.nbctl("lsp-add", f"{lr}-int", "pod1", "--", "lsp-set-addresses", "pod1",
              f"{POD_MAC} 192.168.0.4")
    lab.add_switch(f"{lr}-ext", "physnet1" if localnet else None)
    lab.connect(lr, f"{lr}-ext", f"{lr}-ext0", "00:00:00:00:02:01", "10.9.0.1/24")


def _second_dgp_port(lab: OvnLab, lr: str = "vpc1") -> None:
    """Another external switch and router port (10.19.0.1/24), no gateway yet."""
    lab.add_switch(f"{lr}-ext1-sw", "physnet2")
    lab.connect(lr, f"{lr}-ext1-sw", f"{lr}-ext1", "00:00:00:00:03:01", "10.19.0.1/24")


def _fip(lab: OvnLab, lr: str, ext: str, mac: str = POD_MAC) -> None:
    lab.nbctl("--", "--id=@n", "create", "NAT", "type=dnat_and_snat", f'external_ip="{ext}"',
              'logical_ip="192.168.0.4"', 'logical_port="pod1"', f'external_mac="{mac}"',
              "--", "add", "Logical_Router", lr, "nat", "@n")


@pytest.fixture()
def build(tmp_path: Path):
    """Build an NB with a recipe function, save it, return a classifier by OVN version."""
    labs: list[OvnLab] = []

    def _build(recipe) -> callable:  # noqa: ANN001 - recipe is a local function
        lab = OvnLab().start_nb()
        labs.append(lab)
        recipe(lab)
        saved = tmp_path / f"nb{len(labs)}.db"
        shutil.copyfile(lab.nb_db, saved)

        def classify(version: str) -> dict[str, tuple[str, object]]:
            topo = Topology(open_snapshot(str(saved)), ovn_version=version)
            return {v.nat.external_ip: (v.mode, v.gateway_port.name if v.gateway_port else None)
                    for v in classify_all(topo)}
        classify.saved = str(saved)  # type: ignore[attr-defined]
        return classify

    yield _build
    for lab in labs:
        stop_lab(lab)


def test_rule3_redirect_chassis_counts_only_up_to_20_09(build) -> None:
    def recipe(lab: OvnLab) -> None:
        _vpc(lab)
        lab.nbctl("set", "Logical_Router_Port", "vpc1-ext0", "options:redirect-chassis=ch1")
        _fip(lab, "vpc1", "10.9.0.9")
    classify = build(recipe)
    assert classify("20.09") == {"10.9.0.9": (DISTRIBUTED, "vpc1-ext0")}
    assert classify("20.12") == {"10.9.0.9": (INACTIVE, None)}


def test_rule3_only_first_dgp_counts_up_to_21_06(build) -> None:
    def recipe(lab: OvnLab) -> None:
        _vpc(lab)
        _second_dgp_port(lab)
        for port in ("vpc1-ext0", "vpc1-ext1"):
            lab.nbctl("lrp-set-gateway-chassis", port, "ch1", "10")
        _fip(lab, "vpc1", "10.19.0.9")
    classify = build(recipe)
    topo_old = classify("21.06")
    # one DGP: northd takes the first in UUID order, whatever the subnet (rules 3, 11)
    assert topo_old["10.19.0.9"][0] == DISTRIBUTED
    assert classify("22.06") == {"10.19.0.9": (DISTRIBUTED, "vpc1-ext1")}


def test_rule5_no_nat_with_two_dgps_in_21_09_to_22_03(build) -> None:
    def recipe(lab: OvnLab) -> None:
        _vpc(lab)
        _second_dgp_port(lab)
        for port in ("vpc1-ext0", "vpc1-ext1"):
            lab.nbctl("lrp-set-gateway-chassis", port, "ch1", "10")
        _fip(lab, "vpc1", "10.9.0.9")
    classify = build(recipe)
    assert classify("21.09") == {"10.9.0.9": (INACTIVE, None)}
    assert classify("22.03") == {"10.9.0.9": (INACTIVE, None)}
    assert classify("22.06") == {"10.9.0.9": (DISTRIBUTED, "vpc1-ext0")}


def test_rule9_bad_mac_on_snat_invalid_only_from_25_03(build) -> None:
    def recipe(lab: OvnLab) -> None:
        _vpc(lab)
        lab.nbctl("lrp-set-gateway-chassis", "vpc1-ext0", "ch1", "10")
        lab.nbctl("--", "--id=@n", "create", "NAT", "type=snat", 'external_ip="10.9.0.20"',
                  'logical_ip="192.168.0.0/24"', 'external_mac="not-a-mac"',
                  "--", "add", "Logical_Router", "vpc1", "nat", "@n")
        _fip(lab, "vpc1", "10.9.0.21", mac="zz:00")
    classify = build(recipe)
    assert classify("24.09") == {"10.9.0.20": (CENTRALIZED, "vpc1-ext0"),
                                 "10.9.0.21": (INACTIVE, None)}
    assert classify("25.03") == {"10.9.0.20": (INACTIVE, None), "10.9.0.21": (INACTIVE, None)}


def test_rule13_dgp_without_localnet_centralizes_from_25_03(build) -> None:
    def recipe(lab: OvnLab) -> None:
        _vpc(lab, localnet=False)
        lab.nbctl("lrp-set-gateway-chassis", "vpc1-ext0", "ch1", "10")
        _fip(lab, "vpc1", "10.9.0.9")
    classify = build(recipe)
    assert classify("23.03") == {"10.9.0.9": (DISTRIBUTED, "vpc1-ext0")}
    assert classify("24.09") == {"10.9.0.9": (DISTRIBUTED, "vpc1-ext0")}
    assert classify("25.03") == {"10.9.0.9": (CENTRALIZED, "vpc1-ext0")}


def test_rule13_centralize_routing_option_in_24_03_6_to_24_09(build) -> None:
    def recipe(lab: OvnLab) -> None:
        _vpc(lab, localnet=False)
        lab.nbctl("lrp-set-gateway-chassis", "vpc1-ext0", "ch1", "10")
        lab.nbctl("set", "Logical_Router_Port", "vpc1-ext0", "options:centralize_routing=true")
        _fip(lab, "vpc1", "10.9.0.9")
    classify = build(recipe)
    assert classify("24.03.5") == {"10.9.0.9": (DISTRIBUTED, "vpc1-ext0")}
    assert classify("24.03.6") == {"10.9.0.9": (CENTRALIZED, "vpc1-ext0")}
    assert classify("24.09") == {"10.9.0.9": (CENTRALIZED, "vpc1-ext0")}


def test_rule13_needs_a_single_dgp(build) -> None:
    def recipe(lab: OvnLab) -> None:
        _vpc(lab, localnet=False)
        _second_dgp_port(lab)
        for port in ("vpc1-ext0", "vpc1-ext1"):
            lab.nbctl("lrp-set-gateway-chassis", port, "ch1", "10")
        _fip(lab, "vpc1", "10.9.0.9")
    classify = build(recipe)
    assert classify("25.03") == {"10.9.0.9": (DISTRIBUTED, "vpc1-ext0")}


def test_reside_on_redirect_chassis_flags_distributed_fip(build) -> None:
    """§1.7: an internal LRP with reside-on-redirect-chassis=true on a switch with a localnet
    pins routing to the gateway; the FIP stays distributed in northd's NAT flows (rule 12)
    but is flagged for review.  Without the localnet the option is not honoured."""
    def recipe(lab: OvnLab, localnet: bool) -> None:
        _vpc(lab)
        lab.nbctl("lrp-set-gateway-chassis", "vpc1-ext0", "ch1", "10")
        lab.nbctl("set", "Logical_Router_Port", "vpc1-int",
                  "options:reside-on-redirect-chassis=true")
        if localnet:
            lab.nbctl("lsp-add", "vpc1-int", "ln-int", "--", "lsp-set-type", "ln-int",
                      "localnet", "--", "lsp-set-options", "ln-int", "network_name=vlan10")
        _fip(lab, "vpc1", "10.9.0.9")
    for localnet in (True, False):
        path = build(lambda lab, ln=localnet: recipe(lab, ln))
        assert path("23.03") == {"10.9.0.9": (DISTRIBUTED, "vpc1-ext0")}
        topo = Topology(open_snapshot(path.saved), ovn_version="23.03")
        (verdict,) = classify_all(topo)
        assert ("reside-on-redirect-chassis" in verdict.flags) is localnet
        findings = run_checks(topo, ["fip-pinned-to-gateway"]).findings
        assert [(f.rule, f.object) for f in findings] == (
            [("fip-pinned-to-gateway", "NAT 10.9.0.9 on vpc1")] if localnet else [])


def test_rule1_version_comes_from_northd_internal_version() -> None:
    topo = Topology(open_snapshot(str(ROOT / "fixtures/kubeovn-5050/nb.db")))
    assert topo.version.source == "northd_internal_version"
    assert topo.version.release == (23, 3, 1)
    clustered = Topology(open_snapshot(str(ROOT / "fixtures/base/nb-clustered.db")))
    assert clustered.version.source == "schema"          # no northd ever ran on it
    assert clustered.version.release[:2] == (22, 12)     # NB schema 7.0.0


# -- owner labels and intent (cms-footprints §1.9, §2, §3) ---------------------------------


def _owners(scenario: str) -> dict[str, tuple]:
    topo = Topology(open_snapshot(str(ROOT / "fixtures" / scenario / "nb.db")))
    verdicts = {v.nat.uuid: v for v in classify_all(topo)}
    owners = label_all(topo, topo.nats)
    return {n.external_ip + "/" + n.type: (owners[n.uuid], verdicts[n.uuid].mode)
            for n in topo.nats}


def test_kube_ovn_ovnfip_intent_centralized_but_distributed() -> None:
    owners = _owners("kubeovn-5050")
    owner, mode = owners["10.9.101.9/dnat_and_snat"]
    assert (owner.cms, owner.kind, owner.intent) == ("kube-ovn", "OvnFip", "centralized")
    assert owner.details["pod"] == "vpc1/starter-backend-7ff5f85b46-8d9gh"
    assert mode == DISTRIBUTED and owner.mismatch(mode)
    snat, _ = owners["10.9.101.10/snat"]
    assert (snat.cms, snat.kind) == ("kube-ovn", "OvnSnatRule")


def test_neutron_floating_ip_labels() -> None:
    owners = _owners("neutron")
    fips = [o for o, _ in owners.values() if o.kind == "floating IP"]
    assert fips and all(o.cms == "neutron" and o.details.get("fip_id") for o in fips)
    assert all(o.intent == "distributed" for o in fips)   # neutron:fip-distributed=True
    assert any(o.kind == "router gateway SNAT" for o, _ in owners.values())


def test_ovn_kubernetes_labels() -> None:
    owners = _owners("ovnk")
    kinds = {o.kind for o, _ in owners.values()}
    assert {o.cms for o, _ in owners.values()} == {"ovn-kubernetes"}
    assert "EgressIP" in kinds and "node SNAT" in kinds
    assert all(mode == CENTRALIZED for _, mode in owners.values())
