"""``--k8s``: Kube-OVN CRs read in every shape operators have, cross-checked with NB
(kubeovn-* rules), and named on nat / failover-sim rows.

NBs: fixtures/kubeovn-5050/nb.db (fixtures/recipes/kubeovn-5050.sh) and the
``kubeovn_field`` scenario of tests/check_scenarios.py, both built with the real
ovn-nbctl; CRs: fixtures/kubeovn-crds/ (written from Kube-OVN's CRD schemas).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ovninspect.analysis.checks import BY_SLUG, RULES, run_checks
from ovninspect.answers.failover import failover_answer, sweep_answer
from ovninspect.answers.nat import nat_answer
from ovninspect.errors import InputError
from ovninspect.k8s.load import load_cluster
from ovninspect.sources import open_snapshot
from ovninspect.topology import Topology
from tests.check_scenarios import built

ROOT = Path(__file__).resolve().parent.parent
CRDS = ROOT / "fixtures" / "kubeovn-crds"
NB_5050 = ROOT / "fixtures" / "kubeovn-5050" / "nb.db"
SB_5050 = ROOT / "fixtures" / "kubeovn-5050" / "sb.db"
ovn = pytest.mark.ovn

EXPECTED = {
    "kubeovn-natgw-lanip-is-gateway": "error", "kubeovn-natgw-lanip-outside-subnet": "error",
    "kubeovn-natgw-lanip-duplicate": "warning", "kubeovn-eip-off-link": "error",
    "kubeovn-natgw-multiple-external-subnets": "warning", "kubeovn-eip-duplicate": "error",
    "kubeovn-ippool-namespace-subnet-mismatch": "error",
    "kubeovn-ippool-outside-subnet": "error", "kubeovn-ippool-namespace-overlap": "warning",
    "kubeovn-status-not-in-nb": "error", "kubeovn-nb-not-in-crds": "warning",
    "kubeovn-fip-target-mismatch": "error", "kubeovn-fip-type-mismatch": "warning",
    "kubeovn-subnet-gateway-mismatch": "error", "kubeovn-subnet-cidr-mismatch": "error",
}


def topo(nb: Path, k8s: Path | str | None, sb: Path | None = None, text: str | None = None
         ) -> Topology:
    t = Topology(open_snapshot(str(nb)), open_snapshot(str(sb), "sb") if sb else None)
    if text is not None:
        from ovninspect.k8s.load import load_text

        t.k8s = load_text(text)
    elif k8s is not None:
        t.k8s = load_cluster(str(k8s))
    return t


def found(t: Topology, rule: str) -> dict[str, str]:
    return {f.object: f.severity for f in run_checks(t, [rule]).findings}


def field_nb() -> Path:
    return built("kubeovn_field")[0]


# -- registry ------------------------------------------------------------------------------
def test_rules_registered_with_issue_severities_and_need_k8s():
    got = {r.slug: r.severity for r in RULES if r.slug.startswith("kubeovn-")}
    assert got == EXPECTED
    assert all(BY_SLUG[s].needs == "k8s" for s in EXPECTED)


def test_rules_skipped_without_k8s():
    result = run_checks(topo(NB_5050, None))
    assert set(EXPECTED) == set(result.skipped_k8s)
    assert not any(r.startswith("kubeovn-") for r in result.rules_run)


# -- input shapes ---------------------------------------------------------------------------
def _normal(cluster) -> dict:
    """Objects without where they were read (the file/document differs per shape)."""
    out = {}
    for objs in cluster.objects.values():
        for ref, obj in objs.items():
            meta = dataclasses.replace(obj.meta, source="")
            out[ref] = dataclasses.replace(obj, meta=meta)
    return out


def test_every_shape_reads_the_same(tmp_path):
    source = CRDS / "kubeovn-5050.yaml"
    want = load_cluster(str(source))
    assert want.counts() == {"Subnet": 2, "Vpc": 1, "OvnEip": 4, "OvnFip": 2, "OvnSnatRule": 1,
                             "ProviderNetwork": 1, "Vlan": 1, "IP": 2, "Pod": 2,
                             "ConfigMap": 1}
    assert want.skipped == {"Service": 1, "ConfigMap (not used)": 1}
    items = yaml.safe_load(source.read_text())["items"]
    multi = tmp_path / "multi.yaml"
    multi.write_text("".join("---\n" + yaml.safe_dump(i) for i in items) + "---\n")
    as_json = tmp_path / "list.json"
    as_json.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items},
                                  indent=1))
    gz = tmp_path / "list.yaml.gz"
    gz.write_bytes(gzip.compress(source.read_bytes()))
    # must-gather / oc adm inspect: one file per cluster-scoped object, namespaced lists
    mg = tmp_path / "must-gather.local.123" / "quay-io-image-sha256-abc"
    plural = {"Subnet": "subnets", "Vpc": "vpcs", "OvnEip": "ovn-eips", "OvnFip": "ovn-fips",
              "OvnSnatRule": "ovn-snat-rules", "ProviderNetwork": "provider-networks",
              "Vlan": "vlans", "IP": "ips"}
    by_ns: dict[tuple[str, str], list] = {}
    for item in items:
        kind, name = item["kind"], item["metadata"]["name"]
        if kind in plural:
            f = mg / "cluster-scoped-resources" / "kubeovn.io" / plural[kind] / f"{name}.yaml"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(yaml.safe_dump(item))
        else:
            ns = item["metadata"]["namespace"]
            by_ns.setdefault((ns, kind.lower() + "s"), []).append(item)
    for (ns, plural_name), objs in by_ns.items():
        f = mg / "namespaces" / ns / "core" / f"{plural_name}.yaml"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": objs}))
        # oc adm inspect also writes each pod on its own: read once (duplicates ignored)
        if plural_name == "pods":
            for o in objs:
                g = mg / "namespaces" / ns / "pods" / o["metadata"]["name"] / "pod.yaml.gz"
                g.parent.mkdir(parents=True, exist_ok=True)
                g.write_bytes(gzip.compress(yaml.safe_dump(o).encode()))
    (mg / "timestamp").write_text("2025-02-20 10:00:00\n")
    (mg / "event-filter.html").write_text("<html></html>")
    for shape in (multi, as_json, gz, mg.parent):
        got = load_cluster(str(shape))
        assert _normal(got) == _normal(want), shape
    assert load_cluster(str(mg.parent)).duplicates == 2


@pytest.mark.parametrize("name, content, expect", [
    ("bad.yaml", "apiVersion: v1\nkind: List\nitems:\n- {kind: Pod\n", "document 1: not valid YAML"),
    ("bad2.yaml", "kind: Pod\n---\nkind: [\n", "document 2: not valid YAML"),
    ("bad.json", '{"kind": "List", "items": [', "document 1: not valid JSON"),
    ("scalar.yaml", "just text\n", "document 1: not a Kubernetes object"),
    ("field.yaml", "apiVersion: kubeovn.io/v1\nkind: VpcNatGateway\nmetadata: {name: g}\n"
                   "spec: {lanIp: {a: 1}}\n", "document 1 (VpcNatGateway): spec.lanIp: expected"),
    ("item.yaml", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: kubeovn.io/v1\n"
                  "  kind: Subnet\n  metadata: {name: s}\n  spec: {namespaces: 7}\n",
     "document 1 item 1 (Subnet): spec.namespaces"),
    ("tag.yaml", "!!python/object/apply:os.system ['true']\n", "not valid YAML"),
    ("bad.yaml.gz", None, "gzip"),
])
def test_malformed_input_names_file_and_document(tmp_path, name, content, expect):
    path = tmp_path / name
    if content is None:
        path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    else:
        path.write_text(content)
    with pytest.raises(InputError) as info:
        load_cluster(str(path))
    assert str(path) in str(info.value) and expect in str(info.value)


def test_malformed_cli_exit_2_one_line(tmp_path):
    bad = tmp_path / "crs.yaml"
    bad.write_text("kind: List\nitems: [\n")
    for cmd in ("check", "nat", "failover-sim", "info"):
        proc = subprocess.run([sys.executable, "-m", "ovninspect", cmd, "--db", str(NB_5050),
                               "--k8s", str(bad)], cwd=ROOT, capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 2, (cmd, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and str(bad) in lines[0] and "not valid YAML" in lines[0], lines
        assert "Traceback" not in proc.stderr


def test_missing_and_empty_folder(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_cluster(str(tmp_path / "nope.yaml"))
    with pytest.raises(InputError, match="no .yaml"):
        load_cluster(str(tmp_path))


def test_info_lists_kinds(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ovninspect", "info", "--db", str(NB_5050),
                           "--k8s", str(CRDS / "kubeovn-5050.yaml"), "--format", "json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    k8s = json.loads(proc.stdout)["k8s"]
    assert k8s["kinds"]["OvnFip"] == 2 and k8s["kinds"]["OvnEip"] == 4
    assert k8s["kube_ovn_version"].startswith("v1.13.2")
    assert k8s["skipped"] == {"Service": 1, "ConfigMap (not used)": 1}


# -- rules on the #5050 NB ------------------------------------------------------------------
def test_5050_consistent_crs_give_only_the_known_type_mismatch():
    t = topo(NB_5050, CRDS / "kubeovn-5050.yaml")
    result = run_checks(t)
    kube = {(f.rule, f.object, f.severity) for f in result.findings
            if f.rule.startswith("kubeovn-") or f.rule == "fip-intent-mismatch"}
    # fip-9: centralized asked (ConfigMap), distributed by OVN; fip-11 agrees (near miss);
    # fip-intent-mismatch gives way to the CR-based rule
    assert kube == {("kubeovn-fip-type-mismatch", "OvnFip/fip-9", "warning")}
    assert run_checks(topo(NB_5050, None), ["fip-intent-mismatch"]).findings


@pytest.mark.parametrize("rule, expected", [
    ("kubeovn-fip-target-mismatch", {"OvnFip/fip-9": "error"}),
    ("kubeovn-fip-type-mismatch", {"OvnFip/fip-9": "warning", "OvnFip/fip-11": "warning"}),
    ("kubeovn-status-not-in-nb", {"OvnFip/fip-12": "error", "OvnEip/eip-12": "error",
                                  "Vpc/vpc2": "error"}),
    ("kubeovn-nb-not-in-crds", {"NAT 10.9.101.10 on vpc1": "warning"}),
    ("kubeovn-subnet-gateway-mismatch", {"Subnet/vpc1-subnet1": "error"}),
    ("kubeovn-subnet-cidr-mismatch", {"Subnet/vpc1-subnet1": "error"}),
])
def test_5050_stale_crs(rule, expected):
    """Triggers in kubeovn-5050-stale.yaml; near misses: the same rules find nothing with
    kubeovn-5050.yaml (eip-99 not ready, external0's CIDR agrees with its localnet)."""
    assert found(topo(NB_5050, CRDS / "kubeovn-5050-stale.yaml"), rule) == expected
    assert found(topo(NB_5050, CRDS / "kubeovn-5050.yaml"), rule) == (
        {"OvnFip/fip-9": "warning"} if rule == "kubeovn-fip-type-mismatch" else {})


def test_finding_names_cr_and_nb_row():
    t = topo(NB_5050, CRDS / "kubeovn-5050-stale.yaml")
    (f,) = run_checks(t, ["kubeovn-fip-target-mismatch"]).findings
    assert f.object == "OvnFip/fip-9" and f.details["nb"] == "NAT 10.9.101.9 on vpc1"
    assert "192.168.0.7" in f.message and "192.168.0.4" in f.message


# -- rules on the field-report NB -----------------------------------------------------------
@ovn
def test_4566_lanip_is_gateway():
    t = topo(field_nb(), CRDS / "4566.yaml")
    assert found(t, "kubeovn-natgw-lanip-is-gateway") == {"VpcNatGateway/gwa": "error"}
    (f,) = run_checks(t, ["kubeovn-natgw-lanip-is-gateway"]).findings
    assert f.details["nb"] == "router port vpca-vpca-subnet1 10.0.1.254/24"
    assert f.details["nb_port"] == "LSP vpc-nat-gw-gwa-0.kube-system"
    assert found(t, "kubeovn-natgw-lanip-outside-subnet") == {}
    assert found(t, "kubeovn-natgw-lanip-duplicate") == {}  # .254 and .253


@ovn
def test_4952_lanip_duplicate_error_with_cilium_chaining():
    t = topo(field_nb(), CRDS / "4952.json")
    assert found(t, "kubeovn-natgw-lanip-duplicate") == {"VpcNatGateway/gwc": "error",
                                                          "VpcNatGateway/gwd": "error"}
    doc = json.loads((CRDS / "4952.json").read_text())
    doc["items"] = [i for i in doc["items"] if i["metadata"]["name"] != "cilium-config"]
    t = topo(field_nb(), None, text=json.dumps(doc))
    assert found(t, "kubeovn-natgw-lanip-duplicate") == {"VpcNatGateway/gwc": "warning",
                                                          "VpcNatGateway/gwd": "warning"}
    assert found(t, "kubeovn-natgw-multiple-external-subnets") == {
        "VpcNatGateway/gwc": "warning"}


@ovn
def test_lanip_outside_subnet():
    text = (CRDS / "4952.json").read_text().replace('"lanIp": "10.0.2.3"',
                                                    '"lanIp": "10.0.3.3"')
    t = topo(field_nb(), None, text=text)
    assert found(t, "kubeovn-natgw-lanip-outside-subnet") == {"VpcNatGateway/gwe": "error"}


@ovn
def test_4916_eips_off_link_and_duplicate():
    t = topo(field_nb(), CRDS / "4916.yaml")
    assert found(t, "kubeovn-eip-off-link") == {"IptablesEIP/eip-off": "error",
                                                "OvnEip/oeip-off": "error"}
    assert found(t, "kubeovn-eip-duplicate") == {"IptablesEIP/eip-dup": "error",
                                                 "OvnEip/oeip-dup": "error"}
    assert found(t, "kubeovn-natgw-multiple-external-subnets") == {
        "VpcNatGateway/gwc": "warning"}


@ovn
def test_4573_ippools():
    t = topo(field_nb(), CRDS / "4573.yaml")
    assert found(t, "kubeovn-ippool-namespace-subnet-mismatch") == {
        "VirtualMachine/default/vm1": "error"}
    assert found(t, "kubeovn-ippool-outside-subnet") == {"IPPool/bad-pool": "error"}
    assert found(t, "kubeovn-ippool-namespace-overlap") == {"IPPool/subnet-10-66-6": "warning",
                                                            "IPPool/subnet-10-69-9": "warning"}
    (f,) = run_checks(t, ["kubeovn-ippool-namespace-subnet-mismatch"]).findings
    assert "LSP vm1.default.attachnet.default.ovn missing" in f.details["nb"]
    fixed = (CRDS / "4573.yaml").read_text().replace("kube-ovn:v1.13.0", "kube-ovn:v1.13.9")
    assert found(topo(field_nb(), None, text=fixed),
                 "kubeovn-ippool-namespace-subnet-mismatch") == {
        "VirtualMachine/default/vm1": "info"}
    unknown = (CRDS / "4573.yaml").read_text().replace("kube-ovn:v1.13.0", "kube-ovn:latest")
    assert found(topo(field_nb(), None, text=unknown),
                 "kubeovn-ippool-namespace-subnet-mismatch") == {
        "VirtualMachine/default/vm1": "warning"}


# -- labels ---------------------------------------------------------------------------------
def test_nat_rows_name_owning_crs():
    rows = nat_answer(topo(NB_5050, CRDS / "kubeovn-5050.yaml")).rows
    crs = {r["external_ip"]: r["owner"]["crs"] for r in rows}
    assert crs == {"10.9.101.9": ["OvnFip/fip-9", "OvnEip/eip-9"],
                   "10.9.101.10": ["OvnSnatRule/snat-10", "OvnEip/eip-10"],
                   "10.9.101.11": ["OvnFip/fip-11", "OvnEip/eip-11"]}
    plain = nat_answer(topo(NB_5050, None)).rows
    assert all("crs" not in r["owner"] for r in plain)
    assert set(plain[0]) <= set(rows[0])   # keys only added


def test_failover_names_eip_crs():
    t = topo(NB_5050, CRDS / "kubeovn-5050.yaml", SB_5050)
    rows = failover_answer(t).rows
    assert {r["external_ip"]: r["eip_cr"] for r in rows} == {
        "10.9.101.9": "OvnEip/eip-9", "10.9.101.10": "OvnEip/eip-10",
        "10.9.101.11": "OvnEip/eip-11", "10.9.230.12": "OvnEip/vpc1-external0"}


@ovn
def test_failover_iptables_eips_follow_the_gateway_pod_node():
    t = topo(field_nb(), CRDS / "4916.yaml")
    rows = [r for r in failover_answer(t, down=[]).rows if r["type"] == "iptables-eip"]
    by_ip = {r["external_ip"]: r for r in rows}
    assert set(by_ip) == {"172.16.0.10", "10.9.1.10", "10.9.1.20"}
    assert by_ip["10.9.1.10"]["reachable"] is True and by_ip["10.9.1.10"]["via"] == "node-1"
    assert by_ip["10.9.1.10"]["router"] == "vpcc" and by_ip["10.9.1.10"]["eip_cr"] == \
        "IptablesEIP/eip-on"
    assert by_ip["172.16.0.10"]["via"] == "node-2"       # node from the Pod
    down = {r["external_ip"]: r for r in failover_answer(t, down=["node-1"]).rows
            if r["type"] == "iptables-eip"}
    assert down["10.9.1.10"]["reachable"] is False and down["10.9.1.10"]["change"] == "lost"
    assert down["172.16.0.10"]["reachable"] is True      # gwd's pod runs on node-2
    # --sweep fails the NAT gateway pods' nodes as well
    swept = {tuple(r["down"]): r for r in sweep_answer(t).rows}
    assert ("node-1",) in swept and ("node-2",) in swept
    assert "10.9.1.10" in {e["external_ip"] for e in swept[("node-1",)]["lost_entries"]}
