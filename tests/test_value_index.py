"""``Table.index``/``has_value`` kept true row by row across a history's transactions
(snapshot.ValueIndex): after any sequence of inserts, modifications and deletions, with
duplicate values, the followed index equals one built from scratch (first row in row order
wins), and ``has_value`` agrees with the rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ovninspect.schema import Schema
from ovninspect.snapshot import Table

NB_SCHEMA = Path("/usr/share/ovn/ovn-nb.ovsschema")
NAMES = ["a", "b", "c", "d"]   # few names: duplicates are the interesting case


def _table() -> Table:
    if not NB_SCHEMA.exists():
        pytest.skip(f"{NB_SCHEMA} not installed")
    schema = Schema.from_json(json.loads(NB_SCHEMA.read_text()))
    return Table("Logical_Switch_Port", schema.tables["Logical_Switch_Port"].columns)


def _uuid(i: int) -> str:
    return f"7d1e0c55-0000-4000-8000-{i:012d}"


def _scratch(rows: dict[str, dict]) -> dict[str, str]:
    first: dict[str, str] = {}
    for uuid, data in rows.items():
        first.setdefault(data.get("name", ""), uuid)
    return first


# one transaction: row number -> new name, or None to delete (a transaction names a row
# once: its table part is a JSON object keyed by row UUID)
txns = st.lists(st.dictionaries(st.integers(0, 9), st.none() | st.sampled_from(NAMES),
                                min_size=1, max_size=4), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(start=st.lists(st.sampled_from(NAMES), max_size=8), history=txns)
def test_followed_index_equals_scratch(start: list[str], history: list) -> None:
    table = _table()
    rows = table.rows
    for i, name in enumerate(start):
        rows[_uuid(i)] = {"name": name}
    table.changed([])          # a history reader from now on: indexes follow changes
    table.index("name")
    for txn in history:
        touched = []
        for number, name in txn.items():
            uuid = _uuid(number)
            if name is None:
                rows.pop(uuid, None)      # as the replay does: gone from row order
            elif uuid in rows:
                rows[uuid]["name"] = name  # modified in place: keeps its place
            else:
                rows[uuid] = {"name": name}  # inserted: last in row order
            touched.append(uuid)
        table.changed(touched)
        assert table.index("name") == _scratch(rows)
        for name in NAMES:
            assert table.has_value("name", name) == any(
                d["name"] == name for d in rows.values())


def test_index_without_history_is_built_once() -> None:
    table = _table()
    table.rows[_uuid(1)] = {"name": "a"}
    table.rows[_uuid(2)] = {"name": "a"}
    assert table.index("name") == {"a": _uuid(1)}
    assert table.index("name") is table.index("name")
