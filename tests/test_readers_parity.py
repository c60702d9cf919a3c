"""Every reader against the truth: ``ovsdb-client dump -f json`` of the same database served
by a real ovsdb-server (issue #2, design.md "Tests", semantics §5 and §7 rules 26-31).

The truth side is normalized here, independently of ovninspect's decoder, from the dump
datums and the column types of the schema the server reports (``get-schema``):

* a bare atom in a set column is a one-element set, ``["set", [...]]`` a set, ``["set", []]``
  empty; optional columns (min 0, max 1) are sets of zero or one element;
* ``["map", [[k, v], ...]]`` is a dict, ``["uuid", u]`` is ``u``, reals are floats.

ovninspect's decoded values are brought to the same form (tuple -> frozenset, optional
``None`` -> empty set), after checking that they follow its documented conventions.

The helpers at the top are also used by test_readers_live.py and test_readers_property.py.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional
from uuid import uuid4

import pytest

from ovninspect.snapshot import Snapshot
from ovninspect.sources import open_snapshot
from ovninspect.sources.records import compose_record
from tests.ovnlab import NB_SCHEMA, OvnLab, run

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"

# table -> uuid -> column -> normalized value
Tables = dict[str, dict[str, dict[str, Any]]]


# --------------------------------------------------------------------------------------
# independent normalizer
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    """A column's shape, read straight from RFC 7047 schema JSON."""

    shape: str          # scalar | optional | set | map
    key: str            # atomic type of the key / element
    value: Optional[str] = None


def _atomic(base: Any) -> str:
    return base if isinstance(base, str) else base["type"]


def column_kinds(schema: dict) -> dict[str, dict[str, Kind]]:
    """table -> column -> Kind, from a raw ``<database-schema>`` object."""
    out: dict[str, dict[str, Kind]] = {}
    for tname, tschema in schema["tables"].items():
        cols = {}
        for cname, cschema in tschema["columns"].items():
            typ = cschema["type"]
            if isinstance(typ, str):
                cols[cname] = Kind("scalar", typ)
                continue
            key = _atomic(typ["key"])
            if "value" in typ:
                cols[cname] = Kind("map", key, _atomic(typ["value"]))
                continue
            n_min, n_max = typ.get("min", 1), typ.get("max", 1)
            if n_max == 1:
                cols[cname] = Kind("scalar" if n_min == 1 else "optional", key)
            else:
                cols[cname] = Kind("set", key)
        out[tname] = cols
    return out


def _norm_atom(raw: Any, atype: str) -> Any:
    if isinstance(raw, list):
        assert len(raw) == 2 and raw[0] == "uuid", f"not an atom: {raw!r}"
        return raw[1]
    return float(raw) if atype == "real" else raw


def norm_datum(raw: Any, kind: Kind) -> Any:
    """Normalize RFC 7047 datum JSON (as in a dump or a file) for ``kind``."""
    if kind.shape == "map":
        assert isinstance(raw, list) and raw[0] == "map", f"not a map: {raw!r}"
        return {_norm_atom(k, kind.key): _norm_atom(v, kind.value or "string")
                for k, v in raw[1]}
    if isinstance(raw, list) and raw and raw[0] == "set":
        atoms = [_norm_atom(a, kind.key) for a in raw[1]]
        if kind.shape == "scalar":
            assert len(atoms) == 1, f"scalar with {len(atoms)} values"
            return atoms[0]
        return frozenset(atoms)
    atom = _norm_atom(raw, kind.key)
    return atom if kind.shape == "scalar" else frozenset([atom])


def norm_decoded(value: Any, kind: Kind, where: str) -> Any:
    """Normalize an ovninspect-decoded value, checking its documented Python form."""
    def atom(a: Any) -> Any:
        assert not isinstance(a, (list, tuple, dict)), f"{where}: atom {a!r} is composite"
        if kind.key == "uuid":
            assert isinstance(a, str), f"{where}: uuid {a!r} is not a str"
        return float(a) if kind.key == "real" else a

    if kind.shape == "map":
        assert isinstance(value, dict), f"{where}: map decoded as {type(value).__name__}"
        return {atom(k): (float(v) if kind.value == "real" else v) for k, v in value.items()}
    if kind.shape == "set":
        assert isinstance(value, tuple), f"{where}: set decoded as {type(value).__name__}"
        assert len(set(value)) == len(value), f"{where}: duplicate elements {value!r}"
        return frozenset(atom(a) for a in value)
    if kind.shape == "optional":
        return frozenset() if value is None else frozenset([atom(value)])
    return atom(value)


def parse_dump(text: str) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """``ovsdb-client dump -f json`` output -> table -> (headings, data)."""
    out = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        caption = obj["caption"]
        assert caption.endswith(" table"), caption
        out[caption[: -len(" table")]] = (obj["headings"], obj["data"])
    return out


def normalize_dump(text: str, kinds: dict[str, dict[str, Kind]]) -> Tables:
    """The dump as normalized tables, every column of every table of the schema."""
    dump = parse_dump(text)
    assert set(dump) == set(kinds), f"dump tables differ from the schema: {set(dump) ^ set(kinds)}"
    out: Tables = {}
    for tname, (headings, data) in dump.items():
        assert headings[0] == "_uuid"
        assert set(headings[1:]) == set(kinds[tname]), f"{tname}: headings differ from schema"
        rows: dict[str, dict[str, Any]] = {}
        for cells in data:
            row = dict(zip(headings, cells))
            uuid = _norm_atom(row.pop("_uuid"), "uuid")
            rows[uuid] = {c: norm_datum(v, kinds[tname][c]) for c, v in row.items()}
        out[tname] = rows
    return out


def normalize_snapshot(snap: Snapshot, kinds: dict[str, dict[str, Kind]],
                       tables: Optional[list[str]] = None,
                       columns: Optional[dict[str, list[str]]] = None) -> Tables:
    """ovninspect's decoded rows, normalized like the dump (all columns of ``kinds``)."""
    out: Tables = {}
    for tname in tables if tables is not None else kinds:
        assert snap.has_table(tname), f"snapshot lacks table {tname}"
        cols = columns[tname] if columns and tname in columns else list(kinds[tname])
        rows: dict[str, dict[str, Any]] = {}
        for row in snap.tables[tname]:
            where = f"{tname} {row.uuid}"
            rows[row.uuid] = {c: norm_decoded(row[c], kinds[tname][c], f"{where} {c}")
                              for c in cols}
        out[tname] = rows
    return out


def restrict(tables: Tables, only: dict[str, list[str]]) -> Tables:
    """Only the given tables and columns of ``tables``."""
    return {t: {u: {c: r[c] for c in cols} for u, r in tables[t].items()}
            for t, cols in only.items()}


def assert_same(got: Tables, want: Tables, label: str) -> None:
    """Equal tables, rows and values; the message lists the first differences."""
    problems: list[str] = []
    if set(got) != set(want):
        problems.append(f"tables: extra {sorted(set(got) - set(want))}, "
                        f"missing {sorted(set(want) - set(got))}")
    for tname in sorted(set(got) & set(want)):
        g, w = got[tname], want[tname]
        for uuid in sorted(set(w) - set(g)):
            problems.append(f"{tname} {uuid}: missing")
        for uuid in sorted(set(g) - set(w)):
            problems.append(f"{tname} {uuid}: extra")
        for uuid in sorted(set(g) & set(w)):
            for col in sorted(set(g[uuid]) | set(w[uuid])):
                gv, wv = g[uuid].get(col, "<absent>"), w[uuid].get(col, "<absent>")
                if gv != wv:
                    problems.append(f"{tname} {uuid} {col}: got {gv!r}, want {wv!r}")
    assert not problems, f"{label}: {len(problems)} difference(s):\n  " + \
        "\n  ".join(problems[:15])


# --------------------------------------------------------------------------------------
# truth from a real ovsdb-server
# --------------------------------------------------------------------------------------
@dataclass
class Truth:
    """What ovsdb-server serves for a database file."""

    name: str
    schema: dict
    kinds: dict[str, dict[str, Kind]]
    tables: Tables
    dump: str


def db_name_of(lab: OvnLab, remote: str) -> str:
    names = [n for n in lab.client("list-dbs", remote).split() if n != "_Server"]
    assert len(names) == 1, names
    return names[0]


def truth_from_server(lab: OvnLab, remote: str) -> Truth:
    """get-schema + dump -f json of the one database ``remote`` serves."""
    name = db_name_of(lab, remote)
    schema = json.loads(lab.client("get-schema", remote, name))
    dump = lab.client("dump", "-f", "json", remote, name)
    kinds = column_kinds(schema)
    return Truth(name, schema, kinds, normalize_dump(dump, kinds), dump)


def plain_copy(path: Path, workdir: Path) -> Path:
    """``path`` itself, or a gunzipped copy of it in ``workdir``."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic != b"\x1f\x8b":
        return path
    out = workdir / (path.name + ".plain")
    out.write_bytes(gzip.decompress(path.read_bytes()))
    return out


def served_truth(db_file: Path) -> Truth:
    """Serve a copy of ``db_file`` (gunzipped if needed) and take its dump."""
    return _served_truth(str(db_file), db_file.stat().st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _served_truth(db_file: str, _mtime: int) -> Truth:
    with OvnLab() as lab:
        lab.start_nb(db_file=plain_copy(Path(db_file), lab.root))
        return truth_from_server(lab, lab.nb_remote)


def role_of(name: str) -> str:
    return {"OVN_Northbound": "nb", "OVN_Southbound": "sb"}[name]


# --------------------------------------------------------------------------------------
# an independent look at OVSDB framing (for clustered details and the bad-input corpus)
# --------------------------------------------------------------------------------------
@dataclass
class RawRecord:
    index: int
    offset: int          # of the header
    body_offset: int
    length: int
    body: Any


def raw_records(data: bytes) -> list[RawRecord]:
    """Split a well-formed OVSDB file into records (no checks beyond the framing)."""
    out = []
    pos = 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        magic_word, _magic, length, _sha = data[pos:nl].decode().split(" ")
        assert magic_word == "OVSDB"
        start = nl + 1
        end = start + int(length)
        out.append(RawRecord(len(out), pos, start, int(length), json.loads(data[start:end])))
        pos = end
    return out


def raft_facts(data: bytes) -> dict[str, Any]:
    """What ``info`` should say about a clustered file, computed from the raw records."""
    recs = raw_records(data)
    header = recs[0].body
    prev_index = header["prev_index"]
    entries: dict[int, bool] = {}           # index -> carries data
    commit: Optional[int] = None
    for rec in recs[1:]:
        body = rec.body
        if "index" in body:
            for idx in [i for i in entries if i >= body["index"]]:
                del entries[idx]            # a rewritten index replaces the log's tail
            entries[body["index"]] = body.get("data") is not None
        elif "commit_index" in body:
            commit = max(commit or 0, body["commit_index"])
    limit = commit if commit is not None else prev_index
    return {
        "snapshot_index": prev_index,
        "last_index": prev_index + len(entries),
        "commit_index": commit,
        "entries_applied": sum(entries.values()),
        "entries_beyond_commit_index": sum(1 for i, d in entries.items() if d and i > limit),
    }


def records_complete(data: bytes) -> bool:
    """True when ``data`` ends exactly at a record boundary."""
    pos = 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        if nl < 0:
            return False
        parts = data[pos:nl].split(b" ")
        if len(parts) != 4 or not parts[2].isdigit():
            return False
        pos = nl + 1 + int(parts[2])
    return pos == len(data)


def stable_copy(src: Path, dst: Path) -> Path:
    """Copy a file a server may still be appending to, once it ends on a whole record."""
    for _ in range(200):
        data = src.read_bytes()
        if records_complete(data):
            dst.write_bytes(data)
            return dst
        time.sleep(0.01)
    raise AssertionError(f"{src} never ended on a record boundary")


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """``python -m ovninspect ARGS`` from the repo root, text output captured."""
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO))
    env.pop("OVN_NB_DB", None)
    env.pop("OVN_SB_DB", None)
    return subprocess.run([sys.executable, "-m", "ovninspect", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO, env=env)


# --------------------------------------------------------------------------------------
# the fixtures
# --------------------------------------------------------------------------------------
def fixture_paths(*patterns: str) -> list[Path]:
    found: set[Path] = set()
    for pattern in patterns:
        found.update(p for p in FIXTURES.glob(pattern) if p.is_file())
    return sorted(found)


def rel(path: Path) -> str:
    return str(path.relative_to(FIXTURES)) if path.is_relative_to(FIXTURES) else str(path)


DB_FILES = fixture_paths("*/*.db", "*/*.db.gz")
DUMP_FILES = fixture_paths("*/nb-dump.json", "*/*.dump.json")
NBCTL_FILES = fixture_paths("*/nbctl-*.json")
CLUSTERED = [p for p in DB_FILES if p.read_bytes()[:14] == b"OVSDB CLUSTER "]
FOLDERS = sorted(p for p in FIXTURES.glob("*") if p.is_dir() and
                 (p.name.startswith("sosreport") or p.name.startswith("must-gather")))
BASE_EXPECTED = ["nb-log.db", "nb-compacted.db", "nb-compacted-plus-diffs.db",
                 "nb-clustered.db", "nb-clustered-compacted.db", "nb-from-cluster.db",
                 "nb-backup.db", "nb-dump.json", "nbctl-NAT.json", "nb-compacted.db.gz",
                 "sb.db"]


def snapshot_copy(path: Path, workdir: Path) -> Path:
    """A private copy of a fixture, so that a concurrent make_fixtures.sh run cannot
    change it between serving and reading."""
    out = workdir / path.name
    shutil.copyfile(path, out)
    return out


def db_behind_export(export: Path) -> Optional[Path]:
    """The database file an export was taken from (same scenario, same moment)."""
    if export.name.endswith(".dump.json"):
        candidates = [export.with_name(export.name[: -len(".dump.json")] + ".db")]
    else:
        candidates = [export.with_name("nb-log.db"), export.with_name("nb.db")]
    return next((c for c in candidates if c.exists()), None)


ovn = pytest.mark.ovn


def test_base_fixtures_present() -> None:
    """The base scenario's formats exist (scripts/make_fixtures.sh makes them)."""
    missing = [n for n in BASE_EXPECTED if not (FIXTURES / "base" / n).exists()]
    assert not missing, f"fixtures/base lacks {missing}: run scripts/make_fixtures.sh"
    assert FOLDERS, "no sosreport-*/must-gather-* folder under fixtures/"


@ovn
@pytest.mark.parametrize("db_file", DB_FILES, ids=rel)
def test_db_file_matches_server_dump(db_file: Path, tmp_path: Path) -> None:
    """Standalone, compacted, +diffs, backup, clustered, from-cluster, gzip, SB: all equal."""
    db_file = snapshot_copy(db_file, tmp_path)
    truth = served_truth(db_file)
    snap = open_snapshot(str(db_file), role_of(truth.name))
    assert (snap.name, snap.version) == (truth.name, truth.schema["version"])
    assert set(snap.tables) == set(truth.kinds)
    assert not snap.info.warnings, snap.info.warnings
    assert_same(normalize_snapshot(snap, truth.kinds), truth.tables, rel(db_file))
    if db_file.name.endswith(".gz"):
        assert snap.info.format.startswith("gzip of "), snap.info.format


@ovn
@pytest.mark.parametrize("export", DUMP_FILES, ids=rel)
def test_dump_json_export_matches_server_dump(export: Path, tmp_path: Path) -> None:
    """``dump -f json`` files read back equal to the served database they came from."""
    db_file = db_behind_export(export)
    if db_file is None:
        pytest.skip(f"no database file beside {rel(export)}")
    export, db_file = snapshot_copy(export, tmp_path), snapshot_copy(db_file, tmp_path)
    truth = served_truth(db_file)
    snap = open_snapshot(str(export), role_of(truth.name))
    assert snap.info.format == "ovsdb-client dump -f json"
    assert_same(normalize_snapshot(snap, truth.kinds), truth.tables, rel(export))


@ovn
@pytest.mark.parametrize("export", NBCTL_FILES, ids=rel)
def test_nbctl_list_export_matches_server_dump(export: Path, tmp_path: Path) -> None:
    """``ovn-nbctl --format=json list T`` reads back as table T with its headings' columns."""
    db_file = db_behind_export(export)
    if db_file is None:
        pytest.skip(f"no database file beside {rel(export)}")
    export, db_file = snapshot_copy(export, tmp_path), snapshot_copy(db_file, tmp_path)
    truth = served_truth(db_file)
    table = re.sub(r"^nbctl-|\.json$", "", export.name)
    headings = json.loads(export.read_text())["headings"]
    snap = open_snapshot(str(export), "nb")
    assert list(snap.tables) == [table], snap.info.format
    cols = [h for h in headings if h != "_uuid"]
    assert set(cols) <= set(truth.kinds[table])
    assert set(snap.tables[table].columns) == set(cols)
    only = {table: cols}
    assert_same(normalize_snapshot(snap, truth.kinds, [table], only),
                restrict(truth.tables, only), rel(export))
    assert len(truth.tables[table]) > 0, "the export should not be empty"


@ovn
@pytest.mark.parametrize("folder", FOLDERS, ids=rel)
@pytest.mark.parametrize("role", ["nb", "sb"])
def test_folder_picks_database_and_matches(folder: Path, role: str, tmp_path: Path) -> None:
    """A sosreport/must-gather tree: the note names the file used, which matches the server."""
    folder = Path(shutil.copytree(folder, tmp_path / folder.name, symlinks=True))
    snap = open_snapshot(str(folder), role)
    used = [n for n in snap.info.notes if ": using " in n]
    assert len(used) == 1, snap.info.notes
    db_file = Path(used[0].split(": using ", 1)[1])
    assert db_file.is_file() and folder in db_file.parents, used[0]
    assert snap.info.source == str(db_file)
    truth = served_truth(db_file)
    assert role_of(truth.name) == role
    assert_same(normalize_snapshot(snap, truth.kinds), truth.tables, folder.name)

    proc = run_cli("info", "--db", str(folder), "--format", "json",
                   *(["--sb-role"] if role == "sb" else []))
    assert proc.returncode == 0, proc.stderr
    assert f"using {db_file}" in " ".join(json.loads(proc.stdout)["notes"])


@ovn
@pytest.mark.parametrize("db_file", CLUSTERED, ids=rel)
def test_clustered_info_reports_raft_state(db_file: Path) -> None:
    """``info`` gives the commit index and the entries beyond it, as the records say."""
    proc = run_cli("info", "--db", str(db_file), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["format"] == "clustered"
    facts = raft_facts(db_file.read_bytes())
    got = {k: out["clustered"][k] for k in facts}
    assert got == facts
    header = raw_records(db_file.read_bytes())[0].body
    assert out["clustered"]["cluster_id"] == header["cluster_id"]
    assert out["clustered"]["server_id"] == header["server_id"]


@ovn
def test_clustered_entries_beyond_commit_index(tmp_path: Path) -> None:
    """A clustered log whose last entries have no commit_index record yet (servers write
    it lazily) reads to what the server serves, and ``info`` counts those entries."""
    src = FIXTURES / "base" / "nb-clustered.db"
    if not src.exists():
        pytest.skip("fixtures/base/nb-clustered.db missing")
    data = src.read_bytes()
    recs = raw_records(data)
    entries = [r for r in recs[1:] if "index" in r.body and r.body.get("data") is not None]
    if len(entries) < 3:
        pytest.skip("fewer than 3 data entries")
    first = entries[-3].index
    keep = [r for r in recs if not (r.index > first and "commit_index" in r.body)]
    lazy = tmp_path / "nb-clustered-lazy-commit.db"
    lazy.write_bytes(b"".join(data[r.offset:r.body_offset + r.length] for r in keep))
    facts = raft_facts(lazy.read_bytes())
    assert facts["entries_beyond_commit_index"] == 3, facts

    proc = run_cli("info", "--db", str(lazy), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {k: out["clustered"][k] for k in facts} == facts
    assert any("beyond the last recorded commit index" in w for w in out["warnings"])

    truth = served_truth(lazy)
    snap = open_snapshot(str(lazy))
    assert_same(normalize_snapshot(snap, truth.kinds), truth.tables, lazy.name)


@ovn
@pytest.mark.parametrize("role", ["nb", "sb"])
def test_wrong_role_is_refused(role: str) -> None:
    """An SB file where NB is expected (and the reverse) exits 2 with one line."""
    db_file = FIXTURES / "base" / ("sb.db" if role == "nb" else "nb-log.db")
    if not db_file.exists():
        pytest.skip(f"{rel(db_file)} missing")
    proc = run_cli("info", "--db", str(db_file), *(["--sb-role"] if role == "sb" else []))
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ovninspect: ")
    assert str(db_file) in lines[0]
    want = "OVN_Northbound" if role == "nb" else "OVN_Southbound"
    assert f"needs {want}" in lines[0]


def test_nb_given_as_sb_is_refused() -> None:
    """``nat --sb`` with an NB file: exit 2 naming the file and what --sb needs."""
    nb = FIXTURES / "base" / "nb-log.db"
    if not nb.exists():
        pytest.skip("fixtures/base/nb-log.db missing")
    proc = run_cli("nat", "--db", str(nb), "--sb", str(nb), "--format", "json")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"ovninspect: {nb}: is an OVN_Northbound database; --sb needs OVN_Southbound"]


@ovn
@pytest.mark.parametrize("entries", [1, 2])
def test_clustered_log_rewrite_matches_server(entries: int, tmp_path: Path) -> None:
    """A new leader's entry at an index already in the log replaces that entry and all
    later ones (rule 30), exactly as ovsdb-server replays it."""
    src = FIXTURES / "base" / "nb-clustered.db"
    if not src.exists():
        pytest.skip("fixtures/base/nb-clustered.db missing")
    data = src.read_bytes()
    recs = raw_records(data)
    first = [r for r in recs if "index" in r.body][-entries].body["index"]
    keep = [r for r in recs if r.body.get("commit_index", 0) < first]  # not yet committed
    rewritten = b"".join(data[r.offset:r.body_offset + r.length] for r in keep)
    txn = {"Address_Set": {str(uuid4()): {"name": "from-the-new-leader"}}, "_date": 1}
    rewritten += compose_record({"term": 2}, "CLUSTER")
    rewritten += compose_record({"term": 2, "index": first, "eid": str(uuid4()),
                                 "data": [None, txn]}, "CLUSTER")
    path = tmp_path / "nb-rewritten.db"
    path.write_bytes(rewritten)

    truth = served_truth(path)
    assert [r["name"] for r in truth.tables["Address_Set"].values()] == ["from-the-new-leader"]
    snap = open_snapshot(str(path))
    assert_same(normalize_snapshot(snap, truth.kinds), truth.tables, path.name)
    assert snap.info.clustered["log_truncations"] == 1
    facts = raft_facts(rewritten)
    assert {k: snap.info.clustered[k] for k in facts} == facts


def _converted_schema(path: Path) -> Path:
    """The installed NB schema, one version up: a column and a table dropped, one added."""
    schema = json.loads(NB_SCHEMA.read_text())
    schema["version"] = "7.0.99"
    schema.pop("cksum", None)
    del schema["tables"]["Logical_Router"]["columns"]["copp"]
    del schema["tables"]["Chassis_Template_Var"]
    schema["tables"]["Logical_Router"]["columns"]["extra"] = {
        "type": {"key": "string", "min": 0, "max": "unlimited"}}
    path.write_text(json.dumps(schema))
    return path


def _transact(lab: OvnLab, ops: list[dict]) -> None:
    reply = json.loads(lab.client("transact", lab.nb_remote,
                                  json.dumps(["OVN_Northbound", *ops])))
    assert not [r for r in reply if isinstance(r, dict) and "error" in r], reply


_LR1 = "3a6c1c1e-0000-4000-8000-000000000001"
_BEFORE = [
    {"op": "insert", "table": "Copp", "uuid-name": "copp", "row": {"name": "c1"}},
    {"op": "insert", "table": "Logical_Router", "uuid": _LR1,
     "row": {"name": "r1", "copp": ["named-uuid", "copp"],
             "external_ids": ["map", [["a", "1"], ["b", "2"]]]}},
    {"op": "insert", "table": "Chassis_Template_Var", "row": {"chassis": "ch1"}},
]
_AFTER = [
    {"op": "insert", "table": "Logical_Router",
     "row": {"name": "r2", "extra": ["set", ["x", "y"]]}},
    {"op": "mutate", "table": "Logical_Router", "where": [["_uuid", "==", ["uuid", _LR1]]],
     "mutations": [["external_ids", "delete", ["set", ["a"]]]]},
]


@ovn
@pytest.mark.parametrize("form", ["standalone-online", "standalone-offline", "clustered"])
def test_schema_conversion_matches_server(form: str, tmp_path: Path) -> None:
    """After ``ovsdb-client convert`` (online) or ``ovsdb-tool convert`` (offline) the file
    carries the new schema and converted rows; later transactions apply on top."""
    new_schema = _converted_schema(tmp_path / "new.ovsschema")
    with OvnLab() as lab:
        if form == "clustered":
            cluster = lab.path("cluster.db")
            run(["ovsdb-tool", "create-cluster", str(cluster), str(NB_SCHEMA),
                 f"unix:{lab.path('cluster.raft')}"])
            lab.start_nb(db_file=cluster)
        else:
            lab.start_nb()
        _transact(lab, _BEFORE)
        if form == "standalone-offline":
            old = stable_copy(lab.nb_db, tmp_path / "old.db")
            run(["ovsdb-tool", "convert", str(old), str(new_schema)])
            lab.stop()
            lab = OvnLab().start_nb(db_file=old)  # stopped below; the first one is done
        else:
            lab.client("convert", lab.nb_remote, str(new_schema))
        try:
            _transact(lab, _AFTER)
            truth = truth_from_server(lab, lab.nb_remote)
            db = stable_copy(lab.nb_db, tmp_path / "converted.db")
        finally:
            lab.stop()
    assert truth.schema["version"] == "7.0.99"
    snap = open_snapshot(str(db))
    assert snap.version == "7.0.99" and not snap.has_table("Chassis_Template_Var")
    assert_same(normalize_snapshot(snap, truth.kinds), truth.tables, form)
