#!/usr/bin/env python3
"""Where ``ovninspect nat --format json`` spends its time, phase by phase, in one process.

Usage: python3 scripts/profile_nat.py NB_FILE [--repeat N]

Each phase is timed with the garbage collector off, as the CLI runs; with --repeat the
pipeline runs N times on fresh snapshots in fresh child processes and the fastest time of
each phase is shown (this VM's wall times vary by up to 30%).  scripts/bench.py measures the
whole command against the floor; this says which phase to work on.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time

PHASES = ("imports", "load", "parse", "topology", "port index", "classify", "rows", "json")


def one_run(path: str) -> dict[str, float]:
    gc.disable()
    marks = [time.perf_counter()]
    from ovninspect.analysis.placement import classify_all
    from ovninspect.answers.nat import verdicts_answer
    from ovninspect.commands import common
    from ovninspect.render import render_json_bytes
    from ovninspect.topology import NB_NEEDS, Topology
    marks.append(time.perf_counter())
    inputs = common.Inputs(path, None, "json", None, None, None, 10.0, False, None)
    nb = common.load_snapshot(path, "nb", inputs, common.NB_LIVE_TABLES)
    marks.append(time.perf_counter())
    for table in (*NB_NEEDS, "NB_Global", "Gateway_Chassis", "HA_Chassis_Group",
                  "HA_Chassis"):
        nb.table(table).rows  # noqa: B018  (parse what the topology reads)
    marks.append(time.perf_counter())
    topo = Topology(nb)
    marks.append(time.perf_counter())
    topo.lsp_exists("-")  # builds the switch port name index
    marks.append(time.perf_counter())
    verdicts = classify_all(topo)
    marks.append(time.perf_counter())
    report = verdicts_answer(topo, verdicts)
    marks.append(time.perf_counter())
    render_json_bytes(report)
    marks.append(time.perf_counter())
    return {name: b - a for name, a, b in zip(PHASES, marks, marks[1:])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one_run(args.db)))
        return 0
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        out = subprocess.run([sys.executable, __file__, "--child", args.db], check=True,
                             capture_output=True, text=True).stdout
        for name, value in json.loads(out).items():
            best[name] = min(best.get(name, value), value)
    for name in PHASES:
        print(f"{name:12s} {best[name]:7.3f} s")
    print(f"{'total':12s} {sum(best.values()):7.3f} s (plus interpreter start and exit)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
