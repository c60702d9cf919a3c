#!/usr/bin/env python3
"""Run the NAT external_ip trace lab (tests/nat_trace_lab.py) on OVN builds and dump what
northd built and what ovn-trace did, case by case: the raw material of
tests/evidence/nat-external-ip.md.

    .venv/bin/python scripts/trace_evidence.py [--series 23.03,25.03] [--json OUT.json]

One lab per build, run one after the other.  Prints one block per case.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.nat_trace_lab import Observed, build, cases_for, observe  # noqa: E402
from tests.oracle import stop_lab  # noqa: E402
from tests.ovnlab import OvnLab, builds  # noqa: E402
from tests.ovntrace import TraceDaemon  # noqa: E402


def summary(o: Observed) -> Dict[str, Any]:
    """A JSON-able record of one case."""
    return {
        "router": o.case.name, "group": o.case.group, "shape": o.case.shape,
        "nats": [vars(n) for n in o.case.nats],
        "placement": o.placement(), "gating": o.gating(),
        "rejected_stages": o.rejected_stages(),
        "flows": [vars(f) for f in o.flows],
        "traces": {k: {"outputs": list(t.outputs), "nat": [list(x) for x in t.nat],
                       "rewrites": [list(x) for x in t.rewrites], "reply_mac": t.reply_mac}
                   for k, t in o.traces.items()},
    }


def run(build_) -> Dict[str, Any]:
    cases = cases_for(build_.series)
    lab = OvnLab(build=build_)
    t0 = time.monotonic()
    try:
        lab.start_nb().start_sb().start_northd()
        build(lab, cases)
        with TraceDaemon(lab) as td:
            obs = observe(lab, cases, td)
            warnings = list(td.warnings)
        log = [ln for ln in lab.path("northd.log").read_text().splitlines() if "|WARN|" in ln]
    finally:
        stop_lab(lab)
    return {"release": build_.release, "seconds": round(time.monotonic() - t0, 1),
            "cases": [summary(o) for o in obs.values()], "trace_warnings": warnings,
            "northd_warnings": log}


def show(res: Dict[str, Any]) -> None:
    print(f"### OVN {res['release']} ({res['seconds']} s)")
    for c in res["cases"]:
        nat = "; ".join(f"{n['kind']} {n['external_ip']!r}" for n in c["nats"])
        print(f"{c['router']:14} {nat:34} {c['placement']:11} gating={c['gating']} "
              f"rejected={c['rejected_stages']}")
        for k, t in c["traces"].items():
            extra = f" reply={t['reply_mac']}" if k.startswith("arp") else ""
            nat = ",".join(f"{x[0]}={x[2]}" for x in t["nat"])
            print(f"    {k:16} -> {','.join(t['outputs']) or 'DROP':28} {nat}{extra}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", default="", help="comma list, e.g. 23.03,26.03 (default: all)")
    ap.add_argument("--json", type=Path, help="write all results here")
    ap.add_argument("--quiet", action="store_true", help="no per-case listing")
    args = ap.parse_args()
    wanted = {s for s in args.series.split(",") if s}
    results = []
    for b in builds():
        if wanted and b.series not in wanted:
            continue
        res = run(b)
        results.append(res)
        if not args.quiet:
            show(res)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
