"""Standalone and clustered (raft) OVSDB files, replayed the way ovsdb-server does.

Standalone (rules 27-28): record 0 is the schema, every later record a transaction;
``null`` deletes, an unknown UUID inserts, a known UUID modifies the listed columns, and
under ``_is_diff`` the composite columns carry diffs (sets toggle, maps add/replace/remove),
except that a column still at its default takes the value as given (ovsdb/file.c).

Clustered (rule 30): record 0 holds ``prev_data = [schema, snapshot txn]``; entries carry
``data = [schema | null, txn | null]``; an entry whose index is at or below the log end
truncates the log there.  Every entry is applied; those past the last recorded
``commit_index`` are counted and reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Optional, Union

from ..errors import InputError
from ..schema import INT64_MAX, INT64_MIN, ColumnType, DatumError, Schema
from ..snapshot import Snapshot, SourceInfo, Table
from ..validate import UUID_MATCH, BadValue, check_rows, short
from .bounded import remaining
from .raft import header_error, record_error
from .records import Record, RecordError, iter_records, loads, magic_of
from .table_parts import Part, TableParts
from .table_slice import TableSlice
from .txn_split import SPECIALS, split_raft_header, split_tables

LAZY_MIN_BYTES = 1 << 20  # records this large are cut into tables parsed on first use,
# and in files this large every transaction's part for a table not read yet is kept for
# the table's first read (table_parts.py)

#: Rows a transaction touched: table -> row UUIDs (None: the table may have changed in
#: any row, e.g. a large record applied by table slices, or a schema change).
Touched = dict[str, Optional[set[str]]]


@dataclass
class TxnEvent:
    """One applied transaction, reported to a history reader (``on_txn``)."""

    snap: Snapshot
    record: int                 # record number in the file
    specials: dict[str, Any]    # _date, _comment, _is_diff of the transaction
    touched: Touched
    base: bool = False          # the database's starting state (compacted, raft prev_data)
    # the columns the transaction wrote in each row it did not delete (when known)
    columns: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)


OnTxn = Callable[[TxnEvent], None]


def touched_by(txn: Any) -> Touched:
    """The rows a (valid) transaction touches."""
    return {t: set(rows) for t, rows in txn.items()
            if t not in SPECIALS and isinstance(rows, dict)}


def columns_by(txn: Any) -> dict[str, dict[str, frozenset[str]]]:
    """The columns a (valid) transaction writes, per row it does not delete."""
    return {t: {u: frozenset(row) for u, row in rows.items() if isinstance(row, dict)}
            for t, rows in txn.items() if t not in SPECIALS and isinstance(rows, dict)}


class TxnError(Exception):
    """A transaction that cannot be applied; the caller adds the record location."""


def _apply_diff(ctype: ColumnType, current: Any, raw_diff: Any) -> Any:
    diff = ctype.decode(raw_diff)
    if ctype.kind == "map":
        merged = dict(current)
        for key, value in diff.items():
            if key in merged and merged[key] == value:
                del merged[key]
            else:
                merged[key] = value
        return merged
    toggled = dict.fromkeys(current)
    for element in diff:
        if element in toggled:
            del toggled[element]
        else:
            toggled[element] = None
    return tuple(toggled)


def _txn_table(snap: Snapshot, tname: str, rows: Any) -> Table:
    table = snap.tables.get(tname)
    if table is None:
        raise TxnError(f"table {tname!r} is not in schema {snap.name} {snap.version}")
    if not isinstance(rows, dict):
        raise TxnError(f"table {tname}: rows are not a JSON object")
    return table


Undo = list[tuple[dict, str, Optional[dict]]]  # (rows, uuid, data before) to roll back


def _apply_rows(table: Table, trows: dict[str, dict], rows: dict, is_diff: bool,
                undo: Optional[Undo] = None, checked: bool = False) -> None:
    """Apply one table's part of a transaction to ``trows`` (rules 27-28), noting in
    ``undo`` how to take it back.  Every value is checked first, as ovsdb-server does
    (OVS 3.1 checks diffs against the column's size rules too), unless ``checked``."""
    tname = table.name
    columns = table.columns
    if not isinstance(rows, dict):
        raise TxnError(f"table {tname}: rows are not a JSON object")
    if not checked:
        check_rows(tname, columns, rows)
    for uuid, row in rows.items():
        if row is None:
            old = trows.pop(uuid, None)
            if old is None:
                raise TxnError(f"deletes {tname} row {uuid}, which does not exist")
            if undo is not None:
                undo.append((trows, uuid, old))
            continue
        current = trows.get(uuid)
        if undo is not None:
            undo.append((trows, uuid, None if current is None else dict(current)))
        if current is None:
            trows[uuid] = row
            continue
        for col, raw in row.items():
            ctype = columns[col]
            if is_diff and ctype.composite and col in current:
                value = ctype.materialize(current[col])
                if value != ctype.default:
                    raw = _apply_diff(ctype, value, raw)
                    size = len(raw)
                    if not ctype.n_min <= size <= ctype.n_max:
                        raise BadValue(tname, uuid, col, f"the diff leaves {size} members, "
                                       f"not {ctype.n_min} to {ctype.n_max}")
            current[col] = raw


def check_specials(txn: dict) -> None:
    """``_date`` must be an integer and ``_is_diff`` a boolean (ovsdb/file.c takes them as
    table names otherwise); ``_comment`` may be anything."""
    date = txn.get("_date")
    if "_date" in txn and not (
            (date.__class__ is int and INT64_MIN <= date <= INT64_MAX)
            or (date.__class__ is float and date.is_integer()
                and INT64_MIN < date < INT64_MAX)):  # a float at 2**63: a too-big integer
        raise TxnError(f"_date is not an integer: {short(date)}")
    if "_is_diff" in txn and txn["_is_diff"].__class__ is not bool:
        raise TxnError(f"_is_diff is not a boolean: {short(txn['_is_diff'])}")


def apply_txn(snap: Snapshot, txn: Any, atomic: bool = False) -> None:
    """Apply one standalone-format transaction to ``snap`` (raise TxnError if invalid).
    ``atomic``: a transaction that fails leaves ``snap`` as it was (as ovsdb-server does;
    only a caller that goes on after the error needs it)."""
    if not isinstance(txn, dict):
        raise TxnError("transaction is not a JSON object")
    check_specials(txn)
    is_diff = txn.get("_is_diff") is True
    undo: Optional[Undo] = [] if atomic else None
    try:
        for tname, rows in txn.items():
            if tname in SPECIALS:
                continue
            table = _txn_table(snap, tname, rows)
            _apply_rows(table, table.rows, rows, is_diff, undo)
    except BaseException:
        for trows, uuid, before in reversed(undo or ()):
            if before is None:
                trows.pop(uuid, None)
            else:
                trows[uuid] = before
        raise


def _apply_error(rec: Record, exc: Exception) -> RecordError:
    if isinstance(exc, BadValue):
        return rec.error(str(exc))
    return rec.error(f"transaction cannot be applied: {exc}")


_APPLY_ERRORS = (TxnError, DatumError, TypeError, ValueError, AttributeError)


def _check_inserts(table: Table, rows: Any, values: bool = True) -> None:
    """What applying ``rows`` to an empty table checks, in bulk: an object of row objects
    (no deletions: nothing exists to delete) under UUID keys, whose columns are all in the
    schema and (``values``) whose values are valid."""
    if not isinstance(rows, dict):
        raise TxnError(f"table {table.name}: rows are not a JSON object")
    if None in rows.values():
        uuid = next(u for u, r in rows.items() if r is None)
        raise TxnError(f"deletes {table.name} row {uuid}, which does not exist")
    check_rows(table.name, table.columns, rows, values=values)


def _deferred_rows(rec: Record, table: Table, raw: bytes) -> TableSlice:
    """The rows of a table slice that only inserts into an empty table."""
    def check(rows: Any, values: bool = True) -> None:
        try:
            _check_inserts(table, rows, values)
        except _APPLY_ERRORS as exc:
            raise _apply_error(rec, exc) from None
    return TableSlice(raw, rec.parse, check, lambda rows: check(rows, False))


def _check_part(table: Table, rows: Any, live: set[str], shape: bool = True) -> None:
    """What replaying ``rows`` onto the rows ``live`` checks, values aside (TableParts);
    the shape checks only with ``shape``."""
    if not isinstance(rows, dict):
        raise TxnError(f"table {table.name}: rows are not a JSON object")
    if shape:
        check_rows(table.name, table.columns, rows, values=False)
    for uuid, row in rows.items():
        if row is not None:
            live.add(uuid)
        elif uuid in live:
            live.discard(uuid)
        else:
            raise TxnError(f"deletes {table.name} row {uuid}, which does not exist")


_BATCH = 4096   # rows checked in one call of check_rows
_KEYS: list[str] = []  # stand-in UUIDs, made as needed (all of them: ~3 ms at each start)


def _stand_in_keys(start: int, stop: int) -> list[str]:
    """Stand-in UUIDs number ``start`` to ``stop - 1``."""
    if len(_KEYS) < stop:
        _KEYS.extend(f"00000000-0000-4000-8000-{n:012x}" for n in range(len(_KEYS), stop))
    return _KEYS[start:stop]


def _rows_ok(table: Table, parts: list[Any], values: bool) -> bool:
    """Whether every part passes ``check_rows``, checked many parts at a time (a row's
    checks only look at that row: the parts' rows go under stand-in UUIDs, their own are
    checked apart); False also when a part is not an object."""
    name, columns = table.name, table.columns
    merged: dict[str, Any] = {}
    try:
        for rows in parts:
            if rows.__class__ is not dict or not all(map(UUID_MATCH, rows)):
                return False
            if len(rows) >= _BATCH:
                check_rows(name, columns, rows, values=values)
                continue
            if len(merged) + len(rows) > _BATCH:
                check_rows(name, columns, merged, values=values)
                merged = {}
            start = len(merged)
            merged.update(zip(_stand_in_keys(start, start + len(rows)), rows.values()))
        check_rows(name, columns, merged, values=values)
    except _APPLY_ERRORS:
        return False
    return True


def _table_parts(table: Table, base: Optional[TableSlice]) -> TableParts:
    """A TableParts replaying onto ``base`` as ``apply_txn`` would, errors located."""
    def apply(rows: dict, rec: Record, part: Any, is_diff: bool, checked: bool) -> None:
        try:
            _apply_rows(table, rows, part, is_diff, checked=checked)
        except _APPLY_ERRORS as exc:
            raise _apply_error(rec, exc) from None

    def check(rec: Record, part: Any, live: set[str], shape: bool) -> None:
        try:
            _check_part(table, part, live, shape)
        except _APPLY_ERRORS as exc:
            raise _apply_error(rec, exc) from None

    def composite(column: str) -> Optional[bool]:
        ctype = table.columns.get(column)
        return None if ctype is None else ctype.composite
    return TableParts(base, apply, check, lambda parts, values: _rows_ok(table, parts, values),
                      composite)


def _defer_part(table: Table, rec: Record, part: Part, is_diff: bool) -> bool:
    """Keep a transaction's part for a table nobody has read yet (False: the table has
    been read, apply the part now)."""
    pending = table.pending
    if table.is_blank():
        pending = _table_parts(table, None)
        table.defer(pending)
    elif pending.__class__ is TableSlice:
        pending = _table_parts(table, pending)  # type: ignore[arg-type]
        table.defer(pending)
    elif pending.__class__ is not TableParts:
        return False
    pending.add(rec, part, is_diff)  # type: ignore[union-attr]
    return True


def apply_record(snap: Snapshot, rec: Record, lazy: bool = True,
                 touched: Optional[Touched] = None,
                 columns: Optional[dict[str, dict[str, frozenset[str]]]] = None,
                 defer: bool = False) -> dict[str, Any]:
    """Apply one transaction record; returns its special keys (``_comment``, ...).

    A large record is cut into table slices (txn_split): a table that is still empty
    takes its slice unparsed and parses it when first read; the others are applied now.
    ``defer`` (a large file): every record is cut, and a table not read yet keeps its
    part for its first read (table_parts.py).  Not ``lazy`` (--allow-truncated: a bad
    record must end the replay at once, leaving nothing of itself), the record is parsed
    and applied whole, atomically.  ``touched`` receives the rows the record changed,
    ``columns`` the columns it wrote (when it was applied whole).
    """
    split = None
    if lazy and rec.raw is not None and (defer or len(rec.raw) >= LAZY_MIN_BYTES):
        split = split_tables(rec.raw, snap.tables, loads)
    if split is None:
        txn = rec.body
        _txn_or_error(snap, txn, rec, atomic=not lazy)
        if touched is not None:
            touched.update(touched_by(txn))
        if columns is not None:
            columns.update(columns_by(txn))
        return {k: v for k, v in txn.items() if k in SPECIALS}
    specials, slices = split
    if touched is not None:
        touched.update((tname, None) for tname, _ in slices)
    _apply_slices(snap, rec, specials, slices, defer)
    return specials


def _apply_slices(snap: Snapshot, rec: Record, specials: dict[str, Any],
                  slices: list[tuple[str, bytes]], defer: bool = False) -> None:
    """Apply a transaction cut into table slices (txn_split): a table that is still empty
    takes a large record's slice unparsed, ``defer`` keeps the parts of tables not read
    yet (``_defer_part``), the others are applied now."""
    try:
        check_specials(specials)
    except TxnError as exc:
        raise _apply_error(rec, exc) from None
    large = len(rec.raw) >= LAZY_MIN_BYTES
    rec.raw = None  # type: ignore[assignment]  # the slices are copies
    is_diff = specials.get("_is_diff") is True
    for tname, raw in slices:
        table = snap.tables[tname]
        if table.is_blank() and (large or not defer):
            table.defer(_deferred_rows(rec, table, raw))
            continue
        if defer and _defer_part(table, rec, raw, is_diff):
            continue
        rows = rec.parse(raw)
        try:
            _txn_table(snap, tname, rows)
            _apply_rows(table, table.rows, rows, is_diff)
        except _APPLY_ERRORS as exc:
            raise _apply_error(rec, exc) from None


def _schema_from(body: Any, source: str, rec: Record) -> Schema:
    try:
        return Schema.from_json(body)
    except DatumError as exc:
        raise RecordError(source, rec.index, rec.offset, str(exc)) from None


def _txn_or_error(snap: Snapshot, txn: Any, rec: Record, atomic: bool = False) -> None:
    try:
        apply_txn(snap, txn, atomic)
    except _APPLY_ERRORS as exc:
        raise _apply_error(rec, exc) from None


RaftSplit = tuple[dict[str, Any], int, int]  # split_raft_header: (header, start, stop)


def _collect(data: Union[bytes, BinaryIO], source: str, allow_truncated: bool,
             warnings: list[str], lazy: bool = False
             ) -> tuple[list[Record], Optional[RaftSplit]]:
    """All valid records; past the first bad one only with ``allow_truncated``.  ``lazy``:
    a large raft header keeps its snapshot unparsed (split_raft_header), with the header's
    other members parsed."""
    records: list[Record] = []
    split: Optional[RaftSplit] = None
    try:
        for rec in iter_records(data, source):
            if not records and lazy and len(rec.raw) >= LAZY_MIN_BYTES:
                split = split_raft_header(rec.raw, loads)
            if split is None or records:
                rec.body  # noqa: B018  (parse now: an invalid record ends the valid prefix)
            records.append(rec)
    except RecordError as exc:
        if not allow_truncated or not records:
            raise
        warnings.append(_truncation_warning(exc, len(records)))
    return records, split


def _truncation_warning(exc: RecordError, valid: int) -> str:
    return (f"{exc.problem}; read the {valid} valid record(s) before it "
            "(as ovsdb-server does)")


def _describe_standalone(records: int, first_comment: str) -> str:
    if "ovsdb-client backup" in first_comment:
        return "ovsdb-client backup"
    if "compacting" in first_comment:
        return "standalone (compacted)" if records == 2 else "standalone (compacted + log)"
    return "standalone (log)"


def read_standalone(data: Union[bytes, BinaryIO], source: str,
                    allow_truncated: bool = False, on_txn: Optional[OnTxn] = None
                    ) -> Snapshot:
    """Replay a standalone file record by record (one record in memory at a time);
    ``on_txn`` is called after each transaction (a history reader)."""
    warnings: list[str] = []
    snap: Optional[Snapshot] = None
    first_comment = ""
    count = 0
    size = len(data) if isinstance(data, (bytes, bytearray)) else remaining(data)
    defer = not allow_truncated and on_txn is None and (size or 0) >= LAZY_MIN_BYTES
    try:
        for rec in iter_records(data, source):
            count += 1
            if snap is None:
                schema = _schema_from(rec.body, source, rec)
                snap = Snapshot(schema, SourceInfo(source, "", warnings=warnings))
                continue
            touched: Optional[Touched] = {} if on_txn is not None else None
            columns: dict[str, dict[str, frozenset[str]]] = {}
            specials = apply_record(snap, rec, not allow_truncated, touched,
                                    columns if on_txn is not None else None, defer)
            if rec.index == 1:
                first_comment = str(specials.get("_comment", ""))
            snap.info.transactions += 1
            if on_txn is not None:
                assert touched is not None
                base = rec.index == 1 and "compacting" in first_comment
                on_txn(TxnEvent(snap, rec.index, specials, touched, base, columns))
    except RecordError as exc:
        if not allow_truncated or snap is None:
            raise
        warnings.append(_truncation_warning(exc, count if exc.index >= count else exc.index))
        count = exc.index
    if snap is None:
        raise InputError(source, "file holds no records")
    snap.info.records = count
    snap.info.format = _describe_standalone(count, first_comment)
    return snap


def read_clustered(data: Union[bytes, BinaryIO], source: str,
                   allow_truncated: bool = False, on_txn: Optional[OnTxn] = None
                   ) -> Snapshot:
    warnings: list[str] = []
    records, split = _collect(data, source, allow_truncated, warnings,
                              lazy=not allow_truncated and on_txn is None)
    header_rec = records[0]
    header = header_rec.body if split is None else split[0]
    if not isinstance(header, dict):
        raise RecordError(source, 0, 0, "first record is not a raft header")
    if "prev_data" not in header and "remote_addresses" in header:
        # ovsdb-tool join-cluster writes no cluster_id: it is learnt on joining
        raise InputError(source, "clustered file of a server that never joined its "
                         "cluster: it holds no data")
    problem = header_error(header)
    if problem:
        raise RecordError(source, 0, 0, problem)
    if "prev_data" not in header:
        raise RecordError(source, 0, 0, "raft header has no prev_data snapshot")
    prev = header["prev_data"]
    if not isinstance(prev, list) or len(prev) != 2:
        raise RecordError(source, 0, 0, "prev_data is not [schema, data]")
    schema = _schema_from(prev[0], source, header_rec)
    prev_index = int(header.get("prev_index", 0))
    info = SourceInfo(source, "clustered", records=len(records), warnings=warnings)
    snap = Snapshot(schema, info)
    defer = split is not None or (not allow_truncated and on_txn is None
                                  and records[-1].offset >= LAZY_MIN_BYTES)
    if split is not None:
        _apply_snapshot(snap, header_rec, split)
    elif prev[1]:
        _txn_or_error(snap, prev[1], header_rec)
    if on_txn is not None:
        base_txn = prev[1] if isinstance(prev[1], dict) else {}
        on_txn(TxnEvent(snap, 0, {k: v for k, v in base_txn.items() if k in SPECIALS},
                        touched_by(base_txn), base=True))

    log: list[tuple[Record, Optional[list]]] = []
    commit_index = prev_index
    commit_recorded = False
    truncations = 0
    for rec in records[1:]:
        body = rec.body
        problem = record_error(body)
        if problem:
            raise RecordError(source, rec.index, rec.offset, problem)
        if body.get("index"):
            idx = body["index"]
            expected = prev_index + 1 + len(log)
            if not isinstance(idx, int) or idx <= prev_index or idx > expected:
                raise RecordError(source, rec.index, rec.offset,
                                  f"raft entry index {idx} does not follow the log "
                                  f"(expected {expected} or less, after {prev_index})")
            if idx < expected:
                del log[idx - prev_index - 1:]
                truncations += 1
            entry_data = body.get("data")
            if entry_data is not None and (not isinstance(entry_data, list)
                                           or len(entry_data) != 2):
                raise RecordError(source, rec.index, rec.offset,
                                  "raft entry data is not [schema, transaction]")
            log.append((rec, entry_data))
        elif body.get("commit_index"):
            commit_index = max(commit_index, int(body["commit_index"]))
            commit_recorded = True

    applied = beyond = 0
    for pos, (rec, entry_data) in enumerate(log):
        if entry_data is None:
            continue
        new_schema, txn = entry_data
        if new_schema is not None:
            schema = _schema_from(new_schema, source, rec)
            if txn is not None:
                snap.reset(schema)
            else:
                snap.convert(schema)
        if txn is not None:
            if defer and new_schema is None and isinstance(txn, dict):
                _defer_txn(snap, txn, rec)
            else:
                _txn_or_error(snap, txn, rec)
        applied += 1
        if on_txn is not None:
            touched = (dict.fromkeys(snap.tables) if new_schema is not None  # type: ignore
                       else touched_by(txn) if isinstance(txn, dict) else {})
            specials = ({k: v for k, v in txn.items() if k in SPECIALS}
                        if isinstance(txn, dict) else {})
            on_txn(TxnEvent(snap, rec.index, specials, touched,
                            columns=columns_by(txn) if isinstance(txn, dict)
                            and new_schema is None else {}))
        if prev_index + 1 + pos > commit_index:
            beyond += 1

    last_index = prev_index + len(log)
    info.transactions = applied
    info.clustered = {
        "cluster_id": header.get("cluster_id"),
        "server_id": header.get("server_id"),
        "local_address": header.get("local_address"),
        "snapshot_index": prev_index,
        "last_index": last_index,
        "commit_index": commit_index if commit_recorded else None,
        "entries_applied": applied,
        "entries_beyond_commit_index": beyond,
        "log_truncations": truncations,
    }
    if beyond:
        warnings.append(f"{beyond} applied entr{'y' if beyond == 1 else 'ies'} lie beyond the "
                        f"last recorded commit index {commit_index} (committed cluster-wide "
                        "but not yet recorded here, or never committed)")
    return snap


def _defer_txn(snap: Snapshot, txn: dict, rec: Record) -> None:
    """Apply a parsed transaction (a raft entry's), keeping each part for a table not
    read yet for the table's first read (``_defer_part``)."""
    try:
        check_specials(txn)
        is_diff = txn.get("_is_diff") is True
        for tname, rows in txn.items():
            if tname in SPECIALS:
                continue
            table = _txn_table(snap, tname, rows)
            if not _defer_part(table, rec, rows, is_diff):
                _apply_rows(table, table.rows, rows, is_diff)
    except _APPLY_ERRORS as exc:
        raise _apply_error(rec, exc) from None


def _apply_snapshot(snap: Snapshot, rec: Record, split: RaftSplit) -> None:
    """Apply the raft snapshot ``rec.raw[start:stop]`` cut into table slices, each parsed
    on first use; a snapshot that cannot be cut is parsed whole (which reports what is
    wrong with it)."""
    _, start, stop = split
    cut = split_tables(rec.raw, snap.tables, loads, start, stop)
    if cut is None:
        prev = rec.body["prev_data"]
        if prev[1]:
            _txn_or_error(snap, prev[1], rec)
        return
    _apply_slices(snap, rec, *cut)


def read_ovsdb_file(data: Union[bytes, BinaryIO], source: str, allow_truncated: bool = False,
                    magic: Optional[str] = None, on_txn: Optional[OnTxn] = None) -> Snapshot:
    """Read a standalone or clustered file (chosen by the first record's magic); with
    ``on_txn``, report every transaction as it is applied."""
    if magic is None:
        magic = magic_of(data) if isinstance(data, (bytes, bytearray)) else None
    if magic == "CLUSTER":
        return read_clustered(data, source, allow_truncated, on_txn)
    return read_standalone(data, source, allow_truncated, on_txn)
