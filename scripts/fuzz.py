#!/usr/bin/env python3
"""Long-run mutation fuzzing (issue #11): seeded cases from tests/fuzz_lib.py, every
command run in-process on each, judged against ovsdb-tool.

    nice -n 19 .venv/bin/python scripts/fuzz.py --runs 100000 [--start SEED] [--out DIR]

Prints running totals and, at the end, one JSON line with them; failing cases are saved
under --out (input + what went wrong) and can be replayed with --seed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fuzz_lib import COMMANDS, check_case, make_case, replay_hint  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="command runs to make")
    parser.add_argument("--start", type=int, default=1, help="first seed")
    parser.add_argument("--seed", type=int, help="replay one seed and print its outcome")
    parser.add_argument("--out", type=Path, default=Path("fuzz-failures"))
    args = parser.parse_args()
    os.environ.pop("OVN_NB_DB", None)
    os.environ.pop("OVN_SB_DB", None)
    if args.seed is not None:
        outcome = check_case(make_case(args.seed))
        print(replay_hint(outcome.case), outcome.verdict)
        for run in outcome.runs:
            print(" ".join(run.command), run.code, run.stderr.strip()[:300])
        print("\n".join(outcome.problems) or "no problem")
        return 1 if outcome.problems else 0
    totals = {"inputs": 0, "runs": 0, "tracebacks": 0, "exit_70": 0,
              "accepted_but_refused_by_ovsdb_tool": 0, "other_problems": 0,
              "refused_by_ovsdb_tool": 0, "exit_0_when_refused_inexact": 0,
              "exit_2_although_accepted": 0, "judged_inputs": 0}
    start = time.monotonic()
    seed = args.start
    args.out.mkdir(parents=True, exist_ok=True)
    while totals["runs"] < args.runs:
        try:
            case = make_case(seed)
        except Exception as exc:  # a bug in the mutator, not in ovninspect: note, go on
            print(f"seed {seed}: mutator failed: {exc!r}", flush=True)
            totals["mutator_errors"] = totals.get("mutator_errors", 0) + 1
            seed += 1
            continue
        outcome = check_case(case)
        totals["inputs"] += 1
        totals["runs"] += len(outcome.runs)
        if outcome.verdict.accepted is not None:
            totals["judged_inputs"] += 1
        if outcome.verdict.accepted is False:
            totals["refused_by_ovsdb_tool"] += 1
            if not outcome.verdict.exact and any(r.code in (0, 1) for r in outcome.runs):
                totals["exit_0_when_refused_inexact"] += 1
        totals["exit_2_although_accepted"] += outcome.false_refusals
        for problem in outcome.problems:
            if "traceback" in problem:
                totals["tracebacks"] += 1
            elif "exit 70" in problem:
                totals["exit_70"] += 1
            elif "ovsdb-tool refuses" in problem:
                totals["accepted_but_refused_by_ovsdb_tool"] += 1
            else:
                totals["other_problems"] += 1
        if outcome.problems:
            (args.out / f"seed-{seed}.input").write_bytes(outcome.case.data)
            (args.out / f"seed-{seed}.txt").write_text(
                replay_hint(outcome.case) + "\n" + "\n".join(outcome.problems) + "\n")
        if totals["inputs"] % 500 == 0:
            rate = totals["runs"] / (time.monotonic() - start)
            print(json.dumps(totals), f"{rate:.0f} runs/s", flush=True)
        seed += 1
    totals["seconds"] = round(time.monotonic() - start)
    totals["seeds"] = f"{args.start}..{seed - 1}"
    totals["commands"] = [" ".join(c) for c in COMMANDS]
    print(json.dumps(totals), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
