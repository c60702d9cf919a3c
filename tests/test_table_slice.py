"""Rows looked up in a table that is still an unparsed slice (sources/table_slice.py).

``Table.find``, ``find_many`` and ``has_value`` on a deferred table must answer exactly
what they answer once the table is parsed whole, whatever the rows hold; the byte search
must be the one that answers for the layout ovsdb-server writes (the table stays
unparsed), and anything else must fall back to the whole parse.  Rows found and parsed
one by one are checked like the whole table (exit 2 naming the record), and ``nat`` on a
generated NB above the laziness threshold gives the same verdicts either way.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import orjson
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from ovninspect.analysis.placement import classify_all
from ovninspect.answers.nat import nat_rows
from ovninspect.errors import InputError
from ovninspect.schema import Schema
from ovninspect.snapshot import Row, Snapshot, SourceInfo, Table
from ovninspect.sources import open_snapshot, ovsdb_file
from ovninspect.sources.records import Record
from ovninspect.sources.table_slice import FEW_ROWS, UNINDEXED, TableSlice
from ovninspect.topology import Topology

REPO = Path(__file__).resolve().parent.parent
NB_SCHEMA = Path("/usr/share/ovn/ovn-nb.ovsschema")


def u(i: int) -> str:
    return f"7d1e0c55-0000-4000-8000-{i:012d}"


def lsp_schema() -> Schema:
    if not NB_SCHEMA.exists():
        pytest.skip(f"{NB_SCHEMA} not installed")
    return Schema.from_json(json.loads(NB_SCHEMA.read_text()))


def compact(rows: dict) -> bytes:
    return orjson.dumps(rows)


def spaced(rows: dict) -> bytes:
    return json.dumps(rows, indent=1).encode()


def tables(rows: dict, dump: Callable[[dict], bytes] = compact) -> tuple[Table, Table]:
    """(deferred, loaded) Logical_Switch_Port tables holding ``rows``."""
    schema = lsp_schema()
    raw = dump(rows)
    snap = Snapshot(schema, SourceInfo("test.db", "standalone"))
    rec = Record(1, 1234, raw, "test.db")
    deferred = snap.tables["Logical_Switch_Port"]
    deferred.defer(ovsdb_file._deferred_rows(rec, deferred, raw))
    loaded = Table("Logical_Switch_Port", schema.tables["Logical_Switch_Port"].columns)
    loaded._rows = orjson.loads(raw)
    return deferred, loaded


def same_answers(deferred: Table, loaded: Table, values: list[str]) -> None:
    for value in values:
        assert deferred.has_value("name", value) == loaded.has_value("name", value), value
    got = deferred.find_many("name", values)
    want = loaded.find_many("name", values)
    assert got.keys() == want.keys()
    for value in values:
        a, b = got[value], want[value]
        assert (a is None) == (b is None), value
        if a is not None:
            assert a.uuid == b.uuid and a.to_dict() == b.to_dict(), value
    for value in values:  # one at a time too, after the bulk answers were cached
        a, b = deferred.find("name", value), loaded.find("name", value)
        assert (a and a.uuid) == (b and b.uuid)


def holds(datum: Any, text: str) -> bool:
    """``text`` is one of the strings in this row JSON (values, keys, members)."""
    if datum.__class__ is str:
        return datum == text
    if datum.__class__ in (list, tuple):
        return any(holds(item, text) for item in datum)
    if datum.__class__ is dict:
        return any(key == text or holds(item, text) for key, item in datum.items())
    return False


def same_rows_with_string(deferred: Table, loaded: Table, text: str) -> None:
    """``rows_with_string`` is a superset, in row order, of the rows holding ``text``,
    and each row it gives is the loaded table's row."""
    got = deferred.rows_with_string(text)
    want = [uuid for uuid, row in loaded.rows.items() if holds(row, text)]
    assert [uuid for uuid in got if uuid in want] == want, text
    for uuid, row in got.items():
        assert Row(deferred, uuid, row).to_dict() == loaded.get(uuid).to_dict(), text


PORTS = {u(i): {"name": f"pod-{i}", "addresses": f"0a:58:00:00:00:{i:02x} 10.0.0.{i}",
                "options": ["map", [["requested-chassis", f"node-{i % 3}"]]],
                "external_ids": ["map", [["pod", f"ns/pod-{i}"]]]} for i in range(1, 40)}


@pytest.mark.parametrize("values", [["pod-3"], ["pod-1", "pod-39", "nope", "pod-3", "pod-3"],
                                    [f"pod-{i}" for i in range(45)]])
def test_compact_table_is_searched_not_parsed(values: list[str]) -> None:
    deferred, loaded = tables(PORTS)
    same_answers(deferred, loaded, values)
    assert not deferred.is_loaded  # answered from the bytes
    row = deferred.find("name", "pod-7")
    assert row is not None and row.uuid == u(7)
    assert row["options"] == {"requested-chassis": "node-1"}


def test_rows_with_string_parses_only_those_rows() -> None:
    rows = {**PORTS, u(60): {"name": "r1", "type": "router",
                             "options": ["map", [["router-port", "lrp-1"]]]},
            u(61): {"name": "r2", "external_ids": ["map", [["router-port", "x"]]]}}
    deferred, loaded = tables(rows)
    found = deferred.rows_with_string("router-port")
    assert list(found) == [u(60), u(61)] and not deferred.is_loaded
    assert deferred.rows_with_string("node-1") .keys() == {
        uuid for uuid, row in PORTS.items() if row["options"][1][0][1] == "node-1"}
    assert deferred.rows_with_string("nothing-like-it") == {}
    same_rows_with_string(deferred, loaded, "lrp-1")


def test_rows_with_string_falls_back_on_a_unicode_escape() -> None:
    raw = compact(PORTS)[:-1] + b',"' + u(70).encode() + rb'":{"name":"\u0072outer-port"}}'
    piece = TableSlice(raw, orjson.loads, lambda rows: None)
    assert orjson.loads(raw)[u(70)]["name"] == "router-port"
    assert piece.rows_with_string("router-port") is UNINDEXED
    assert piece.rows_with_string("a b") is UNINDEXED  # not a plain word


def test_first_row_wins_on_a_duplicate_name() -> None:
    rows = {u(1): {"name": "dup", "type": "a"}, u(2): {"name": "other"},
            u(3): {"name": "dup", "type": "b"}}
    deferred, loaded = tables(rows)
    same_answers(deferred, loaded, ["dup", "other"])
    assert deferred.find("name", "dup").uuid == u(1)  # type: ignore[union-attr]
    assert not deferred.is_loaded


FALLBACKS = {
    # rows without the column: the n-th value is not the n-th row's
    "row without a name": {**PORTS, u(900): {"type": "localnet"}},
    # '":{' inside a string adds a false row key
    "row key text in a string": {**PORTS, u(901): {"name": "x", "external_ids": [
        "map", [["blob", '{"a":{"b":1}}']]]}},
    # a name with an escape is not a plain string
    "escaped name": {**PORTS, u(902): {"name": 'q"uote'}},
    "backslash name": {**PORTS, u(903): {"name": "back\\slash"}},
    # the column name as a string value elsewhere (needs the exact key count)
    "name as a value": {**PORTS, u(904): {"name": "n", "external_ids": [
        "map", [["name", "name"]]]}},
}


@pytest.mark.parametrize("case", FALLBACKS, ids=list(FALLBACKS))
def test_other_layouts_answer_the_same(case: str) -> None:
    rows = FALLBACKS[case]
    deferred, loaded = tables(rows)
    names = [r["name"] for r in rows.values() if "name" in r] + ["nope", ""]
    same_answers(deferred, loaded, names)
    for text in [*names, "localnet", "pod", "map"]:
        same_rows_with_string(deferred, loaded, text)


def test_string_value_equal_to_the_column_name_keeps_the_search() -> None:
    deferred, loaded = tables(FALLBACKS["name as a value"])
    same_answers(deferred, loaded, ["n", "pod-4", "name"])
    assert not deferred.is_loaded


def test_spaced_layout_falls_back_to_the_whole_parse() -> None:
    deferred, loaded = tables(PORTS, spaced)
    same_answers(deferred, loaded, ["pod-2", "nope"])
    assert deferred.is_loaded


def test_slice_answers_unindexed_for_what_it_cannot_search() -> None:
    raw = compact(FALLBACKS["row without a name"])
    piece = TableSlice(raw, orjson.loads, lambda rows: None)
    assert piece.has("name", "pod-1") is not UNINDEXED  # the names are all known...
    assert piece.find("name", ["pod-1"]) is UNINDEXED   # ...but not which row holds each


_plain = st.from_regex(r"[a-z0-9.\-]{1,6}", fullmatch=True)
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\0"),
                max_size=12)  # ovsdb-server refuses NUL in strings
_tricky = st.sampled_from(['":{', '"name":"x"', "}", "{", "\\", '"', "name", "\u00e9", ""])
_value = st.one_of(_plain, _plain, _plain, _text, _tricky)


@st.composite
def port_tables(draw: Any, tricky: bool = True) -> tuple[dict, list[str]]:
    """Rows with names and other strings; without ``tricky`` only what the byte search
    takes (plain strings, and texts with braces, ':' and the column name in them)."""
    _value = globals()["_value"] if tricky else st.one_of(
        _plain, st.sampled_from(["{", "}", "name", "a:{b", "x}y", "é", "-"]))
    count = draw(st.integers(1, 12))
    rows: dict[str, dict] = {}
    for i in range(count):
        row: dict[str, Any] = {}
        if not tricky or draw(st.integers(0, 19)):  # one row in twenty has no name
            row["name"] = draw(st.one_of(_value, st.sampled_from(["p1", "p2"])))
        if draw(st.booleans()):
            pairs = draw(st.lists(st.tuples(_value, _value), max_size=3,
                                  unique_by=lambda p: p[0]))
            row["external_ids"] = ["map", [list(p) for p in pairs]]
        if draw(st.booleans()):
            row["type"] = draw(_value)
        rows[u(i + 1)] = row
    names = [r["name"] for r in rows.values() if "name" in r]
    extra = draw(st.lists(_value, max_size=3))
    return rows, names + extra


@settings(max_examples=300, deadline=None)
@given(port_tables(), st.sampled_from([compact, spaced]))
def test_property_deferred_answers_equal_loaded(case: tuple[dict, list[str]],
                                                dump: Callable[[dict], bytes]) -> None:
    rows, values = case
    deferred, loaded = tables(rows, dump)
    same_answers(deferred, loaded, [v for v in values if v])
    event("searched" if not deferred.is_loaded else "parsed whole")
    same_answers(deferred, loaded, values)  # "" is never searched: the whole parse answers
    for text in values:
        same_rows_with_string(tables(rows, dump)[0], loaded, text)


@settings(max_examples=200, deadline=None)
@given(port_tables(tricky=False))
def test_property_plain_compact_tables_are_searched(case: tuple[dict, list[str]]) -> None:
    rows, values = case
    deferred, loaded = tables(rows)
    same_answers(deferred, loaded, [v for v in values if v])
    assert not deferred.is_loaded
    for text in values:
        same_rows_with_string(deferred, loaded, text)


def test_found_row_with_unknown_column_is_a_record_error() -> None:
    rows = {**PORTS, u(950): {"name": "bad", "bogus": 1}}
    deferred, _ = tables(rows)
    assert deferred.has_value("name", "bad")
    with pytest.raises(InputError) as info:
        deferred.find("name", "bad")
    text = str(info.value)
    assert "record 1 at byte offset 1234" in text and "bogus" in text


# --------------------------------------------------------------------------------------
# nat on a generated NB above the laziness threshold: same verdicts, ports not parsed
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def generated_nb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gen") / "nb.db"
    subprocess.run([sys.executable, str(REPO / "scripts" / "gen_snapshot.py"), "-q",
                    "--scale", "0.06", str(path)], check=True, timeout=120)
    assert path.stat().st_size > 2 * ovsdb_file.LAZY_MIN_BYTES
    return path


def nat_output(path: Path) -> tuple[list[dict], Snapshot]:
    snap = open_snapshot(str(path), "nb")
    topo = Topology(snap)
    return nat_rows(topo, classify_all(topo)), snap


def test_nat_verdicts_same_with_ports_searched(generated_nb: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    lazy, snap = nat_output(generated_nb)
    assert not snap.tables["Logical_Switch_Port"].is_loaded  # searched, never parsed
    assert any(r["chassis_source"] == "requested-chassis" for r in lazy)
    monkeypatch.setattr(ovsdb_file, "LAZY_MIN_BYTES", 1 << 40)
    eager, snap = nat_output(generated_nb)
    assert snap.tables["Logical_Switch_Port"].is_loaded
    assert lazy == eager


def test_row_starts_few_and_many_agree_with_the_rows() -> None:
    """``row_starts``: a few rows searched one by one and many read from one scan of the
    row keys give the same starts, and each start opens that row's object, even when a
    string holds a row's UUID (as a value, and as escaped key text)."""
    rows = {**PORTS, **{u(i): {"name": f"more-{i}"} for i in range(100, 100 + FEW_ROWS)},
            u(910): {"name": u(1), "external_ids": ["map", [["blob", f'{{"{u(2)}":{{}}}}']]]}}
    raw = compact(rows)
    uuids = [*rows, u(999)]   # u(999) has no row
    few = TableSlice(raw, orjson.loads, lambda rows: None).row_starts(uuids[:3] + [u(999)])
    many = TableSlice(raw, orjson.loads, lambda rows: None)
    assert len(uuids) > FEW_ROWS
    every = many.row_starts(uuids)
    assert every.keys() == rows.keys()
    assert few == {k: every[k] for k in uuids[:3]}
    assert many.row_starts(uuids[:3] + [u(999)]) == few     # from the kept scan
    assert many.rows_at(every) == rows
