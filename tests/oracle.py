"""Ground-truth oracle: what ovn-northd actually did with every NB ``NAT`` row.

The oracle reads the SB logical flows northd produced and, for each NB NAT row, finds the
flows that implement it and the ``is_chassis_resident(...)`` gating on them
(docs/lab-notes.md §3, docs/ovn-semantics.md §1.8):

* **centralized**: every NAT-stage flow (``lr_in_unsnat``, ``lr_in_dnat``,
  ``lr_out_undnat``, ``lr_out_snat``) is gated on the same port, ``cr-<dgp>``; or, on a
  gateway router (``Logical_Router.options:chassis``), no flow is gated at all;
* **distributed**: only ``lr_out_snat`` is gated, on the NAT's ``logical_port``; the other
  NAT stages are ungated;
* **no-nat-flows**: no NAT-stage flow belongs to the row (ARP replies alone do not count);
* **mixed**: anything else (reported, never guessed).

Flows are attributed through ``external_ids:stage-hint`` (first 8 hex digits of the NAT
UUID, so it can collide: lab-notes pitfall 5) and cross-checked against the IPs parsed out
of the flow, within the router datapath(s) the flow applies to.

Inputs are the ``{"headings": [...], "data": [...]}`` dicts printed by
``ovn-sbctl/ovn-nbctl --format=json list <Table>``; columns are looked up by heading.
:func:`read_tables` produces the same shape from a running lab with server-side filtered
OVSDB selects. Entry points: :func:`oracle_from_tables` (pure), :func:`oracle_from_lab`
(reuse one lab; see :func:`clear_nb`) and :func:`run_northd_oracle` (one NB file).
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import json
import os
import re
import signal
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from tests.ovnlab import OvnBuild, OvnLab

#: Stages whose gating decides the verdict.
NAT_STAGES: Tuple[str, ...] = ("lr_in_unsnat", "lr_in_dnat", "lr_out_undnat", "lr_out_snat")
#: Stages attributed too, for debugging only (ARP/ND replies, gateway redirect, hairpin).
EXTRA_STAGES: Tuple[str, ...] = (
    "lr_in_admission",
    "lr_in_ip_input",
    "lr_in_gw_redirect",
    "lr_out_chk_dnat_local",
    "lr_out_egr_loop",
)
ATTRIBUTED_STAGES: FrozenSet[str] = frozenset(NAT_STAGES + EXTRA_STAGES)
UNGATED = "-"
VERDICTS = ("distributed", "centralized", "no-nat-flows", "mixed")


class OracleError(RuntimeError):
    """northd did not produce a usable SB (assertion, hang, bad input)."""


# --------------------------------------------------------------------------------------
# OVSDB JSON datums
# --------------------------------------------------------------------------------------
Table = Mapping[str, Any]


def rows(table: Table) -> List[Dict[str, Any]]:
    """Rows of an ``--format=json list`` dict, each keyed by heading name."""
    heads = table["headings"]
    return [dict(zip(heads, r)) for r in table["data"]]


def atom(v: Any) -> Any:
    """A bare atom, or the ``uuid`` string of ``["uuid", u]``."""
    if isinstance(v, list) and len(v) == 2 and v[0] in ("uuid", "named-uuid"):
        return v[1]
    return v


def as_set(v: Any) -> List[Any]:
    """Elements of a set datum (a bare atom is a one-element set)."""
    if isinstance(v, list) and len(v) == 2 and v[0] == "set":
        return [atom(x) for x in v[1]]
    return [atom(v)]


def as_opt(v: Any) -> Optional[Any]:
    """An optional (0..1) column: the value or None."""
    s = as_set(v)
    return s[0] if s else None


def as_map(v: Any) -> Dict[Any, Any]:
    """A map datum as a dict."""
    if isinstance(v, list) and len(v) == 2 and v[0] == "map":
        return {atom(k): atom(x) for k, x in v[1]}
    return {}


# --------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Flow:
    """One SB logical flow, reduced to what attribution needs."""

    uuid: str
    stage: str
    pipeline: str
    priority: int
    match: str
    actions: str
    hint: Optional[str]
    datapaths: FrozenSet[str]

    @property
    def residents(self) -> List[str]:
        return RESIDENT_RE.findall(self.match)


@dataclass(frozen=True)
class Nat:
    """One NB NAT row with the router(s) that reference it."""

    uuid: str
    type: str
    external_ip: str
    logical_ip: str
    logical_port: Optional[str]
    external_mac: Optional[str]
    gateway_port: Optional[str]
    routers: FrozenSet[str]  # NB Logical_Router uuids
    match: str = ""          # NAT.match (>= 24.09): northd adds "(<match>)" to its flows

    @property
    def ext_key(self) -> str:
        return ip_key(self.external_ip) or self.external_ip.strip()

    @property
    def ext_keys(self) -> FrozenSet[str]:
        """Keys a flow may use for the external IP: the raw text northd copies into its
        flows (canonicalised when it parses), and the first address in it, which northd
        >= 25.03 uses for ARP replies (``10.1.1.12.7`` -> ``10.1.1.12``)."""
        keys = {self.ext_key}
        first = _FIRST_ADDR_RE.search(self.external_ip)
        if first:
            keys.add(ip_key(first.group(0)) or first.group(0))
        return frozenset(keys)

    @property
    def log_key(self) -> str:
        return ip_key(self.logical_ip) or self.logical_ip


@dataclass
class OracleVerdict:
    """What northd did with one NAT row."""

    verdict: str
    resident_port: Optional[str] = None
    gateway_port: Optional[str] = None
    gateway_router: bool = False
    router: Optional[str] = None  # router name
    duplicate_of: Optional[str] = None  # identical NAT whose flows this row shares
    stages: Dict[str, Set[str]] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line, e.g. ``distributed pod1.ns1 via vpc1-external0``."""
        s = self.verdict
        if self.resident_port:
            s += f" {self.resident_port}"
        if self.gateway_port:
            s += f" via {self.gateway_port}"
        if self.gateway_router:
            s += " (gateway router)"
        return s


# --------------------------------------------------------------------------------------
# Flow parsing
# --------------------------------------------------------------------------------------
RESIDENT_RE = re.compile(r'is_chassis_resident\("([^"]*)"\)')
PORT_RE = re.compile(r'\b(?:inport|outport)\s*==\s*"([^"]*)"')
_ADDR = r"[0-9A-Fa-f:.]+(?:/[0-9]+)?"
# match side: ip4/ip6 src/dst, ARP/ND targets, MAC destination
_MATCH_RE = re.compile(
    r"\b(ip[46]\.(?:src|dst)|arp\.tpa|nd\.target|nd_ns\.target|eth\.dst)\s*==\s*(" + _ADDR + r")(?![\w:.])"
)
# action side: ct_snat*/ct_dnat*(X[,...]), ipN.src=X / ipN.dst=X, (xx)reg1 = X
_CT_RE = re.compile(r"\bct_(snat|dnat)(?:_in_czone)?\(\s*\[?(" + _ADDR + r")")
_FIRST_ADDR_RE = re.compile(r"\d+\.\d+\.\d+\.\d+|[0-9A-Fa-f]*:[0-9A-Fa-f:]+")
_SET_RE = re.compile(r"(?<![=!<>])\b(ip[46]\.(?:src|dst)|x?x?reg1)\s*=\s*(" + _ADDR + r")(?![\w:.])")


@functools.lru_cache(maxsize=1 << 16)
def ip_key(text: str) -> Optional[str]:
    """Canonical form of an address or prefix (``x/32``, ``x/128`` -> ``x``), or None."""
    t = text.strip().strip("[]")
    try:
        if "/" in t:
            k = str(ipaddress.ip_network(t, strict=False))
            return k.rsplit("/", 1)[0] if k.endswith(("/32", "/128")) else k
        return str(ipaddress.ip_address(t))
    except ValueError:
        return None


def flow_addresses(flow: Flow, nat_matches: Iterable[str] = ()
                   ) -> Tuple[Set[str], Set[str], Set[str]]:
    """(external-side, logical-side, MAC) keys a NAT flow refers to.

    Match ``ipN.dst``/ARP/ND targets are external addresses; ``ipN.src`` is the logical
    address except in ``lr_in_ip_input`` (external IP of an SNAT). Actions:
    ``ct_snat*(X)``, ``ipN.src=X`` and ``reg1 = X`` carry the external address,
    ``ct_dnat*(Y)`` and ``ipN.dst=Y`` the logical one.  Addresses inside a NAT's own
    ``(<NAT.match>)`` (``nat_matches``) are not the NAT's and are skipped.
    """
    ext: Set[str] = set()
    log: Set[str] = set()
    mac: Set[str] = set()

    def put(dst: Set[str], val: str) -> None:
        k = ip_key(val)
        # an address northd copied as written but Python will not parse (010.1.1.1)
        dst.add(k if k is not None else val)

    match = flow.match
    for extra in nat_matches:
        if extra:
            match = match.replace(f"({extra})", "")
    for fld, val in _MATCH_RE.findall(match):
        if fld == "eth.dst":
            mac.add(val.lower())
        elif fld.endswith(".src") and flow.stage != "lr_in_ip_input":
            put(log, val)
        else:
            put(ext, val)
    if flow.stage != "lr_out_egr_loop":  # its clone{} action only resets registers
        for kind, val in _CT_RE.findall(flow.actions):
            put(ext if kind == "snat" else log, val)
        for fld, val in _SET_RE.findall(flow.actions):
            put(log if fld.endswith(".dst") else ext, val)
    return ext, log, mac


def parse_flows(lflows: Table, dp_groups: Optional[Table] = None,
                stages: Iterable[str] = ATTRIBUTED_STAGES) -> List[Flow]:
    """SB Logical_Flow rows of the given stages, with datapath groups expanded."""
    wanted = set(stages)
    groups: Dict[str, FrozenSet[str]] = {}
    if dp_groups is not None:
        for g in rows(dp_groups):
            groups[atom(g["_uuid"])] = frozenset(as_set(g["datapaths"]))
    out: List[Flow] = []
    for r in rows(lflows):
        ext_ids = as_map(r["external_ids"])
        stage = ext_ids.get("stage-name", "")
        if stage not in wanted:
            continue
        dps: Set[str] = set(as_set(r.get("logical_datapath", ["set", []])))
        for g in as_set(r.get("logical_dp_group", ["set", []])):
            dps |= groups.get(g, frozenset())
        out.append(Flow(
            uuid=atom(r["_uuid"]), stage=stage, pipeline=r.get("pipeline", ""),
            priority=int(r.get("priority", 0)), match=r.get("match", ""),
            actions=r.get("actions", ""), hint=ext_ids.get("stage-hint"),
            datapaths=frozenset(dps),
        ))
    return out


def parse_nats(nats: Table, routers: Table) -> Tuple[Dict[str, Nat], Dict[str, Dict[str, Any]]]:
    """NB NAT rows (with owning routers) and NB routers keyed by uuid."""
    lrs = {atom(r["_uuid"]): r for r in rows(routers)}
    owners: Dict[str, Set[str]] = defaultdict(set)
    for lr_uuid, r in lrs.items():
        for n in as_set(r["nat"]):
            owners[n].add(lr_uuid)
    out: Dict[str, Nat] = {}
    for r in rows(nats):
        u = atom(r["_uuid"])
        out[u] = Nat(
            uuid=u, type=r["type"], external_ip=r["external_ip"], logical_ip=r["logical_ip"],
            logical_port=as_opt(r.get("logical_port", ["set", []])),
            external_mac=as_opt(r.get("external_mac", ["set", []])),
            gateway_port=as_opt(r.get("gateway_port", ["set", []])),
            routers=frozenset(owners.get(u, ())),
            match=r.get("match", "") or "",
        )
    return out, lrs


def router_datapaths(datapaths: Table) -> Dict[str, str]:
    """SB Datapath_Binding uuid -> NB Logical_Router uuid (routers only)."""
    out: Dict[str, str] = {}
    for r in rows(datapaths):
        lr = as_map(r["external_ids"]).get("logical-router")
        if lr:
            out[atom(r["_uuid"])] = lr
    return out


# --------------------------------------------------------------------------------------
# Attribution
# --------------------------------------------------------------------------------------
def _consistent(nat: Nat, ext: Set[str], log: Set[str], mac: Set[str]) -> bool:
    """True when every address the flow names fits this NAT, and it names at least one."""
    if not (ext or log or mac):
        return False
    if ext and not ext <= nat.ext_keys:
        return False
    if log and log != {nat.log_key}:
        return False
    return not (mac and (nat.external_mac or "").lower() not in mac)


#: NAT types that make northd emit flows in each NAT stage.
STAGE_TYPES: Dict[str, FrozenSet[str]] = {
    "lr_in_unsnat": frozenset({"snat", "dnat_and_snat"}),
    "lr_in_dnat": frozenset({"dnat", "dnat_and_snat"}),
    "lr_out_undnat": frozenset({"dnat", "dnat_and_snat"}),
    "lr_out_snat": frozenset({"snat", "dnat_and_snat"}),
}


def _fits_stage(nat: Nat, stage: str) -> bool:
    return nat.type in STAGE_TYPES.get(stage, frozenset({nat.type}))


def attribute_flows(
    flows: Sequence[Flow], nats: Mapping[str, Nat], dp_router: Mapping[str, str],
) -> Tuple[Dict[str, List[Flow]], List[Flow]]:
    """Assign each NAT-hinted flow to the NAT(s) it implements.

    A flow is a NAT flow when its stage-hint is the UUID prefix of a NAT on one of the
    routers it applies to. On each such router, the hinted NATs consistent with the flow's
    addresses get it (this resolves 8-hex hint collisions). northd merges identical flows
    of several routers into one flow on a ``Logical_DP_Group`` that keeps only the first
    NAT's hint (e.g. two gateway routers with the same NAT), so on the group's other
    routers the flow goes to the NATs whose type and addresses fit it. Returns
    ``({nat_uuid: [flows]}, unattributed)``; unattributed flows carry a NAT hint but fit
    no NAT.
    """
    by_router: Dict[str, List[Nat]] = defaultdict(list)
    for n in nats.values():
        for lr in n.routers:
            by_router[lr].append(n)
    hint_index: Dict[Tuple[str, str], List[Nat]] = defaultdict(list)
    for lr, ns in by_router.items():
        for n in ns:
            hint_index[(lr, n.uuid[:8])].append(n)
    got: Dict[str, List[Flow]] = defaultdict(list)
    orphans: List[Flow] = []
    for f in flows:
        if not f.hint:
            continue
        hint = f.hint.lower()
        routers = sorted({dp_router[d] for d in f.datapaths if d in dp_router})
        hinted = {lr: [n for n in hint_index.get((lr, hint[:8]), ()) if n.uuid.startswith(hint)]
                  for lr in routers}
        if not any(hinted.values()):
            continue  # hint names a router, port or LB, not a NAT
        ext, log, mac = flow_addresses(
            f, {n.match for ns in hinted.values() for n in ns if n.match})
        hits: List[Nat] = []
        for lr in routers:
            mine = [n for n in hinted[lr] if _consistent(n, ext, log, mac)]
            if not mine and len(routers) > 1:
                mine = [n for n in by_router[lr]
                        if _fits_stage(n, f.stage) and _consistent(n, ext, log, mac)]
            hits += mine
        if not hits:
            orphans.append(f)
        for n in hits:
            got[n.uuid].append(f)
    return dict(got), orphans


def nat_signature(nat: Nat) -> Tuple[Any, ...]:
    """What northd's NAT flows depend on: identical signatures give identical flows."""
    return (nat.type, nat.ext_key, nat.log_key, nat.logical_port, nat.external_mac,
            nat.gateway_port, nat.routers, nat.match)


def duplicates(nats: Mapping[str, Nat], got: Mapping[str, List[Flow]]) -> Dict[str, str]:
    """NATs without flows that are identical to a NAT with flows: ``{dup: original}``.

    northd emits each distinct flow once, under the first NAT's hint, so an identical
    second row gets no hinted flow of its own although it is implemented all the same.
    """
    first: Dict[Tuple[Any, ...], str] = {}
    for u in sorted(nats):
        if got.get(u):
            first.setdefault(nat_signature(nats[u]), u)
    return {u: first[nat_signature(n)] for u, n in nats.items()
            if not got.get(u) and nat_signature(n) in first}


# --------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------
def stage_residents(flows: Iterable[Flow]) -> Dict[str, Set[str]]:
    """stage -> resident ports gating its flows (``-`` for an ungated flow)."""
    out: Dict[str, Set[str]] = defaultdict(set)
    for f in flows:
        res = f.residents
        out[f.stage].update(res if res else [UNGATED])
    return dict(out)


def classify(nat: Nat, flows: Sequence[Flow], gateway_router: bool = False,
             router: Optional[str] = None) -> OracleVerdict:
    """Verdict for one NAT from the flows attributed to it.

    Only the four NAT stages decide; ``gateway_port`` comes from the ``cr-`` port, else
    from the ``inport``/``outport`` the NAT flows name. Oddities land in ``notes``.
    """
    stages = stage_residents(flows)
    nat_flows = [f for f in flows if f.stage in NAT_STAGES]
    v = OracleVerdict(verdict="mixed", stages=stages, router=router)
    if not nat_flows:
        v.verdict = "no-nat-flows"
        return v
    ports = {p for f in nat_flows for p in PORT_RE.findall(f.match)}
    gated = {p for s in NAT_STAGES for p in stages.get(s, ()) if p != UNGATED}
    ungated = {s for s in NAT_STAGES if UNGATED in stages.get(s, ())}
    if gateway_router:
        v.gateway_router = True
        if not gated:
            v.verdict = "centralized"
        else:
            v.notes.append(f"gateway router but NAT flows gated on {sorted(gated)}")
        return v
    if len(ports) == 1:
        v.gateway_port = next(iter(ports))
    elif len(ports) > 1:
        v.notes.append(f"NAT flows name several router ports {sorted(ports)}")
    if len(gated) == 1 and not ungated:
        (p,) = gated
        v.verdict, v.resident_port = "centralized", p
        if p.startswith("cr-"):
            dgp = p[3:]
            if v.gateway_port not in (None, dgp):
                v.notes.append(f"cr port {p} but flows use port {v.gateway_port}")
            v.gateway_port = dgp
        else:
            v.notes.append(f"every NAT stage gated on non-cr port {p}")
    elif len(gated) == 1 and stages.get("lr_out_snat") == gated and ungated == (
        {s for s in NAT_STAGES if s in stages} - {"lr_out_snat"}
    ):
        v.verdict, v.resident_port = "distributed", next(iter(gated))
        if v.resident_port != nat.logical_port:
            v.notes.append(f"distributed on {v.resident_port}, NAT logical_port is {nat.logical_port}")
    else:
        v.notes.append(f"unexpected gating {stages}")
    return v


def is_gateway_router(lr_row: Mapping[str, Any]) -> bool:
    """northd tests only that ``options:chassis`` exists (ovn-semantics §1.1)."""
    return "chassis" in as_map(lr_row.get("options", ["map", []]))


def oracle_from_tables(lflows: Table, datapaths: Table, dp_groups: Optional[Table],
                       nats: Table, routers: Table) -> Dict[str, OracleVerdict]:
    """Verdict for every NB NAT row, from SB/NB ``--format=json list`` dicts."""
    nat_rows, lrs = parse_nats(nats, routers)
    dp_router = router_datapaths(datapaths)
    flows = parse_flows(lflows, dp_groups)
    got, orphans = attribute_flows(flows, nat_rows, dp_router)
    dups = duplicates(nat_rows, got)
    out: Dict[str, OracleVerdict] = {}
    for u, n in nat_rows.items():
        lr_rows = [lrs[r] for r in sorted(n.routers) if r in lrs]
        gw = any(is_gateway_router(r) for r in lr_rows)
        name = ",".join(r["name"] for r in lr_rows) or None
        v = classify(n, got.get(u) or got.get(dups.get(u, ""), []), gateway_router=gw, router=name)
        if u in dups:
            v.duplicate_of = dups[u]
            v.notes.append(f"identical to NAT {dups[u]}: northd emitted the flows once")
        if not n.routers:
            v.notes.append("NAT row not referenced by any router")
        if len(n.routers) > 1:
            v.notes.append("NAT row referenced by several routers")
        out[u] = v
    if orphans:
        for f in orphans:
            for u in nat_rows:
                if f.hint and u.startswith(f.hint):
                    out[u].notes.append(f"hinted flow fits no NAT: {f.stage} {f.match!r}")
    return out


# --------------------------------------------------------------------------------------
# Running northd
# --------------------------------------------------------------------------------------
def _northd_failure(lab: OvnLab) -> str:
    """Tail of northd.log lines that look fatal, plus whether northd is still alive."""
    log = lab.path("northd.log")
    bad: List[str] = []
    if log.exists():
        for line in log.read_text(errors="replace").splitlines():
            if any(w in line for w in ("EMER", "ERR", "assertion", "abort", "SIGSEGV",
                                       "signal", "backtrace")):
                bad.append(line)
    pid = _pid_of(lab, "northd")
    alive = pid is not None and not _exited(pid)
    return f"northd {'alive' if alive else 'dead'}; " + (" | ".join(bad[-5:]) or "no error in log")


def _select(lab: OvnLab, which: str, queries: Sequence[Tuple[str, List[Any], List[str]]],
            timeout: float = 120) -> List[Dict[str, Any]]:
    """Run OVSDB ``select`` ops (table, where, columns) in one transaction.

    Each result comes back as a ``{"headings", "data"}`` dict like ``--format=json list``,
    so callers need not care; the ``where`` clause filters server-side.
    """
    remote, db = ((lab.nb_remote, "OVN_Northbound") if which == "nb"
                  else (lab.sb_remote, "OVN_Southbound"))
    ops: List[Any] = [db]
    for table, where, cols in queries:
        ops.append({"op": "select", "table": table, "where": where, "columns": cols})
    out = json.loads(lab.client("transact", remote, json.dumps(ops), timeout=int(timeout)))
    results = []
    for (_, _, cols), res in zip(queries, out):
        if "error" in res:
            raise OracleError(f"OVSDB select failed: {res}")
        results.append({"headings": cols, "data": [[r[c] for c in cols] for r in res["rows"]]})
    return results


def read_tables(lab: OvnLab, stages: Iterable[str] = ATTRIBUTED_STAGES) -> Dict[str, Dict[str, Any]]:
    """The five tables the oracle needs, read from a running lab.

    Only Logical_Flow rows of ``stages`` are fetched (pass ``NAT_STAGES`` to skip the
    debugging-only extras, which are most of the volume at scale).
    """
    flow_cols = ["_uuid", "actions", "external_ids", "logical_datapath", "logical_dp_group",
                 "match", "pipeline", "priority"]
    sb = _select(lab, "sb", [
        *[("Logical_Flow", [["external_ids", "includes", ["map", [["stage-name", st]]]]],
           flow_cols) for st in sorted(stages)],
        ("Datapath_Binding", [], ["_uuid", "external_ids"]),
        ("Logical_DP_Group", [], ["_uuid", "datapaths"]),
    ])
    nat_cols = ["_uuid", "type", "external_ip", "logical_ip", "logical_port", "external_mac",
                "gateway_port"]
    if "match" in served_columns(lab, "NAT"):
        nat_cols.append("match")
    nb = _select(lab, "nb", [
        ("NAT", [], nat_cols),
        ("Logical_Router", [], ["_uuid", "name", "nat", "options"]),
    ])
    flows = {"headings": flow_cols, "data": [r for t in sb[:-2] for r in t["data"]]}
    return {"lflows": flows, "datapaths": sb[-2], "dp_groups": sb[-1],
            "nats": nb[0], "routers": nb[1]}


def served_columns(lab: OvnLab, table: str) -> FrozenSet[str]:
    """Columns of an NB table in the schema the lab's NB server serves (asked once)."""
    cache = lab.__dict__.setdefault("_oracle_columns", {})
    if table not in cache:
        schema = json.loads(lab.client("get-schema", lab.nb_remote, "OVN_Northbound"))
        cache[table] = frozenset(schema["tables"].get(table, {}).get("columns", {}))
    return cache[table]


def _pid_of(lab: OvnLab, name: str) -> Optional[int]:
    """pid from the lab's pidfile, only if that process was started for this lab."""
    try:
        pid = int(lab.path(f"{name}.pid").read_text().strip())
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
    except (OSError, ValueError):
        return None
    # a zombie has an empty cmdline; a stale pidfile may name someone else's process
    return pid if not cmdline or str(lab.root).encode() in cmdline else None


def sync_northd(lab: OvnLab, timeout: float = 30) -> None:
    """``ovn-nbctl --wait=sb sync`` that fails fast if northd dies (lab-notes pitfall 3).

    Raises OracleError when northd exits (e.g. the 23.03 assertion on a dangling LRP peer)
    or does not catch up within ``timeout`` seconds.
    """
    northd = _pid_of(lab, "northd")
    if northd is None and lab.started("northd"):
        raise OracleError(f"ovn-northd is not running; {_northd_failure(lab)}")
    cmd = [lab.tool("ovn-nbctl"), f"--db={lab.nb_remote}", f"--timeout={max(1, int(timeout))}",
           "--wait=sb", "sync"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout + 5
    delay = 0.001
    try:
        while proc.poll() is None:
            if northd is not None and _exited(northd):
                raise OracleError(f"ovn-northd exited during sync; {_northd_failure(lab)}")
            if time.monotonic() > deadline:
                raise OracleError(f"northd did not sync within {timeout}s; {_northd_failure(lab)}")
            time.sleep(delay)
            delay = min(delay * 2, 0.02)
    finally:
        if proc.poll() is None:
            proc.kill()
        _, err = proc.communicate()
    if proc.returncode != 0:
        raise OracleError(f"northd did not sync within {timeout}s (rc {proc.returncode}: "
                          f"{err.strip()}); {_northd_failure(lab)}")


def oracle_from_lab(lab: OvnLab, timeout: float = 30,
                    stages: Iterable[str] = ATTRIBUTED_STAGES) -> Dict[str, OracleVerdict]:
    """Sync northd (bounded by ``timeout`` s) and return the verdicts for the lab's NB.

    The lab must already run NB, SB and northd. Raises OracleError if northd dies or does
    not catch up; the lab then needs a new northd (``lab.start_northd()``) to be reused.
    """
    sync_northd(lab, timeout)
    t = read_tables(lab, stages)
    return oracle_from_tables(t["lflows"], t["datapaths"], t["dp_groups"], t["nats"], t["routers"])


def run_northd_oracle(nb_db_file: os.PathLike | str, timeout: float = 30,
                      stages: Iterable[str] = ATTRIBUTED_STAGES,
                      build: Optional[OvnBuild] = None) -> Dict[str, OracleVerdict]:
    """Run NB (on a copy of ``nb_db_file``), SB and northd of ``build`` (default: the
    host's) in a temp lab; return verdicts.

    ``stages=NAT_STAGES`` skips the debugging-only extras (same verdicts, less to read).
    """
    lab = OvnLab(build=build)
    try:
        lab.start_nb(Path(nb_db_file), upgrade=True)
        lab.start_sb()
        lab.start_northd()
        return oracle_from_lab(lab, timeout=timeout, stages=stages)
    finally:
        stop_lab(lab)


def _exited(pid: int) -> bool:
    """True once ``pid`` is gone or a zombie (detached daemons are reaped late by PID 1)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


def stop_lab(lab: OvnLab, grace: float = 2.0) -> None:
    """Stop the lab's daemons by pid (northd first) without waiting for PID 1 to reap them.

    ``OvnLab.stop`` polls with ``kill(pid, 0)``, which succeeds on a zombie, so each daemon
    costs it ~2 s here. This sends SIGTERM, waits until each pid exits (zombie counts),
    SIGKILLs after ``grace`` s, drops stale pidfiles, then lets ``lab.stop()`` clean up.
    """
    for name in ("northd", "sb", "nb"):
        pidfile = lab.path(f"{name}.pid")
        pid = _pid_of(lab, name)
        if pid is None:
            pidfile.unlink(missing_ok=True)
            continue
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pidfile.unlink(missing_ok=True)
            continue
        deadline = time.monotonic() + grace
        while not _exited(pid):
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                break
            time.sleep(0.002)
        pidfile.unlink(missing_ok=True)
    lab.stop()


def clear_nb(lab: OvnLab) -> None:
    """Delete every root row of a lab's NB except NB_Global.

    Routers and switches go first (OVSDB refuses to delete e.g. an HA_Chassis_Group in
    the same transaction as the LRP still pointing at it); non-root rows (ports, NATs,
    Gateway_Chassis, ...) are garbage-collected with their parents. The next topology can
    then be built on the same lab and read with :func:`oracle_from_lab`.
    """
    schema = json.loads(lab.build.nb_schema.read_text())
    first = ("Logical_Router", "Logical_Switch")
    rest = sorted(n for n, t in schema["tables"].items()
                  if t.get("isRoot") and n not in first and n != "NB_Global")
    for tables in (first, rest):
        args: List[str] = []
        for name in tables:
            args += ["--", "--all", "destroy", name]
        lab.nbctl(*args[1:])
