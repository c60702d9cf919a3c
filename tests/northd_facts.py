"""What ovn-northd makes of an NB beyond NAT verdicts: logical flows of chosen stages with
their datapath names, port bindings, datapath external_ids and northd's log.

The check tests ask it questions tests/oracle.py does not answer (is there an admission
flow for this port, who answers ARP for this address, which port binding types exist).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

from tests.oracle import OracleError, _select, stop_lab, sync_northd
from tests.ovnlab import OvnBuild, OvnLab


@dataclass(frozen=True)
class LFlow:
    datapath: str          # Datapath_Binding external_ids:name (router or switch name)
    stage: str
    priority: int
    match: str
    actions: str


@dataclass
class NorthdFacts:
    flows: list[LFlow]
    bindings: dict[str, dict[str, Any]]     # logical_port -> {"type", "options"}
    datapaths: dict[str, dict[str, str]]    # name -> external_ids
    log: str
    error: Optional[str] = None             # northd died or did not sync

    def of(self, datapath: str, stage: str) -> list[LFlow]:
        return [f for f in self.flows if f.datapath == datapath and f.stage == stage]


def _pairs(value: Any) -> dict:
    return dict(value[1]) if isinstance(value, list) and value and value[0] == "map" else {}


def northd_facts(nb_file: Path, build: Optional[OvnBuild], stages: Iterable[str],
                 timeout: float = 30) -> NorthdFacts:
    """Run northd of ``build`` on a copy of ``nb_file`` and read what it wrote."""
    lab = OvnLab(build=build)
    try:
        lab.start_nb(Path(nb_file), upgrade=True)
        lab.start_sb()
        lab.start_northd()
        try:
            sync_northd(lab, timeout)
        except OracleError as exc:
            return NorthdFacts([], {}, {}, _log(lab), str(exc))
        cols = ["actions", "external_ids", "logical_datapath", "logical_dp_group", "match",
                "priority"]
        res = _select(lab, "sb", [
            *[("Logical_Flow", [["external_ids", "includes", ["map", [["stage-name", st]]]]],
               cols) for st in sorted(set(stages))],
            ("Datapath_Binding", [], ["_uuid", "external_ids"]),
            ("Logical_DP_Group", [], ["_uuid", "datapaths"]),
            ("Port_Binding", [], ["logical_port", "type", "options"]),
        ])
        dps = {r[0][1]: _pairs(r[1]) for r in res[-3]["data"]}
        groups = {r[0][1]: [u[1] for u in (r[1][1] if r[1][0] == "set" else [r[1]])]
                  for r in res[-2]["data"]}
        flows = []
        for table in res[:-3]:
            for actions, ids, dp, group, match, prio in table["data"]:
                ids = _pairs(ids)
                members = ([dp[1]] if isinstance(dp, list) and dp[0] == "uuid"
                           else groups.get(group[1], []) if isinstance(group, list)
                           and group[0] == "uuid" else [])
                for uuid in members:
                    flows.append(LFlow(dps.get(uuid, {}).get("name", uuid),
                                       ids.get("stage-name", ""), prio, match, actions))
        bindings = {r[0]: {"type": r[1], "options": _pairs(r[2])} for r in res[-1]["data"]}
        named = {ids.get("name", uuid): ids for uuid, ids in dps.items()}
        return NorthdFacts(flows, bindings, named, _log(lab))
    finally:
        stop_lab(lab)


def _log(lab: OvnLab) -> str:
    path = lab.path("northd.log")
    return path.read_text(errors="replace") if path.exists() else ""


__all__ = ["LFlow", "NorthdFacts", "northd_facts"]
