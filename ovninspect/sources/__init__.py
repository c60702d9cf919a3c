"""Sources: turn a file, folder or remote into a Snapshot.

``open_snapshot(spec, role)`` picks the reader from the content (never the file name):
OVSDB standalone or clustered files, ``ovsdb-client backup``, ``dump -f json``,
``--format=json list`` output, gzip of any of them, a sosreport/must-gather folder, or a
live ``unix:``/``tcp:``/``ssl:`` remote.  Files are opened read-only and never changed.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Iterable, Optional, Union

from ..errors import InputError
from ..snapshot import NB_NAME, SB_NAME, Snapshot
from .bounded import GzipError, open_gzip
from .exports import read_export, read_text
from .known_schema import known_schema
from .ovsdb_file import OnTxn, read_ovsdb_file
from .records import gc_paused, magic_of

if TYPE_CHECKING:  # pathlib is ~6 ms of start-up; a file's path is a str until a folder
    from pathlib import Path

ROLES = {"nb": NB_NAME, "sb": SB_NAME}
REMOTE_PREFIXES = ("unix:", "tcp:", "ssl:")


@dataclass
class LoadOptions:
    """How to read a source: truncation policy and live-connection settings."""

    allow_truncated: bool = False
    private_key: Optional[str] = None
    certificate: Optional[str] = None
    ca_cert: Optional[str] = None
    timeout: float = 30.0
    tables: Optional[dict[str, Optional[list[str]]]] = None  # live: what to fetch
    # live: tables read when first used, each with the rows to read up front
    # (sources.live.LazyKey); ignored with ``verify``
    lazy: Optional[dict[str, Optional[tuple[str, str, str]]]] = None
    via: str = "jsonrpc"  # live: "jsonrpc" (fast) or "ovsdbapp" (IDL)
    verify: bool = False  # read and check every row now (not only the cheap checks)
    on_txn: Optional[OnTxn] = None  # history: called after each transaction of a file
    read_now: tuple[str, ...] = ()  # tables the command reads whole: parsed once, at open


def is_remote(spec: str) -> bool:
    return any(part.strip().startswith(REMOTE_PREFIXES) for part in spec.split(","))


def _open(path: Union[str, Path], source: str) -> BinaryIO:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputError(source, "no such file or directory") from None
    except IsADirectoryError:
        raise InputError(source, "is a directory") from None
    except PermissionError:
        raise InputError(source, "cannot read: permission denied") from None
    except OSError as exc:
        raise InputError(source, f"cannot read: {exc.strerror or exc}") from None


def _pick_from_folder(folder: str, db_name: str, source: str) -> tuple[Path, list[str]]:
    from .discover import find_databases

    rejected: dict[str, list[Path]] = {}
    found = find_databases(folder, rejected)
    paths = found.get(db_name, [])
    if not paths and rejected.get(db_name):
        # a file named like one that is damaged at its start: its own error names it
        suspect = rejected[db_name][0]
        read_file(suspect, str(suspect), db_name)
        return suspect, [f"{db_name}: using {suspect}"]
    if not paths:
        other = [str(p) for db, ps in found.items() if db != db_name for p in ps]
        extra = f" (found only {', '.join(other[:3])})" if other else ""
        raise InputError(source, f"folder holds no {db_name} database file{extra}")
    notes = [f"{db_name}: using {paths[0]}"]
    if len(paths) > 1:
        others = ", ".join(str(p) for p in paths[1:4])
        notes.append(f"{db_name}: {len(paths) - 1} other candidate(s) not used: {others}; "
                     "pass one as --db/--sb to choose")
    return paths[0], notes


def read_file(path: Union[str, Path], source: str, expect: Optional[str] = None,
              allow_truncated: bool = False, on_txn: Optional[OnTxn] = None) -> Snapshot:
    """Read any supported file format into a Snapshot.

    OVSDB files are streamed record by record, so only one record body is held in memory
    besides the parsed rows; gzip is decompressed on the fly.
    """
    with gc_paused(), _open(path, source) as raw:
        try:
            return _read_stream(raw, source, expect, allow_truncated, on_txn)
        except GzipError as exc:
            raise InputError(source, str(exc)) from None
        except (OSError, EOFError, zlib.error) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise InputError(source, f"cannot read: {exc.strerror or exc}") from None
            raise InputError(source, f"gzip data is corrupt ({exc or 'truncated'})") from None


def _read_stream(raw: BinaryIO, source: str, expect: Optional[str],
                 allow_truncated: bool, on_txn: Optional[OnTxn] = None) -> Snapshot:
    fh: BinaryIO = raw
    fmt_prefix = ""
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        fh = open_gzip(raw)
        fmt_prefix = "gzip of "
    else:
        raw.seek(0)
    head = fh.read(64)
    fh.seek(0)
    if not head.strip():
        if not head or not fh.read().strip():
            raise InputError(source, "file is empty")
        fh.seek(0)
    magic = magic_of(head)
    if magic:
        snap = read_ovsdb_file(fh, source, allow_truncated, magic, on_txn)
        snap.info.whole_database = True
    elif head.lstrip()[:1] in (b"{", b"["):
        snap = read_export(read_text(fh, source), source, expect)
    elif head.startswith(b"OVSDB "):
        raise InputError(source, "record 0 at byte offset 0: bad record header "
                         f"{head[:40].decode('ascii', 'replace')!r}")
    else:
        raise InputError(source, "not an OVSDB database file, backup or JSON export")
    snap.info.format = fmt_prefix + snap.info.format
    return snap


def open_snapshot(spec: str, role: str = "nb", options: Optional[LoadOptions] = None,
                  label: Optional[str] = None) -> Snapshot:
    """Open ``spec`` (path, folder or remote) as the ``role`` ("nb" or "sb") database."""
    options = options or LoadOptions()
    db_name = ROLES[role]
    source = label or spec
    if is_remote(spec):
        from .live import read_live  # imported lazily: pulls in the ovs stream library
        with gc_paused():
            snap = read_live(spec, db_name, options)
    else:
        path: Union[str, Path] = spec
        notes: list[str] = []
        if os.path.isdir(spec):
            path, notes = _pick_from_folder(spec, db_name, source)
            source = str(path)
        snap = read_file(path, source, db_name, options.allow_truncated, options.on_txn)
        snap.info.notes[:0] = notes
    check_role(snap, role, source)
    _absent_columns(snap, source)
    with gc_paused():
        if options.verify:
            snap.verify()
        else:
            snap.check_pending(options.read_now)
        if snap.info.whole_database and options.on_txn is None:
            snap.check_references()   # exports and live reads may hold some tables only
    return snap


def prepare_history(snap: Snapshot) -> None:
    """Ready a snapshot that is still being replayed (``on_txn``) for a Topology: the
    columns an older schema lacks read as their defaults, as after a whole read."""
    _absent_columns(snap, snap.info.source)


_SINGLE = ("scalar", "optional")


def _compatible(have: Any, want: Any) -> bool:
    """Same atomic types, and both single values or both the same kind of collection."""
    kinds_match = have.kind == want.kind or (have.kind in _SINGLE and want.kind in _SINGLE)
    return kinds_match and have.key == want.key and have.value == want.value


def _absent_columns(snap: Snapshot, source: str) -> None:
    """Columns ovninspect reads that this (older) schema lacks read as their defaults; a
    schema that declares one of them with another type is refused (the analyses could not
    read it)."""
    known = known_schema(snap.name).tables
    for name, table in snap.tables.items():
        if name not in known:
            continue
        for column, want in known[name].columns.items():
            have = table.columns.get(column)
            if have is not None and not _compatible(have, want):
                raise InputError(source, f"{snap.name} schema {snap.version or '?'} declares "
                                 f"{name}.{column} as a {have.kind} of {have.key}"
                                 f"{'/' + have.value if have.value else ''}; ovninspect "
                                 f"reads it as a {want.kind} of {want.key}"
                                 f"{'/' + want.value if want.value else ''}")
        table.absent = {c: t for c, t in known[name].columns.items()
                        if c not in table.columns}


def check_role(snap: Snapshot, role: str, source: str) -> None:
    """Refuse an SB given where an NB is expected, and the reverse."""
    want = ROLES[role]
    if snap.name != want:
        flag = "--db" if role == "nb" else "--sb"
        raise InputError(source, f"is an {snap.name} database; {flag} needs {want}")


def require(snap: Snapshot, needs: dict[str, Iterable[str]]) -> None:
    """Exit-2 error when the snapshot lacks a table or column an analysis needs."""
    for table, columns in needs.items():
        if not snap.has_table(table):
            raise InputError(snap.info.source,
                             f"{snap.name} schema {snap.version or '(unknown version)'} "
                             f"has no {table} table, which this command needs")
        have = snap.tables[table].columns
        missing = [c for c in columns if c not in have]
        if missing:
            raise InputError(snap.info.source,
                             f"{snap.name} schema {snap.version or '(unknown version)'}: "
                             f"table {table} lacks column(s) {', '.join(missing)}, "
                             "which this command needs")
