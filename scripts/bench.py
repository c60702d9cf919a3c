#!/usr/bin/env python3
"""Benchmark ovninspect against the raw-parse floor and the stock OVN/OVSDB tools.

    python3 scripts/bench.py [--db FILE | --scale F | --scales 1,4] [--with-ovsdbapp]
                             [--markdown] [--json OUT] [--timeout S] [--repeat N] [--keep]

Every measurement runs in its own fresh child process; its wall time is taken around the
child and its peak RSS comes from ``wait4()`` (that child and its descendants only).  The
parent stays small on purpose: Linux carries the parent's high-water RSS into a child's
``ru_maxrss`` across fork+exec.  The offline measurements run ``--repeat`` times (default 3),
taking turns, and the fastest run of each counts.  Without ``--db`` a database is generated with
scripts/gen_snapshot.py into a temporary directory for every scale.  Servers are started
through tests/ovnlab.py and always stopped by pid; temporary files are always removed.

Targets (design.md, Performance): ``ovninspect nat`` within 1.5x the floor's time and 1.2x
its peak memory, linear growth with size; the live read at least 10x faster than a full
ovsdbapp sync; a failover sweep within 3x one scenario.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
GEN = REPO / "scripts" / "gen_snapshot.py"
GEN_HISTORY = REPO / "scripts" / "gen_history.py"
NAT_TABLES = ("NAT", "Logical_Router", "Logical_Router_Port", "Gateway_Chassis",
              "HA_Chassis_Group", "HA_Chassis")

# (ratio id, label, comparison, target)
TARGETS = {
    "nat_time": ("ovninspect nat time / floor time", "<=", 1.5),
    "nat_mem": ("ovninspect nat peak RSS / floor peak RSS", "<=", 1.2),
    "live_vs_full": ("ovsdbapp full sync / ovninspect live read (time)", ">=", 10.0),
    "sweep": ("failover-sim --sweep / one scenario (time)", "<=", 3.0),
    "linear": ("per-row time, largest / smallest scale", "<=", 1.25),  # our flag for "linear"
    "timeline": ("ovninspect timeline / nat on a long log (CPU time)", "<=", 10.0),
}


# --------------------------------------------------------------------------------------
# Children: each is run as ``python3 bench.py _child-<name> ...`` and prints one JSON line.
# --------------------------------------------------------------------------------------

def _read_records(path: str, loads: Callable[[bytes], Any]) -> list:
    """Split records, check length and SHA-1, parse each body (docs/ovn-semantics.md §5.1)."""
    import hashlib

    records = []
    with open(path, "rb") as f:
        while header := f.readline():
            parts = header.split()
            if len(parts) != 4 or parts[0] != b"OVSDB":
                raise ValueError(f"bad record header at record {len(records)}")
            body = f.read(int(parts[2]))
            if len(body) != int(parts[2]) or hashlib.sha1(body).hexdigest().encode() != parts[3]:
                raise ValueError(f"bad length or SHA-1 at record {len(records)}")
            records.append(loads(body))
    return records


def child_floor(path: str, use_orjson: bool) -> dict:
    """The raw-parse floor: split + SHA-1 + loads of every record, GC paused."""
    import gc

    gc.disable()
    if use_orjson:
        import orjson
        loads = orjson.loads
    else:
        loads = json.loads
    t0 = time.perf_counter()
    records = _read_records(path, loads)
    return {"parse_s": time.perf_counter() - t0, "records": len(records)}


def child_stats(path: str) -> dict:
    """Rows per table after replaying the file, and the busiest gateway chassis."""
    import gc
    from collections import Counter

    import orjson

    gc.disable()
    live: dict[str, dict[str, dict]] = {}
    records = _read_records(path, orjson.loads)
    clustered = bool(records) and "prev_data" in records[0]
    for rec in records if clustered else records[1:]:
        txn = rec
        if clustered:   # raft header holds [schema, snapshot]; entries hold [null, txn]
            txn = (rec.get("prev_data") or rec.get("data") or [None, None])[1]
        if not isinstance(txn, dict):
            continue
        for table, rows in txn.items():
            if table.startswith("_") or not isinstance(rows, dict):
                continue
            tab = live.setdefault(table, {})
            for uuid, data in rows.items():
                if data is None:
                    tab.pop(uuid, None)
                elif uuid not in tab:
                    tab[uuid] = data
    chassis = Counter(
        row.get("chassis_name")
        for table in ("Gateway_Chassis", "HA_Chassis")
        for row in live.get(table, {}).values() if row.get("chassis_name"))
    tables = {t: len(rows) for t, rows in sorted(live.items()) if rows}
    return {"tables": tables, "rows": sum(tables.values()), "records": len(records),
            "chassis": chassis.most_common(1)[0][0] if chassis else None}


def child_count(path: str) -> dict:
    """Rows in an ``ovn-nbctl --format=json list`` output."""
    with open(path, "rb") as f:
        return {"rows": len(json.load(f)["data"])}


def child_ovsdbapp(remote: str, tables: Sequence[str], timeout: float) -> dict:
    """ovsdbapp connect + initial sync of ``tables`` (all when empty)."""
    from ovsdbapp.backend.ovs_idl import connection, idlutils

    t0 = time.perf_counter()
    helper = idlutils.get_schema_helper(remote, "OVN_Northbound")
    if tables:
        for table in tables:
            helper.register_table(table)
    else:
        helper.register_all()
    idl = connection.OvsdbIdl(remote, helper)
    conn = connection.Connection(idl, timeout)
    conn.start()          # returns once the initial monitor dump is in the IDL
    sync_s = time.perf_counter() - t0
    rows = {name: len(t.rows) for name, t in idl.tables.items()}
    conn.stop(timeout=10)
    return {"sync_s": sync_s, "rows": sum(rows.values()), "nat": rows.get("NAT")}


def child_live_read(remote: str) -> dict:
    """ovninspect's live read of the tables and columns its analyses need."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from ovninspect.sources import LoadOptions, open_snapshot
    from ovninspect.topology import NB_LIVE_TABLES

    snap = open_snapshot(remote, "nb", LoadOptions(timeout=600, tables=NB_LIVE_TABLES))
    counts = snap.row_counts()
    return {"rows": sum(counts.values()), "nat": counts.get("NAT")}


def run_child(argv: list[str]) -> int:
    """Entry point of the ``_child-*`` modes."""
    mode, args = argv[0], argv[1:]
    if mode == "_child-floor":
        out = child_floor(args[0], use_orjson="--orjson" in args)
    elif mode == "_child-stats":
        out = child_stats(args[0])
    elif mode == "_child-count":
        out = child_count(args[0])
    elif mode == "_child-live-read":
        out = child_live_read(args[0])
    elif mode == "_child-ovsdbapp":
        tables = [t for t in args[1].split(",") if t] if len(args) > 1 else []
        out = child_ovsdbapp(args[0], tables, float(args[2]) if len(args) > 2 else 600)
    else:
        print(f"bench: unknown child mode {mode}", file=sys.stderr)
        return 2
    print(json.dumps(out))
    return 0


# --------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------

@dataclass
class Proc:
    """One finished child: wall and CPU seconds, peak RSS, exit status and output."""

    wall: float
    cpu: float
    peak_mib: float
    rc: int
    timed_out: bool
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.timed_out

    def json(self) -> dict:
        """The child's last stdout line parsed as JSON ({} if none)."""
        lines = self.stdout.strip().splitlines()
        try:
            return json.loads(lines[-1]) if lines else {}
        except ValueError:
            return {}

    def why(self) -> str:
        """A short reason for a failure."""
        if self.timed_out:
            return f"timeout after {self.wall:.3g} s"
        lines = [ln.strip(" \t│╭╮╰╯─|") for ln in self.stderr.splitlines()]
        lines = [ln for ln in lines if any(c.isalnum() for c in ln)]
        last = lines[-1] if lines else f"exit {self.rc}"
        return f"rc {self.rc}: {last[:90]}"


def _wait(pid: int, timeout: float) -> tuple[int, Any, bool]:
    """wait4() on ``pid``: (status, rusage, timed_out); on timeout kill its process group.

    The child leads its own session, so its pid is its process group id; it is killed
    before it is reaped, so the pid cannot have been reused.
    """
    deadline = time.monotonic() + timeout
    try:
        pidfd: Optional[int] = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    try:
        while True:
            if pidfd is not None:
                remaining = deadline - time.monotonic()
                if remaining > 0 and select.select([pidfd], [], [], remaining)[0]:
                    break
            else:
                done, status, usage = os.wait4(pid, os.WNOHANG)
                if done:
                    return status, usage, False
                time.sleep(0.005)
            if time.monotonic() >= deadline:
                os.killpg(pid, signal.SIGKILL)
                _, status, usage = os.wait4(pid, 0)
                return status, usage, True
    finally:
        if pidfd is not None:
            os.close(pidfd)
    _, status, usage = os.wait4(pid, 0)
    return status, usage, False


def measure(cmd: Sequence[str], *, timeout: float, workdir: Path, stdout_to: Optional[Path] = None,
            env: Optional[dict[str, str]] = None) -> Proc:
    """Run ``cmd`` in a fresh child; stdout to ``stdout_to`` (or a scratch file) or /dev/null."""
    out_path = stdout_to or workdir / "child.out"
    err_path = workdir / "child.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                cwd=REPO, env=env, start_new_session=True)
        try:
            status, usage, timed_out = _wait(proc.pid, timeout)
        except BaseException:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
                os.waitpid(proc.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            proc.returncode = -1
            raise
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    small = stdout_to is None and out_path.stat().st_size < 1 << 20
    return Proc(wall=wall, cpu=usage.ru_utime + usage.ru_stime, peak_mib=usage.ru_maxrss / 1024,
                rc=proc.returncode, timed_out=timed_out,
                stdout=out_path.read_text(errors="replace") if small else "",
                stderr=err_path.read_text(errors="replace")[-4000:])


@dataclass
class Row:
    """One line of the results table; ``wall is None`` means n/a or skipped."""

    key: str
    name: str
    wall: Optional[float] = None
    cpu: Optional[float] = None
    peak_mib: Optional[float] = None
    note: str = ""

    @classmethod
    def of(cls, key: str, name: str, p: Proc, note: str = "") -> Row:
        if not p.ok:
            return cls(key, name, note=f"n/a ({p.why()})")
        return cls(key, name, p.wall, p.cpu, p.peak_mib, note)


@dataclass
class ScaleResult:
    """Everything measured on one database file."""

    label: str
    db: str
    size: int
    stats: dict = field(default_factory=dict)
    rows: dict[str, Row] = field(default_factory=dict)

    def add(self, row: Row) -> None:
        self.rows[row.key] = row
        mem = "" if row.peak_mib is None else f", {row.peak_mib:.0f} MiB"
        status = "n/a" if row.wall is None else f"{row.wall:.2f} s{mem}"
        print(f"  [{self.label}] {row.name}: {status} {row.note}", file=sys.stderr, flush=True)


class Bench:
    """Runs all measurements on one file and collects them into a ScaleResult."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.py = args.python
        self.env = dict(os.environ)
        self.env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)

    def run(self, cmd: Sequence[str], stdout_to: Optional[Path] = None) -> Proc:
        return measure(cmd, timeout=self.args.timeout, workdir=self.work,
                       stdout_to=stdout_to, env=self.env)

    def child(self, *args: str) -> Proc:
        return self.run([self.py, str(Path(__file__).resolve()), *args])

    def cli(self, *args: str) -> Proc:
        return self.run([self.py, "-m", "ovninspect", *args], stdout_to=Path(os.devnull))

    def best_of(self, runs: dict[str, Callable[[], Proc]]) -> dict[str, Proc]:
        """Each measurement ``--repeat`` times, taking turns (noise that drifts hits all
        alike); per measurement the run with the lowest wall time, failures first."""
        best: dict[str, Proc] = {}
        for _ in range(max(1, self.args.repeat)):
            for key, run in runs.items():
                p = run()
                old = best.get(key)
                if old is None or (old.ok and (not p.ok or (p.wall or 0) < (old.wall or 0))):
                    best[key] = p
        return best

    def generate(self, scale: float) -> tuple[Path, Row]:
        db = self.work / f"nb-scale{scale:g}.db"
        cmd = [self.py, str(GEN), str(db), "--scale", f"{scale:g}", "--quiet"]
        if self.args.records > 1:
            cmd += ["--records", str(self.args.records)]
        p = self.run(cmd)
        if not p.ok:
            raise RuntimeError(f"gen_snapshot.py failed: {p.why()}")
        return db, Row.of("gen", "generate (scripts/gen_snapshot.py)", p)

    def file(self, res: ScaleResult, db: Path) -> None:
        """Offline measurements on ``db``."""
        stats = self.child("_child-stats", str(db))
        if not stats.ok:
            raise RuntimeError(f"cannot read {db}: {stats.why()}")
        res.stats = stats.json()
        d = str(db)
        chassis = res.stats.get("chassis")
        runs: dict[str, Callable[[], Proc]] = {
            "floor": lambda: self.child("_child-floor", d),
            "floor_orjson": lambda: self.child("_child-floor", d, "--orjson"),
            "read": lambda: self.cli("info", "--db", d, "--format", "json"),
            "nat": lambda: self.cli("nat", "--db", d, "--format", "json"),
            "sweep": lambda: self.cli("failover-sim", "--db", d, "--sweep", "--format", "json"),
        }
        if chassis:
            runs["scenario"] = lambda: self.cli("failover-sim", "--db", d, "--down", chassis,
                                                "--format", "json")
        best = self.best_of(runs)
        for key, name in (("floor", "floor: split + SHA-1 + json.loads, GC off"),
                          ("floor_orjson", "  same with orjson.loads (info)")):
            f = best[key]
            res.add(Row.of(key, name, f, f"parse {f.json().get('parse_s', 0):.2f} s in-process"
                           if f.ok else ""))
        res.add(Row.of("read", "ovninspect info --format json", best["read"]))
        res.add(Row.of("nat", "ovninspect nat --format json", best["nat"]))
        res.add(Row.of("sweep", "ovninspect failover-sim --sweep", best["sweep"]))
        if chassis:
            res.add(Row.of("scenario", f"ovninspect failover-sim --down {chassis}",
                           best["scenario"]))
        else:
            res.add(Row("scenario", "ovninspect failover-sim --down <chassis>",
                        note="n/a (no gateway chassis in the file)"))

    def history(self, routers: int) -> ScaleResult:
        """A long log written through ovsdb-server (scripts/gen_history.py): ``nat`` and
        ``timeline`` on it, side by side."""
        db = self.work / "nb-history.db"
        p = self.run([self.py, str(GEN_HISTORY), str(db), "--routers", str(routers)])
        if not p.ok:
            raise RuntimeError(f"gen_history.py failed: {p.why()}")
        stats = self.child("_child-stats", str(db))
        res = ScaleResult(label=f"log{routers}", db=db.name, size=db.stat().st_size,
                          stats=stats.json() if stats.ok else {})
        res.add(Row.of("gen_history", "write the log (scripts/gen_history.py)", p))
        d = str(db)
        best = self.best_of({
            "nat": lambda: self.cli("nat", "--db", d, "--format", "json"),
            "timeline": lambda: self.cli("timeline", "--db", d, "--format", "json"),
        })
        res.add(Row.of("nat", "ovninspect nat --format json", best["nat"]))
        res.add(Row.of("timeline", "ovninspect timeline --format json", best["timeline"]))
        db.unlink()
        return res

    def served(self, res: ScaleResult, db: Path) -> None:
        """Measurements against ovsdb-server serving a copy of ``db``."""
        if str(REPO) not in sys.path:
            sys.path.insert(0, str(REPO))
        from tests.ovnlab import LabError, OvnLab

        with OvnLab(root=self.work / f"lab-{res.label}") as lab:
            shutil.copyfile(db, lab.nb_db)          # copy outside the timing
            t0 = time.perf_counter()
            try:
                lab.start_nb()                      # --detach returns once the db is loaded
            except (LabError, subprocess.SubprocessError) as e:
                res.add(Row("server_load", "ovsdb-server load (--detach until ready)",
                            note=f"n/a ({str(e).splitlines()[0][:90]})"))
                return
            load = time.perf_counter() - t0
            pid = int(lab.path("nb.pid").read_text())
            res.add(Row("server_load", "ovsdb-server load (--detach until ready)", load,
                        peak_mib=_proc_mib(pid, "VmRSS"), note="server RSS after load"))
            nat_json = self.work / "nbctl-nat.json"
            p = self.run(["ovn-nbctl", f"--db={lab.nb_remote}", f"--timeout={max(1, round(self.args.timeout))}",
                          "--format=json", "list", "NAT"], stdout_to=nat_json)
            count = self.child("_child-count", str(nat_json)).json().get("rows") if p.ok else None
            nat_json.unlink(missing_ok=True)
            res.add(Row.of("nbctl", "ovn-nbctl --format=json list NAT", p,
                           f"{count} rows; client peak; server HWM {_proc_mib(pid, 'VmHWM'):.0f} MiB"))
            if p.ok:
                res.add(Row("server_nbctl", "ovsdb-server load + nbctl list NAT", load + p.wall,
                            note="sum of the two rows above"))
            q = self.child("_child-ovsdbapp", lab.nb_remote, ",".join(NAT_TABLES), str(self.args.timeout))
            res.add(Row.of("ovsdbapp_nat", "ovsdbapp sync, 6 NAT tables", q,
                           _sync_note(q)))
            if self.args.with_ovsdbapp:
                q = self.child("_child-ovsdbapp", lab.nb_remote, "", str(self.args.timeout))
                res.add(Row.of("ovsdbapp_full", "ovsdbapp full sync, all tables", q, _sync_note(q)))
            else:
                res.add(Row("ovsdbapp_full", "ovsdbapp full sync, all tables",
                            note="skipped (use --with-ovsdbapp)"))
            q = self.child("_child-live-read", lab.nb_remote)
            res.add(Row.of("live_read", "ovninspect live read (tables the analyses need)", q,
                           f"{q.json().get('rows')} rows" if q.ok else ""))
            res.add(Row.of("live", "ovninspect nat --db unix:<sock> (live read + analysis)",
                           self.cli("nat", "--db", lab.nb_remote, "--format", "json")))
            res.add(Row.of("live_info", "ovninspect info --db unix:<sock> (row counts)",
                           self.cli("info", "--db", lab.nb_remote, "--format", "json")))


def _proc_mib(pid: int, key: str) -> float:
    """VmRSS/VmHWM of a running process in MiB (0 if unreadable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _sync_note(p: Proc) -> str:
    if not p.ok:
        return ""
    out = p.json()
    return f"sync {out.get('sync_s', 0):.1f} s, {out.get('rows')} rows, {out.get('nat')} NAT"


# --------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------

def machine_facts(load_start: Optional[tuple[float, ...]] = None) -> list[tuple[str, str]]:
    """nproc, CPU, memory, load, Python, tool and package versions, date, git revision."""
    def first_line(cmd: list[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
            return out.splitlines()[0].strip() if out else "?"
        except (OSError, subprocess.SubprocessError):
            return "n/a"

    cpu = mem = "?"
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in
                   Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name"))
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError, IndexError):
        pass
    from importlib import metadata

    def version(pkg: str) -> str:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return "not installed"

    rev = first_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = first_line(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"])
    return [
        ("date", datetime.now(timezone.utc).isoformat(timespec="seconds")),
        ("nproc", str(len(os.sched_getaffinity(0)))),
        ("cpu", cpu),
        ("memory", mem),
        ("kernel", platform.release()),
        ("load average", (f"start {_loads(load_start)}, " if load_start else "")
         + f"end {_loads(os.getloadavg())} (1/5/15 min; others' jobs skew wall times)"),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("ovsdb-server", first_line(["ovsdb-server", "--version"])),
        ("ovn-nbctl", first_line(["ovn-nbctl", "--version"])),
        ("packages", ", ".join(f"{p} {version(p)}" for p in ("ovsdbapp", "ovs", "orjson"))),
        ("ovninspect", f"git {rev}{' (dirty)' if dirty not in ('?', 'n/a') else ''}"),
    ]


def _loads(load: Sequence[float]) -> str:
    return " ".join(f"{x:.2f}" for x in load)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool,
          right: Sequence[int] = ()) -> str:
    """A plain aligned text table, or a Markdown table."""
    if markdown:
        sep = ["---:" if i in right else "---" for i in range(len(headers))]
        lines = [headers, sep, *rows]
        return "\n".join("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in lines)
    widths = [max(len(r[i]) for r in (headers, *rows)) for i in range(len(headers))]

    def fmt(r: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    return "\n".join([fmt(headers), fmt(["-" * w for w in widths]), *map(fmt, rows)])


def _num(v: Optional[float], fmt: str = ".2f") -> str:
    return "n/a" if v is None else format(v, fmt)


def ratio_rows(results: list[ScaleResult]) -> list[list[str]]:
    """Ratio, scale, value, target and verdict for every comparison the design asks for."""
    out: list[list[str]] = []

    def add(rid: str, scale: str, value: Optional[float], label: Optional[str] = None,
            note: str = "") -> None:
        name, op, target = TARGETS.get(rid, (label or rid, "", None))
        if value is None:
            verdict = "n/a"
        elif target is None:
            verdict = "info"
        else:
            verdict = "ok" if (value <= target if op == "<=" else value >= target) else "MISS"
        tgt = f"{op} {target:g}x" if target is not None else ""
        out.append([label or name, scale, "n/a" if value is None else f"{value:.2f}x",
                    tgt, verdict + (f" ({note})" if note else "")])

    def div(a: Optional[float], b: Optional[float]) -> Optional[float]:
        return a / b if a is not None and b else None

    for res in results:
        r = res.rows
        if "timeline" in r:        # the long log: its own comparison only
            add("timeline", res.label, div(r["timeline"].cpu, r["nat"].cpu if "nat" in r
                                           else None))
            continue
        w = {k: v.wall for k, v in r.items()}
        m = {k: v.peak_mib for k, v in r.items()}
        add("nat_time", res.label, div(w.get("nat"), w.get("floor")))
        add("nat_mem", res.label, div(m.get("nat"), m.get("floor")))
        add("info", res.label, div(*(r[k].cpu if k in r else None for k in ("nat", "floor"))),
            label="ovninspect nat CPU time / floor CPU time")
        full = div(w.get("ovsdbapp_full"), w.get("live_read"))
        add("live_vs_full", res.label, full,
            note="" if w.get("ovsdbapp_full") else "full sync not run")
        add("info", res.label, div(w.get("ovsdbapp_full"), w.get("live")),
            label="ovsdbapp full sync / ovninspect live nat incl. analysis (time)")
        add("info", res.label, div(w.get("ovsdbapp_nat"), w.get("live_read")),
            label="ovsdbapp 6-table sync / ovninspect live read (time)")
        add("info", res.label, div(w.get("server_nbctl"), w.get("nat")),
            label="ovsdb-server load + nbctl list NAT / ovninspect nat (time)")
        add("sweep", res.label, div(w.get("sweep"), w.get("scenario")))
    sized = [x for x in results if x.stats.get("rows") and "timeline" not in x.rows]
    if len(sized) >= 2:
        lo, hi = min(sized, key=lambda x: x.stats["rows"]), max(sized, key=lambda x: x.stats["rows"])
        span = f"{hi.label} vs {lo.label}"
        for key, what in (("floor", "floor"), ("read", "ovninspect info"),
                          ("nat", "ovninspect nat"), ("sweep", "failover-sim --sweep"),
                          ("server_nbctl", "ovsdb-server + nbctl")):
            a, b = hi.rows.get(key), lo.rows.get(key)
            for kind in ("wall", "cpu"):
                per = [div(getattr(x, kind), res.stats["rows"]) if x else None
                       for x, res in ((a, hi), (b, lo))]
                add("linear" if key != "server_nbctl" else "info", span, div(*per),
                    label=f"per-row {kind} time, {what}")
        a, b = hi.rows.get("nat"), lo.rows.get("nat")
        if a and b:
            add("info", span, div(div(a.peak_mib, hi.stats["rows"]), div(b.peak_mib, lo.stats["rows"])),
                label="per-row peak RSS, ovninspect nat")
    return out


def report(results: list[ScaleResult], markdown: bool,
           load_start: Optional[tuple[float, ...]] = None) -> str:
    """The whole printed report: machine facts, one table per file, the ratios."""
    h = "## " if markdown else ""
    parts = [f"{h}ovninspect benchmark", table(["fact", "value"], machine_facts(load_start), markdown)]
    for res in results:
        st = res.stats
        counts = ", ".join(f"{t} {n}" for t, n in st.get("tables", {}).items())
        parts.append(f"{h}{res.label}: {res.db}, {res.size:,} bytes, {st.get('records')} records (schema included), "
                     f"{st.get('rows', 0):,} rows ({counts})")
        body = [[r.name, _num(r.wall), _num(r.cpu), _num(r.peak_mib, ".0f"), r.note]
                for r in res.rows.values()]
        parts.append(table(["measurement", "wall s", "cpu s", "peak MiB", "notes"], body,
                           markdown, right=(1, 2, 3)))
    parts.append(f"{h}ratios")
    parts.append(table(["ratio", "scale", "value", "target", "verdict"], ratio_rows(results),
                       markdown, right=(2,)))
    parts.append("Each row is one fresh process: wall time around it, peak RSS from wait4(). "
                 "ovsdb-server rows: load = --detach start until ready, RSS read from /proc.")
    return "\n\n".join(parts)


def main(argv: Optional[list[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0].startswith("_child-"):
        return run_child(argv)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--db", type=Path, help="benchmark this NB file instead of generating one")
    src.add_argument("--scale", type=float, default=1.0, help="generate at this scale (default 1)")
    src.add_argument("--scales", help="comma-separated scales, e.g. 1,4 (linearity)")
    ap.add_argument("--records", type=int, default=1, help="transaction records when generating")
    ap.add_argument("--with-ovsdbapp", action="store_true",
                    help="also measure the full ovsdbapp sync (~95 s, ~1 GB at scale 1)")
    ap.add_argument("--no-server", action="store_true", help="skip the ovsdb-server rows")
    ap.add_argument("--timeout", type=float, default=900, help="per measurement, seconds")
    ap.add_argument("--repeat", type=int, default=3,
                    help="run the file measurements this many times, best wall time counts")
    ap.add_argument("--python", default=sys.executable, help="interpreter for the children")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables")
    ap.add_argument("--json", type=Path, help="also write the raw results as JSON here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--history-routers", type=int, default=200,
                    help="routers of the long log for timeline (0: skip it)")
    args = ap.parse_args(argv)
    if args.db is not None and not args.db.is_file():
        print(f"bench: {args.db}: not a file", file=sys.stderr)
        return 2
    try:
        scales = [float(s) for s in args.scales.split(",")] if args.scales else [args.scale]
    except ValueError:
        print(f"bench: bad --scales {args.scales!r}", file=sys.stderr)
        return 2

    # SIGTERM/SIGHUP unwind like Ctrl-C, so children are killed and servers stopped.
    def _raise(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise)

    load_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="ovninspect-bench-"))
    results: list[ScaleResult] = []
    try:
        bench = Bench(args, work)
        jobs: list[Optional[float]] = [None] if args.db else list(scales)
        for scale in jobs:
            gen_row = None
            if scale is None:
                db = args.db.resolve()
            else:
                print(f"generating scale {scale:g} ...", file=sys.stderr, flush=True)
                db, gen_row = bench.generate(scale)
            res = ScaleResult(label="given" if scale is None else f"x{scale:g}",
                              db=str(db if scale is None else db.name), size=db.stat().st_size)
            if gen_row:
                res.add(gen_row)
            bench.file(res, db)
            if not args.no_server:
                bench.served(res, db)
            results.append(res)
            if scale is not None and not args.keep:
                db.unlink()
        if args.history_routers:
            print(f"writing a long log of {args.history_routers} routers ...", file=sys.stderr,
                  flush=True)
            results.append(bench.history(args.history_routers))
    except RuntimeError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(report(results, args.markdown, load_start))
    if args.json:
        args.json.write_text(json.dumps(
            {"machine": dict(machine_facts(load_start)),
             "results": [{**asdict(r), "rows": [asdict(x) for x in r.rows.values()]} for r in results],
             "ratios": ratio_rows(results)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
