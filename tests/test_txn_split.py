"""Large transaction records cut into per-table slices (ovninspect/sources/txn_split.py) and
the deferred tables the standalone reader builds from them (ovsdb_file.apply_record).

* ``split_tables`` itself: slices reassemble to exactly what ``json.loads`` reads, whatever
  the strings inside the rows hold; any other layout gives None (whole-record parse);
* the lazy path against the eager one on every OVSDB fixture file (threshold forced to 0);
* errors inside a deferred slice: raised when the table is first read, naming the record
  and its byte offset, with the message the eager replay gives; eager under
  ``allow_truncated``;
* the CLI on a > 1 MiB record whose Logical_Switch_Port slice is bad: exit 2, one line.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ovninspect.errors import InputError
from ovninspect.snapshot import Snapshot
from ovninspect.sources import LoadOptions, open_snapshot, ovsdb_file, read_file
from ovninspect.sources.records import compose_record, loads
from ovninspect.sources.txn_split import split_tables

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
NB_SCHEMA = Path("/usr/share/ovn/ovn-nb.ovsschema")

TABLES = ("NB_Global", "Logical_Switch", "Logical_Switch_Port", "Logical_Router",
          "Logical_Router_Port", "NAT", "ACL", "Address_Set", "Port_Group")
SPECIALS = ("_date", "_comment", "_is_diff")


def u(i: int) -> str:
    return f"4f2c7e2a-0000-4000-8000-{i:012d}"


def check_split(raw: bytes, tables: Any = TABLES) -> tuple[dict, list[tuple[str, bytes]]]:
    """split_tables must cut ``raw``; its slices and specials rebuild ``json.loads(raw)``
    exactly, tables in the order the record lists them."""
    want = json.loads(raw)
    got = split_tables(raw, tables, loads)
    assert got is not None, f"split_tables refused {raw[:200]!r}"
    specials, slices = got
    names = [name for name, _ in slices]
    assert names == [k for k in want if not k.startswith("_")]
    rebuilt = {name: orjson.loads(piece) for name, piece in slices}
    assert len(rebuilt) == len(slices)
    assert not set(rebuilt) & set(specials)
    assert {**rebuilt, **specials} == want
    for _, piece in slices:
        assert raw.count(piece) >= 1  # a slice is bytes of the record, not a re-serialization
    return specials, slices


def compact(obj: Any) -> bytes:
    """The record body as ovsdb-server writes it: compact JSON, final newline."""
    return orjson.dumps(obj) + b"\n"


def compact_ascii(obj: Any) -> bytes:
    """The same, non-ASCII as ``\\uXXXX`` escapes."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True).encode() + b"\n"


# --------------------------------------------------------------------------------------
# split_tables: unit cases
# --------------------------------------------------------------------------------------
def test_plain_record_reassembles() -> None:
    txn = {
        "NB_Global": {u(1): {"name": "", "options": ["map", [["a", "b"]]]}},
        "Logical_Switch": {u(2): {"name": "ls0", "ports": ["set", [["uuid", u(3)]]]},
                           u(4): {"name": "ls1"}},
        "Logical_Switch_Port": {u(3): {"name": "p0", "addresses": "00:00:00:00:00:01 10.0.0.1",
                                       "tag": 7, "enabled": True}},
        "_date": 1700000000000, "_comment": "ovn-nbctl: ls-add ls0", "_is_diff": True,
    }
    specials, slices = check_split(compact(txn))
    assert specials == {"_date": 1700000000000, "_comment": "ovn-nbctl: ls-add ls0",
                        "_is_diff": True}
    assert [n for n, _ in slices] == ["NB_Global", "Logical_Switch", "Logical_Switch_Port"]
    assert slices[1][1] == orjson.dumps(txn["Logical_Switch"])


TRICKY = [
    "}}", "null}", "}},\"NAT\":{", "},\"", "}", "{", "null},\"_date\":1}", "\"", "\\\"",
    "\\", "end\\", "\\\\", "}}\\", "null}\\", "a\"}},\"NAT\":{\"x\":null}}", "}}\n",
    ",\"Logical_Switch\":{}", "}},\"_comment\":\"", "é\u2028\x01\x1f\ud7ff\U0001f600",
    "}} ", "null}}", "]}}", "[\"set\",[]]}}",
]


@pytest.mark.parametrize("dump", [compact, compact_ascii], ids=["orjson", "ascii-escapes"])
@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_tricky_strings_do_not_cut_early(text: str, dump: Any) -> None:
    """Strings that look like table ends, in every position a row can hold one, and as the
    last thing before a table end (string ending in a backslash, then ``"}}``)."""
    txn = {
        "NAT": {u(1): {"external_ids": ["map", [[text, text]]], "logical_ip": text},
                u(2): {"match": text}},
        "Logical_Switch": {u(3): {"name": text, "other_config": ["map", [["k", text]]]}},
        "ACL": {u(4): {"match": ["set", [text, text + "x"]], "name": text}},
        "_comment": text, "_date": 3,
    }
    specials, slices = check_split(dump(txn))
    assert specials["_comment"] == text
    assert [n for n, _ in slices] == ["NAT", "Logical_Switch", "ACL"]


def test_string_ending_in_backslash_before_table_end() -> None:
    raw = b'{"NAT":{"' + u(1).encode() + b'":{"match":"a\\\\"}},"ACL":{"' + u(2).encode() + \
        b'":{"name":"\\\\\\""}},"_date":1}\n'
    _, slices = check_split(raw)
    assert orjson.loads(slices[0][1])[u(1)]["match"] == "a\\"
    assert orjson.loads(slices[1][1])[u(2)]["name"] == "\\\""


def test_unicode_escapes_in_strings() -> None:
    raw = (b'{"Logical_Switch":{"' + u(1).encode() + b'":{"name":"\\u007d\\u007d,\\u0022NAT'
           b'\\u0022:{\\u00e9\\ud83d\\ude00"}},"NAT":{},"_date":1}\n')
    _, slices = check_split(raw)
    assert orjson.loads(slices[0][1])[u(1)]["name"] == '}},"NAT":{\u00e9\U0001f600'


@pytest.mark.parametrize("where", ["first", "middle", "last", "only"])
def test_deleted_last_row_and_empty_tables(where: str) -> None:
    """A table whose last row is a deletion ends in ``null}``; empty tables anywhere."""
    deleting = {u(1): {"name": "kept"}, u(2): None}
    order = {
        "first": [("NAT", deleting), ("Logical_Switch", {}), ("ACL", {u(3): {"name": "a"}})],
        "middle": [("ACL", {}), ("NAT", deleting), ("Logical_Switch", {})],
        "last": [("ACL", {u(3): None}), ("Logical_Switch", {}), ("NAT", deleting)],
        "only": [("NAT", {u(2): None})],
    }[where]
    for tail in ({}, {"_date": 5}, {"_date": 5, "_is_diff": True}):
        txn = dict(order) | tail
        _, slices = check_split(compact(txn))
        assert dict(slices)["NAT"].endswith(b"null}")


def test_empty_table_at_the_end_and_all_empty() -> None:
    check_split(compact({"NAT": {u(1): {"name": "x"}}, "ACL": {}}))
    check_split(compact({"NAT": {}, "ACL": {}, "Logical_Switch": {}}))
    check_split(compact({"NAT": {}, "_date": 1}))


@pytest.mark.parametrize("comment", ['plain', 'with "quotes"', 'brace } and }}', '"}}',
                                     '\\', 'x\\"}},"NAT":{', ',"_date":2}', ''])
def test_specials_before_between_and_after_tables(comment: str) -> None:
    nbg = {u(1): {"options": ["map", [["northd_internal_version", "24.03.1-20.33.0-72.6"]]]}}
    nat = {u(2): {"type": "snat", "external_ip": "172.16.0.1", "logical_ip": "10.0.0.0/24"}}
    layouts = [
        {"_date": 1, "NB_Global": nbg},
        {"_date": 1, "_comment": comment, "NB_Global": nbg, "NAT": nat},
        {"NB_Global": nbg, "_comment": comment, "NAT": nat, "_is_diff": True},
        {"NB_Global": nbg, "NAT": nat, "_date": 1, "_comment": comment, "_is_diff": False},
        {"_is_diff": True, "_comment": comment, "_date": 1700000000123, "NAT": nat},
        {"_comment": comment, "_date": 1},
    ]
    for txn in layouts:
        specials, _ = check_split(compact(txn))
        assert specials == {k: v for k, v in txn.items() if k.startswith("_")}


def test_many_false_candidates_fall_back_or_cut_right() -> None:
    """Thousands of ``}}`` inside strings before the real end: a cut, if any, is right."""
    txn = {"ACL": {u(i): {"match": "}}" * 20 + "null}"} for i in range(1000)},
           "NAT": {u(5000): {"match": "}}"}}, "_date": 1}
    raw = compact(txn)
    got = split_tables(raw, TABLES, loads)
    if got is not None:
        check_split(raw)


NOT_PLAIN = {
    "table not in schema": b'{"Nope":{},"_date":1}\n',
    "table not in schema later": b'{"NAT":{},"Nope":{"' + u(1).encode() + b'":{"a":1}}}\n',
    "table not in schema after rows, empty": b'{"NAT":{"' + u(1).encode()
                                             + b'":{"a":1}},"Nope":{},"ACL":{}}\n',
    "table not in schema after deletion, last": b'{"NAT":{"' + u(1).encode()
                                                + b'":null},"Nope":{}}\n',
    "unknown table, then special": b'{"NAT":{"' + u(1).encode() + b'":{"a":1}},"Nope":{"'
                                   + u(2).encode() + b'":{"b":2}},"_date":1}\n',
    "unknown table after deletion, then table": b'{"NAT":{"' + u(1).encode()
                                                + b'":null},"Nope":{"' + u(2).encode()
                                                + b'":null},"ACL":{}}\n',
    "unknown table at the end": b'{"ACL":{},"NAT":{"' + u(1).encode() + b'":{"a":1}},"Nope":{"'
                                + u(2).encode() + b'":{"b":[]}}}\n',
    "duplicate table": b'{"NAT":{"' + u(1).encode() + b'":{"a":1}},"NAT":{}}\n',
    "duplicate special": b'{"_date":1,"NAT":{},"_date":2}\n',
    "list": b'[{"NAT":{}}]\n',
    "string": b'"NAT"\n',
    "number": b'1\n',
    "null": b'null\n',
    "empty object": b'{}\n',
    "empty": b'',
    "table value null": b'{"NAT":null}\n',
    "table value list": b'{"NAT":[]}\n',
    "table value string": b'{"NAT":"x"}\n',
    "special object": b'{"_comment":{"a":1},"NAT":{}}\n',
    "special list": b'{"_comment":[1,2],"NAT":{}}\n',
    "escaped key": b'{"N\\u0041T":{}}\n',
    "truncated after comma": b'{"NAT":{"' + u(1).encode() + b'":{"a":1}},',
    "truncated in key": b'{"NAT":{},"AC',
    "truncated special": b'{"NAT":{},"_comment":"abc',
    "trailing garbage": b'{"NAT":{}}x\n',
}


@pytest.mark.parametrize("raw", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_other_layouts_return_none(raw: bytes) -> None:
    assert split_tables(raw, TABLES, loads) is None



# Valid JSON that is not laid out compactly: cut right (whitespace is allowed around keys).
SPACED = {
    "pretty printed": json.dumps({"NAT": {u(1): {"a": 1}}, "_date": 1}, indent=1).encode(),
    "default separators": json.dumps({"NAT": {u(1): {"a": 1}}, "_date": 1}).encode(),
    "space after brace": b'{ "NAT":{}}\n',
    "space before table value": b'{"NAT": {"' + u(1).encode() + b'":{"a":1}}}\n',
    "space in special string": b'{"NAT":{},"_comment": "a,b}"}\n',
    "space after table": b'{"NAT":{"' + u(1).encode() + b'":{"a":1}}, "ACL":{"'
                         + u(2).encode() + b'":{"b":2}},"_date":1}\n',
    "space after deletion": b'{"NAT":{"' + u(1).encode() + b'":null },"ACL":{"'
                            + u(2).encode() + b'":{"b":2}},"_date":1}\n',
    "newline after table": b'{"NAT":{"' + u(1).encode() + b'":{"a":1}}\n,"ACL":{"'
                           + u(2).encode() + b'":{"b":2}},"_date":1}\n',
}


@pytest.mark.parametrize("raw", SPACED.values(), ids=SPACED.keys())
def test_spaced_layouts_are_cut_right(raw: bytes) -> None:
    check_split(raw)


# Not JSON, yet framed like a record: a cut may be made, but then the bad part is in a
# slice that does not parse, so the reader reports it when that table is read.
BROKEN_INSIDE = {
    "truncated in row": b'{"NAT":{"' + u(1).encode() + b'":{"a":"}}',
    "truncated after table": b'{"NAT":{"' + u(1).encode() + b'":{"a":1}}',
    "two objects": b'{"NAT":{}}{"ACL":{}}\n',
}


@pytest.mark.parametrize("raw", BROKEN_INSIDE.values(), ids=BROKEN_INSIDE.keys())
def test_broken_json_is_never_cut_into_slices_that_all_parse(raw: bytes) -> None:
    with pytest.raises(ValueError):
        json.loads(raw)
    got = split_tables(raw, TABLES, loads)
    if got is None:
        return
    bad = 0
    for _, piece in got[1]:
        try:
            if not isinstance(orjson.loads(piece), dict):
                bad += 1
        except ValueError:
            bad += 1
    assert bad, f"every slice of broken JSON parsed: {got!r}"


# --------------------------------------------------------------------------------------
# split_tables: property
# --------------------------------------------------------------------------------------
FRAGMENTS = st.sampled_from(["}}", "null}", "},\"", "}},\"NAT\":{", "\\", "\"", "\\\"",
                             ",\"_date\":", "null", "{}", "[]", "é", "\u2028", "\x01"])
CHARS = st.text(alphabet='{}[]",:\\ nulNAT_xé\n', max_size=12)
STRINGS = st.lists(st.one_of(FRAGMENTS, CHARS), max_size=4).map("".join)
ATOMS = st.one_of(STRINGS, st.integers(-2**63, 2**63 - 1), st.booleans(),
                  st.floats(allow_nan=False, allow_infinity=False),
                  st.uuids().map(lambda x: ["uuid", str(x)]))
DATUMS = st.one_of(
    ATOMS,
    st.lists(ATOMS, max_size=3).map(lambda xs: ["set", xs]),
    st.lists(st.tuples(ATOMS, ATOMS).map(list), max_size=3).map(lambda kv: ["map", kv]),
)
ROWS = st.one_of(st.none(), st.dictionaries(STRINGS, DATUMS, max_size=4))
ROW_KEYS = st.one_of(st.uuids().map(str), STRINGS)
TABLE_ROWS = st.dictionaries(ROW_KEYS, ROWS, max_size=4)
SPECIAL_VALUES = {"_date": st.integers(0, 2**53), "_comment": STRINGS,
                  "_is_diff": st.booleans()}


@st.composite
def transactions(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(TABLES), unique=True, max_size=5))
    items: list[tuple[str, Any]] = [(n, draw(TABLE_ROWS)) for n in names]
    specials = draw(st.lists(st.sampled_from(SPECIALS), unique=True, max_size=3))
    for key in specials:
        pos = draw(st.integers(0, len(items)))
        items.insert(pos, (key, draw(SPECIAL_VALUES[key])))
    if not items:
        items = [("_date", 0)]
    return dict(items)


@settings(max_examples=100, deadline=None)
@given(txn=transactions(), ascii_escapes=st.booleans())
def test_property_compact_transactions_reassemble(txn: dict[str, Any],
                                                  ascii_escapes: bool) -> None:
    raw = compact_ascii(txn) if ascii_escapes else compact(txn)
    if split_tables(raw, TABLES, loads) is None:
        # the one refusal allowed: a row key that is not a lower-case UUID and starts like
        # a top-level key (capital or "_"): not OVSDB, the whole-record parse reports it
        keys = [k for rows in txn.values() if isinstance(rows, dict) for k in rows]
        assert any(k[:1].isupper() or k[:1] == "_" for k in keys), raw[:300]
        return
    check_split(raw)


# --------------------------------------------------------------------------------------
# the lazy path against the eager one, on every OVSDB fixture file
# --------------------------------------------------------------------------------------
def _plain_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _schema_name(data: bytes) -> Optional[str]:
    """The database name in record 0 (standalone schema or raft prev_data), None when
    ``data`` is not an OVSDB file."""
    if not data.startswith(b"OVSDB "):
        return None
    header, _, rest = data.partition(b"\n")
    body = json.loads(rest[:int(header.split(b" ")[2])])
    if "prev_data" in body:
        body = body["prev_data"][0]
    return body.get("name")


def _ovsdb_fixtures() -> list[tuple[Path, str]]:
    roles = {"OVN_Northbound": "nb", "OVN_Southbound": "sb"}
    out = []
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or path.suffix in (".json", ".txt", ".sh", ".md", ".log"):
            continue
        try:
            name = _schema_name(_plain_bytes(path))
        except (OSError, ValueError, EOFError):
            continue
        if name in roles:
            out.append((path, roles[name]))
    return out


OVSDB_FIXTURES = _ovsdb_fixtures()


def decoded(snap: Snapshot) -> dict[str, dict[str, dict[str, Any]]]:
    return {t: {r.uuid: r.to_dict() for r in table} for t, table in snap.tables.items()}


def info_facts(snap: Snapshot) -> dict[str, Any]:
    i = snap.info
    return {"format": i.format, "records": i.records, "transactions": i.transactions,
            "clustered": i.clustered, "warnings": list(i.warnings), "notes": list(i.notes)}


def test_fixture_corpus_is_there() -> None:
    files = {p.relative_to(FIXTURES).as_posix() for p, _ in OVSDB_FIXTURES}
    assert {"base/nb-log.db", "base/nb-compacted.db", "base/nb-compacted.db.gz",
            "base/nb-compacted-plus-diffs.db", "base/sb.db", "edge/sb.db.gz"} <= files
    assert any(role == "sb" for _, role in OVSDB_FIXTURES)


@pytest.mark.parametrize("path,role", OVSDB_FIXTURES,
                         ids=[p.relative_to(FIXTURES).as_posix() for p, _ in OVSDB_FIXTURES])
def test_lazy_path_reads_the_same_as_eager(path: Path, role: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    eager = open_snapshot(str(path), role)
    assert all(t.is_loaded for t in eager.tables.values())  # fixtures are < 1 MiB a record
    want = decoded(eager)

    monkeypatch.setattr(ovsdb_file, "LAZY_MIN_BYTES", 0)
    cuts: list[bool] = []
    real_split = ovsdb_file.split_tables

    def counted_split(raw: bytes, tables: Any, parse: Any, *span: int) -> Any:
        got = real_split(raw, tables, parse, *span)
        txn = raw[span[0]:span[1]] if span else raw
        cuts.append(got is not None or txn.strip() == b"{}")  # {}: nothing to cut
        return got

    monkeypatch.setattr(ovsdb_file, "split_tables", counted_split)
    lazy = open_snapshot(str(path), role)
    if not _plain_bytes(path).startswith(b"OVSDB CLUSTER "):
        # every transaction record went through split_tables and was cut (or empty)
        assert cuts == [True] * eager.info.transactions and cuts
    elif eager.info.clustered.get("snapshot_index"):
        assert cuts == [True]  # the raft header's snapshot, cut in place
    assert lazy.schema.name == eager.schema.name and lazy.version == eager.version
    assert info_facts(lazy) == info_facts(eager)
    got = decoded(lazy)
    assert all(t.is_loaded for t in lazy.tables.values())
    assert got.keys() == want.keys()
    for tname in want:
        assert got[tname] == want[tname], f"{tname} differs on the lazy path"
    assert lazy.row_counts() == eager.row_counts()


# --------------------------------------------------------------------------------------
# errors inside deferred slices
# --------------------------------------------------------------------------------------
def nb_schema() -> dict:
    if not NB_SCHEMA.exists():
        pytest.skip(f"{NB_SCHEMA} not installed")
    return json.loads(NB_SCHEMA.read_text())


def frame(body: bytes) -> bytes:
    """An OVSDB JSON record around ``body`` as given (which need not be valid JSON)."""
    text = body if body.endswith(b"\n") else body + b"\n"
    return b"OVSDB JSON %d %s\n" % (len(text), hashlib.sha1(text).hexdigest().encode()) + text


GOOD_TABLES = {
    "Logical_Switch": {u(1): {"name": "ls0", "ports": ["set", [["uuid", u(2)]]]}},
    "Logical_Switch_Port": {u(2): {"name": "p0", "addresses": "00:00:00:00:00:01 10.0.0.2"}},
}
ROUTER = {"Logical_Router": {u(3): {"name": "lr0", "nat": ["set", [["uuid", u(4)]]]}}}
GOOD_NAT = {u(4): {"type": "snat", "external_ip": "172.16.0.1", "logical_ip": "10.0.0.0/24"}}

# NAT tables the replay refuses; each still ends in '}}' or 'null}' like a valid table
BAD_NAT: dict[str, tuple[Any, str]] = {
    "unknown column": ({u(4): {**GOOD_NAT[u(4)], "bogus": 1}},
                       f"NAT row {u(4)} column 'bogus': no such column in table NAT"),
    "deletes missing row": ({**GOOD_NAT, u(9): None},
                            f"deletes NAT row {u(9)}, which does not exist"),
    "deletes missing only row": ({u(9): None}, f"deletes NAT row {u(9)}, which does not exist"),
    "row is a string": ({u(5): "not a row", **GOOD_NAT}, f"NAT row {u(5)}: row is not a JSON object"),
    "row is a list": ({u(5): [1], **GOOD_NAT}, f"NAT row {u(5)}: row is not a JSON object"),
    "row is a number": ({u(5): 1, **GOOD_NAT}, f"NAT row {u(5)}: row is not a JSON object"),
}


def bad_nat_file(tmp_path: Path, nat: Any, tail: bytes = b"") -> tuple[Path, int]:
    """Record 0 the NB schema, record 1 good tables, the bad NAT table, then a router;
    returns the file and the byte offset of record 1."""
    head = compose_record(nb_schema())
    txn = {**GOOD_TABLES, "NAT": nat, **ROUTER, "_date": 1700000000000,
           "_comment": "crafted by test_txn_split.py", "_is_diff": True}
    path = tmp_path / "bad-nat.db"
    path.write_bytes(head + compose_record(txn) + tail)
    return path, len(head)


def deferred_read(path: Path, want: str) -> Snapshot:
    """The reader alone, tables deferred: open_snapshot's checks of the tables not read
    yet refuse the file at open with ``want``, the error an eager replay gives."""
    assert eager_error(path) == want
    return read_file(path, str(path))


def eager_error(path: Path) -> str:
    with pytest.raises(InputError) as info:
        open_snapshot(str(path), "nb")
    return str(info.value)


@pytest.mark.parametrize("case", BAD_NAT, ids=list(BAD_NAT))
def test_deferred_error_raised_on_first_read(case: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    nat, problem = BAD_NAT[case]
    path, offset = bad_nat_file(tmp_path, nat)
    want = eager_error(path)  # default threshold: the record is small, parsed whole
    assert f"record 1 at byte offset {offset}: " in want and problem in want

    monkeypatch.setattr(ovsdb_file, "LAZY_MIN_BYTES", 0)
    snap = deferred_read(path, want)
    assert not snap.tables["NAT"].is_loaded
    assert len(snap.tables["Logical_Switch"]) == 1
    assert snap.tables["Logical_Switch_Port"].get(u(2))["name"] == "p0"
    assert snap.tables["Logical_Router"].get(u(3))["nat"] == (u(4),)
    for _ in range(2):  # the error stays: a failed load leaves the table unread
        with pytest.raises(InputError) as info:
            len(snap.tables["NAT"])
        message = str(info.value)
        assert "record 1" in message and "byte offset" in message
        assert message == want
    with pytest.raises(InputError):
        list(snap.tables["NAT"])


def test_table_that_is_not_an_object_is_refused_at_open(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a table layout: the record is parsed whole and refused at open, as eagerly."""
    path, offset = bad_nat_file(tmp_path, [GOOD_NAT])
    want = eager_error(path)
    assert f"record 1 at byte offset {offset}: " in want
    assert "table NAT: rows are not a JSON object" in want
    monkeypatch.setattr(ovsdb_file, "LAZY_MIN_BYTES", 0)
    assert eager_error(path) == want


# The last row of the table is not an object, so the table does not end in '}}' or 'null}'
LAST_ROW_NOT_OBJECT = {"string": "not a row", "list": ["set", []], "number": 1, "true": True}


@pytest.mark.parametrize("last", LAST_ROW_NOT_OBJECT.values(), ids=LAST_ROW_NOT_OBJECT.keys())
def test_last_row_not_an_object_does_not_swallow_the_next_table(
        last: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = bad_nat_file(tmp_path, {**GOOD_NAT, u(5): last})
    want = eager_error(path)
    assert f"NAT row {u(5)}: row is not a JSON object" in want
    monkeypatch.setattr(ovsdb_file, "LAZY_MIN_BYTES", 0)
    snap = deferred_read(path, want)
    assert snap.tables["Logical_Router"].get(u(3)) is not None
    with pytest.raises(InputError) as info:
        len(snap.tables["NAT"])
    assert str(info.value) == want


def test_deferred_invalid_json_slice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    head = compose_record(nb_schema())
    body = (b'{"Logical_Switch":' + orjson.dumps(GOOD_TABLES["Logical_Switch"])
            + b',"NAT":{"' + u(4).encode() + b'":{"type":tru}},"_date":1}')
    path = tmp_path / "bad-json.db"
    path.write_bytes(head + frame(body))
    want = eager_error(path)
    assert f"record 1 at byte offset {len(head)}: record is not valid JSON" in want

    monkeypatch.setattr(ovsdb_file, "LAZY_MIN_BYTES", 0)
    assert eager_error(path).startswith(want.split(" (")[0])  # refused at open too
    snap = read_file(path, str(path))
    assert len(snap.tables["Logical_Switch"]) == 1
    with pytest.raises(InputError, match=rf"record 1 at byte offset {len(head)}: record is "
                       r"not valid JSON"):
        len(snap.tables["NAT"])


def test_later_record_touching_a_bad_deferred_table(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Record 2 modifies NAT: replaying it needs the deferred NAT of record 1, whose error
    then surfaces at open, still naming record 1."""
    nat, problem = BAD_NAT["unknown column"]
    change = compose_record({"NAT": {u(4): {"logical_ip": "10.0.1.0/24"}}, "_date": 2,
                             "_is_diff": True})
    path, offset = bad_nat_file(tmp_path, nat, change)
    monkeypatch.setattr(ovsdb_file, "LAZY_MIN_BYTES", 0)
    with pytest.raises(InputError) as info:
        open_snapshot(str(path), "nb")
    assert f"record 1 at byte offset {offset}: " in str(info.value)
    assert problem in str(info.value)


def test_later_records_apply_on_top_of_deferred_tables(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A log: record 1 defers NAT, record 2 (a diff) changes and deletes rows in it."""
    head = compose_record(nb_schema())
    nat = {**GOOD_NAT, u(5): {"type": "dnat_and_snat", "external_ip": "172.16.0.5",
                              "logical_ip": "10.0.0.5", "external_ids": ["map", [["a", "1"]]]}}
    # as ovsdb-server writes them: every NAT and port referenced (else it would collect
    # them), and a deleted NAT leaves its router's set in the same transaction
    router = {"Logical_Router": {u(3): {"name": "lr0", "nat": [
        "set", [["uuid", u(4)], ["uuid", u(5)]]]}}}
    rec1 = compose_record({**GOOD_TABLES, "NAT": nat, **router, "_date": 1})
    rec2 = compose_record({"NAT": {u(4): None, u(5): {"external_ids": ["map", [["b", "2"]]]}},
                           "Logical_Router": {u(3): {"nat": ["set", [["uuid", u(4)]]]}},
                           "_date": 2, "_is_diff": True})
    rec3 = compose_record({"Logical_Switch_Port": {u(6): {"name": "p1"}},
                           "Logical_Switch": {u(1): {"ports": ["set", [["uuid", u(6)]]]}},
                           "_date": 3, "_is_diff": True})
    path = tmp_path / "log.db"
    path.write_bytes(head + rec1 + rec2 + rec3)
    want = decoded(open_snapshot(str(path), "nb"))
    monkeypatch.setattr(ovsdb_file, "LAZY_MIN_BYTES", 0)
    snap = open_snapshot(str(path), "nb")
    assert snap.info.transactions == 3
    assert decoded(snap) == want
    assert set(want["NAT"]) == {u(5)}
    assert want["NAT"][u(5)]["external_ids"] == {"a": "1", "b": "2"}
    assert set(want["Logical_Switch_Port"]) == {u(2), u(6)}


@pytest.mark.parametrize("extra, message", [
    ({"_bogus": 1}, "'_bogus' is not in schema"),
    ({"Not_A_Table": {u(7): {"name": "x"}}, **ROUTER}, "'Not_A_Table' is not in schema"),
], ids=["unknown special", "unknown table"])
def test_unknown_key_is_refused_at_open_on_the_lazy_path(
        extra: dict, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "unknown-key.db"
    path.write_bytes(compose_record(nb_schema())
                     + compose_record({**GOOD_TABLES, **extra, "_date": 1}))
    want = eager_error(path)
    assert message in want
    monkeypatch.setattr(ovsdb_file, "LAZY_MIN_BYTES", 0)
    assert eager_error(path) == want


def test_valid_record_with_whitespace_between_tables_reads_lazily(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    head = compose_record(nb_schema())
    body = (b'{"Logical_Switch":' + orjson.dumps(GOOD_TABLES["Logical_Switch"]) + b', '
            b'"Logical_Switch_Port":' + orjson.dumps(GOOD_TABLES["Logical_Switch_Port"])
            + b',"_date":1}')
    path = tmp_path / "spaced.db"
    path.write_bytes(head + frame(body))
    want = decoded(open_snapshot(str(path), "nb"))
    monkeypatch.setattr(ovsdb_file, "LAZY_MIN_BYTES", 0)
    assert decoded(open_snapshot(str(path), "nb")) == want


@pytest.mark.parametrize("case", BAD_NAT, ids=list(BAD_NAT))
@pytest.mark.parametrize("threshold", [0, None], ids=["lazy-threshold", "default-threshold"])
def test_allow_truncated_reads_eagerly(case: str, threshold: Optional[int], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """--allow-truncated: nothing is deferred; the bad record ends the replay at open, with
    a truncation warning naming it, and the records before it are what is read."""
    nat, problem = BAD_NAT[case]
    path, offset = bad_nat_file(tmp_path, nat)
    if threshold is not None:
        monkeypatch.setattr(ovsdb_file, "LAZY_MIN_BYTES", threshold)
    snap = open_snapshot(str(path), "nb", LoadOptions(allow_truncated=True))
    assert all(t.is_loaded for t in snap.tables.values())
    assert len(snap.info.warnings) == 1
    warning = snap.info.warnings[0]
    assert warning.startswith(f"record 1 at byte offset {offset}: ")
    assert problem in warning and "read the 1 valid record(s) before it" in warning
    assert snap.info.records == 1 and snap.info.transactions == 0
    for table in snap.tables.values():  # nothing left to fail on reading
        list(table)


@pytest.mark.parametrize("threshold", [0, None], ids=["lazy-threshold", "default-threshold"])
def test_allow_truncated_keeps_nothing_of_the_rejected_record(
        threshold: Optional[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = bad_nat_file(tmp_path, BAD_NAT["unknown column"][0])
    if threshold is not None:
        monkeypatch.setattr(ovsdb_file, "LAZY_MIN_BYTES", threshold)
    snap = open_snapshot(str(path), "nb", LoadOptions(allow_truncated=True))
    assert snap.row_counts() == dict.fromkeys(snap.row_counts(), 0)


# --------------------------------------------------------------------------------------
# the CLI on a record above the real threshold
# --------------------------------------------------------------------------------------
def big_nb(tmp_path: Path, bad_row: Any, name: str) -> Path:
    """An NB whose data record exceeds LAZY_MIN_BYTES, mostly Logical_Switch_Port rows;
    ``bad_row`` (unless None) replaces one port in the middle."""
    head = compose_record(nb_schema())
    ports = {}
    pad = "x" * 200
    count = 0
    while True:
        for _ in range(500):
            count += 1
            ports[u(100000 + count)] = {
                "name": f"lsp-{count}", "addresses": f"00:00:00:00:{count // 256 % 256:02x}:"
                                                     f"{count % 256:02x} 10.0.{count // 256}.1",
                "external_ids": ["map", [["pad", pad], ["note", '}},"NAT":{']]]}
        txn = {"NB_Global": {u(1): {}}, "Logical_Switch": {u(2): {"name": "ls0"}},
               "Logical_Switch_Port": ports, **ROUTER, "NAT": GOOD_NAT, "_date": 1,
               "_comment": "big"}
        if len(orjson.dumps(txn)) > ovsdb_file.LAZY_MIN_BYTES + 4096:
            break
    if bad_row is not None:
        ports[u(100000 + count // 2)] = bad_row
    path = tmp_path / name
    path.write_bytes(head + compose_record(txn))
    return path


def run_info(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ovninspect", "info", "--db", str(path),
                           "--format", "json"], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})


def test_cli_info_big_record_with_bad_port(tmp_path: Path) -> None:
    good = big_nb(tmp_path, None, "good.db")
    snap = open_snapshot(str(good), "nb")
    assert not snap.tables["Logical_Switch_Port"].is_loaded  # the real threshold was crossed
    ports = len(snap.tables["Logical_Switch_Port"])
    proc = run_info(good)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    counts = {r["table"]: r["rows"] for r in json.loads(proc.stdout)["tables"]}
    assert counts["Logical_Switch_Port"] == ports > 1000 and counts["NAT"] == 1

    bad = big_nb(tmp_path, {"name": "bad", "bogus_column": 1}, "bad.db")
    proc = run_info(bad)
    assert proc.returncode == 2, proc.stdout
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(bad) in lines[0] and "record 1 at byte offset" in lines[0]
    assert "Logical_Switch_Port" in lines[0] and "bogus_column" in lines[0]
    assert proc.stdout == ""
