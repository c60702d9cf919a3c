"""``ovninspect nat`` against ovn-northd itself: the logical flows are the ground truth.

On every OVN build the machine has (23.03 on the host, 25.03 and 26.03 from
scripts/ovn-versions.sh), for every fixture NB and for random topologies (hypothesis,
tests/topogen.py), that build's northd runs on the NB, the oracle (tests/oracle.py) reads
which port gates each NAT's flows, and the placement analysis, with the rules of the
release northd reports, must agree (tests/topogen.py ``disagreements``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ovninspect.analysis.placement import CENTRALIZED, DISTRIBUTED, INACTIVE, classify_all
from ovninspect.sources import open_snapshot
from ovninspect.topology import Topology
from tests.conftest import release_of
from tests.oracle import clear_nb, oracle_from_lab, run_northd_oracle, served_columns, stop_lab
from tests.ovnlab import OvnBuild, OvnLab
from tests.topogen import (
    NatSpec,
    RouterSpec,
    build_commands,
    disagreements,
    kinds_for,
    router_strategy,
)

pytestmark = pytest.mark.ovn
ROOT = Path(__file__).resolve().parent.parent


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
def test_fixture_verdicts_match_northd(nb_file: Path, ovn_build: OvnBuild) -> None:
    """Each fixture, upgraded to the build's schema as an operator would, through its
    northd; judged with the rules of the release northd reports."""
    oracle = run_northd_oracle(nb_file, build=ovn_build)
    topo = Topology(open_snapshot(str(nb_file)), ovn_version=ovn_build.release)
    assert topo.nats, "fixture has NATs"
    assert [str(d) for d in disagreements(topo, oracle)] == []


# -- random topologies ------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab(ovn_build: OvnBuild):
    lab = OvnLab(build=ovn_build).start_nb().start_sb().start_northd()
    yield lab
    stop_lab(lab)


def judge(lab: OvnLab, routers: list[RouterSpec]) -> tuple[Topology, dict]:
    """Build ``routers`` in the lab's NB, run its northd (the oracle), and read the NB back
    as ovninspect does; the release ovninspect detects must be the one northd runs."""
    clear_nb(lab)
    lab.nbctl(*build_commands(routers, served_columns(lab, "NAT")))
    oracle = oracle_from_lab(lab)
    topo = Topology(open_snapshot(lab.nb_remote))
    assert topo.version.source == "northd_internal_version"
    assert topo.version.release == release_of(lab.build)
    return topo, oracle


EXAMPLES = int(os.environ.get("OVNINSPECT_ORACLE_EXAMPLES", "40"))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_topologies_match_northd(lab: OvnLab, data: st.DataObject) -> None:
    """At least 200 random router topologies per build in CI (40 examples of 5-8 routers);
    scripts/oracle_sweep.py runs many more and counts every disagreement."""
    kinds = kinds_for(release_of(lab.build))
    routers = data.draw(st.lists(router_strategy(kinds), min_size=5, max_size=8))
    topo, oracle = judge(lab, routers)
    problems = [str(d) for d in disagreements(topo, oracle)]
    assert problems == [], "\n".join(problems)


def test_generator_covers_every_mode(lab: OvnLab) -> None:
    """The random generator can reach all three verdicts (so the property test can fail)."""
    def nat(type_: str, ext: str, logical: str, port: str = "none", mac: str = "none"
            ) -> NatSpec:
        return NatSpec(type_, ext, logical, port, mac, "none", "none", False, "none")

    spec = [RouterSpec("gc", (nat("dnat_and_snat", "in-dgp0", "host", "pod", "good"),
                              nat("snat", "in-dgp0", "cidr"),
                              nat("dnat_and_snat", "two-addrs", "host"))),
            RouterSpec("two-dgp", (nat("dnat", "off-link", "host"),)),
            RouterSpec("gr", (nat("snat", "in-dgp0", "cidr"),))]
    topo, oracle = judge(lab, spec)
    modes = {v.mode for v in classify_all(topo)}
    assert modes == {DISTRIBUTED, CENTRALIZED, INACTIVE}
    assert [str(d) for d in disagreements(topo, oracle)] == []
