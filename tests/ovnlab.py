"""A private OVN lab for tests and scripts: real ovsdb-server, ovn-nbctl/sbctl and ovn-northd.

Everything lives in one temporary directory; daemons are started with ``--detach`` and
stopped by the pid in their pidfile (docs/lab-notes.md §2).  Snapshots are always served
from a *copy*, never from the original file (lab-notes pitfall 1).

    with OvnLab() as lab:
        lab.start_nb()                 # empty NB from the installed schema
        lab.nbctl("lr-add", "vpc1")
        lab.start_sb(); lab.start_northd(); lab.sync()
        flows = lab.sbctl_json("list", "Logical_Flow")
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Optional, Sequence

NB_SCHEMA = Path("/usr/share/ovn/ovn-nb.ovsschema")
SB_SCHEMA = Path("/usr/share/ovn/ovn-sb.ovsschema")
TOOLS = ("ovsdb-server", "ovsdb-tool", "ovsdb-client", "ovn-nbctl", "ovn-sbctl", "ovn-northd")


def have_ovn() -> bool:
    """True when every binary the lab needs is on PATH."""
    return all(shutil.which(t) for t in TOOLS)


def _alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie awaiting reaping by PID 1 counts as exited."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


class LabError(RuntimeError):
    """A lab command failed; the message carries its stderr."""


def run(cmd: Sequence[str], timeout: float = 120, check: bool = True, **kw: Any) -> str:
    """Run a command, return stdout; raise LabError with stderr on failure."""
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        raise LabError(f"{' '.join(cmd)} -> rc {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


class OvnLab:
    """NB/SB ovsdb-servers and ovn-northd in a temp dir, stopped by pid on exit."""

    def __init__(self, root: Optional[Path] = None, keep: bool = False) -> None:
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="ovnlab-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.keep = keep
        self._daemons: list[str] = []

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
    def _start_db(self, name: str, schema: Path, db_file: Optional[Path]) -> None:
        db = self.path(f"{name}.db")
        if db_file is not None:
            shutil.copyfile(db_file, db)  # serve a copy: ovsdb-server rewrites its file
        elif not db.exists():
            run(["ovsdb-tool", "create", str(db), str(schema)])
        run([
            "ovsdb-server", str(db),
            f"--remote=punix:{self.path(name + '.sock')}",
            f"--pidfile={self.path(name + '.pid')}",
            f"--unixctl={self.path(name + '.ctl')}",
            f"--log-file={self.path(name + '.log')}",
            "--detach", "--no-chdir",
        ])
        self._daemons.append(name)

    def start_nb(self, db_file: Optional[Path] = None) -> OvnLab:
        """Start the NB server, empty or on a copy of ``db_file``."""
        self._start_db("nb", NB_SCHEMA, db_file)
        return self

    def start_sb(self, db_file: Optional[Path] = None) -> OvnLab:
        """Start the SB server, empty or on a copy of ``db_file``."""
        self._start_db("sb", SB_SCHEMA, db_file)
        return self

    def start_northd(self) -> OvnLab:
        run([
            "ovn-northd", f"--ovnnb-db={self.nb_remote}", f"--ovnsb-db={self.sb_remote}",
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
        return run(["ovn-nbctl", f"--db={self.nb_remote}", f"--timeout={timeout}", *args],
                   timeout=timeout + 10)

    def sbctl(self, *args: str, timeout: int = 60) -> str:
        return run(["ovn-sbctl", f"--db={self.sb_remote}", f"--timeout={timeout}", *args],
                   timeout=timeout + 10)

    def nbctl_json(self, *args: str) -> dict:
        return json.loads(self.nbctl("--format=json", *args))

    def sbctl_json(self, *args: str) -> dict:
        return json.loads(self.sbctl("--format=json", *args))

    def client(self, *args: str, timeout: int = 120) -> str:
        """Run ``ovsdb-client`` with the given arguments (remotes must be passed in)."""
        return run(["ovsdb-client", f"--timeout={timeout}", *args], timeout=timeout + 10)

    def dump_json(self, which: str = "nb") -> str:
        """``ovsdb-client dump -f json`` of the NB or SB served by this lab."""
        remote = self.nb_remote if which == "nb" else self.sb_remote
        dbname = "OVN_Northbound" if which == "nb" else "OVN_Southbound"
        return self.client("dump", "-f", "json", remote, dbname)

    def compact(self, which: str = "nb") -> None:
        run(["ovs-appctl", "-t", str(self.path(f"{which}.ctl")), "ovsdb-server/compact"])

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

    # -- teardown ---------------------------------------------------------------------
    def stop(self) -> None:
        """Stop every daemon by its pidfile (northd first), then remove the dir."""
        for name in reversed(self._daemons):
            pidfile = self.path(f"{name}.pid")
            try:
                pid = int(pidfile.read_text().strip())
            except (OSError, ValueError):
                continue
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            for _ in range(250):
                if not _alive(pid):
                    break
                time.sleep(0.02)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self._daemons.clear()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> OvnLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
