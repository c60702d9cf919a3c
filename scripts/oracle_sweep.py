#!/usr/bin/env python3
"""Sweep random topologies through one OVN build's northd and count every NAT where
ovninspect disagrees, by class (the property test stops at the first one).

    python3 scripts/oracle_sweep.py --build 25.03 -n 300 [--seed 1] [--jsonl out.jsonl]

``--build`` is a series of tests/ovnlab.py ``builds()``: ``23.03`` (the host's), or
``25.03``/``26.03`` after ``bash scripts/ovn-versions.sh`` (root).  Topologies come from
tests/topogen.py (the same space as tests/test_nat_oracle.py), drawn with a seeded RNG, so
a run is repeatable.  Prints the totals and the disagreement counts by class; exits 1 when
anything disagrees, 2 when northd crashed on some topology.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ovninspect.sources import open_snapshot  # noqa: E402
from ovninspect.topology import Topology  # noqa: E402
from tests.conftest import release_of  # noqa: E402
from tests.oracle import (  # noqa: E402
    OracleError,
    clear_nb,
    oracle_from_lab,
    served_columns,
    stop_lab,
)
from tests.ovnlab import OvnLab, builds  # noqa: E402
from tests.topogen import build_commands, disagreements, kinds_for, random_topology  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True, help="OVN series, e.g. 23.03, 25.03, 26.03")
    ap.add_argument("-n", "--topologies", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jsonl", type=Path, help="write every disagreement here, one per line")
    args = ap.parse_args()
    found = [b for b in builds() if b.series == args.build]
    if not found:
        have = ", ".join(b.series for b in builds()) or "none"
        print(f"oracle_sweep: no OVN build {args.build} (have: {have})", file=sys.stderr)
        return 2
    build = found[0]
    kinds = kinds_for(release_of(build))
    rng = random.Random(args.seed)
    classes: collections.Counter[str] = collections.Counter()
    nats = bad = crashes = 0
    out = args.jsonl.open("w") if args.jsonl else None
    start = time.monotonic()
    lab = OvnLab(build=build).start_nb().start_sb().start_northd()
    try:
        for index in range(args.topologies):
            routers = random_topology(rng, kinds)
            try:
                clear_nb(lab)
                lab.nbctl(*build_commands(routers, served_columns(lab, "NAT")))
                oracle = oracle_from_lab(lab)
            except OracleError as exc:
                crashes += 1
                classes[f"northd failed: {str(exc).splitlines()[0][:120]}"] += 1
                stop_lab(lab)
                lab = OvnLab(build=build).start_nb().start_sb().start_northd()
                continue
            topo = Topology(open_snapshot(lab.nb_remote))
            nats += len(topo.nats)
            for d in disagreements(topo, oracle):
                bad += 1
                classes[d.cls] += 1
                if out is not None:
                    out.write(json.dumps({"topology": index, "seed": args.seed,
                                          "text": str(d), "class": d.cls}) + "\n")
    finally:
        stop_lab(lab)
        if out is not None:
            out.close()
    elapsed = time.monotonic() - start
    print(f"ovn-northd {build.release}: {args.topologies} topologies (seed {args.seed}), "
          f"{nats} NATs, {bad} disagree, {crashes} northd failures, {elapsed:.0f} s")
    for cls, count in classes.most_common():
        print(f"{count:6d}  {cls}")
    return 2 if crashes else (1 if bad else 0)


if __name__ == "__main__":
    sys.exit(main())
