#!/usr/bin/env python3
"""Benchmark ovninspect against the raw-parse floor, on the file forms servers write.

    python3 scripts/bench.py --make-forms DIR [--scale F]       # build the forms, then stop
    python3 scripts/bench.py [--forms-dir DIR | --db FILE] [--scale F] [--scales 1,10]
        [--forms a,b] [--commands x,y] [--repeat N] [--no-server] [--no-ovsdbapp]
        [--ovninspect CMD] [--pythonpath P] [--markdown] [--json OUT] [--keep]

Forms (scripts/bench_forms.py builds them from one scripts/gen_snapshot.py database):
``compacted`` (``ovsdb-tool compact``: the server's hash order), ``gzip`` (of that),
``clustered`` (``ovsdb-tool create-cluster``), ``clustered-entries`` (plus thousands of raft
entries from a clustered ovsdb-server) and ``log`` (a standalone log written by
ovsdb-server: thousands of small transactions, then updates and deletes).  Without
``--forms-dir`` or ``--db`` they are built at ``--scale`` into a temporary directory.

Every measurement is one fresh child process; CPU time (user + sys) and peak RSS come from
``wait4()`` on it, wall time is taken around it.  On every form each command runs
``--repeat`` times (default 5) in turns with the floor (floor, command, floor, command, ...)
and the medians count; the ratio to the floor's median CPU time is the primary figure.
The floor reads the file as ovninspect's cheapest possible read would: split the records,
check length and SHA-1, ``json.loads`` every record body (gzip: decompressed on the fly),
the cyclic GC paused, and it exits the way ovninspect does, with ``os._exit`` and the
parsed tree still alive.  The parent stays small on purpose: Linux carries the parent's
high-water RSS into a child's ``ru_maxrss`` across fork+exec.

Targets (issue #16), each printed with a verdict: every command <= 2.0x the floor in CPU
time and <= 1.2x its peak memory on every form (``diff`` reads two files: its floor is
the sum of both floors); with ``--scales``, per-row CPU time at the largest scale <= 1.25x
that at the smallest (growth is linear; generated router-ordered files); live ``nat --db
unix:`` no slower than ``ovn-nbctl --format=json list NAT`` on the same server (wall time,
and CPU time of client + server) and >= 15x faster than a full ovsdbapp sync; start-up
(``--help``, ``nat`` on the small #5050 fixture) <= 0.15 s wall.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
GEN = REPO / "scripts" / "gen_snapshot.py"
SMALL_FIXTURE = REPO / "fixtures" / "kubeovn-5050" / "nb.db"

#: form name -> file name, in the order forms are measured and shown
FORMS = {"compacted": "compacted.db", "gzip": "compacted.db.gz", "clustered": "clustered.db",
         "clustered-entries": "clustered-entries.db", "log": "log.db"}
HISTORY_FORMS = ("clustered-entries", "log")
#: command key -> label; the arguments are built in Bench.command_args
COMMANDS = {"nat": "nat", "check": "check", "gateways": "gateways",
            "failover": "failover-sim --down <gw>", "sweep": "failover-sim --sweep",
            "info": "info", "diff": "diff --against <other form>", "timeline": "timeline"}
#: exit codes that mean success (check: 1 = an error-severity finding remains)
OK_RC = {"check": (0, 1)}
SCALE_COMMANDS = ("nat", "check", "gateways", "failover", "sweep", "info")

TIME_TARGET = 2.0       # command CPU / floor CPU, every form
MEM_TARGET = 1.2        # command peak RSS / floor peak RSS, every form
LINEAR_TARGET = 1.25    # per-row CPU, largest / smallest scale
LIVE_NBCTL_TARGET = 1.0  # live nat / ovn-nbctl list NAT (wall; CPU of client + server)
LIVE_FULL_TARGET = 15.0  # full ovsdbapp sync / live nat (wall)
STARTUP_TARGET = 0.15   # seconds wall, median
OK, MISS = "✓", "✗"


# --------------------------------------------------------------------------------------
# Children: each is run as ``python3 bench.py _child-<name> ...`` and prints one JSON line.
# --------------------------------------------------------------------------------------

def _read_records(path: str, loads: Callable[[bytes], Any]) -> list:
    """Split records, check length and SHA-1, parse each body (docs/ovn-semantics.md §5.1);
    a ``.gz`` file is decompressed on the fly."""
    import hashlib

    if path.endswith(".gz"):
        import gzip

        opener: Callable[..., Any] = gzip.open
    else:
        opener = open
    records = []
    with opener(path, "rb") as f:
        while header := f.readline():
            parts = header.split()
            if len(parts) != 4 or parts[0] != b"OVSDB":
                raise ValueError(f"bad record header at record {len(records)}")
            body = f.read(int(parts[2]))
            if len(body) != int(parts[2]) or hashlib.sha1(body).hexdigest().encode() != parts[3]:
                raise ValueError(f"bad length or SHA-1 at record {len(records)}")
            records.append(loads(body))
    return records


def child_floor(path: str) -> None:
    """The raw-parse floor: split + SHA-1 + json.loads of every record, GC paused; then
    leave as ovninspect does (os._exit, the parsed tree never freed)."""
    import gc

    gc.disable()
    t0 = time.perf_counter()
    records = _read_records(path, json.loads)
    print(json.dumps({"parse_s": time.perf_counter() - t0, "records": len(records)}),
          flush=True)
    os._exit(0)


def child_stats(path: str) -> dict:
    """Rows per table after replaying the file, and the busiest gateway chassis."""
    import gc
    from collections import Counter

    gc.disable()
    live: dict[str, dict[str, dict]] = {}
    records = _read_records(path, json.loads)
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
            "clustered": clustered, "chassis": chassis.most_common(1)[0][0] if chassis else None}


def child_ovsdbapp(remote: str, timeout: float) -> dict:
    """ovsdbapp connect + initial sync of every table."""
    from ovsdbapp.backend.ovs_idl import connection, idlutils

    t0 = time.perf_counter()
    helper = idlutils.get_schema_helper(remote, "OVN_Northbound")
    helper.register_all()
    idl = connection.OvsdbIdl(remote, helper)
    conn = connection.Connection(idl, timeout)
    conn.start()          # returns once the initial monitor dump is in the IDL
    sync_s = time.perf_counter() - t0
    rows = {name: len(t.rows) for name, t in idl.tables.items()}
    conn.stop(timeout=10)
    return {"sync_s": sync_s, "rows": sum(rows.values()), "nat": rows.get("NAT")}


def run_child(argv: list[str]) -> int:
    """Entry point of the ``_child-*`` modes."""
    mode, args = argv[0], argv[1:]
    if mode == "_child-floor":
        child_floor(args[0])
    if mode == "_child-stats":
        out = child_stats(args[0])
    elif mode == "_child-ovsdbapp":
        out = child_ovsdbapp(args[0], float(args[1]) if len(args) > 1 else 600)
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
                                cwd=workdir, env=env, start_new_session=True)
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




def median(values: Sequence[float]) -> Optional[float]:
    return statistics.median(values) if values else None


@dataclass
class Stat:
    """Repeated runs of one measurement; medians over them (None if any run failed)."""

    runs: list[Proc] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(p.ok for p in self.runs)

    def _med(self, attr: str) -> Optional[float]:
        return median([getattr(p, attr) for p in self.runs]) if self.ok else None

    @property
    def cpu(self) -> Optional[float]:
        return self._med("cpu")

    @property
    def wall(self) -> Optional[float]:
        return self._med("wall")

    @property
    def peak(self) -> Optional[float]:
        return self._med("peak_mib")

    def why(self) -> str:
        bad = [p for p in self.runs if not p.ok]
        return bad[0].why() if bad else "not run"

    def raw(self) -> dict:
        return {"cpu": [p.cpu for p in self.runs], "wall": [p.wall for p in self.runs],
                "peak_mib": [p.peak_mib for p in self.runs],
                "rc": [p.rc for p in self.runs], "error": None if self.ok else self.why()}


@dataclass
class Form:
    """One file to measure, what it holds, and the file ``diff`` compares it with."""

    name: str
    path: Path
    stats: dict
    against: Optional[Path] = None
    history: bool = False


@dataclass
class FormResult:
    """The floor and every command on one form."""

    form: Form
    floor: Stat = field(default_factory=Stat)
    floor_against: Stat = field(default_factory=Stat)
    cmds: dict[str, Stat] = field(default_factory=dict)

    def floor_of(self, key: str, attr: str) -> Optional[float]:
        """The floor a command is held to: diff reads two files, so both floors."""
        one = getattr(self.floor, attr)
        if key != "diff" or one is None:
            return one
        other = getattr(self.floor_against, attr)
        return None if other is None else one + other

    def ratio(self, key: str, attr: str) -> Optional[float]:
        stat = self.cmds.get(key)
        value = getattr(stat, attr) if stat else None
        base = self.floor_of(key, attr)
        return value / base if value is not None and base else None


def _proc_cpu(pid: int) -> float:
    """utime + stime of a running process, seconds (0 if unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _proc_mib(pid: int, key: str) -> float:
    """VmRSS/VmHWM of a running process in MiB (0 if unreadable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class LiveResult:
    """ovsdb-server serving one file: load, nbctl vs ovninspect nat, ovsdbapp full sync."""

    db: str
    load_s: Optional[float] = None
    server_mib: float = 0.0
    nbctl: Stat = field(default_factory=Stat)
    nat: Stat = field(default_factory=Stat)
    server_cpu: dict[str, list[float]] = field(default_factory=dict)
    full: Stat = field(default_factory=Stat)
    error: str = ""

    def total_cpu(self, key: str) -> Optional[float]:
        """Median of client CPU + the server's CPU during the same run."""
        stat: Stat = getattr(self, key)
        server = self.server_cpu.get(key, [])
        if not stat.ok or len(server) != len(stat.runs):
            return None
        return median([p.cpu + s for p, s in zip(stat.runs, server)])


class Bench:
    """Runs every measurement; ovninspect is ``--ovninspect`` (default: ``python -m
    ovninspect`` from this checkout, or from ``--pythonpath``)."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.py = args.python
        self.env = dict(os.environ)
        self.ovni_env = dict(os.environ)
        # as installed ovninspect runs: from cached bytecode (an inherited
        # PYTHONDONTWRITEBYTECODE would make every start-up compile every module)
        self.ovni_env.pop("PYTHONDONTWRITEBYTECODE", None)
        if args.ovninspect:
            self.ovni = shlex.split(args.ovninspect)
        else:
            self.ovni = [self.py, "-m", "ovninspect"]
        path = args.pythonpath or (None if args.ovninspect else str(REPO))
        if path:
            self.ovni_env["PYTHONPATH"] = path
        work.mkdir(parents=True, exist_ok=True)
        self.tested_at_start = tested_code(self)

    def run(self, cmd: Sequence[str], env: Optional[dict[str, str]] = None,
            stdout_to: Optional[Path] = None) -> Proc:
        return measure(cmd, timeout=self.args.timeout, workdir=self.work,
                       stdout_to=stdout_to, env=env or self.env)

    def child(self, *args: str) -> Proc:
        return self.run([self.py, str(Path(__file__).resolve()), *args])

    def cli(self, *args: str, key: str = "") -> Proc:
        p = self.run([*self.ovni, *args], env=self.ovni_env, stdout_to=Path(os.devnull))
        if p.rc in OK_RC.get(key, ()) and not p.timed_out:
            p.rc = 0
        return p

    def say(self, msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    # -- offline ------------------------------------------------------------------------
    def form(self, name: str, path: Path, against: Optional[Path]) -> Form:
        stats = self.child("_child-stats", str(path))
        if not stats.ok:
            raise RuntimeError(f"cannot read {path}: {stats.why()}")
        st = stats.json()
        history = name in HISTORY_FORMS or (name == "given" and st.get("records", 0) > 3)
        return Form(name, path, st, against, history)

    def command_args(self, key: str, form: Form) -> Optional[list[str]]:
        """The ovninspect arguments of command ``key`` on ``form`` (None: not applicable)."""
        db = ["--db", str(form.path), "--format", "json"]
        if key == "failover":
            chassis = form.stats.get("chassis")
            return ["failover-sim", *db, "--down", chassis] if chassis else None
        if key == "sweep":
            return ["failover-sim", *db, "--sweep"]
        if key == "diff":
            return ["diff", *db, "--against", str(form.against)] if form.against else None
        if key == "timeline":
            return ["timeline", *db] if form.history else None
        return [key, *db]

    def measure_form(self, form: Form, commands: Sequence[str]) -> FormResult:
        """Each command ``--repeat`` times, every run right after a floor run."""
        res = FormResult(form)
        todo = {k: a for k in commands if (a := self.command_args(k, form)) is not None}
        for i in range(max(1, self.args.repeat)):
            for key, argv in todo.items():
                res.floor.runs.append(self.child("_child-floor", str(form.path)))
                if key == "diff" and form.against:
                    res.floor_against.runs.append(self.child("_child-floor", str(form.against)))
                p = self.cli(*argv, key=key)
                res.cmds.setdefault(key, Stat()).runs.append(p)
                note = "" if p.ok else f" FAILED {p.why()}"
                self.say(f"  [{form.name} {i + 1}/{self.args.repeat}] {key}: {p.cpu:.2f} s cpu "
                         f"{p.wall:.2f} s wall {p.peak_mib:.0f} MiB; floor "
                         f"{res.floor.runs[-1].cpu:.2f} s{note}")
        return res

    # -- live ---------------------------------------------------------------------------
    def live(self, db: Path) -> LiveResult:
        """ovsdb-server on a copy of ``db``: ``ovn-nbctl list NAT`` and ``ovninspect nat
        --db unix:`` in turns, then one full ovsdbapp sync."""
        if str(REPO) not in sys.path:
            sys.path.insert(0, str(REPO))
        from tests.ovnlab import LabError, OvnLab

        res = LiveResult(db.name)
        with OvnLab(root=self.work / "lab-live") as lab:
            if db.suffix == ".gz":
                raise RuntimeError("serve an uncompressed file")
            shutil.copyfile(db, lab.nb_db)
            t0 = time.perf_counter()
            try:
                lab.start_nb()            # --detach returns once the db is loaded
            except (LabError, subprocess.SubprocessError) as e:
                res.error = str(e).splitlines()[0][:120]
                return res
            res.load_s = time.perf_counter() - t0
            pid = int(lab.path("nb.pid").read_text())
            res.server_mib = _proc_mib(pid, "VmRSS")
            timeout = str(max(1, round(self.args.timeout)))
            runs: dict[str, Callable[[], Proc]] = {
                "nbctl": lambda: self.run(["ovn-nbctl", f"--db={lab.nb_remote}",
                                           f"--timeout={timeout}", "--format=json", "list",
                                           "NAT"], stdout_to=Path(os.devnull)),
                "nat": lambda: self.cli("nat", "--db", lab.nb_remote, "--format", "json"),
            }
            for i in range(max(1, self.args.repeat)):
                for key, run in runs.items():
                    before = _proc_cpu(pid)
                    p = run()
                    getattr(res, key).runs.append(p)
                    res.server_cpu.setdefault(key, []).append(_proc_cpu(pid) - before)
                    self.say(f"  [live {i + 1}/{self.args.repeat}] {key}: {p.wall:.2f} s wall, "
                             f"{p.cpu:.2f} s cpu + server {res.server_cpu[key][-1]:.2f} s"
                             + ("" if p.ok else f" FAILED {p.why()}"))
            if not self.args.no_ovsdbapp:
                self.say("  [live] ovsdbapp full sync (about 100 s) ...")
                res.full.runs.append(self.child("_child-ovsdbapp", lab.nb_remote,
                                                str(self.args.timeout)))
        return res

    # -- start-up ---------------------------------------------------------------------------
    def startup(self) -> dict[str, Stat]:
        """``--help`` and ``nat`` on the small #5050 fixture, in turns."""
        out: dict[str, Stat] = {"--help": Stat(), "nat --db <#5050 fixture>": Stat()}
        self.cli("nat", "--db", str(SMALL_FIXTURE), "--format", "json")  # bytecode cached
        for _ in range(max(5, self.args.repeat)):
            out["--help"].runs.append(self.cli("--help"))
            out["nat --db <#5050 fixture>"].runs.append(
                self.cli("nat", "--db", str(SMALL_FIXTURE), "--format", "json"))
        return out

    # -- growth -----------------------------------------------------------------------------
    def scale_runs(self, scales: Sequence[float], commands: Sequence[str]) -> list[FormResult]:
        """Router-ordered generated files (scripts/gen_snapshot.py) at each scale."""
        out = []
        for scale in scales:
            db = self.work / f"gen-x{scale:g}.db"
            self.say(f"generating scale {scale:g} ...")
            p = self.run([self.py, str(GEN), str(db), "--scale", f"{scale:g}", "--quiet"])
            if not p.ok:
                raise RuntimeError(f"gen_snapshot.py failed: {p.why()}")
            form = self.form(f"x{scale:g}", db, None)
            out.append(self.measure_form(form, [c for c in commands if c in SCALE_COMMANDS]))
            if not self.args.keep:
                db.unlink()
        return out


# --------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------

def _git_rev(path: Path) -> str:
    try:
        rev = subprocess.run(["git", "-C", str(path), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(path), "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return f"git {rev}{' (dirty)' if dirty else ''}" if rev else "?"


def _first_line(bench: Bench, cmd: list[str]) -> str:
    """The first line ``cmd`` prints, run as the ovninspect under test is."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                             env=bench.ovni_env, cwd=bench.work).stdout
        return out.splitlines()[0].strip() if out else "?"
    except (OSError, subprocess.SubprocessError):
        return "n/a"


def tested_code(bench: Bench) -> str:
    """Where the ovninspect under test is imported from, and its git revision."""
    where = _first_line(bench, [_interpreter(bench.ovni), "-c",
                                "import ovninspect; print(ovninspect.__file__)"])
    if not where.endswith(".py"):
        return "?"
    folder = Path(where).parents[1]
    return f"{folder} {_git_rev(folder)}"


def machine_facts(bench: Bench, load_start: Optional[tuple[float, ...]] = None
                  ) -> list[tuple[str, str]]:
    """Date, nproc, CPU, memory, load, Python, tools, packages, the code under test."""
    def first_line(cmd: list[str]) -> str:
        return _first_line(bench, cmd)

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

    tested = tested_code(bench)
    if tested != bench.tested_at_start:
        tested = f"CHANGED DURING THE RUN: {bench.tested_at_start} at the start, {tested} at the end"
    return [
        ("date", datetime.now(timezone.utc).isoformat(timespec="seconds")),
        ("nproc", str(len(os.sched_getaffinity(0)))),
        ("cpu", cpu),
        ("memory", mem),
        ("kernel", platform.release()),
        ("load average", (f"start {_loads(load_start)}, " if load_start else "")
         + f"end {_loads(os.getloadavg())} (1/5/15 min)"),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("ovsdb-server", first_line(["ovsdb-server", "--version"])),
        ("ovn-nbctl", first_line(["ovn-nbctl", "--version"])),
        ("packages", ", ".join(f"{p} {version(p)}" for p in ("ovsdbapp", "ovs", "orjson"))),
        ("ovninspect under test", " ".join(bench.ovni)
         + (f" (PYTHONPATH={bench.ovni_env['PYTHONPATH']})" if "PYTHONPATH" in bench.ovni_env
            and bench.ovni_env.get("PYTHONPATH") != os.environ.get("PYTHONPATH") else "")
         + f", {tested}"),
        ("ovninspect version", first_line([*bench.ovni, "--version"])),
        ("bench.py", _git_rev(REPO)),
        ("runs", f"{bench.args.repeat} per command per form, each after a floor run; medians"),
    ]


def _interpreter(cmd: Sequence[str]) -> str:
    """The Python that runs ``cmd``: itself, or the one its script's ``#!`` names."""
    try:
        with open(shutil.which(cmd[0]) or cmd[0], "rb") as f:
            first = f.readline(200)
    except OSError:
        return cmd[0]
    if first.startswith(b"#!") and b"python" in first:
        return first[2:].decode(errors="replace").split()[0]
    return cmd[0]


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


def verdict(value: Optional[float], target: float, at_most: bool = True) -> str:
    if value is None:
        return "n/a"
    return OK if (value <= target if at_most else value >= target) else MISS


@dataclass
class Targets:
    """Every verdict printed, for the summary: name -> (worst value, target, verdict)."""

    found: dict[str, list[tuple[Optional[float], str]]] = field(default_factory=dict)

    def add(self, name: str, value: Optional[float], mark: str) -> None:
        self.found.setdefault(name, []).append((value, mark))

    def rows(self) -> list[list[str]]:
        out = []
        for name, items in self.found.items():
            marks = [m for _, m in items]
            overall = MISS if MISS in marks else ("n/a" if "n/a" in marks else OK)
            misses = sum(m == MISS for m in marks)
            out.append([name, f"{len(items) - misses - marks.count('n/a')} of {len(items)}",
                        overall])
        return out


def matrix(results: list[FormResult], attr: str, target: Optional[float], targets: Targets,
           tname: str) -> list[list[str]]:
    """Command x form cells of ratio to the floor, with a verdict when there is a target."""
    rows = []
    for key, label in COMMANDS.items():
        cells = []
        seen = False
        for res in results:
            if key not in res.cmds:
                cells.append("–")
                continue
            seen = True
            stat = res.cmds[key]
            if not stat.ok:
                cells.append(f"fail: {stat.why()[:40]}")
                if target is not None:
                    targets.add(tname, None, MISS)
                continue
            r = res.ratio(key, attr)
            if target is None:
                cells.append(f"{_num(r)}×")
            else:
                mark = verdict(r, target)
                targets.add(tname, r, mark)
                cells.append(f"{_num(r)}× {mark}")
        if seen:
            rows.append([label, *cells])
    return rows


def absolute(results: list[FormResult]) -> list[list[str]]:
    """Medians: CPU s / wall s / peak MiB, floor first."""
    def cell(stat: Optional[Stat]) -> str:
        if stat is None:
            return "–"
        if not stat.ok:
            return "fail"
        return f"{stat.cpu:.2f} / {stat.wall:.2f} / {stat.peak:.0f}"

    rows = [["floor", *(cell(r.floor) for r in results)]]
    if any(r.floor_against.runs for r in results):
        rows.append(["floor of the diff's other file",
                     *(cell(r.floor_against) if r.floor_against.runs else "–" for r in results)])
    for key, label in COMMANDS.items():
        if any(key in r.cmds for r in results):
            rows.append([label, *(cell(r.cmds.get(key)) for r in results)])
    return rows


def forms_table(results: list[FormResult]) -> list[list[str]]:
    rows = []
    for res in results:
        f, st = res.form, res.form.stats
        rows.append([f.name, str(f.path), f"{f.path.stat().st_size / 1e6:.1f}",
                     str(st.get("records")), f"{st.get('rows', 0):,}",
                     f"{st.get('tables', {}).get('NAT', 0):,}",
                     f.against.name if f.against else "–", str(f.stats.get("chassis"))])
    return rows


def live_rows(live: LiveResult, targets: Targets) -> tuple[list[list[str]], list[list[str]]]:
    """The live measurements and their ratios (with verdicts)."""
    meas = [["ovsdb-server load (--detach until ready)", _num(live.load_s), "", "", "",
             f"server RSS {live.server_mib:.0f}"]]
    for key, name in (("nbctl", "ovn-nbctl --format=json list NAT"),
                      ("nat", "ovninspect nat --db unix:<sock> --format json")):
        stat: Stat = getattr(live, key)
        srv = median(live.server_cpu.get(key, []))
        meas.append([name, _num(stat.wall), _num(stat.cpu), _num(srv), _num(live.total_cpu(key)),
                     _num(stat.peak, ".0f") if stat.ok else f"fail: {stat.why()[:60]}"])
    meas.append(["ovsdbapp connect + full sync, all tables", _num(live.full.wall),
                 _num(live.full.cpu), "", "",
                 _num(live.full.peak, ".0f") if live.full.ok else
                 ("skipped (--no-ovsdbapp)" if not live.full.runs else f"fail: {live.full.why()}")])

    def div(a: Optional[float], b: Optional[float]) -> Optional[float]:
        return a / b if a is not None and b else None

    ratios = []
    for name, value, target, at_most in (
            ("live nat / ovn-nbctl list NAT, wall", div(live.nat.wall, live.nbctl.wall),
             LIVE_NBCTL_TARGET, True),
            ("live nat / ovn-nbctl list NAT, CPU (client + server)",
             div(live.total_cpu("nat"), live.total_cpu("nbctl")), LIVE_NBCTL_TARGET, True),
            ("full ovsdbapp sync / live nat, wall", div(live.full.wall, live.nat.wall),
             LIVE_FULL_TARGET, False)):
        mark = verdict(value, target, at_most)
        targets.add(name, value, mark)
        ratios.append([name, f"{_num(value)}×", f"{'<=' if at_most else '>='} {target:g}×", mark])
    return meas, ratios


def linear_rows(scaled: list[FormResult], targets: Targets) -> list[list[str]]:
    """Per-row CPU time at the largest scale / at the smallest."""
    lo = min(scaled, key=lambda r: r.form.stats.get("rows", 0))
    hi = max(scaled, key=lambda r: r.form.stats.get("rows", 0))
    rows = []
    for key in ("floor", *(k for k in SCALE_COMMANDS if k in hi.cmds and k in lo.cmds)):
        a = hi.floor if key == "floor" else hi.cmds.get(key)
        b = lo.floor if key == "floor" else lo.cmds.get(key)
        per = [s.cpu / r.form.stats["rows"] if s and s.cpu is not None else None
               for s, r in ((a, hi), (b, lo))]
        value = per[0] / per[1] if per[0] is not None and per[1] else None
        mark = verdict(value, LINEAR_TARGET)
        if key != "floor":
            targets.add(f"linear growth (per-row CPU, {hi.form.name} / {lo.form.name}) "
                        f"<= {LINEAR_TARGET:g}", value, mark)
        rows.append([COMMANDS.get(key, key), f"{_num(a.cpu if a else None)}",
                     f"{_num(b.cpu if b else None)}", f"{_num(value)}×",
                     mark if key != "floor" else "(floor)"])
    return rows


def report(bench: Bench, results: list[FormResult], scaled: list[FormResult],
           live: Optional[LiveResult], startup: dict[str, Stat], markdown: bool,
           load_start: tuple[float, ...], elapsed: float) -> str:
    h = "### " if markdown else "== "
    targets = Targets()
    parts = [f"{h}ovninspect benchmark (issue #16)",
             table(["fact", "value"], [*machine_facts(bench, load_start),
                                       ("run took", f"{elapsed / 60:.1f} min")], markdown)]
    if results:
        names = [r.form.name for r in results]
        parts += [f"{h}forms", table(["form", "file", "MB", "records", "rows", "NAT", "diff against",
                                      "failover --down"], forms_table(results), markdown,
                                     right=(2, 3, 4, 5))]
        parts += [f"{h}CPU time / floor CPU time (medians; target <= {TIME_TARGET:g}×)",
                  table(["command", *names],
                        matrix(results, "cpu", TIME_TARGET, targets,
                               f"every command <= {TIME_TARGET:g}× the floor, CPU"),
                        markdown, right=range(1, len(names) + 1))]
        parts += [f"{h}peak RSS / floor peak RSS (medians; target <= {MEM_TARGET:g}×)",
                  table(["command", *names],
                        matrix(results, "peak", MEM_TARGET, targets,
                               f"every command <= {MEM_TARGET:g}× the floor, peak memory"),
                        markdown, right=range(1, len(names) + 1))]
        parts += [f"{h}wall time / floor wall time (medians; information)",
                  table(["command", *names], matrix(results, "wall", None, targets, ""),
                        markdown, right=range(1, len(names) + 1))]
        parts += [f"{h}medians: CPU s / wall s / peak MiB",
                  table(["command", *names], absolute(results), markdown,
                        right=range(1, len(names) + 1))]
    if scaled:
        parts += [f"{h}growth (router-ordered generated files; per-row CPU time)",
                  table(["command", f"CPU s {max(scaled, key=lambda r: r.form.stats['rows']).form.name}",
                         f"CPU s {min(scaled, key=lambda r: r.form.stats['rows']).form.name}",
                         "per-row ratio", "verdict"],
                        linear_rows(scaled, targets) if len(scaled) > 1 else [],
                        markdown, right=(1, 2, 3)),
                  table(["command", *(r.form.name for r in scaled)], absolute(scaled), markdown,
                        right=range(1, len(scaled) + 1))]
    if live is not None:
        parts.append(f"{h}live: ovsdb-server serving {live.db}"
                     + (f" (failed: {live.error})" if live.error else ""))
        meas, ratios = live_rows(live, targets)
        parts += [table(["measurement", "wall s", "client CPU s", "server CPU s", "total CPU s",
                         "peak MiB"], meas, markdown, right=(1, 2, 3, 4)),
                  table(["ratio", "value", "target", "verdict"], ratios, markdown, right=(1,))]
    if startup:
        rows = []
        for name, stat in startup.items():
            mark = verdict(stat.wall, STARTUP_TARGET)
            targets.add(f"start-up <= {STARTUP_TARGET:g} s wall", stat.wall, mark)
            rows.append([f"ovninspect {name}", _num(stat.wall, ".3f"), _num(stat.cpu, ".3f"),
                         f"<= {STARTUP_TARGET:g} s", mark])
        parts += [f"{h}start-up (median of {len(next(iter(startup.values())).runs)})",
                  table(["command", "wall s", "CPU s", "target", "verdict"], rows, markdown,
                        right=(1, 2))]
    parts += [f"{h}targets", table(["target", "cells met", "verdict"], targets.rows(), markdown)]
    parts.append("Every figure is a median of fresh processes: CPU = user + sys from wait4(), "
                 "peak = ru_maxrss; each command run follows a floor run on the same file. "
                 "diff is held to the sum of the floors of both files it reads.")
    return "\n\n".join(parts)


def to_json(bench: Bench, results: list[FormResult], scaled: list[FormResult],
            live: Optional[LiveResult], startup: dict[str, Stat],
            load_start: tuple[float, ...]) -> dict:
    def form(res: FormResult) -> dict:
        return {"form": res.form.name, "path": str(res.form.path), "stats": res.form.stats,
                "against": str(res.form.against) if res.form.against else None,
                "floor": res.floor.raw(), "floor_against": res.floor_against.raw(),
                "commands": {k: {**s.raw(), "cpu_ratio": res.ratio(k, "cpu"),
                                 "wall_ratio": res.ratio(k, "wall"),
                                 "mem_ratio": res.ratio(k, "peak")} for k, s in res.cmds.items()}}

    out: dict[str, Any] = {"machine": dict(machine_facts(bench, load_start)),
                           "forms": [form(r) for r in results],
                           "scales": [form(r) for r in scaled],
                           "startup": {k: s.raw() for k, s in startup.items()}}
    if live is not None:
        out["live"] = {"db": live.db, "load_s": live.load_s, "server_mib": live.server_mib,
                       "error": live.error, "nbctl": live.nbctl.raw(), "nat": live.nat.raw(),
                       "server_cpu": live.server_cpu, "ovsdbapp_full": live.full.raw()}
    return out


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------

def _names(text: Optional[str], known: Sequence[str], what: str) -> list[str]:
    if not text:
        return list(known)
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in known]
    if bad:
        raise ValueError(f"unknown {what} {', '.join(bad)} (known: {', '.join(known)})")
    return names


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--make-forms", type=Path, metavar="DIR",
                     help="build the file forms at --scale into DIR (and write DIR/READY), then stop")
    src.add_argument("--forms-dir", type=Path, metavar="DIR",
                     help="measure the forms already built in DIR (by --make-forms)")
    src.add_argument("--db", type=Path, help="measure this one NB file instead of the forms")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="scale of the forms built when no --forms-dir/--db (default 1)")
    ap.add_argument("--scales", help="also measure growth on generated files at these scales, "
                                     "e.g. 1,10 (slow); alone, only growth is measured")
    ap.add_argument("--forms", help=f"only these forms ({', '.join(FORMS)})")
    ap.add_argument("--commands", help=f"only these commands ({', '.join(COMMANDS)})")
    ap.add_argument("--entries", type=int, default=5000,
                    help="raft entries of clustered-entries.db when building (default 5000)")
    ap.add_argument("--edits", type=int, default=3000,
                    help="updates and deletes at the end of log.db when building (default 3000)")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each command (default 5)")
    ap.add_argument("--no-server", action="store_true", help="skip the live ovsdb-server section")
    ap.add_argument("--no-ovsdbapp", action="store_true",
                    help="skip the full ovsdbapp sync (~100 s, ~1 GB at scale 1)")
    ap.add_argument("--no-startup", action="store_true", help="skip the start-up section")
    ap.add_argument("--with-ovsdbapp", action="store_true", help=argparse.SUPPRESS)  # now default
    ap.add_argument("--ovninspect", metavar="CMD",
                    help="the ovninspect command under test, e.g. /work/main/.venv/bin/ovninspect "
                         "(default: PYTHON -m ovninspect from this checkout)")
    ap.add_argument("--pythonpath", metavar="P",
                    help="PYTHONPATH for the ovninspect under test (e.g. another worktree)")
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter for the floor and helper children")
    ap.add_argument("--timeout", type=float, default=900, help="per measurement, seconds")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables")
    ap.add_argument("--json", type=Path, help="also write the raw results as JSON here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return ap.parse_args(argv)


def build_forms(args: argparse.Namespace, work: Path, out: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_forms import make_forms

    sizes = make_forms(out, work, scale=args.scale, python=args.python, entries=args.entries,
                       edits=args.edits)
    print((out / "READY").read_text().rstrip())
    print(f"{len(sizes)} forms in {out}")


def forms_to_measure(bench: Bench, args: argparse.Namespace, work: Path) -> list[Form]:
    """The forms of --forms-dir (built first when not given), or the one --db file."""
    if args.db is not None:
        copy = work / ("other-" + args.db.name)    # diff: the file against a copy of itself
        shutil.copyfile(args.db, copy)
        return [bench.form("given", args.db.resolve(), copy)]
    if args.scales and args.forms_dir is None:
        return []
    folder = args.forms_dir
    if folder is None:
        folder = work / "forms"
        bench.say(f"building the forms at scale {args.scale:g} (see --make-forms) ...")
        build_forms(args, work, folder)
    wanted = _names(args.forms, list(FORMS), "forms")
    compacted, clustered = folder / FORMS["compacted"], folder / FORMS["clustered"]
    out = []
    for name in wanted:
        path = folder / FORMS[name]
        if not path.is_file():
            raise RuntimeError(f"{path}: missing (build it with --make-forms {folder})")
        against = clustered if name == "compacted" else compacted
        bench.say(f"reading {path} ...")
        out.append(bench.form(name, path.resolve(), against if against.is_file() else None))
    return out


def main(argv: Optional[list[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0].startswith("_child-"):
        return run_child(argv)
    args = parse_args(argv)
    try:
        commands = _names(args.commands, list(COMMANDS), "commands")
        scales = [float(s) for s in args.scales.split(",")] if args.scales else []
        _names(args.forms, list(FORMS), "forms")
    except ValueError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    if args.db is not None and not args.db.is_file():
        print(f"bench: {args.db}: not a file", file=sys.stderr)
        return 2

    # SIGTERM/SIGHUP unwind like Ctrl-C, so children are killed and servers stopped.
    def _raise(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise)

    load_start, t0 = os.getloadavg(), time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="ovninspect-bench-"))
    try:
        if args.make_forms is not None:
            build_forms(args, work, args.make_forms)
            return 0
        bench = Bench(args, work)
        forms = forms_to_measure(bench, args, work)
        results = [bench.measure_form(f, commands) for f in forms]
        scaled = bench.scale_runs(scales, commands) if scales else []
        live = None
        if not args.no_server:
            served = next((f.path for f in forms if f.path.suffix != ".gz"), None)
            if served is None and scales:
                served = work / "live.db"
                bench.run([args.python, str(GEN), str(served), "--scale", f"{scales[0]:g}",
                           "--quiet"])
            if served is not None:
                bench.say(f"live: serving {served} ...")
                live = bench.live(served)
        startup = {} if args.no_startup else bench.startup()
        elapsed = time.monotonic() - t0
        print(report(bench, results, scaled, live, startup, args.markdown, load_start, elapsed))
        if args.json:
            args.json.write_text(json.dumps(
                to_json(bench, results, scaled, live, startup, load_start), indent=2))
    except RuntimeError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
