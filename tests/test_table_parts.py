"""Tables replayed on first read from the parts of many transactions
(ovninspect/sources/table_parts.py): a standalone log's records and a raft log's entries.

* lookups by name (``find_many``, ``has_value``) on a table still in its parts answer
  exactly what the whole replay answers, on every OVSDB fixture and on random histories
  (inserts, renames, deletions, the same row inserted again, names that need escapes);
* the whole replay equals the eager one;
* errors in a part: the eager error, raised at open (shape, deletions) or on first read
  (values), and again on a second read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ovninspect.errors import InputError
from ovninspect.snapshot import Row, Snapshot
from ovninspect.sources import open_snapshot, ovsdb_file, read_file
from ovninspect.sources.records import compose_record
from ovninspect.sources.table_parts import TableParts
from tests.test_raft_split import clustered_file
from tests.test_txn_split import OVSDB_FIXTURES, decoded, nb_schema, u

LSP = "Logical_Switch_Port"


def lookups_agree(eager: Snapshot, lazy_open: Any, table: str) -> None:
    """find_many and has_value on a fresh lazy snapshot equal the eager answers."""
    names = sorted({row["name"] for row in eager.tables[table]} | {"nope", "p\"q"})
    want = {n: (None if r is None else r.to_dict())
            for n, r in eager.tables[table].find_many("name", names).items()}
    lazy = lazy_open()
    got = {n: (None if r is None else r.to_dict())
           for n, r in lazy.tables[table].find_many("name", names).items()}
    assert got == want
    lazy = lazy_open()
    assert ({n: lazy.tables[table].has_value("name", n) for n in names}
            == {n: eager.tables[table].has_value("name", n) for n in names})
    lazy = lazy_open()
    for text in names:  # rows_with_string: a superset of the rows holding it, in order
        want_rows = [r.to_dict() for r in eager.tables[table] if holds(r.to_dict(), text)]
        found = lazy.tables[table].rows_with_string(text)
        got_rows = [d for d in (Row(lazy.tables[table], u, data).to_dict()
                                for u, data in found.items()) if holds(d, text)]
        assert got_rows == want_rows


def holds(value: Any, text: str) -> bool:
    if isinstance(value, str):
        return value == text
    if isinstance(value, (list, tuple)):
        return any(holds(v, text) for v in value)
    if isinstance(value, dict):
        return any(holds(k, text) or holds(v, text) for k, v in value.items()
                   if k != "_uuid")
    return False


@pytest.mark.parametrize("path,role", OVSDB_FIXTURES,
                         ids=[p.relative_to(p.parents[1]).as_posix() for p, _ in OVSDB_FIXTURES])
def test_fixture_lookups_match_the_replay(path: Path, role: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    eager = open_snapshot(str(path), role)
    monkeypatch.setattr(ovsdb_file, "LAZY_MIN_BYTES", 0)
    lazy = open_snapshot(str(path), role)
    assert decoded(lazy) == decoded(eager)
    for name, table in eager.tables.items():
        ctype = table.columns.get("name")
        if ctype is not None and not ctype.composite and ctype.key == "string":
            lookups_agree(eager, lambda: open_snapshot(str(path), role), name)


def test_log_lookups_read_parts_not_the_table(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    txns = [{LSP: {u(i): {"name": f"p{i}"}}} for i in range(5)]
    txns += [{LSP: {u(1): {"name": "renamed"}, u(2): None}}, {LSP: {u(2): {"name": "p1"}}}]
    path = write_log(tmp_path, txns)
    monkeypatch.setattr(ovsdb_file, "LAZY_MIN_BYTES", 0)
    lazy = open_snapshot(str(path), "nb")
    table = lazy.tables[LSP]
    assert isinstance(table.pending, TableParts)
    found = table.find_many("name", ["p1", "renamed", "p2", "p4"])
    assert {n: r and r.uuid for n, r in found.items()} == {
        "p1": u(2), "renamed": u(1), "p2": None, "p4": u(4)}
    assert table.has_value("name", "p0") and not table.has_value("name", "p2")
    assert list(table.rows_with_string("p1")) == [u(1), u(2)]  # renamed: a superset
    assert not table.is_loaded
    assert sorted(r.uuid for r in table) == [u(0), u(1), u(2), u(3), u(4)]


# --------------------------------------------------------------------------------------
# random histories
# --------------------------------------------------------------------------------------
NAMES = st.sampled_from(["a", "b", "c", "", "d\"q", "e\\f", "é", "a b"])
ROW_IDS = st.integers(0, 5)
OPS = st.lists(st.one_of(
    st.tuples(st.just("put"), ROW_IDS, NAMES, st.booleans()),   # insert or rename
    st.tuples(st.just("tag"), ROW_IDS, st.integers(0, 4095)),   # another column only
    st.tuples(st.just("addr"), ROW_IDS, st.sampled_from(["x", "y"])),  # a set, as a diff
    st.tuples(st.just("del"), ROW_IDS)), min_size=1, max_size=4)


def history(ops_per_txn: list[list[tuple]]) -> list[dict]:
    """Valid transactions (deletions and changes of live rows only)."""
    live: set[int] = set()
    txns = []
    for ops in ops_per_txn:
        rows: dict[str, Any] = {}
        for op in ops:
            key = u(op[1])
            if key in rows:
                continue
            if op[0] == "put":
                rows[key] = {"name": op[2]} if op[3] or op[1] not in live else {}
                live.add(op[1])
            elif op[1] not in live:
                continue
            elif op[0] == "tag":
                rows[key] = {"tag_request": op[2]}
            elif op[0] == "addr":
                rows[key] = {"addresses": op[2]}
            else:
                rows[key] = None
                live.discard(op[1])
        if rows:
            txns.append({LSP: rows, "_date": 1700000000000 + len(txns), "_is_diff": True})
    return txns


def write_log(tmp_path: Path, txns: list[dict]) -> Path:
    path = tmp_path / "log.db"
    path.write_bytes(compose_record(nb_schema()) + b"".join(compose_record(t) for t in txns))
    return path


@settings(max_examples=60, deadline=None)
@given(ops=st.lists(OPS, min_size=1, max_size=8))
def test_random_log_histories(ops: list[list[tuple]], tmp_path_factory: Any) -> None:
    txns = history(ops)
    if not txns:
        return
    path = write_log(tmp_path_factory.mktemp("log"), txns)
    check_forms(lambda: open_snapshot(str(path), "nb"))


@settings(max_examples=40, deadline=None)
@given(ops=st.lists(OPS, min_size=2, max_size=8))
def test_random_raft_histories(ops: list[list[tuple]], tmp_path_factory: Any) -> None:
    txns = history(ops)
    if len(txns) < 2:
        return
    entries = [{"term": 2, "index": 61 + n, "eid": u(100 + n), "data": [None, t]}
               for n, t in enumerate(txns[1:])]
    path = clustered_file(tmp_path_factory.mktemp("raft"), txns[0], entries)
    check_forms(lambda: open_snapshot(str(path), "nb"))


def check_forms(opener: Any) -> None:
    eager = opener()
    saved = ovsdb_file.LAZY_MIN_BYTES
    ovsdb_file.LAZY_MIN_BYTES = 0
    try:
        assert decoded(opener()) == decoded(eager)
        lookups_agree(eager, opener, LSP)
    finally:
        ovsdb_file.LAZY_MIN_BYTES = saved


# --------------------------------------------------------------------------------------
# errors in parts
# --------------------------------------------------------------------------------------
BAD = {
    "bad value": ({LSP: {u(1): {"tag_request": 99999}}},
                  "column tag_request: 99999 is not in the valid range 0 to 4095"),
    "unknown column": ({LSP: {u(1): {"bogus": 1}}}, "no such column"),
    "deletes missing row": ({LSP: {u(7): None}}, f"deletes {LSP} row {u(7)}"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_part_gives_the_eager_error(case: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    bad, problem = BAD[case]
    txns = [{LSP: {u(1): {"name": "p1"}}}, {LSP: {u(2): {"name": "p2"}}}, bad,
            {LSP: {u(3): {"name": "p3"}}}]
    path = write_log(tmp_path, txns)
    with pytest.raises(InputError) as info:
        open_snapshot(str(path), "nb")
    want = str(info.value)
    assert "record 3 at byte offset" in want and problem in want
    monkeypatch.setattr(ovsdb_file, "LAZY_MIN_BYTES", 0)
    if case == "bad value":  # values are judged when the table is read (info reads all)
        assert not open_snapshot(str(path), "nb").tables[LSP].is_loaded
    else:                    # the rest at open, whatever the command reads
        with pytest.raises(InputError) as info:
            open_snapshot(str(path), "nb")
        assert str(info.value) == want
    snap = read_file(path, str(path))
    for _ in range(2):  # the error stays
        with pytest.raises(InputError) as info:
            len(snap.tables[LSP])
        assert str(info.value) == want
