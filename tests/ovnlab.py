"""A private OVN lab for tests and scripts: real ovsdb-server, ovn-nbctl/sbctl and ovn-northd.

Everything lives in one temporary directory; daemons are started with ``--detach`` and
stopped by the pid in their pidfile (docs/lab-notes.md §2).  Snapshots are always served
from a *copy*, never from the original file (lab-notes pitfall 1).

    with OvnLab() as lab:
        lab.start_nb()                 # empty NB from the installed schema
        lab.nbctl("lr-add", "vpc1")
        lab.start_sb(); lab.start_northd(); lab.sync()
        flows = lab.sbctl_json("list", "Logical_Flow")

A lab runs one OVN build: the host's binaries on PATH (Debian 12: 23.03) by default, or one
of the releases ``scripts/ovn-versions.sh`` installs in Debian roots (``OvnLab(build=b)``
for ``b`` in :func:`builds`).  Lab directories live under /tmp, which the roots share.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

SCHEMA_DIR = Path(os.environ.get("OVNLAB_SCHEMA_DIR", "/usr/share/ovn"))
NB_SCHEMA = SCHEMA_DIR / "ovn-nb.ovsschema"
SB_SCHEMA = SCHEMA_DIR / "ovn-sb.ovsschema"
TOOLS = ("ovsdb-server", "ovsdb-tool", "ovsdb-client", "ovn-nbctl", "ovn-sbctl", "ovn-northd")
#: Where scripts/ovn-versions.sh keeps its roots and its manifest of ready builds.
VERSIONS_DIR = Path(os.environ.get("OVN_VERSIONS_DIR", "/var/cache/ovninspect/ovn-versions"))


def have_ovn() -> bool:
    """True when every binary the lab needs is on PATH."""
    return all(shutil.which(t) for t in TOOLS)


@dataclass(frozen=True)
class OvnBuild:
    """One OVN release the lab can run: its binaries (a wrapper directory, or PATH) and
    the directory of its NB/SB schemas."""

    release: str                 # as ovn-northd --version prints it, e.g. "25.03.0"
    bin_dir: Optional[Path]      # None: the host's binaries on PATH
    schema_dir: Path

    @property
    def nb_schema(self) -> Path:
        return self.schema_dir / "ovn-nb.ovsschema"

    @property
    def sb_schema(self) -> Path:
        return self.schema_dir / "ovn-sb.ovsschema"

    @property
    def series(self) -> str:
        """``23.03``, ``25.03``, ...: what tests are parametrized by."""
        return ".".join(self.release.split(".")[:2])

    def tool(self, name: str) -> str:
        """The command to run ``name`` of this build (a path, or the bare name on PATH)."""
        if self.bin_dir is None:
            return name
        return str(self.bin_dir / name)

    @property
    def root(self) -> Optional[Path]:
        """The Debian root a wrapped build runs in (``<root>/usr/share/ovn`` holds its
        schemas), or None for the host's."""
        return self.schema_dir.parents[2] if self.bin_dir is not None else None

    def inside(self, path: Path) -> str:
        """``path`` as this build's tools see it: a file of the root loses the root's
        prefix; /tmp is the same on both sides; anything else is not visible."""
        root = self.root
        if root is None:
            return str(path)
        path = Path(path).absolute()
        if path.is_relative_to(root):
            return "/" + str(path.relative_to(root))
        if path.is_relative_to("/tmp"):
            return str(path)
        raise ValueError(f"{path} is not visible to the tools of OVN {self.release} "
                         f"(only {root} and /tmp are)")

    def has(self, name: str) -> bool:
        if self.bin_dir is None:
            return shutil.which(name) is not None
        return os.access(self.bin_dir / name, os.X_OK)


def _tool_release(command: str) -> Optional[str]:
    """The version an OVN tool prints first (``ovn-northd 23.03.1``), or None."""
    try:
        out = subprocess.run([command, "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    first = out.splitlines()[0].split() if out.strip() else []
    return first[-1] if first else None


def _root_ready(schema_dir: Path) -> bool:
    """The Debian root of ``schema_dir`` has the host's /tmp bound at its /tmp (else its
    tools cannot see lab directories: re-run scripts/ovn-versions.sh after a reboot)."""
    root = schema_dir.parents[2]   # <root>/usr/share/ovn
    try:
        return os.path.samefile(root / "tmp", "/tmp")
    except OSError:
        return False


@functools.lru_cache(maxsize=1)
def builds() -> tuple[OvnBuild, ...]:
    """Every OVN build this machine can run: the host's (when installed) first, then the
    ready releases of scripts/ovn-versions.sh.  ``OVNINSPECT_OVN_BUILDS`` limits them:
    ``host``, or a comma list of series such as ``23.03,26.03``."""
    found: list[OvnBuild] = []
    if have_ovn():
        release = _tool_release("ovn-northd")
        if release:
            found.append(OvnBuild(release, None, SCHEMA_DIR))
    manifest = VERSIONS_DIR / "builds.txt"
    if manifest.is_file() and os.geteuid() == 0:
        for line in manifest.read_text().splitlines():
            parts = line.split()
            if len(parts) != 4:
                continue
            _, bin_dir, schema_dir, release = parts
            build = OvnBuild(release, Path(bin_dir), Path(schema_dir))
            if all(build.has(t) for t in TOOLS) and _root_ready(build.schema_dir):
                found.append(build)
    wanted = os.environ.get("OVNINSPECT_OVN_BUILDS", "").strip()
    if wanted == "host":
        found = [b for b in found if b.bin_dir is None]
    elif wanted and wanted != "all":
        series = {w.strip() for w in wanted.split(",")}
        found = [b for b in found if b.series in series]
    return tuple(found)


@functools.lru_cache(maxsize=1)
def host_build() -> OvnBuild:
    """The host's build (binaries on PATH), whatever its release."""
    return OvnBuild(_tool_release("ovn-northd") or "unknown", None, SCHEMA_DIR)


def _alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie awaiting reaping by PID 1 counts as exited."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def stop_pid(pid: int, sig: int = signal.SIGTERM) -> None:
    """Send ``sig`` to ``pid``, wait up to 5 s for it to exit, then SIGKILL it."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    for _ in range(250):
        if not _alive(pid):
            return
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


class LabError(RuntimeError):
    """A lab command failed; the message carries its stderr."""


def run(cmd: Sequence[str], timeout: float = 120, check: bool = True, want_rc: bool = False,
        **kw: Any) -> Any:
    """Run a command, return stdout (or, with ``want_rc``, the exit code); raise LabError
    with stderr on failure."""
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, **kw)
    if want_rc:
        return proc.returncode
    if check and proc.returncode != 0:
        raise LabError(f"{' '.join(cmd)} -> rc {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


class OvnLab:
    """NB/SB ovsdb-servers and ovn-northd in a temp dir, stopped by pid on exit."""

    def __init__(self, root: Optional[Path] = None, keep: bool = False,
                 build: Optional[OvnBuild] = None) -> None:
        self.build = build or host_build()
        # under /tmp, which the version roots share, whatever TMPDIR says
        self.root = Path(root) if root else Path(tempfile.mkdtemp(
            prefix="ovnlab-", dir="/tmp" if build and build.bin_dir else None))
        self.root.mkdir(parents=True, exist_ok=True)
        self.keep = keep
        self._daemons: list[str] = []

    def tool(self, name: str) -> str:
        """The command that runs ``name`` of this lab's build."""
        return self.build.tool(name)

    # -- paths ------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        return self.root / name

    @property
    def nb_remote(self) -> str:
        return f"unix:{self.path('nb.sock')}"

    @property
    def sb_remote(self) -> str:
        return f"unix:{self.path('sb.sock')}"

    @property
    def nb_db(self) -> Path:
        return self.path("nb.db")

    @property
    def sb_db(self) -> Path:
        return self.path("sb.db")

    # -- servers ----------------------------------------------------------------------
    def _start_db(self, name: str, schema: Path, db_file: Optional[Path],
                  upgrade: bool = False) -> None:
        db = self.path(f"{name}.db")
        if db_file is not None:
            shutil.copyfile(db_file, db)  # serve a copy: ovsdb-server rewrites its file
            # as an upgrade does: the copy gets this build's schema (a no-op when equal)
            tool = self.tool("ovsdb-tool")
            inner = self.build.inside(schema)
            if upgrade and (run([tool, "db-is-standalone", str(db)], check=False, want_rc=True) == 0
                    and run([tool, "db-name", str(db)]).strip()
                    == run([tool, "schema-name", inner]).strip()
                    and run([tool, "needs-conversion", str(db), inner]).strip() == "yes"):
                run([tool, "convert", str(db), inner])
        elif not db.exists():
            run([self.tool("ovsdb-tool"), "create", str(db), self.build.inside(schema)])
        run([
            self.tool("ovsdb-server"), str(db),
            f"--remote=punix:{self.path(name + '.sock')}",
            f"--pidfile={self.path(name + '.pid')}",
            f"--unixctl={self.path(name + '.ctl')}",
            f"--log-file={self.path(name + '.log')}",
            "--detach", "--no-chdir",
        ])
        self._daemons.append(name)

    def start_nb(self, db_file: Optional[Path] = None, upgrade: bool = False) -> OvnLab:
        """Start the NB server, empty or on a copy of ``db_file`` (with ``upgrade``, a
        standalone copy is converted to this build's NB schema first, as an upgrade
        would)."""
        self._start_db("nb", self.build.nb_schema, db_file, upgrade)
        return self

    def start_sb(self, db_file: Optional[Path] = None) -> OvnLab:
        """Start the SB server, empty or on a copy of ``db_file``."""
        self._start_db("sb", self.build.sb_schema, db_file)
        return self

    def start_northd(self) -> OvnLab:
        run([
            self.tool("ovn-northd"), f"--ovnnb-db={self.nb_remote}", f"--ovnsb-db={self.sb_remote}",
            f"--pidfile={self.path('northd.pid')}", f"--unixctl={self.path('northd.ctl')}",
            f"--log-file={self.path('northd.log')}", "--detach", "--no-chdir",
        ])
        self._daemons.append("northd")
        return self

    def sync(self, timeout: int = 120) -> None:
        """Block until northd has processed NB into SB (``--wait=sb sync``)."""
        self.nbctl("--wait=sb", "sync", timeout=timeout)

    # -- clients ----------------------------------------------------------------------
    def nbctl(self, *args: str, timeout: int = 60) -> str:
        return run([self.tool("ovn-nbctl"), f"--db={self.nb_remote}", f"--timeout={timeout}", *args],
                   timeout=timeout + 10)

    def sbctl(self, *args: str, timeout: int = 60) -> str:
        return run([self.tool("ovn-sbctl"), f"--db={self.sb_remote}", f"--timeout={timeout}", *args],
                   timeout=timeout + 10)

    def nbctl_json(self, *args: str) -> dict:
        return json.loads(self.nbctl("--format=json", *args))

    def sbctl_json(self, *args: str) -> dict:
        return json.loads(self.sbctl("--format=json", *args))

    def client(self, *args: str, timeout: int = 120) -> str:
        """Run ``ovsdb-client`` with the given arguments (remotes must be passed in)."""
        return run([self.tool("ovsdb-client"), f"--timeout={timeout}", *args], timeout=timeout + 10)

    def dump_json(self, which: str = "nb") -> str:
        """``ovsdb-client dump -f json`` of the NB or SB served by this lab."""
        remote = self.nb_remote if which == "nb" else self.sb_remote
        dbname = "OVN_Northbound" if which == "nb" else "OVN_Southbound"
        return self.client("dump", "-f", "json", remote, dbname)

    def compact(self, which: str = "nb") -> None:
        run([self.tool("ovs-appctl"), "-t", str(self.path(f"{which}.ctl")),
             "ovsdb-server/compact"])

    # -- building blocks for scenarios ---------------------------------------------------
    def add_switch(self, ls: str, network_name: Optional[str] = None,
                   localnet: Optional[str] = None) -> None:
        """Logical switch ``ls``, with a localnet port (``localnet``, default
        ``localnet.<ls>``) for ``network_name`` when given."""
        self.nbctl("ls-add", ls)
        if network_name:
            ln = localnet or f"localnet.{ls}"
            self.nbctl("lsp-add", ls, ln, "--", "lsp-set-type", ln, "localnet",
                       "--", "lsp-set-addresses", ln, "unknown",
                       "--", "lsp-set-options", ln, f"network_name={network_name}")

    def connect(self, lr: str, ls: str, lrp: str, mac: str, *networks: str,
                peer: Optional[str] = None) -> None:
        """Router port ``lrp`` on ``lr`` plus its router-type peer LSP on ``ls``
        (named ``peer``, default ``<ls>-<lr>``)."""
        self.nbctl("lrp-add", lr, lrp, mac, *networks)
        lsp = peer or f"{ls}-{lr}"
        self.nbctl("lsp-add", ls, lsp, "--", "lsp-set-type", lsp, "router",
                   "--", "lsp-set-addresses", lsp, "router",
                   "--", "lsp-set-options", lsp, f"router-port={lrp}")

    def started(self, name: str) -> bool:
        """True when this lab started daemon ``name`` (nb, sb, northd) and has not
        stopped it: it should be running."""
        return name in self._daemons

    # -- teardown ---------------------------------------------------------------------
    def stop(self) -> None:
        """Stop every daemon by its pidfile (northd first), then remove the dir."""
        for name in reversed(self._daemons):
            pidfile = self.path(f"{name}.pid")
            try:
                pid = int(pidfile.read_text().strip())
            except (OSError, ValueError):
                continue
            stop_pid(pid)
        self._daemons.clear()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> OvnLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
