"""Mutation fuzzing in CI (issue #11): every fixture format, mutated (bit flips, truncation,
records duplicated, removed or swapped, JSON edits with the SHA-1 recomputed, raft
metadata and schema edits, exports, gzip and folder wrappers: tests/fuzz_lib.py), each
input run through the commands in-process and judged against ovsdb-tool.

Exit 0 only when ovsdb-tool accepts the file (clustered files: see fuzz_lib's note on
cluster-to-standalone), otherwise exit 2 with exactly one stderr line naming the input;
never exit 70 or a traceback; the input unchanged.  Under CI the same examples replay
every time (derandomized); ``OVNINSPECT_FUZZ_EXAMPLES`` changes how many each group runs.
scripts/fuzz.py runs long campaigns with the same cases.
"""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz_lib import COMMANDS, FIXTURES, SEEDS, check_case, make_case, replay_hint

pytestmark = pytest.mark.skipif(shutil.which("ovsdb-tool") is None,
                                reason="ovsdb-tool (openvswitch-common) not installed")

GROUPS = 8
EXAMPLES = int(os.environ.get("OVNINSPECT_FUZZ_EXAMPLES", "300"))  # per group: 2,400 inputs
# each input runs info and one other command (rotating), so the CI run stays short
PAIRS = [(COMMANDS[0], c) for c in COMMANDS[1:]]


@pytest.mark.parametrize("group", range(GROUPS))
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**40))
def test_mutated_inputs(group: int, seed: int) -> None:
    if not all((FIXTURES / path).exists() for path in SEEDS.values()):
        pytest.skip("fixtures missing (scripts/make_fixtures.sh)")
    case = make_case(seed * GROUPS + group)
    outcome = check_case(case, PAIRS[(seed + group) % len(PAIRS)])
    assert not outcome.problems, replay_hint(case) + "\n" + "\n".join(outcome.problems)
