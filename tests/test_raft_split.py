"""The snapshot inside a raft header kept unparsed (txn_split.split_raft_header) and the
clustered reader's deferred tables built from it (ovsdb_file.read_clustered).

* ``split_raft_header``: on real ``ovsdb-tool``/server headers and on crafted ones (any
  member order, addresses holding ``}]``, spaces, a second ``prev_data``, an unknown member
  that nests ``prev_data``), the rest of the header parses to the whole parse with ``null``
  in ``prev_data[1]`` and the span is exactly ``prev_data[1]``; or None;
* errors inside the deferred snapshot: the message the eager replay gives.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Optional

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ovninspect.errors import InputError
from ovninspect.sources import open_snapshot, ovsdb_file, read_file
from ovninspect.sources.records import iter_records, loads
from ovninspect.sources.txn_split import split_raft_header
from tests.test_txn_split import (
    BAD_NAT,
    FIXTURES,
    GOOD_TABLES,
    ROUTER,
    STRINGS,
    eager_error,
    transactions,
    u,
)

CLUSTERED = [FIXTURES / "base" / name
             for name in ("nb-clustered.db", "nb-clustered-compacted.db")]


def header_of(path: Path) -> bytes:
    return next(iter_records(path.read_bytes(), str(path))).raw


def check(raw: bytes) -> Optional[tuple[dict, int, int]]:
    """split_raft_header's answer, checked against the whole parse when it cuts."""
    got = split_raft_header(raw, loads)
    if got is None:
        return None
    header, start, stop = got
    whole = json.loads(raw)
    snapshot = whole["prev_data"][1]
    whole["prev_data"][1] = None
    assert header == whole
    assert json.loads(raw[start:stop]) == snapshot
    return got


@pytest.mark.parametrize("path", CLUSTERED, ids=[p.name for p in CLUSTERED])
def test_real_headers_are_cut(path: Path) -> None:
    if not path.exists():
        pytest.skip("fixtures missing")
    assert check(header_of(path)) is not None


def members(snapshot: Any, order: list[str], address: str, **extra: Any) -> dict[str, Any]:
    schema = {"name": "OVN_Northbound", "version": "7.0.0", "tables": {"NAT": {"columns": {
        "external_ip": {"type": "string"}}}}}
    base = {"cluster_id": u(1), "server_id": u(2), "name": "OVN_Northbound",
            "local_address": address, "prev_servers": {u(2): address}, "prev_index": 1,
            "prev_term": 1, "prev_eid": u(3), "prev_data": [schema, snapshot], **extra}
    return {k: base[k] for k in order + [k for k in base if k not in order]}


SNAPSHOT = {"NAT": {u(4): {"external_ip": "a}]b"}}, "_date": 1, "_is_diff": True}
ADDRESSES = ["unix:/tmp/x.raft", "tcp:[::1]:6643", 'a}]"b', "x}],\"prev_data\":[{},{}]}"]


@pytest.mark.parametrize("address", ADDRESSES)
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_crafted_headers(address: str, where: str) -> None:
    order = {"first": ["prev_data"], "middle": ["cluster_id", "prev_data"], "last": []}[where]
    body = members(SNAPSHOT, order, address)
    if where == "last":
        body["prev_data"] = body.pop("prev_data")
    assert check(orjson.dumps(body)) is not None
    check(json.dumps(body).encode())  # spaces: cut or not, never wrong


def test_second_prev_data_and_nested_ones_are_left_to_the_whole_parse() -> None:
    body = orjson.dumps(members(SNAPSHOT, ["prev_data"], "unix:x"))
    twice = body[:-1] + b',"prev_data":[{},null]}'
    assert check(twice) is None
    nested = members(SNAPSHOT, ["bogus"], "unix:x", bogus={"prev_data": [{}, {"NAT": {}}]})
    assert check(orjson.dumps(nested)) is None  # "prev_data" twice: not cut
    assert check(orjson.dumps(members(None, [], "unix:x"))) is None
    assert check(orjson.dumps(members([], [], "unix:x"))) is None


def test_broken_snapshot_is_not_cut_into_a_valid_header() -> None:
    body = orjson.dumps(members(SNAPSHOT, [], "unix:x"))
    for cut in range(len(body) - 1, len(body) // 2, -7):
        broken = body[:cut] + body[cut + 1:]
        try:
            json.loads(broken)
        except ValueError:
            got = split_raft_header(broken, loads)
            if got is not None:  # then the span must not be a valid object
                _, start, stop = got
                with pytest.raises(ValueError):
                    json.loads(broken[start:stop])
        else:
            check(broken)


@settings(max_examples=150, deadline=None)
@given(snapshot=transactions(), address=STRINGS, order=st.permutations(
    ["cluster_id", "server_id", "name", "local_address", "prev_servers", "prev_index",
     "prev_term", "prev_eid", "prev_data"]), spaced=st.booleans())
def test_property_headers(snapshot: dict, address: str, order: list[str],
                          spaced: bool) -> None:
    body = members(snapshot, order, address)
    raw = json.dumps(body).encode() if spaced else orjson.dumps(body)
    got = check(raw)
    if not spaced and "\x00" not in address:
        assert got is not None


# --------------------------------------------------------------------------------------
# the clustered reader
# --------------------------------------------------------------------------------------
def clustered_file(tmp_path: Path, txn: Any, entries: list[Any] = ()) -> Path:
    """The fixture's raft header with ``txn`` as its snapshot, then ``entries``."""
    src = CLUSTERED[1]
    if not src.exists():
        pytest.skip("fixtures missing")
    header = json.loads(header_of(src))
    header["prev_data"][1] = txn
    out = b""
    for body in [header, *entries]:
        text = orjson.dumps(body) + b"\n"
        out += (b"OVSDB CLUSTER %d %s\n" % (len(text), hashlib.sha1(text).hexdigest().encode())
                + text)
    path = tmp_path / "clustered.db"
    path.write_bytes(out)
    return path


@pytest.mark.parametrize("case", BAD_NAT, ids=list(BAD_NAT))
def test_bad_snapshot_table_gives_the_eager_error(case: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    nat, problem = BAD_NAT[case]
    path = clustered_file(tmp_path, {**GOOD_TABLES, "NAT": nat, **ROUTER, "_date": 1})
    want = eager_error(path)
    assert "record 0 at byte offset 0: " in want and problem in want
    monkeypatch.setattr(ovsdb_file, "LAZY_MIN_BYTES", 0)
    snap = read_file(path, str(path))
    assert not snap.tables["NAT"].is_loaded
    assert snap.tables["Logical_Switch_Port"].get(u(2))["name"] == "p0"
    with pytest.raises(InputError) as info:
        len(snap.tables["NAT"])
    assert str(info.value) == want
    assert eager_error(path) == want


def test_entries_apply_on_top_of_the_deferred_snapshot(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    nat = {u(4): {"type": "snat", "external_ip": "172.16.0.1", "logical_ip": "10.0.0.0/24"}}
    entry = {"term": 2, "index": 61, "eid": u(7), "data": [None, {
        "NAT": {u(4): {"external_ip": "172.16.0.9"}}, "_date": 2, "_is_diff": True}]}
    path = clustered_file(tmp_path, {**GOOD_TABLES, "NAT": nat, **ROUTER, "_date": 1},
                          [entry])
    eager = open_snapshot(str(path), "nb")
    monkeypatch.setattr(ovsdb_file, "LAZY_MIN_BYTES", 0)
    lazy = open_snapshot(str(path), "nb")
    assert not lazy.tables["Logical_Switch"].is_loaded
    assert lazy.tables["NAT"].get(u(4))["external_ip"] == "172.16.0.9"
    assert lazy.row_counts() == eager.row_counts()
    assert lazy.info.clustered == eager.info.clustered
