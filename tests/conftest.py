"""Shared pytest configuration: ``--runslow`` for ``slow`` tests, ``ovn`` tests need binaries.

Markers (registered in pyproject.toml):

* ``slow``: skipped unless ``--runslow`` is given;
* ``ovn``: skipped when the OVN/OVS binaries the lab needs are not installed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from tests.ovnlab import OvnBuild, builds, have_ovn

# CI replays the same examples on every run (a red CI must mean a change broke something);
# local runs explore new ones.  HYPOTHESIS_PROFILE=explore forces random examples anywhere.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE",
                                     "ci" if os.environ.get("CI") else "explore"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run tests marked slow")


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist workers get COLUMNS=80: commands would fit their tables to it.  Tests
    # that want a width set it themselves; the rest see one line a row, as on a pipe.
    os.environ.pop("COLUMNS", None)
    # keep working when pyproject.toml's marker list is not picked up (e.g. -c elsewhere)
    config.addinivalue_line("markers", "slow: long-running (run with --runslow)")
    config.addinivalue_line("markers", "ovn: needs ovsdb-server / ovn-nbctl / ovn-northd")
    config.addinivalue_line("markers", "controller: runs simulated chassis with the real "
                            "ovn-controller and ovs-vswitchd (tests/controller_lab.py)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    runslow = config.getoption("--runslow")
    ovn_ok = have_ovn()
    skip_slow = pytest.mark.skip(reason="slow: run with --runslow")
    skip_ovn = pytest.mark.skip(reason="OVN binaries (ovsdb-server, ovn-nbctl, ...) not found")
    for item in items:
        if "slow" in item.keywords and not runslow:
            item.add_marker(skip_slow)
        if "ovn" in item.keywords and not ovn_ok:
            item.add_marker(skip_ovn)


def release_of(build: OvnBuild) -> tuple[int, int, int]:
    """(major, minor, patch) of a build's ``ovn-northd --version``."""
    parts = [int(p) for p in build.release.split(".")[:3] if p.isdigit()]
    return tuple((parts + [0, 0, 0])[:3])  # type: ignore[return-value]


@pytest.fixture(scope="session", params=builds() or (None,),
                ids=lambda b: b.series if b is not None else "no-ovn")
def ovn_build(request: pytest.FixtureRequest) -> OvnBuild:
    """Each OVN build the machine has (the host's, then scripts/ovn-versions.sh's): the
    oracle tier runs once per build.  ``OVNINSPECT_OVN_BUILDS=host|23.03,26.03`` limits."""
    if request.param is None:
        pytest.skip("no OVN build installed (ovn-northd not on PATH, no version roots)")
    return request.param


@pytest.fixture(scope="session")
def k5050(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The Kube-OVN #5050 scenario (NB, SB files) built once with ovn-nbctl/ovn-sbctl."""
    from tests.failover_lab import make

    nb, sb = make("5050", tmp_path_factory.mktemp("k5050"))
    assert sb is not None
    return nb, sb
