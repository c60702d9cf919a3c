"""Bad input is a first-class corpus (issue #2, design.md "Tests").

Every case goes through the real command line (``python -m ovninspect info|nat --db X``):
exit code 2, exactly one stderr line ``ovninspect: <input>: <problem>`` (with the record
number and byte offset for record-level damage), no traceback, nothing on stdout, and the
input unchanged afterwards (same bytes, no files added next to it).  ``--allow-truncated``
reads the valid prefix of a truncated file, as ovsdb-server does.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import pytest

from ovninspect.sources import LoadOptions, open_snapshot
from ovninspect.sources.records import compose_record
from tests.ovnlab import NB_SCHEMA, run
from tests.test_readers_parity import (
    FIXTURES,
    assert_same,
    normalize_snapshot,
    raw_records,
    run_cli,
    served_truth,
)


def source(name: str) -> bytes:
    path = FIXTURES / "base" / name
    if not path.exists():
        pytest.skip(f"fixtures/base/{name} missing (scripts/make_fixtures.sh)")
    return path.read_bytes()


def record_patterns(index: int, offset: int, *more: str) -> list[str]:
    return [rf"\brecord {index}\b", rf"\bbyte offset {offset}\b", *more]


@dataclass
class Bad:
    """A bad input: where it is and what the error line must say."""

    path: Path
    patterns: list[str]
    info_ok: bool = False           # readable, just not enough for ``nat``
    hashable: bool = True           # False for special files such as /proc/self/mem
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------
# the corpus: each builder writes its input under ``d`` and says what to expect
# --------------------------------------------------------------------------------------
def truncated_mid_record(d: Path) -> Bad:
    data = source("nb-log.db")
    rec = raw_records(data)[len(raw_records(data)) // 2]
    path = d / "truncated.db"
    path.write_bytes(data[:rec.body_offset + rec.length // 2])
    return Bad(path, record_patterns(rec.index, rec.offset, "truncated"))


def truncated_in_header(d: Path) -> Bad:
    data = source("nb-log.db")
    rec = raw_records(data)[-1]
    path = d / "truncated-header.db"
    path.write_bytes(data[:rec.offset + 15])
    return Bad(path, record_patterns(rec.index, rec.offset, "truncated"))


def truncated_clustered(d: Path) -> Bad:
    data = source("nb-clustered.db")
    recs = raw_records(data)
    rec = recs[len(recs) * 2 // 3]
    path = d / "truncated-clustered.db"
    path.write_bytes(data[:rec.body_offset + rec.length - 2])
    return Bad(path, record_patterns(rec.index, rec.offset, "truncated"))


def flipped_byte(d: Path) -> Bad:
    data = bytearray(source("nb-log.db"))
    rec = raw_records(bytes(data))[3]
    data[rec.body_offset + rec.length // 2] ^= 0x01
    path = d / "flipped.db"
    path.write_bytes(bytes(data))
    return Bad(path, record_patterns(rec.index, rec.offset, "SHA-1"))


def _with_length(data: bytes, index: int, delta: int) -> tuple[bytes, int]:
    rec = raw_records(data)[index]
    head = data[rec.offset:rec.body_offset].decode().split(" ")
    head[2] = str(rec.length + delta)
    return data[:rec.offset] + " ".join(head).encode() + data[rec.body_offset:], rec.offset


def wrong_length_longer(d: Path) -> Bad:
    data, offset = _with_length(source("nb-log.db"), 4, +7)
    path = d / "length-longer.db"
    path.write_bytes(data)
    return Bad(path, record_patterns(4, offset))


def wrong_length_shorter(d: Path) -> Bad:
    data, offset = _with_length(source("nb-log.db"), 2, -1)
    path = d / "length-shorter.db"
    path.write_bytes(data)
    return Bad(path, record_patterns(2, offset))


def _frames(data: bytes, count: int) -> bytes:
    """The first ``count`` records of ``data``, byte for byte."""
    return b"".join(data[r.offset:r.body_offset + r.length] for r in raw_records(data)[:count])


def _appended(d: Path, name: str, tail: bytes, *patterns: str) -> Bad:
    """Three good records of the base log followed by ``tail`` (record 3)."""
    head = _frames(source("nb-log.db"), 3)
    path = d / name
    path.write_bytes(head + tail)
    return Bad(path, record_patterns(3, len(head), *patterns))


def txn_not_object(d: Path) -> Bad:
    return _appended(d, "txn-list.db", compose_record([1, 2]), "not a JSON object")


def txn_unknown_table(d: Path) -> Bad:
    return _appended(d, "unknown-table.db", compose_record({"Nope": {}, "_date": 1}), "Nope")


def txn_unknown_column(d: Path) -> Bad:
    txn = {"NAT": {"4f2c7e2a-0000-4000-8000-000000000009": {"bogus": 1}}}
    return _appended(d, "unknown-column.db", compose_record(txn), "bogus")


def txn_deletes_missing_row(d: Path) -> Bad:
    txn = {"NAT": {"4f2c7e2a-0000-4000-8000-000000000009": None}}
    return _appended(d, "delete-missing.db", compose_record(txn), "does not exist")


def magic_mismatch(d: Path) -> Bad:
    return _appended(d, "magic.db", compose_record({"_date": 1}, magic="CLUSTER"), "magic")


def header_too_long(d: Path) -> Bad:
    tail = b"OVSDB JSON " + b"9" * 200 + b" " + b"0" * 40 + b"\n{}\n"
    return _appended(d, "long-header.db", tail, "header")


def body_not_utf8(d: Path) -> Bad:
    body = b'{"_date":1,"_comment":"\xff\xfe"}\n'
    tail = b"OVSDB JSON %d %s\n" % (len(body), hashlib.sha1(body).hexdigest().encode()) + body
    return _appended(d, "not-utf8.db", tail, "not valid JSON")


def trailing_newlines(d: Path) -> Bad:
    data = source("nb-log.db")
    path = d / "trailing.db"
    path.write_bytes(data + b"\n\n")
    return Bad(path, record_patterns(len(raw_records(data)), len(data)))


def record0_not_schema(d: Path) -> Bad:
    path = d / "no-schema.db"
    path.write_bytes(compose_record({"foo": 1}) + compose_record({"_date": 1}))
    return Bad(path, record_patterns(0, 0, "schema"))


def cluster_never_joined(d: Path) -> Bad:
    """What ``ovsdb-tool join-cluster`` writes before the server has joined: no data."""
    if shutil.which("ovsdb-tool") is None:
        pytest.skip("ovsdb-tool not installed")
    path = d / "joining.db"
    run(["ovsdb-tool", "join-cluster", str(path), "OVN_Northbound", f"unix:{d / 'a.raft'}",
         f"unix:{d / 'b.raft'}"])
    return Bad(path, ["never joined"])


def random_bytes(d: Path) -> Bad:
    data = random.Random(20260101).randbytes(4096)
    assert not data.startswith((b"\x1f\x8b", b"OVSDB", b"{", b"["))
    path = d / "random.db"
    path.write_bytes(data)
    return Bad(path, ["not an OVSDB database"])


def not_ovsdb_text(d: Path) -> Bad:
    path = d / "ovnnb_db.db"
    path.write_text("this is a log file, not a database\n")
    return Bad(path, ["not an OVSDB database"])


def json_garbage(d: Path) -> Bad:
    path = d / "dump.json"
    path.write_text('{"caption": "NAT table", "headings": ["_uuid", ')
    return Bad(path, ["JSON"])


def export_row_not_a_list(d: Path) -> Bad:
    """A data row that is not a list, in a list export with a column unknown to every schema
    (its type is inferred from the cells: fuzz seed 16950 exited 70 there before the rows'
    shape was checked first)."""
    export = json.loads(source("nbctl-NAT.json"))
    export["headings"].append("mystery")
    export["data"] = [True]
    path = d / "list-nat.json"
    path.write_text(json.dumps(export))
    return Bad(path, ["data row 0 does not match the 13 headings"])


def empty_file(d: Path) -> Bad:
    path = d / "empty.db"
    path.write_bytes(b"")
    return Bad(path, ["empty"])


def gzip_garbage(d: Path) -> Bad:
    path = d / "nb.db.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + random.Random(5).randbytes(600))
    return Bad(path, ["gzip"])


def gzip_truncated(d: Path) -> Bad:
    packed = gzip.compress(source("nb-log.db"))
    path = d / "cut.db.gz"
    path.write_bytes(packed[:len(packed) // 2])
    return Bad(path, ["gzip"])


def gzip_of_flipped(d: Path) -> Bad:
    bad = flipped_byte(d)
    path = d / "flipped.db.gz"
    path.write_bytes(gzip.compress(bad.path.read_bytes()))
    bad.path.unlink()
    return Bad(path, bad.patterns)


def sb_as_db(d: Path) -> Bad:
    path = d / "sb.db"
    path.write_bytes(source("sb.db"))
    return Bad(path, ["OVN_Southbound", "--db needs OVN_Northbound"])


def json_schema_as_db(d: Path) -> Bad:
    path = d / "ovn-nb.ovsschema"
    shutil.copyfile(NB_SCHEMA, path)
    return Bad(path, ["schema, not a database"])


def _old_schema(d: Path, name: str, nat_columns: Optional[dict]) -> Path:
    """A small, valid standalone NB whose schema is too old for ``nat``."""
    tables: dict = {
        "Logical_Router": {"columns": {
            "name": {"type": "string"},
            "ports": {"type": {"key": {"type": "uuid", "refTable": "Logical_Router_Port"},
                               "min": 0, "max": "unlimited"}},
            "options": {"type": {"key": "string", "value": "string", "min": 0,
                                 "max": "unlimited"}}}, "isRoot": True},
        "Logical_Router_Port": {"columns": {
            "name": {"type": "string"}, "mac": {"type": "string"},
            "networks": {"type": {"key": "string", "min": 1, "max": "unlimited"}}}},
    }
    if nat_columns is not None:
        tables["NAT"] = {"columns": nat_columns}
        tables["Logical_Router"]["columns"]["nat"] = {
            "type": {"key": {"type": "uuid", "refTable": "NAT"}, "min": 0, "max": "unlimited"}}
    schema = {"name": "OVN_Northbound", "version": "1.0.0", "tables": tables}
    txn = {"Logical_Router": {"4f2c7e2a-0000-4000-8000-000000000001": {"name": "lr0"}},
           "_date": 1700000000000, "_comment": "crafted by test_bad_input.py"}
    path = d / name
    path.write_bytes(compose_record(schema) + compose_record(txn))
    return path


def schema_without_nat(d: Path) -> Bad:
    return Bad(_old_schema(d, "old-no-nat.db", None),
               [r"schema 1\.0\.0", r"no NAT table|lacks column\(s\) nat\b"], info_ok=True)


def schema_nat_without_external_ip(d: Path) -> Bad:
    cols = {"type": {"type": "string"}, "logical_ip": {"type": "string"}}
    return Bad(_old_schema(d, "old-nat.db", cols), [r"table NAT lacks column\(s\) external_ip"],
               info_ok=True)


def _nb_with_router(d: Path, name: str, router: dict) -> Path:
    """A standalone NB (installed schema) with one router row written as given."""
    schema = json.loads(NB_SCHEMA.read_text())
    txn = {"Logical_Router": {"4f2c7e2a-0000-4000-8000-000000000001": router},
           "_date": 1700000000000}
    path = d / name
    path.write_bytes(compose_record(schema) + compose_record(txn))
    return path


# Datums that ovsdb-server refuses (rule 29): every command refuses the record, naming the
# table, row and column.
def named_uuid_datum(d: Path) -> Bad:
    path = _nb_with_router(d, "named-uuid.db", {"name": "lr0", "ports": ["named-uuid", "p"]})
    return Bad(path, [r"record 1 at byte offset \d+: Logical_Router row", "Logical_Router", r"\bports\b", "named-uuid"])


def malformed_map_datum(d: Path) -> Bad:
    path = _nb_with_router(d, "bad-map.db", {"name": "lr0", "options": ["map", [["a"]]]})
    return Bad(path, ["Logical_Router", r"\boptions\b"])


def malformed_set_datum(d: Path) -> Bad:
    path = _nb_with_router(d, "bad-set.db", {"name": "lr0", "ports": ["set", "xyz"]})
    return Bad(path, ["Logical_Router", r"\bports\b"])


def missing_file(d: Path) -> Bad:
    return Bad(d / "no-such.db", ["no such file"])


def folder_without_db(d: Path) -> Bad:
    folder = d / "sosreport-empty"
    (folder / "var" / "lib" / "ovn").mkdir(parents=True)
    (folder / "var" / "lib" / "ovn" / "ovnnb_db.db.txt").write_text("not a database\n")
    return Bad(folder, ["holds no OVN_Northbound database"])


def read_error(d: Path) -> Bad:
    """A path whose read() fails (EIO): honest even for root, unlike mode bits."""
    path = Path("/proc/self/mem")
    if not path.exists():
        pytest.skip("no /proc/self/mem on this system")
    return Bad(path, ["cannot read"], hashable=False)


def permission_denied(d: Path) -> Bad:
    if os.geteuid() == 0:
        pytest.skip("running as root: file mode bits do not block reads "
                    "(read errors are covered by read_error)")
    path = d / "locked.db"
    path.write_bytes(source("nb-log.db"))
    path.chmod(0)
    return Bad(path, ["permission denied"])


CASES: dict[str, Callable[[Path], Bad]] = {f.__name__: f for f in (
    truncated_mid_record, truncated_in_header, truncated_clustered, flipped_byte,
    wrong_length_longer, wrong_length_shorter, txn_not_object, txn_unknown_table,
    txn_unknown_column, txn_deletes_missing_row, magic_mismatch, header_too_long,
    body_not_utf8, trailing_newlines, record0_not_schema, cluster_never_joined, random_bytes, not_ovsdb_text, json_garbage, export_row_not_a_list,
    empty_file, gzip_garbage, gzip_truncated, gzip_of_flipped, sb_as_db, json_schema_as_db,
    schema_without_nat, schema_nat_without_external_ip, named_uuid_datum,
    malformed_map_datum, malformed_set_datum, missing_file, folder_without_db,
    read_error, permission_denied,
)}


def digest(path: Path) -> Optional[dict[str, tuple[int, str]]]:
    """Every file under ``path`` (or ``path`` itself): mode and sha256; None if absent."""
    if not path.exists():
        return None
    files = sorted(path.rglob("*")) if path.is_dir() else [path]
    out = {}
    for p in files:
        st = p.stat()
        try:
            sha = "" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        except PermissionError:
            sha = f"unreadable, size {st.st_size}, mtime {st.st_mtime_ns}"
        out[str(p.relative_to(path.parent))] = (st.st_mode, sha)
    return out


@pytest.mark.parametrize("command", ["info", "nat"])
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_exits_2_with_one_line(case: str, command: str, tmp_path: Path) -> None:
    bad = CASES[case](tmp_path)
    before = digest(bad.path) if bad.hashable else None
    listing = sorted(os.listdir(tmp_path))
    proc = run_cli(command, "--db", str(bad.path), "--format", "json")
    assert "Traceback" not in proc.stderr + proc.stdout
    if bad.hashable:
        assert digest(bad.path) == before, "the input changed"
    assert sorted(os.listdir(tmp_path)) == listing, "files appeared next to the input"
    if command == "info" and bad.info_ok:
        assert proc.returncode == 0, proc.stderr
        json.loads(proc.stdout)
        return
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith(f"ovninspect: {bad.path}: "), line
    for pattern in bad.patterns:
        assert re.search(pattern, line), f"{pattern!r} not in {line!r}"


@pytest.mark.ovn
def test_allow_truncated_reads_the_valid_prefix(tmp_path: Path) -> None:
    """--allow-truncated: exit 0, a warning naming the bad record, and the records before it
    read exactly as ovsdb-server reads the same truncated file."""
    bad = truncated_mid_record(tmp_path)
    before = digest(bad.path)
    index = int(re.search(r"record (\d+)", bad.patterns[0]).group(1))

    proc = run_cli("nat", "--db", str(bad.path), "--allow-truncated", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    json.loads(proc.stdout)
    warnings = [ln for ln in proc.stderr.splitlines() if ln.startswith("ovninspect: warning: ")]
    assert len(warnings) == 1, proc.stderr
    assert str(bad.path) in warnings[0] and f"record {index} " in warnings[0]

    proc = run_cli("info", "--db", str(bad.path), "--allow-truncated", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert (info["records"], info["transactions"]) == (index, index - 1)
    assert any(f"record {index} " in w for w in info["warnings"]), info["warnings"]
    assert digest(bad.path) == before

    snap = open_snapshot(str(bad.path), options=LoadOptions(allow_truncated=True))
    served = tmp_path / "served"
    served.mkdir()
    copy = Path(shutil.copyfile(bad.path, served / bad.path.name))
    truth = served_truth(copy)              # ovsdb-server keeps the records before the bad one
    assert_same(normalize_snapshot(snap, truth.kinds), truth.tables, "valid prefix")
    assert digest(bad.path) == before
