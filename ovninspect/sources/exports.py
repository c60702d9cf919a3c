"""JSON exports with headings (rule 31): ``ovsdb-client dump -f json`` and
``ovn-nbctl/ovn-sbctl --format=json list|find``.

``dump -f json`` is one ``{"caption": "<T> table", "headings": [...], "data": [...]}``
object per table; ``list`` is a single ``{"headings", "data"}`` object for one table whose
name it does not say.  Columns are always keyed by heading name, never by position.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO, Optional

from ..errors import InputError
from ..schema import ColumnType, DatumError, Schema, TableSchema, infer_column_type
from ..snapshot import NB_NAME, SB_NAME, Snapshot, SourceInfo
from ..validate import BadValue, check_rows
from .known_schema import known_schema, reference_schema
from .records import strings_and_numbers_error


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_objects(text: str, source: str) -> list[Any]:
    """Every JSON value in ``text`` (concatenated or one per line)."""
    decoder = json.JSONDecoder(parse_constant=_reject_constant)
    out = []
    pos, size = 0, len(text)
    while True:
        while pos < size and text[pos].isspace():
            pos += 1
        if pos >= size:
            return out
        try:
            value, pos = decoder.raw_decode(text, pos)
        except RecursionError:
            raise InputError(source, f"JSON nested too deeply at byte offset {pos}") from None
        except ValueError as exc:
            raise InputError(source, f"not valid JSON at byte offset {pos}: "
                             f"{getattr(exc, 'msg', exc)}") from None
        problem = strings_and_numbers_error(value)
        if problem:
            raise InputError(source, f"not valid JSON for OVSDB at byte offset {pos}: {problem}")
        out.append(value)


def _is_table_object(obj: Any) -> bool:
    return (isinstance(obj, dict) and isinstance(obj.get("headings"), list)
            and isinstance(obj.get("data"), list))


def _check_table_object(obj: dict, source: str) -> None:
    """Headings are distinct column names, every data row a list of as many cells."""
    headings = obj["headings"]
    if not all(isinstance(h, str) for h in headings) or len(set(headings)) != len(headings):
        raise InputError(source, "headings are not distinct column names")
    if "caption" in obj and not isinstance(obj["caption"], str):
        raise InputError(source, "a caption is not a string")


def _column_types(table: str, headings: list[str], data: list[list],
                  reference: Optional[TableSchema], known: Optional[TableSchema] = None
                  ) -> dict[str, ColumnType]:
    cols = {}
    for pos, name in enumerate(headings):
        if name == "_uuid":
            continue
        if reference is not None and name in reference.columns:
            cols[name] = reference.columns[name]
        elif known is not None and name in known.columns:  # newer than the installed OVN
            cols[name] = known.columns[name]
        else:
            cols[name] = infer_column_type([row[pos] for row in data])
    return cols


def _check_data(table: str, headings: list[str], data: list, source: str) -> None:
    """Every data row is a list with one cell per heading (before anything reads a cell)."""
    width = len(headings)
    for n, row in enumerate(data):
        if not isinstance(row, list) or len(row) != width:
            raise InputError(source, f"table {table}: data row {n} does not match the "
                             f"{width} headings")


def _fill(snap: Snapshot, table: str, headings: list[str], data: list[list],
          source: str) -> None:
    rows = snap.tables[table].rows
    try:
        uuid_pos = headings.index("_uuid")
    except ValueError:
        raise InputError(source, f"table {table}: headings lack _uuid") from None
    for n, row in enumerate(data):
        raw_uuid = row[uuid_pos]
        uuid = raw_uuid[1] if isinstance(raw_uuid, list) and len(raw_uuid) == 2 else raw_uuid
        if not isinstance(uuid, str):
            raise InputError(source, f"table {table}: data row {n} has a bad _uuid")
        rows[uuid] = {h: v for h, v in zip(headings, row) if h != "_uuid"}


def _guess_db(table_names: list[str], hint: Optional[str]) -> str:
    scores = {}
    for db in (NB_NAME, SB_NAME):
        ref = reference_schema(db)
        scores[db] = sum(1 for t in table_names if t in ref.tables)
    if hint and scores.get(hint, 0) == max(scores.values()):
        return hint
    return max(scores, key=lambda db: scores[db])


def _guess_table(headings: list[str], hint: Optional[str]) -> tuple[str, str]:
    """(database, table) whose columns best match the headings of a ``list`` output."""
    wanted = set(headings) - {"_uuid"}
    best: tuple[float, int, str, str] = (-1.0, 0, "", "")
    for db in (NB_NAME, SB_NAME):
        for tname, ts in reference_schema(db).tables.items():
            have = set(ts.columns)
            score = len(wanted & have) / max(1, len(wanted | have))
            key = (score, 1 if db == hint else 0, db, tname)
            if key[:2] > best[:2]:
                best = key
    if best[0] < 0.5:
        raise InputError("", "cannot tell which table these headings belong to: "
                         + ", ".join(sorted(wanted)[:8]))
    return best[2], best[3]


MAX_EXPORT = 4 << 30
_SNIFF = 1 << 16


def read_text(fh: BinaryIO, source: str) -> bytes:
    """The whole of a JSON export, once its start shows it is UTF-8 text (random bytes
    after a ``{`` are refused after 64 KiB, not after reading them all)."""
    head = fh.read(_SNIFF)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the sniff
            raise InputError(source, f"not UTF-8 text at byte offset {exc.start}") from None
    nul = head.find(b"\0")
    if nul >= 0:
        raise InputError(source, f"not JSON text: a NUL byte at offset {nul}")
    rest = fh.read(MAX_EXPORT)
    if fh.read(1):
        raise InputError(source, f"a JSON export larger than {MAX_EXPORT >> 30} GiB")
    return head + rest


def read_export(data: bytes, source: str, hint: Optional[str] = None) -> Snapshot:
    """Read a dump or list export; ``hint`` is the expected database name."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(source, f"not UTF-8 text at byte offset {exc.start}") from None
    objects = _json_objects(text, source)
    if not objects or not all(_is_table_object(o) for o in objects):
        if len(objects) == 1 and isinstance(objects[0], dict) and "tables" in objects[0]:
            raise InputError(source, "this is an OVSDB schema, not a database")
        raise InputError(source, "JSON that is neither an ovsdb-client dump nor an "
                         "ovn-nbctl/ovn-sbctl --format=json list output")

    for obj in objects:
        _check_table_object(obj, source)
    if all("caption" in o for o in objects):
        names = []
        for o in objects:
            caption = str(o["caption"])
            if not caption.endswith(" table"):
                raise InputError(source, f"unexpected dump caption {caption!r}")
            names.append(caption[: -len(" table")])
        db = _guess_db(names, hint)
        fmt = "ovsdb-client dump -f json"
    elif len(objects) == 1:
        try:
            db, table = _guess_table(objects[0]["headings"], hint)
        except InputError as exc:
            raise InputError(source, exc.problem) from None
        names = [table]
        fmt = f"--format=json list {table}"
    else:
        raise InputError(source, "several JSON tables without captions; give one "
                         "ovsdb-client dump or one list output")

    ref = reference_schema(db)
    tables = {}
    for name, obj in zip(names, objects):
        _check_data(name, obj["headings"], obj["data"], source)
        cols = _column_types(name, obj["headings"], obj["data"], ref.tables.get(name),
                             known_schema(db).tables.get(name))
        tables[name] = TableSchema(name, cols)
    schema = Schema(db, "", tables, {})
    info = SourceInfo(source, fmt, records=len(objects))
    info.notes.append("export without a schema: column types from "
                      + ("the installed OVN schema" if ref.version else "ovninspect's table")
                      + " and the values; schema version unknown")
    snap = Snapshot(schema, info)
    for name, obj in zip(names, objects):
        _fill(snap, name, obj["headings"], obj["data"], source)
    # check every value as ovsdb-server would (types known from a schema), then decode it
    # once so that a malformed cell is reported here, not later
    for table in snap.tables.values():
        try:
            check_rows(table.name, table.columns, table.rows)
        except BadValue as exc:
            raise InputError(source, str(exc)) from None
        for row in table:
            for col in table.columns:
                try:
                    row[col]
                except (DatumError, TypeError, ValueError) as exc:
                    raise InputError(source, f"table {table.name} row {row.uuid} column {col}: "
                                     f"{exc}") from None
    return snap
