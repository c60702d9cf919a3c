"""Mutation fuzzing of every input format, judged against ovsdb-tool (issue #11).

Used by tests/test_fuzz.py (a fixed set of examples in CI) and scripts/fuzz.py (long
campaigns).  An input is a fixture with one or more mutations; each run of a command on
it must end with exit 0 (only when ovsdb-tool accepts the file) or exit 2 with exactly
one stderr line naming the input, never exit 70 or a traceback, and leave the input as
it was.

ovsdb-tool is the judge of OVSDB files: ``ovsdb-tool query FILE [...]`` replays every
record and checks every value as ovsdb-server does; a clustered file is first turned
into a standalone one with ``ovsdb-tool cluster-to-standalone`` (which replays every
entry and ignores raft's log truncation, so clustered verdicts are "approximate": see
``Verdict.exact``).  JSON exports have no judge: only the robustness rules apply.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from typer.testing import CliRunner

from ovninspect.cli import app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SEEDS = {  # name -> fixture file: every format the readers take
    "log": "base/nb-log.db", "compacted": "base/nb-compacted.db",
    "compacted+diffs": "base/nb-compacted-plus-diffs.db", "backup": "base/nb-backup.db",
    "clustered": "base/nb-clustered.db", "clustered-compacted": "base/nb-clustered-compacted.db",
    "from-cluster": "base/nb-from-cluster.db", "dump": "base/nb-dump.json",
    "nbctl": "base/nbctl-NAT.json", "kubeovn": "kubeovn-5050/nb.db", "edge": "edge/nb.db",
    "neutron": "neutron/nb.db", "ovnk": "ovnk/nb.db",
}
WRAPPERS = ("none", "none", "none", "gzip", "folder")
COMMANDS = (("info",), ("nat",), ("check",), ("gateways",), ("failover-sim",),
            ("nat", "--verify"))

# values that ovsdb-server refuses somewhere, or accepts and an analysis must survive
ODD_VALUES: list[Any] = [
    "bogus", "", "x" * 300, 7, -1, 0, 40000, 2**63, -(2**63) - 1, 2**64, 1.5, 1e300, True,
    False, None, [], {}, ["set", []], ["set", ["a", "a"]], ["set", [1, 2]], ["map", []],
    ["map", [["k", "v"], ["k", "w"]]], ["map", [["k"]]], ["uuid", "not-a-uuid"],
    ["uuid", "4F2C7E2A-0000-4000-8000-00000000000A"], ["named-uuid", "x"],
    ["uuid", "00000000-0000-0000-0000-000000000000"], "10.0.0.1", "00:00:00:00:00:01",
    "dnat_and_snat", "snat", "line\nbreak\x1b[31m", "maintenance {ticket 42", "}}\"{",
]
RAW_TEXTS = [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-0", b"1.0", b"1e2",
             b"123456789012345678901234567890", b'"\\u0000"', b'"\\ud800"', b'"\\udc00"',
             b"[" * 1200 + b"]" * 1200, b"tru", b'"\xff"', b"{}", b"null"]


# -- OVSDB framing -------------------------------------------------------------------
def frame(body: bytes, magic: bytes = b"JSON") -> bytes:
    return b"OVSDB %s %d %s\n" % (magic, len(body), hashlib.sha1(body).hexdigest().encode())


def split_records(data: bytes) -> Optional[list[tuple[bytes, bytes]]]:
    """[(magic, body)] of a well-framed OVSDB file, or None."""
    out, pos = [], 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        if nl < 0:
            return None
        parts = data[pos:nl].split(b" ")
        if len(parts) != 4 or parts[0] != b"OVSDB" or not parts[2].isdigit():
            return None
        end = nl + 1 + int(parts[2])
        if end > len(data):
            return None
        out.append((parts[1], data[nl + 1:end]))
        pos = end
    return out


def join_records(records: list[tuple[bytes, bytes]]) -> bytes:
    return b"".join(frame(body, magic) + body for magic, body in records)


# -- mutations -------------------------------------------------------------------------
def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON value (keys and indexes)."""
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, prefix + (index,))
    return out


def _edit(value: Any, rng: random.Random) -> tuple[Any, Optional[bytes]]:
    """One edit somewhere in a JSON value: (new value, raw JSON text to splice instead of
    the placeholder, if any)."""
    paths = [p for p in _paths(value) if p]
    if not paths:
        return rng.choice(ODD_VALUES), None
    path = rng.choice(paths)
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    kind = rng.random()
    raw = None
    if kind < 0.55:
        parent[last] = rng.choice(ODD_VALUES)
    elif kind < 0.7:
        raw = rng.choice(RAW_TEXTS)
        parent[last] = "@@RAW@@"
    elif kind < 0.8 and isinstance(parent, dict):
        del parent[last]
    elif kind < 0.9 and isinstance(parent, dict):
        item = parent.pop(last)
        parent[rng.choice(["bogus", "_uuid", str(last).upper(), str(last)[:-1] or "x"])] = item
    elif isinstance(parent[last], str) and parent[last]:
        text = parent[last]
        at = rng.randrange(len(text))
        parent[last] = text[:at] + chr(ord(text[at]) ^ (1 << rng.randrange(6))) + text[at + 1:]
    else:
        parent[last] = rng.choice(ODD_VALUES)
    return value, raw


def _json_text(value: Any, raw: Optional[bytes]) -> bytes:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogatepass")
    if raw is not None:
        text = text.replace(b'"@@RAW@@"', raw, 1)
    return text


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One mutation of ``data`` (an OVSDB file or a JSON export): (result, what)."""
    records = split_records(data)
    ops = ["bitflip", "truncate", "json-edit", "json-edit", "json-edit", "body-bitflip"]
    if records:
        ops += ["duplicate", "remove", "swap", "schema-edit", "json-edit-last"]
    op = rng.choice(ops)
    if op == "bitflip":
        at = rng.randrange(len(data))
        return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1:], op
    if op == "truncate":
        return data[:rng.randrange(len(data))], op
    if records is None:  # a JSON export
        try:
            objects = [json.loads(line) for line in data.splitlines() if line.strip()]
        except (ValueError, RecursionError):
            return data[:-1], "truncate"
        index = rng.randrange(len(objects))
        if op == "body-bitflip":
            text = data
            at = rng.randrange(len(text))
            return text[:at] + bytes([text[at] ^ (1 << rng.randrange(8))]) + text[at + 1:], op
        value, raw = _edit(objects[index], rng)
        lines = [_json_text(o, None) for o in objects]
        lines[index] = _json_text(value, raw)
        return b"\n".join(lines) + b"\n", op
    if op == "duplicate":
        at = rng.randrange(len(records))
        records.insert(rng.randrange(at, len(records) + 1), records[at])
    elif op == "remove" and len(records) > 1:
        del records[rng.randrange(1, len(records))]
    elif op == "swap" and len(records) > 2:
        a, b = rng.sample(range(1, len(records)), 2)
        records[a], records[b] = records[b], records[a]
    elif op == "body-bitflip":
        at = rng.randrange(len(records))
        magic, body = records[at]
        pos = rng.randrange(len(body))
        records[at] = (magic, body[:pos] + bytes([body[pos] ^ (1 << rng.randrange(8))])
                       + body[pos + 1:])
    else:
        at = {"schema-edit": 0, "json-edit-last": len(records) - 1}.get(
            op, rng.randrange(len(records)))
        magic, body = records[at]
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):  # an earlier mutation broke it: more
            return data[:-1], "truncate"
        value, raw = _edit(value, rng)
        records[at] = (magic, _json_text(value, raw) + b"\n")
    return join_records(records), op


# -- the judge -------------------------------------------------------------------------
@dataclass
class Verdict:
    accepted: Optional[bool]      # None: no judge (exports) or wrapper already refused
    exact: bool                   # False for clustered files (see the module docstring)
    why: str = ""


def _tool(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(["ovsdb-tool", *args], capture_output=True, text=True,
                          timeout=timeout, errors="replace")


def judge(data: bytes, workdir: Path) -> Verdict:
    """Does ovsdb-tool accept ``data`` as an OVN_Northbound database?"""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, ValueError):
            return Verdict(False, True, "gzip refused")
    if not data.startswith(b"OVSDB "):
        return Verdict(None, True, "not an OVSDB file")
    path = workdir / "judge.db"
    path.write_bytes(data)
    exact = True
    if data.startswith(b"OVSDB CLUSTER "):
        exact = False
        out = workdir / "judge-standalone.db"
        out.unlink(missing_ok=True)
        shown = _tool("show-log", str(path))
        if shown.returncode != 0:
            return Verdict(False, False, shown.stderr.strip()[:200])
        conv = _tool("cluster-to-standalone", str(out), str(path))
        if conv.returncode != 0:
            return Verdict(False, False, conv.stderr.strip()[:200])
        path = out
    name = _tool("db-name", str(path))
    if name.returncode != 0:
        return Verdict(False, exact, name.stderr.strip()[:200])
    if name.stdout.strip() != "OVN_Northbound":
        return Verdict(False, exact, f"schema {name.stdout.strip()!r}")
    query = _tool("query", str(path), '["OVN_Northbound"]')
    if query.returncode != 0:
        return Verdict(False, exact, query.stderr.strip()[:200])
    return Verdict(True, exact)


# -- running ovninspect in-process -----------------------------------------------------
@dataclass
class Run:
    command: tuple[str, ...]
    code: int
    stdout: str
    stderr: str


_runner = CliRunner()


def run(command: tuple[str, ...], target: str) -> Run:
    result = _runner.invoke(app, [*command, "--db", target, "--format", "json"],
                            env={"OVN_NB_DB": None, "OVN_SB_DB": None, "NO_COLOR": "1"})
    code = result.exit_code
    stderr = result.stderr if hasattr(result, "stderr") else ""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += f"\nTraceback: {type(result.exception).__name__}: {result.exception}"
        code = 70
    return Run(command, code, result.stdout, stderr)


@dataclass
class Case:
    seed: int
    fixture: str
    wrapper: str
    mutations: list[str]
    data: bytes


def make_case(seed: int) -> Case:
    rng = random.Random(seed)
    fixture = rng.choice(sorted(SEEDS))
    data = (FIXTURES / SEEDS[fixture]).read_bytes()
    mutations = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        data, what = mutate(data, rng)
        mutations.append(what)
        if not data:
            break
    return Case(seed, fixture, rng.choice(WRAPPERS), mutations, data)


def place(case: Case, workdir: Path) -> tuple[Path, str]:
    """Write the case's input under ``workdir``: (path to hash, --db argument)."""
    if case.wrapper == "gzip":
        path = workdir / "nb.db.gz"
        path.write_bytes(gzip.compress(case.data, compresslevel=1, mtime=0))
        return path, str(path)
    if case.wrapper == "folder":
        folder = workdir / "sosreport"
        target = folder / "var" / "lib" / "ovn"
        target.mkdir(parents=True)
        (target / "ovnnb_db.db").write_bytes(case.data)
        return folder, str(folder)
    path = workdir / "nb.db"
    path.write_bytes(case.data)
    return path, str(path)


def digest(path: Path) -> str:
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()


@dataclass
class Outcome:
    """What went wrong in one run (an empty ``problems`` list: nothing)."""

    case: Case
    verdict: Verdict
    runs: list[Run]
    problems: list[str]
    false_refusals: int = 0   # exit 2 although ovsdb-tool accepts (allowed, counted)


def check_case(case: Case, commands: tuple[tuple[str, ...], ...] = COMMANDS,
               workdir: Optional[Path] = None) -> Outcome:
    own = workdir is None
    work = Path(tempfile.mkdtemp(prefix="ovninspect-fuzz-")) if own else workdir
    assert work is not None
    try:
        verdict = judge(case.data, work)
        box = work / "input"
        box.mkdir()
        path, target = place(case, box)
        before = digest(path)
        runs, problems, false_refusals = [], [], 0
        for command in commands:
            result = run(command, target)
            runs.append(result)
            problems += _problems(result, target, verdict, command)
            if result.code == 2 and verdict.accepted and not _not_nb(result):
                false_refusals += 1
        if digest(path) != before:
            problems.append("the input changed")
        return Outcome(case, verdict, runs, problems, false_refusals)
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


def _not_nb(result: Run) -> bool:
    return "needs OVN_Northbound" in result.stderr or "lacks column" in result.stderr \
        or "has no " in result.stderr


def _problems(result: Run, target: str, verdict: Verdict, command: tuple[str, ...]
              ) -> list[str]:
    label = " ".join(command)
    out = []
    if "Traceback" in result.stderr or "Traceback" in result.stdout:
        out.append(f"{label}: traceback")
    if result.code == 70:
        out.append(f"{label}: exit 70: {result.stderr.strip()[:300]}")
    elif result.code not in (0, 1, 2):
        out.append(f"{label}: exit {result.code}")
    if result.code == 2:
        lines = result.stderr.splitlines()
        if len(lines) != 1:
            out.append(f"{label}: {len(lines)} stderr lines: {result.stderr[:300]!r}")
        elif not re.match(rf"ovninspect: {re.escape(target)}\b", lines[0]):
            out.append(f"{label}: the line does not name the input: {lines[0][:200]!r}")
    if result.code in (0, 1) and verdict.accepted is False and verdict.exact:
        out.append(f"{label}: exit {result.code} but ovsdb-tool refuses: {verdict.why}")
    return out


def replay_hint(case: Case) -> str:
    return (f"seed {case.seed}: {case.fixture} via {case.wrapper}, mutations "
            f"{', '.join(case.mutations)}")


Check = Callable[[Case], Outcome]
