"""``nat --wide``: where OVN dynamic routing announces each NAT address from, read from the
SB ``Advertised_Route`` rows real ovn-northd writes (ovn-changes §2.1; issue 14 item 3)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import release_of
from tests.failover_lab import add_chassis, add_pod, add_switch, cli, connect
from tests.ovnlab import OvnBuild, OvnLab

pytestmark = pytest.mark.ovn


def build(lab: OvnLab, local_only: bool) -> None:
    """r1: DGP r1-ext (gw1 20, gw2 10) redistributing nat; a distributed FIP for p1 (bound on
    node1), a centralized FIP and an snat; cr-r1-ext claimed by gw1."""
    n = lab.nbctl
    add_switch(lab, "ext", "physnet")
    add_switch(lab, "ls1")
    n("lr-add", "r1")
    connect(lab, "r1", "ls1", "r1-ls1", "00:00:00:01:00:01", "10.1.0.1/24")
    connect(lab, "r1", "ext", "r1-ext", "00:00:00:01:00:02", "172.16.0.1/24")
    n("lrp-set-gateway-chassis", "r1-ext", "gw1", "20")
    n("lrp-set-gateway-chassis", "r1-ext", "gw2", "10")
    add_pod(lab, "ls1", "p1", "0a:00:00:00:01:01", "10.1.0.11")
    n("lr-nat-add", "r1", "dnat_and_snat", "172.16.0.11", "10.1.0.11", "p1",
      "0a:00:00:00:01:01")
    n("lr-nat-add", "r1", "dnat_and_snat", "172.16.0.12", "10.1.0.12")
    n("lr-nat-add", "r1", "snat", "172.16.0.1", "10.1.0.0/24")
    n("set", "Logical_Router", "r1", "options:dynamic-routing=true")
    opts = ["options:dynamic-routing-redistribute=nat"]
    if local_only:
        opts.append("options:dynamic-routing-redistribute-local-only=true")
    n("set", "Logical_Router_Port", "r1-ext", *opts)
    lab.sync()
    for i, name in enumerate(("gw1", "gw2", "node1")):
        add_chassis(lab, name, f"127.0.9.{i + 1}", f"host-{name}", "physnet:br-ex")
    lab.sbctl("lsp-bind", "p1", "node1")
    lab.sbctl("lsp-bind", "cr-r1-ext", "gw1")
    lab.sync()


def announced(build_: OvnBuild, tmp_path: Path, local_only: bool) -> dict[str, dict]:
    with OvnLab(build=build_) as lab:
        lab.start_nb().start_sb().start_northd()
        build(lab, local_only)
        nb, sb = tmp_path / "nb.db", tmp_path / "sb.db"
        shutil.copyfile(lab.nb_db, nb)
        shutil.copyfile(lab.sb_db, sb)
    data = json.loads(cli("nat", "--db", str(nb), "--sb", str(sb), "-f", "json",
                          check_rc=0).stdout)
    table = cli("nat", "--db", str(nb), "--sb", str(sb), "--wide", check_rc=0).stdout
    assert "ANNOUNCED_FROM" in table
    return {row["external_ip"]: row["announced_from"] for row in data["nats"]}


@pytest.mark.parametrize("local_only", [False, True])
def test_announced_from_per_release(ovn_build: OvnBuild, tmp_path: Path,
                                    local_only: bool) -> None:
    got = announced(ovn_build, tmp_path, local_only)
    if release_of(ovn_build) < (25, 3, 0):
        assert set(got.values()) == {None}       # no dynamic routing before 25.03
        return
    snat, cfip, dfip = got["172.16.0.1"], got["172.16.0.12"], got["172.16.0.11"]
    for centralized in (snat, cfip):             # the DGP advertises; its claim holder speaks
        assert (centralized["port"], centralized["scope"], centralized["chassis"]) == (
            "r1-ext", "claim", "gw1")
    assert (dfip["port"], dfip["tracked_port"], dfip["tracked_chassis"]) == (
        "r1-ext", "p1", "node1")
    if local_only and release_of(ovn_build) >= (25, 3, 2):
        # gw1 is not where p1 is bound: skipped there (inferred; the option is 25.03.2+)
        assert (dfip["scope"], dfip["chassis"]) == ("nowhere", None)
        assert "local-only" in dfip["reason"]
    else:
        assert (dfip["scope"], dfip["chassis"]) == ("claim", "gw1")
