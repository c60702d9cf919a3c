"""What every command shares: ovn-nbctl-style options, loading, output and error handling."""

from __future__ import annotations

import codecs
import functools
import io
import os
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, TypeVar

from ..answers.model import Answer
from ..errors import InputError, UsageError, escape, input_being_read, reading
from ..ovn_version import parse_release
from ..render import FORMATS, json_chunks, render, table_width
from ..snapshot import SB_NAME, Snapshot
from ..sources import LoadOptions, is_remote, open_snapshot, require
from ..sources.ovsdb_file import OnTxn
from ..topology import NB_LIVE_TABLES, NB_NEEDS, SB_LIVE_TABLES, TOPOLOGY_READS, Topology
from .options import Option

F = TypeVar("F", bound=Callable[..., Any])

DB = Option(None, "--db", envvar="OVN_NB_DB", show_envvar=True, metavar="SOURCE",
            help="NB source: a .db file (standalone or clustered, gzip ok), an "
                 "ovsdb-client backup or dump -f json, an ovn-nbctl --format=json list "
                 "output, a sosreport/must-gather folder, or unix:/tcp:/ssl: remote(s).")
SB = Option(None, "--sb", envvar="OVN_SB_DB", show_envvar=True, metavar="SOURCE",
            help="Optional SB source (same forms): adds port bindings, chassis hostnames "
                 "and bridge mappings.")
FORMAT = Option("table", "--format", "-f", metavar="table|json|csv",
                help="Output format: table for people, json/csv for scripts.")
PRIVATE_KEY = Option(None, "--private-key", "-p", metavar="FILE",
                     help="SSL private key (ssl: remotes), as ovn-nbctl -p.")
CERTIFICATE = Option(None, "--certificate", "-c", metavar="FILE",
                     help="SSL certificate (ssl: remotes), as ovn-nbctl -c.")
CA_CERT = Option(None, "--ca-cert", "-C", metavar="FILE",
                 help="SSL CA certificate (ssl: remotes), as ovn-nbctl -C.")
TIMEOUT = Option(30.0, "--timeout", "-t", metavar="SECS",
                 help="Give up on a live server that sends nothing for this many seconds.")
ALLOW_TRUNCATED = Option(False, "--allow-truncated",
                         help="Read the valid prefix of a file whose tail is truncated or "
                              "corrupt (what ovsdb-server does), with a warning.")
VERIFY = Option(False, "--verify",
                help="Check the whole input as ovsdb-server does before answering: every "
                     "value of every table, references, unique indexes (slower).")
OVN_VERSION = Option(None, "--ovn-version", metavar="X.Y[.Z]",
                     help="Apply this OVN release's rules instead of the one detected "
                          "from NB_Global.options:northd_internal_version or the schema.")
ROUTER = Option(None, "--router", "-r", metavar="ROUTER",
                help="Only this logical router (name or UUID).")
WIDE = Option(False, "--wide", "-w",
              help="Table: show every column.  Tables fit the terminal (long text "
                   "wraps); to a pipe they use $COLUMNS when set, else one line a row.")
AGAINST = Option(None, "--against", metavar="OLD",
                 help="Compare with this older NB (same forms as --db): print only what "
                      "differs, joined on each row's key.")
AGAINST_SB = Option(None, "--against-sb", metavar="OLD_SB",
                    help="The SB that goes with --against (as --sb goes with --db).")
K8S = Option(None, "--k8s", metavar="PATH",
             help="Kubernetes objects (Kube-OVN CRs, Pods, VMs, ConfigMaps) as YAML or "
                  "JSON: kubectl get -o yaml/json output, a must-gather folder, gzip ok. "
                  "Adds the kubeovn-* checks and names the owning CRs.")
FAIL_ON_CHANGE = Option(False, "--fail-on-change",
                        help="With --against: exit 1 when anything changed (CI gates).")


@dataclass
class Inputs:
    """The resolved command-line inputs every command takes."""

    db: Optional[str]
    sb: Optional[str] = None
    fmt: str = "table"
    private_key: Optional[str] = None
    certificate: Optional[str] = None
    ca_cert: Optional[str] = None
    timeout: float = 30.0
    allow_truncated: bool = False
    ovn_version: Optional[str] = None
    verify: bool = False
    messages: list[str] = field(default_factory=list)  # stderr lines held back
    on_txn: Optional[OnTxn] = None  # timeline: called after each transaction of a file
    k8s: Optional[str] = None       # --k8s PATH
    cluster: Any = None             # its k8s.model.Cluster, read once

    def options(self, tables: Optional[dict] = None, read_now: tuple[str, ...] = (),
                lazy: Optional[dict] = None) -> LoadOptions:
        return LoadOptions(self.allow_truncated, self.private_key, self.certificate,
                           self.ca_cert, self.timeout, tables, lazy, verify=self.verify,
                           on_txn=self.on_txn, read_now=read_now)


INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug, never the input's fault


_ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")  # what click strips from output to a non-terminal


def echo(text: str, err: bool = False) -> None:
    """Print ``text`` and a newline as ``typer.echo`` does (flushed; ANSI codes stripped
    unless the stream is a terminal) without importing typer; any stream but a plain
    non-ASCII text stream goes through ``typer.echo`` itself, which may re-wrap it."""
    stream = sys.stderr if err else sys.stdout
    if type(stream) is not io.TextIOWrapper or not stream.errors or _is_ascii(stream.encoding):
        import typer

        typer.echo(text, err=err)
        return
    text += "\n"
    if not stream.isatty():
        text = _ANSI.sub("", text)
    stream.write(text)
    stream.flush()


def _is_ascii(encoding: Optional[str]) -> bool:
    try:
        return codecs.lookup(encoding or "ascii").name == "ascii"
    except LookupError:
        return False


def say(message: str) -> None:
    """One line on stderr, prefixed, with anything that could break the line escaped."""
    echo(f"ovninspect: {escape(message)}", err=True)


def fail(message: str, code: int = 2) -> None:
    """Print one line on stderr and exit (SystemExit: click lets it through, cli.run
    returns its code)."""
    say(message)
    raise SystemExit(code)


def stdout_closed() -> None:
    """The reader of our output went away (``| head``): finish quietly, exit 0.  Further
    writes, and the final flush, go to /dev/null."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def internal_error(exc: BaseException, source: Optional[str]) -> None:
    """The last resort: one line naming the input, the traceback only with
    OVNINSPECT_DEBUG=1, exit 70."""
    if os.environ.get("OVNINSPECT_DEBUG") == "1":
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    text = f"{type(exc).__name__}: {exc}"
    if len(text) > 300:
        text = text[:297] + "..."
    fail(f"internal error while reading {source or 'the input'}: {text}; please report it",
         INTERNAL_ERROR)


def handle_errors(func: F) -> F:
    """Turn input and usage errors into one stderr line and exit code 2; anything else
    into one line and exit code 70 (internal_error)."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (InputError, UsageError) as exc:
            fail(str(exc))
        except BrokenPipeError:
            stdout_closed()
            raise SystemExit(0) from None
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except MemoryError:
            source = input_being_read(kwargs.get("db"))
            fail(f"{source or 'the input'}: not enough memory to read it")
        except Exception as exc:
            if _is_click_control(exc):
                raise
            internal_error(exc, input_being_read(kwargs.get("db")))
    return wrapper  # type: ignore[return-value]


def _is_click_control(exc: Exception) -> bool:
    """typer.Exit, typer.Abort or a TyperException: click handles them (they exist only
    once typer is imported)."""
    typer = sys.modules.get("typer")
    return typer is not None and isinstance(
        exc, (typer.Exit, typer.Abort, typer.exceptions.TyperException))


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return fmt


class Progress:
    """Stage messages on stderr for big loads, only when stderr is a terminal."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label = label
        self.enabled = enabled and sys.stderr.isatty()
        self.start = time.monotonic()

    def stage(self, text: str) -> None:
        if self.enabled:
            sys.stderr.write(f"\r\033[K{self.label}: {text} "
                             f"({time.monotonic() - self.start:.1f} s)")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _size_label(spec: str) -> Optional[str]:
    """A short description of a big input ("43.8 MB", "live"), None for a small one."""
    if is_remote(spec):
        return "live"
    try:
        if os.path.isdir(spec):
            return "folder"
        size = os.stat(spec).st_size
    except OSError:
        return None
    return f"{size / 1e6:.1f} MB" if size > 8 << 20 else None


def load_snapshot(spec: Optional[str], role: str, inputs: Inputs,
                  tables: Optional[dict] = None, show: bool = True,
                  read_now: tuple[str, ...] = (), lazy: Optional[dict] = None) -> Snapshot:
    """Read one source; its warnings (and which file of a folder was used) go to stderr,
    now or (``show=False``) in ``messages`` for the caller to print once every input has
    been read: a failure prints one line only.  ``tables``/``lazy``: what a live read
    fetches (LoadOptions)."""
    if not spec:
        flag, env = ("--db", "OVN_NB_DB") if role == "nb" else ("--sb", "OVN_SB_DB")
        raise UsageError(f"no {role.upper()} source: give {flag} (or set {env})")
    size = _size_label(spec)
    progress = Progress(f"{role.upper()} {spec}", size is not None)
    progress.stage(f"reading and replaying ({size})")
    try:
        with reading(spec):
            snap = open_snapshot(spec, role, inputs.options(tables, read_now, lazy))
    finally:
        progress.done()
    messages = [f"warning: {snap.info.source}: {line}" for line in snap.info.warnings]
    messages += [line for line in snap.info.notes
                 if line.startswith(snap.name + ":")]  # which file of a folder was used
    if show:
        for line in messages:
            say(line)
    else:
        inputs.messages.extend(messages)
    return snap


def check_ovn_version(text: Optional[str]) -> None:
    """``--ovn-version`` must name a release."""
    if text and parse_release(text) is None:
        raise UsageError(f"--ovn-version {text!r} is not like 23.03 or 24.03.6")


def load_topology(inputs: Inputs, reads: tuple[str, ...] = (),
                  lazy: Optional[dict] = None) -> Topology:
    """NB (+ SB) snapshot(s) -> Topology, with notes and warnings shown on stderr;
    ``reads``: NB tables the asker reads whole (parsed once, at open); ``lazy``: the NB
    tables a live read leaves until an analysis reads them."""
    check_ovn_version(inputs.ovn_version)
    nb = load_snapshot(inputs.db, "nb", inputs, NB_LIVE_TABLES, show=False,
                       read_now=TOPOLOGY_READS + reads, lazy=lazy)
    require(nb, NB_NEEDS)
    sb_spec = inputs.sb
    if sb_spec is None and inputs.db and os.path.isdir(inputs.db):
        from ..sources.discover import find_databases

        if find_databases(inputs.db).get(SB_NAME):
            sb_spec = inputs.db  # a sosreport/must-gather folder usually holds the SB too
    sb = load_snapshot(sb_spec, "sb", inputs, SB_LIVE_TABLES, show=False) if sb_spec else None
    if sb is not None:
        require(sb, {"Chassis": ["name"], "Port_Binding": ["logical_port", "chassis"]})
    progress = Progress(f"NB {inputs.db}", _size_label(inputs.db or "") is not None)
    progress.stage("building the topology")
    try:
        topo = Topology(nb, sb, inputs.ovn_version)
    finally:
        progress.done()
    topo.k8s = load_k8s(inputs)
    for line in inputs.messages:
        say(line)
    inputs.messages.clear()
    return topo


def load_k8s(inputs: Inputs) -> Any:
    """The ``--k8s`` objects (read once per command), or None without ``--k8s``."""
    if not inputs.k8s:
        return None
    if inputs.cluster is None:
        from ..k8s.load import load_cluster

        with reading(inputs.k8s):
            inputs.cluster = load_cluster(inputs.k8s)
    return inputs.cluster


def use_color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def emit(answer: Answer, fmt: str, wide: bool = False) -> None:
    """Print the answer; in table mode notes go to stderr after it."""
    if fmt == "json":  # straight to the byte stream: no extra copies of a large document
        sys.stdout.flush()
        for chunk in json_chunks(answer):
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()
        return
    table = fmt == "table"
    echo(render(answer, fmt, wide=wide, color=use_color() and table,
                width=table_width() if table else None))
    if table:
        for note in answer.notes:
            echo(f"note: {escape(note)}", err=True)
