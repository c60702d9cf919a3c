"""Random transaction histories through a real ovsdb-server (issue #2, design.md "Tests").

Hypothesis draws a sequence of transactions (inserts, updates, deletes, set and map edits
on Logical_Router, Logical_Router_Port, Gateway_Chassis, NAT and Address_Set, including
garbage-collected children, weak references cleared by deletes and optional columns set
and cleared).  A small model turns each abstract operation into valid RFC 7047 operations
with fixed UUIDs, and ``ovsdb-client transact`` applies them to two servers: one on a
standalone file and one on a one-server clustered file.  Then these forms must read back
equal to the server's ``dump -f json``:

* the standalone log as written (modifications carry ``_is_diff`` diffs);
* that log compacted by ``ovsdb-tool compact`` (on a copy);
* the clustered log as written;
* the clustered file after online compaction (``ovsdb-server/compact``);
* the ``dump -f json`` and ``ovn-nbctl --format=json list NAT`` exports.

Examples: 25 by default, ``OVNINSPECT_HYPOTHESIS_EXAMPLES=N`` for more.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Optional

import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from ovninspect.sources import open_snapshot
from tests.ovnlab import NB_SCHEMA, OvnLab, run
from tests.test_readers_parity import (
    Tables,
    assert_same,
    column_kinds,
    normalize_dump,
    normalize_snapshot,
    restrict,
    stable_copy,
)

pytestmark = pytest.mark.ovn

NB_GLOBAL = "0000000a-0000-4000-8000-000000000001"
EXAMPLES = int(os.environ.get("OVNINSPECT_HYPOTHESIS_EXAMPLES", "25"))
DB = "OVN_Northbound"

LR, LRP, GC, NAT, AS = "Logical_Router", "Logical_Router_Port", "Gateway_Chassis", "NAT", \
    "Address_Set"
_CODES = {LR: 1, LRP: 2, GC: 3, NAT: 4, AS: 5}


def uid(table: str, idx: int) -> str:
    """A fixed UUID per (table, index), so both servers hold identical rows."""
    return f"{_CODES[table]:08x}-0000-4000-8000-{idx:012x}"


def ref(table: str, idx: int) -> list:
    return ["uuid", uid(table, idx)]


def oset(items: list) -> list:
    return ["set", list(items)]


def omap(items: dict) -> list:
    return ["map", [[k, v] for k, v in items.items()]]


def where(table: str, idx: int) -> list:
    return [["_uuid", "==", ref(table, idx)]]


# --------------------------------------------------------------------------------------
# the model: abstract operations -> valid RFC 7047 operations
# --------------------------------------------------------------------------------------
class Model:
    """Which rows exist and what the operations need to stay valid.

    Inserts take the next index of their table; every other operation names its target
    by a drawn number taken modulo the rows that exist, so most draws hit a row (and
    shrinking keeps working).  An operation whose target table is empty is skipped.
    """

    def __init__(self) -> None:
        self.lr: set[int] = set()
        self.lrp: dict[int, dict[str, Any]] = {}     # router, networks
        self.gc: dict[int, int] = {}                 # -> lrp
        self.nat: dict[int, dict[str, Any]] = {}     # router, gateway_port, allowed
        self.aset: set[int] = set()
        self.next = dict.fromkeys(_CODES, 0)
        # Address_Sets still referenced by NATs that this transaction orphaned: the server
        # garbage-collects those NATs only after its referential-integrity check
        self.held: set[int] = set()

    def rows(self, table: str) -> Any:
        return {LR: self.lr, LRP: self.lrp, GC: self.gc, NAT: self.nat, AS: self.aset}[table]

    def pick(self, table: str, draw: Optional[int]) -> Optional[int]:
        """The existing row ``draw`` designates, or None (no draw, or an empty table)."""
        existing = sorted(self.rows(table))
        if draw is None or not existing:
            return None
        return existing[draw % len(existing)]

    def new(self, table: str) -> int:
        self.next[table] += 1
        return self.next[table]

    def transaction(self, ops: list[tuple]) -> list[dict]:
        self.held = set()
        out: list[dict] = []
        for op in ops:
            out += getattr(self, "op_" + op[0])(*op[1:])
        return out

    # -- helpers --------------------------------------------------------------------
    @staticmethod
    def insert(table: str, idx: int, row: dict) -> dict:
        return {"op": "insert", "table": table, "uuid": uid(table, idx), "row": row}

    @staticmethod
    def update(table: str, idx: int, row: dict) -> dict:
        return {"op": "update", "table": table, "where": where(table, idx), "row": row}

    @staticmethod
    def mutate(table: str, idx: int, column: str, mutator: str, value: Any) -> dict:
        return {"op": "mutate", "table": table, "where": where(table, idx),
                "mutations": [[column, mutator, value]]}

    def _drop_nat(self, n: int) -> int:
        nat = self.nat.pop(n)
        if nat["allowed"] is not None:
            self.held.add(nat["allowed"])
        return nat["router"]

    def _drop_lrp(self, j: int) -> None:
        del self.lrp[j]
        for k in [k for k, owner in self.gc.items() if owner == j]:
            del self.gc[k]
        for nat in self.nat.values():
            if nat["gateway_port"] == j:    # weak reference: the server clears it
                nat["gateway_port"] = None

    # -- Logical_Router ---------------------------------------------------------------
    def op_add_lr(self, ext: dict, opts: dict, enabled: Optional[bool]) -> list:
        i = self.new(LR)
        self.lr.add(i)
        row: dict[str, Any] = {"name": f"lr{i}", "external_ids": omap(ext),
                               "options": omap(opts)}
        if enabled is not None:
            row["enabled"] = enabled
        return [self.insert(LR, i, row)]

    def op_del_lr(self, draw: int) -> list:
        i = self.pick(LR, draw)
        if i is None:
            return []
        self.lr.discard(i)
        for j in [j for j, p in self.lrp.items() if p["router"] == i]:
            self._drop_lrp(j)               # strong, non-root: garbage-collected
        for n in [n for n, nat in self.nat.items() if nat["router"] == i]:
            self._drop_nat(n)
        return [{"op": "delete", "table": LR, "where": where(LR, i)}]

    def op_lr_enabled(self, draw: int, value: Optional[bool]) -> list:
        i = self.pick(LR, draw)
        if i is None:
            return []
        return [self.update(LR, i, {"enabled": oset([]) if value is None else value})]

    # -- maps on any table ------------------------------------------------------------
    def op_map(self, table: str, draw: int, column: str, mode: str, items: dict) -> list:
        idx = self.pick(table, draw)
        if idx is None:
            return []
        if mode == "set":
            return [self.update(table, idx, {column: omap(items)})]
        if mode == "insert":                # adds absent keys only
            return [self.mutate(table, idx, column, "insert", omap(items))]
        if mode == "delete-keys":
            return [self.mutate(table, idx, column, "delete", oset(sorted(items)))]
        return [self.mutate(table, idx, column, "delete", omap(items))]   # matching pairs

    # -- Logical_Router_Port ----------------------------------------------------------
    def op_add_lrp(self, draw: int, nets: list[str], mac: str, peer: Optional[str],
                   opts: dict) -> list:
        r = self.pick(LR, draw)
        if r is None:
            return []
        j = self.new(LRP)
        self.lrp[j] = {"router": r, "networks": set(nets)}
        row: dict[str, Any] = {"name": f"lrp{j}", "mac": mac, "networks": oset(nets),
                               "options": omap(opts)}
        if peer is not None:
            row["peer"] = peer
        return [self.insert(LRP, j, row),
                self.mutate(LR, r, "ports", "insert", oset([ref(LRP, j)]))]

    def op_lrp_networks(self, draw: int, mode: str, nets: list[str]) -> list:
        j = self.pick(LRP, draw)
        if j is None:
            return []
        current: set[str] = self.lrp[j]["networks"]
        if mode == "set":
            self.lrp[j]["networks"] = set(nets)
            return [self.update(LRP, j, {"networks": oset(nets)})]
        if mode == "insert":
            current |= set(nets)
            return [self.mutate(LRP, j, "networks", "insert", oset(nets))]
        if not current - set(nets):         # networks has min 1
            return []
        current -= set(nets)
        return [self.mutate(LRP, j, "networks", "delete", oset(nets))]

    def op_lrp_peer(self, draw: int, peer: Optional[str]) -> list:
        j = self.pick(LRP, draw)
        if j is None:
            return []
        return [self.update(LRP, j, {"peer": oset([]) if peer is None else peer})]

    def op_del_lrp(self, draw: int) -> list:
        j = self.pick(LRP, draw)
        if j is None:
            return []
        r = self.lrp[j]["router"]
        self._drop_lrp(j)
        return [self.mutate(LR, r, "ports", "delete", oset([ref(LRP, j)]))]

    # -- Gateway_Chassis --------------------------------------------------------------
    def op_add_gc(self, draw: int, chassis: str, prio: int) -> list:
        j = self.pick(LRP, draw)
        if j is None:
            return []
        k = self.new(GC)
        self.gc[k] = j
        row = {"name": f"lrp{j}-gc{k}", "chassis_name": chassis, "priority": prio}
        return [self.insert(GC, k, row),
                self.mutate(LRP, j, "gateway_chassis", "insert", oset([ref(GC, k)]))]

    def op_gc_priority(self, draw: int, prio: int) -> list:
        k = self.pick(GC, draw)
        return [] if k is None else [self.update(GC, k, {"priority": prio})]

    def op_del_gc(self, draw: int) -> list:
        k = self.pick(GC, draw)
        if k is None:
            return []
        j = self.gc.pop(k)
        return [self.mutate(LRP, j, "gateway_chassis", "delete", oset([ref(GC, k)]))]

    # -- NAT --------------------------------------------------------------------------
    def op_add_nat(self, draw: int, ntype: str, ext_ip: str, log_ip: str,
                   mac: Optional[str], lport: Optional[str], gwp_draw: Optional[int],
                   as_draw: Optional[int], opts: dict) -> list:
        r = self.pick(LR, draw)
        if r is None:
            return []
        n = self.new(NAT)
        gwp, allowed = self.pick(LRP, gwp_draw), self.pick(AS, as_draw)
        self.nat[n] = {"router": r, "gateway_port": gwp, "allowed": allowed}
        row: dict[str, Any] = {"type": ntype, "external_ip": ext_ip, "logical_ip": log_ip,
                               "options": omap(opts)}
        if mac is not None:
            row["external_mac"] = mac
        if lport is not None:
            row["logical_port"] = lport
        if gwp is not None:
            row["gateway_port"] = ref(LRP, gwp)
        if allowed is not None:
            row["allowed_ext_ips"] = ref(AS, allowed)
        return [self.insert(NAT, n, row),
                self.mutate(LR, r, "nat", "insert", oset([ref(NAT, n)]))]

    def op_nat_opt(self, draw: int, column: str, value: Any) -> list:
        n = self.pick(NAT, draw)
        if n is None:
            return []
        if column == "gateway_port":
            value = self.pick(LRP, value)
            self.nat[n]["gateway_port"] = value
            value = None if value is None else ref(LRP, value)
        elif column == "allowed_ext_ips":
            value = self.pick(AS, value)
            self.nat[n]["allowed"] = value
            value = None if value is None else ref(AS, value)
        return [self.update(NAT, n, {column: oset([]) if value is None else value})]

    def op_del_nat(self, draw: int) -> list:
        n = self.pick(NAT, draw)
        if n is None:
            return []
        r = self._drop_nat(n)
        return [self.mutate(LR, r, "nat", "delete", oset([ref(NAT, n)]))]

    # -- Address_Set ------------------------------------------------------------------
    def op_add_as(self, addrs: list[str]) -> list:
        a = self.new(AS)
        self.aset.add(a)
        return [self.insert(AS, a, {"name": f"as{a}", "addresses": oset(addrs)})]

    def op_as_addresses(self, draw: int, mode: str, addrs: list[str]) -> list:
        a = self.pick(AS, draw)
        if a is None:
            return []
        if mode == "set":
            return [self.update(AS, a, {"addresses": oset(addrs)})]
        return [self.mutate(AS, a, "addresses", mode, oset(addrs))]

    def op_del_as(self, draw: int) -> list:
        a = self.pick(AS, draw)
        if a is None or a in self.held:
            return []
        out = []
        for n, nat in self.nat.items():     # a strong reference to a root row blocks delete
            if nat["allowed"] == a:
                nat["allowed"] = None
                out.append(self.update(NAT, n, {"allowed_ext_ips": oset([])}))
        self.aset.discard(a)
        return out + [{"op": "delete", "table": AS, "where": where(AS, a)}]


# --------------------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------------------
IDX = st.integers(0, 7)  # a row designator, taken modulo the rows that exist
KEYS = st.sampled_from(["a", "b", "ü k"])  # few keys: edits hit existing ones
VALUES = st.sampled_from(["", "x", "y", "true", 'q"t', "back\\slash", "nl\nx", "é"])
MAPS = st.dictionaries(KEYS, VALUES, max_size=3)
NETS = st.lists(st.sampled_from(["10.0.0.1/24", "10.0.1.1/24", "192.168.0.1/16",
                                 "fd00::1/64"]), min_size=1, max_size=3, unique=True)
IPS = st.sampled_from(["172.16.0.10", "172.16.0.11", "10.0.0.5", "10.0.0.0/24", "fd00::5"])
MACS = st.sampled_from(["00:00:00:00:00:01", "0a:58:0a:00:00:02"])
MAYBE_MAC = st.none() | MACS
MAYBE_STR = st.none() | st.sampled_from(["pod1", "vm-2", "lsp é"])
PRIO = st.integers(0, 32767)
MAP_COLS = st.sampled_from([(LR, "external_ids"), (LR, "options"), (LRP, "options"),
                            (NAT, "options"), (NAT, "external_ids"), (GC, "external_ids"),
                            (AS, "external_ids")])
MAP_MODES = st.sampled_from(["set", "insert", "delete-keys", "delete-pairs"])
SET_MODES = st.sampled_from(["set", "insert", "delete"])
ADDRS = st.lists(IPS, max_size=3, unique=True)

add_lr = st.tuples(st.just("add_lr"), MAPS, MAPS, st.none() | st.booleans())
add_lrp = st.tuples(st.just("add_lrp"), IDX, NETS, MACS, MAYBE_STR, MAPS)
add_nat = st.tuples(st.just("add_nat"), IDX, st.sampled_from(["snat", "dnat", "dnat_and_snat"]),
                    IPS, IPS, MAYBE_MAC, MAYBE_STR, st.none() | IDX, st.none() | IDX, MAPS)
map_edit = MAP_COLS.flatmap(lambda tc: st.tuples(st.just("map"), st.just(tc[0]), IDX,
                                                st.just(tc[1]), MAP_MODES, MAPS))
add_gc = st.tuples(st.just("add_gc"), IDX, st.sampled_from(["ch-1", "ch-2", "ch-3"]), PRIO)
add_as = st.tuples(st.just("add_as"), ADDRS)
OPS = st.one_of(
    add_lr, add_lrp, add_nat,
    st.tuples(st.just("del_lr"), IDX),
    st.tuples(st.just("lr_enabled"), IDX, st.none() | st.booleans()),
    map_edit, map_edit, map_edit,
    st.tuples(st.just("lrp_networks"), IDX, SET_MODES, NETS),
    st.tuples(st.just("lrp_peer"), IDX, MAYBE_STR),
    st.tuples(st.just("del_lrp"), IDX),
    add_gc,
    st.tuples(st.just("gc_priority"), IDX, PRIO),
    st.tuples(st.just("del_gc"), IDX),
    st.tuples(st.just("nat_opt"), IDX, st.just("external_mac"), MAYBE_MAC),
    st.tuples(st.just("nat_opt"), IDX, st.just("logical_port"), MAYBE_STR),
    st.tuples(st.just("nat_opt"), IDX, st.sampled_from(["gateway_port", "allowed_ext_ips"]),
              st.none() | IDX),
    st.tuples(st.just("del_nat"), IDX),
    add_as,
    st.tuples(st.just("as_addresses"), IDX, SET_MODES, ADDRS),
    st.tuples(st.just("del_as"), IDX),
)
# a first transaction that builds something to modify: routers, ports, gateways, NATs
SEED = st.builds(lambda *parts: [op for part in parts for op in part],
                 st.lists(add_lr, min_size=1, max_size=2), st.lists(add_as, max_size=1),
                 st.lists(add_lrp, min_size=1, max_size=3), st.lists(add_gc, max_size=2),
                 st.lists(add_nat, min_size=1, max_size=3))
HISTORIES = st.builds(lambda seed, rest: [seed, *rest], SEED,
                      st.lists(st.lists(OPS, min_size=1, max_size=5), min_size=3, max_size=8))


# --------------------------------------------------------------------------------------
# the servers
# --------------------------------------------------------------------------------------
def transact(lab: OvnLab, remote: str, ops: list[dict]) -> None:
    """Apply one transaction with ovsdb-client; fail on any operation error."""
    reply = json.loads(lab.client("transact", remote, json.dumps([DB, *ops])))
    errors = [r for r in reply if isinstance(r, dict) and "error" in r]
    assert not errors, f"transaction rejected: {errors}\n{json.dumps(ops)}"


def read_form(path: Path, kinds: dict) -> Tables:
    snap = open_snapshot(str(path))
    assert not snap.info.warnings, f"{path.name}: {snap.info.warnings}"
    return normalize_snapshot(snap, kinds)


def check_history(txns: list[list[dict]]) -> None:
    """Run ``txns`` on a standalone and a clustered server; every file form must read back
    equal to the server's dump."""
    with OvnLab() as lab:
        # the "sb" slot of the lab serves a clustered NB (the names are only file names)
        cluster = lab.path("cluster.db")
        run(["ovsdb-tool", "create-cluster", str(cluster), str(NB_SCHEMA),
             f"unix:{lab.path('cluster.raft')}"])
        lab.start_nb()
        lab.start_sb(db_file=cluster)
        # NB_Global first, as in every real NB (ovn-nbctl would otherwise create one)
        nb_global = {"op": "insert", "table": "NB_Global", "uuid": NB_GLOBAL, "row": {}}
        for ops in [[nb_global], *txns]:
            transact(lab, lab.nb_remote, ops)
            transact(lab, lab.sb_remote, ops)
        nat_list = lab.nbctl("--format=json", "list", "NAT")
        schema = json.loads(lab.client("get-schema", lab.nb_remote, DB))
        kinds = column_kinds(schema)
        dump = lab.client("dump", "-f", "json", lab.nb_remote, DB)
        standalone = normalize_dump(dump, kinds)
        clustered = normalize_dump(lab.client("dump", "-f", "json", lab.sb_remote, DB), kinds)
        assert_same(clustered, standalone, "clustered server vs standalone server")

        log = stable_copy(lab.nb_db, lab.path("form-log.db"))
        compacted = Path(shutil.copyfile(log, lab.path("form-compacted.db")))
        run(["ovsdb-tool", "compact", str(compacted)])
        raft = stable_copy(lab.sb_db, lab.path("form-clustered.db"))
        lab.compact("sb")
        raft_compacted = stable_copy(lab.sb_db, lab.path("form-clustered-compacted.db"))

        assert_same(read_form(log, kinds), standalone, "standalone log")
        assert_same(read_form(compacted, kinds), standalone, "ovsdb-tool compact")
        assert_same(read_form(raft, kinds), clustered, "clustered log")
        assert_same(read_form(raft_compacted, kinds), clustered, "clustered, compacted online")

        # the JSON exports of the same state: dump -f json and ovn-nbctl list NAT
        exported = lab.path("dump.json")
        exported.write_text(dump)
        assert_same(read_form(exported, kinds), standalone, "dump -f json export")
        listed = lab.path("nbctl-NAT.json")
        listed.write_text(nat_list)
        cols = [h for h in json.loads(nat_list)["headings"] if h != "_uuid"]
        only = {NAT: cols}
        assert_same(normalize_snapshot(open_snapshot(str(listed)), kinds, [NAT], only),
                    restrict(standalone, only), "ovn-nbctl --format=json list NAT")


def transactions(history: list[list[tuple]]) -> list[list[dict]]:
    model = Model()
    return [t for t in (model.transaction(ops) for ops in history) if t]


MAC = "00:00:00:00:00:01"
# always run: map keys removed and replaced, set elements toggled, optional columns
# cleared, a weak reference cleared by a delete, garbage-collected children, then the rest
KNOWN_HISTORY = [
    [("add_lr", {"a": "x", "b": "y"}, {"ü k": "1"}, True), ("add_as", ["172.16.0.10"]),
     ("add_lrp", 0, ["10.0.0.1/24"], MAC, "peer1", {"a": "x"}), ("add_gc", 0, "ch-1", 10),
     ("add_nat", 0, "dnat_and_snat", "172.16.0.10", "10.0.0.5", MAC, "pod1", 0, 0,
      {"b": "y"})],
    [("map", LR, 0, "external_ids", "delete-keys", {"a": ""}),
     ("map", LR, 0, "options", "set", {"ü k": "2"}),
     ("lrp_networks", 0, "insert", ["fd00::1/64"]), ("lr_enabled", 0, None)],
    [("lrp_networks", 0, "delete", ["10.0.0.1/24"]), ("nat_opt", 0, "external_mac", None),
     ("nat_opt", 0, "logical_port", None), ("map", NAT, 0, "options", "delete-pairs", {"b": "y"})],
    [("del_lrp", 0)],
    [("as_addresses", 0, "insert", ["10.0.0.0/24"]), ("del_nat", 0)],
    [("del_as", 0), ("del_lr", 0)],
]


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@example(history=KNOWN_HISTORY)
@given(history=HISTORIES)
def test_random_histories_read_back_equal(history: list[list[tuple]]) -> None:
    """Log, compacted log, clustered and compacted clustered files equal the dumps."""
    txns = transactions(history)
    note(f"transactions: {json.dumps(txns)}")
    check_history(txns)
