"""The Snapshot: one database's schema and rows, whatever source it came from.

Rows keep the datum JSON the source parsed and decode a column the first time it is read,
storing the decoded value in place.  That keeps a 170k-row load close to the cost of
``json.loads`` alone (design.md, Performance) while every reader shares one decoder.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Collection, Iterable, Iterator, Optional, Protocol

from .errors import InputError
from .schema import ColumnType, Schema

NB_NAME = "OVN_Northbound"
SB_NAME = "OVN_Southbound"
_MISSING = object()


class PendingRows(Protocol):
    """Rows a source has not parsed yet (sources/table_slice.py).  ``has`` and ``find``
    may answer anything else than documented to say that only a whole load can tell."""

    def load(self) -> dict[str, dict]:
        """Every row by UUID."""

    def has(self, column: str, value: str) -> Any:
        """Whether some row's ``column`` is ``value``."""

    def find(self, column: str, values: Iterable[str]) -> Any:
        """``{value: (uuid, row) or None}``: the first row whose ``column`` is each value."""

    def check_all(self) -> None:
        """Check every row as ``load`` does, without keeping them."""

    def rows_with_string(self, text: str) -> Any:
        """``{uuid: row}`` of at least the rows holding the string ``text``."""


class Row:
    """A view of one row; ``row["col"]`` gives the decoded value (default when omitted)."""

    __slots__ = ("uuid", "_data", "_table")

    def __init__(self, table: Table, uuid: str, data: dict) -> None:
        self._table = table
        self.uuid = uuid
        self._data = data

    def __getitem__(self, column: str) -> Any:
        value = self.get(column, _MISSING)
        if value is _MISSING:
            raise KeyError(f"{self._table.name} has no column {column!r}")
        return value

    def get(self, column: str, default: Any = None) -> Any:
        """The decoded value, or ``default`` when the table has no such column."""
        return self._table.value(self.uuid, self._data, column, default)

    def to_dict(self) -> dict[str, Any]:
        """Every column of the schema, decoded, plus ``_uuid``."""
        out: dict[str, Any] = {"_uuid": self.uuid}
        for name in self._table.columns:
            out[name] = self[name]
        return out

    @property
    def table(self) -> str:
        return self._table.name

    def __repr__(self) -> str:
        return f"<Row {self._table.name} {self.uuid}>"


class Table:
    """The rows of one table, keyed by UUID."""

    def __init__(self, name: str, columns: dict[str, ColumnType],
                 info: Optional[SourceInfo] = None) -> None:
        self.name = name
        self.columns = columns
        self.info = info  # names the source in errors about values decoded later
        self._rows: dict[str, dict] = {}
        self._pending: Optional[PendingRows] = None
        # set columns whose one-element values may be stored as bare atoms
        self.set_columns = frozenset(n for n, c in columns.items() if c.kind == "set")
        self._indexes: dict[str, ValueIndex] = {}
        self._history = False   # ``changed`` was called: indexes are kept true row by row
        self._decoded: set[str] = set()  # columns decoded_rows() has done for every row
        # columns an analysis may read that this schema lacks (an older release): read as
        # their default, typed by ovninspect's own table (sources/known_schema.py)
        self.absent: dict[str, ColumnType] = {}

    @property
    def rows(self) -> dict[str, dict]:
        """Row data by UUID (a deferred table is parsed here, on first use)."""
        if self._pending is not None:
            self._rows = self._pending.load()
            self._pending = None
        return self._rows

    def defer(self, pending: PendingRows) -> None:
        """Take this table's rows from ``pending`` when they are first read (a table not
        read yet: blank, or still pending, ``pending`` then taking the old one in)."""
        assert not self._rows
        self._pending = pending

    @property
    def pending(self) -> Optional[PendingRows]:
        """The rows not read yet (sources/table_slice.py, table_parts.py), or None."""
        return self._pending

    def check_pending(self) -> None:
        """Check the rows still unparsed as reading them would, without keeping them."""
        if self._pending is not None:
            self._pending.check_all()

    def is_blank(self) -> bool:
        """No rows and none deferred."""
        return not self._rows and self._pending is None

    @property
    def is_loaded(self) -> bool:
        """False while the rows are still an unparsed slice of the source."""
        return self._pending is None

    def __len__(self) -> int:
        return len(self.rows)

    def bad_value(self, uuid: str, column: str, exc: Exception) -> InputError:
        """The exit-2 error for a stored value that is not a valid datum (rule 29)."""
        source = self.info.source if self.info is not None else "snapshot"
        return InputError(source, f"table {self.name} row {uuid} column {column}: "
                          f"invalid value: {exc}")

    def __iter__(self) -> Iterator[Row]:
        for uuid, data in self.rows.items():
            yield Row(self, uuid, data)

    def __contains__(self, uuid: object) -> bool:
        return uuid in self.rows

    def value(self, uuid: str, data: dict, column: str, default: Any = None) -> Any:
        """One decoded value of the row ``uuid`` whose data is ``data`` (decoded in place
        on first read); ``default`` when the table has no such column."""
        value = data.get(column, _MISSING)
        if value is _MISSING:
            ctype = self.columns.get(column) or self.absent.get(column)
            if ctype is None:
                return default
            value = ctype.default
            return dict(value) if value.__class__ is dict else value
        cls = value.__class__
        if cls is list or (cls is not tuple and column in self.set_columns):
            try:
                value = self.columns[column].materialize(value)
            except (TypeError, ValueError, LookupError) as exc:  # DatumError is a ValueError
                raise self.bad_value(uuid, column, exc) from None
            data[column] = value
        return value

    def decoded_rows(self, columns: tuple[str, ...]) -> dict[str, dict]:
        """Row data by UUID with ``columns`` decoded in place, in one pass over the table
        (for hot paths that then read ``data.get(column, default)``)."""
        rows = self.rows
        todo = [c for c in columns if c in self.columns and c not in self._decoded]
        if not todo:
            return rows
        set_columns = self.set_columns
        wanted = frozenset(todo)
        ctypes = self.columns
        for uuid, data in rows.items():
            for column, value in data.items():
                if (value.__class__ is list or (column in set_columns and value.__class__
                                                 is not tuple)) and column in wanted:
                    try:
                        data[column] = ctypes[column].materialize(value)
                    except (TypeError, ValueError, LookupError) as exc:
                        raise self.bad_value(uuid, column, exc) from None
        self._decoded.update(todo)
        return rows

    def get(self, uuid: Optional[str]) -> Optional[Row]:
        """The row with this UUID, or None (also for a None/empty reference)."""
        if not uuid:
            return None
        data = self.rows.get(uuid)
        return None if data is None else Row(self, uuid, data)

    def find(self, column: str, value: Any) -> Optional[Row]:
        """The first row whose scalar ``column`` is ``value``, or None."""
        return self.find_many(column, (value,))[value]

    def find_many(self, column: str, values: Iterable[Any]) -> dict[Any, Optional[Row]]:
        """``{value: first row whose scalar column is value, or None}``.  A table still
        unparsed is searched in the source, and only the rows found are parsed."""
        values = list(values)
        if self._pending is not None and all(v and v.__class__ is str for v in values):
            found = self._pending.find(column, values)
            if found.__class__ is dict:
                return {v: None if f is None else Row(self, *f) for v, f in found.items()}
        index, rows = self.index(column), self.rows
        return {v: None if (u := index.get(v)) is None else Row(self, u, rows[u])
                for v in values}

    def rows_with_string(self, text: str) -> dict[str, dict]:
        """Row data by UUID, in row order, of at least every row that holds the string
        ``text`` in some column (a superset: callers filter).  A table still unparsed is
        searched in the source, and only those rows are parsed; else all rows."""
        if self._pending is not None:
            found = self._pending.rows_with_string(text)
            if found.__class__ is dict:
                return found
        return self.rows

    def has_value(self, column: str, value: Any) -> bool:
        """True when some row's scalar ``column`` is ``value`` (no row is built)."""
        if self._pending is not None and value and value.__class__ is str:
            found = self._pending.has(column, value)
            if found.__class__ is bool:
                return found
        return value in self.index(column)

    def index(self, column: str) -> dict[Any, str]:
        """Row UUIDs by the value of a scalar column (first row wins on duplicates);
        cached."""
        idx = self._indexes.get(column)
        if idx is None:
            idx = self._indexes[column] = ValueIndex(self, column, self._history)
        return idx.first

    def changed(self, uuids: Optional[Iterable[str]]) -> None:
        """Rows ``uuids`` (None: any row) were just changed by a transaction: keep the
        caches true.  Columns decoded for every row are decoded again in those rows only;
        value indexes are updated in those rows (from now on they keep what that needs).
        """
        if uuids is None or self._pending is not None:
            self._decoded.clear()
            self._indexes.clear()
            return
        uuids = list(uuids)
        if not self._history:
            self._history = True
            self._indexes.clear()   # built again, able to follow changes
        for idx in self._indexes.values():
            idx.update(uuids)
        if not self._decoded:
            return
        rows, value = self._rows, self.value
        for uuid in uuids:
            data = rows.get(uuid)
            if data is not None:
                for column in self._decoded:
                    value(uuid, data, column)


class ValueIndex:
    """Row UUIDs by the value of a scalar column, the first row in row order winning
    (``first``).  With ``follow`` it also keeps each row's value and place, so that a
    transaction's changed rows update it without a scan of the table (a history reader
    changes a few rows of a 100k-row table per transaction).  A modified row keeps its
    place in row order, an inserted one goes last, as the rows dict does."""

    def __init__(self, table: Table, column: str, follow: bool) -> None:
        self._table, self._column = table, column
        value = table.value
        self.first: dict[Any, str] = {}
        first = self.first
        if not follow:
            for uuid, data in table.rows.items():
                first.setdefault(value(uuid, data, column), uuid)
            return
        self._of_row: dict[str, Any] = {}
        self._place: dict[str, int] = {}
        self._count: Counter = Counter()
        for place, (uuid, data) in enumerate(table.rows.items()):
            key = self._of_row[uuid] = value(uuid, data, column)
            first.setdefault(key, uuid)
            self._place[uuid] = place
            self._count[key] += 1
        self._next = len(self._place)

    def update(self, uuids: list[str]) -> None:
        """The rows ``uuids`` were inserted, modified or deleted."""
        rows, first, count, place = self._table.rows, self.first, self._count, self._place
        lost = set()   # values whose first row changed value or went, others still holding it
        for uuid in uuids:
            if uuid in self._of_row:
                old = self._of_row.pop(uuid)
                count[old] -= 1
                if not count[old]:
                    del count[old]
                    first.pop(old, None)
                elif first.get(old) == uuid:
                    lost.add(old)
            data = rows.get(uuid)
            if data is None:
                place.pop(uuid, None)
                continue
            if uuid not in place:
                place[uuid] = self._next
                self._next += 1
            new = self._of_row[uuid] = self._table.value(uuid, data, self._column)
            count[new] += 1
            owner = first.get(new)
            if owner is None or (new not in lost and place[uuid] < place[owner]):
                first[new] = uuid
        for key in lost & count.keys():
            first[key] = min((u for u, v in self._of_row.items() if v == key),
                             key=place.__getitem__)


@dataclass
class SourceInfo:
    """Where a snapshot came from and what the reader noticed on the way."""

    source: str
    format: str
    records: int = 0
    transactions: int = 0
    clustered: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    whole_database: bool = False    # an OVSDB file: every table is in it


def _ref_uuids(raw: Any) -> Iterator[str]:
    """The UUIDs of a stored reference value: decoded (a str, a tuple, a dict's keys) or
    still raw datum JSON (``["uuid", u]``, ``["set", [...]]``, ``["map", [...]]``)."""
    if raw.__class__ is str:
        yield raw
    elif raw.__class__ is tuple or raw.__class__ is dict:
        yield from raw
    elif raw.__class__ is list and len(raw) == 2:
        tag, body = raw
        if tag == "uuid":
            yield body
        elif tag in ("set", "map") and body.__class__ is list:
            for atom in body:
                item = atom[0] if tag == "map" else atom
                if item.__class__ is list and len(item) == 2 and item[0] == "uuid":
                    yield item[1]
                elif item.__class__ is str:
                    yield item


class Snapshot:
    """A whole database: schema plus tables of rows.  Produced by every source."""

    def __init__(self, schema: Schema, info: SourceInfo) -> None:
        self.schema = schema
        self.full_schema = schema  # the source's whole schema (a live read may fetch less)
        self.info = info
        self.tables: dict[str, Table] = {
            name: Table(name, ts.columns, info) for name, ts in schema.tables.items()
        }

    @property
    def name(self) -> str:
        return self.schema.name

    @property
    def version(self) -> str:
        return self.schema.version

    def table(self, name: str) -> Table:
        """The named table; an empty one when the schema lacks it."""
        tbl = self.tables.get(name)
        if tbl is None:
            tbl = Table(name, {})
        return tbl

    def has_table(self, name: str) -> bool:
        return name in self.tables

    def check_pending(self, read_now: Collection[str] = ()) -> None:
        """Check every table not read yet as reading it would (sources/table_slice.py), so
        that whether a snapshot is refused does not depend on what reads it; the tables
        in ``read_now`` (what the command reads whole anyway) are read instead of being
        parsed twice."""
        for table in self.tables.values():
            if table.name in read_now:
                table.rows  # noqa: B018  (parsed and checked)
            else:
                table.check_pending()

    def check_references(self) -> None:
        """ovsdb-server's referential integrity among the tables already read: a strong
        reference names an existing row, else InputError.  Tables still deferred are left
        alone (what a command reads does not change the verdict).  Rows of non-root tables
        that nothing references are kept: the server would have collected them, but an
        analysis only reaches rows through references."""
        for name, table in self.tables.items():
            if not table.is_loaded:
                continue
            for column, ctype in table.columns.items():
                target = self.tables.get(ctype.ref_table or "")
                if not ctype.strong_ref or target is None or not target.is_loaded:
                    continue
                rows = target._rows
                for uuid, data in table._rows.items():
                    raw = data.get(column)
                    if raw is None:
                        continue
                    for ref in _ref_uuids(raw):
                        if ref not in rows:
                            source = self.info.source if self.info is not None else "snapshot"
                            raise InputError(source, f"table {name} row {uuid} column "
                                             f"{column}: strong reference to {target.name} "
                                             f"row {ref}, which does not exist (ovsdb-server "
                                             "refuses this file: referential integrity)")

    def verify(self) -> None:
        """Read and check every row of every table."""
        for table in self.tables.values():
            len(table)

    def row_counts(self) -> dict[str, int]:
        return {name: len(t) for name, t in sorted(self.tables.items())}

    def northd_internal_version(self) -> Optional[str]:
        """``NB_Global.options:northd_internal_version`` when northd wrote one (rule 1)."""
        nbg = self.tables.get("NB_Global")
        if nbg is None or "options" not in nbg.columns:
            return None
        for row in nbg:
            value = row["options"].get("northd_internal_version")
            if value:
                return value
        return None

    def reset(self, schema: Schema) -> None:
        """Drop every row and switch to ``schema`` (raft schema change with data)."""
        self.schema = self.full_schema = schema
        self.tables = {name: Table(name, ts.columns, self.info)
                       for name, ts in schema.tables.items()}

    def convert(self, schema: Schema) -> None:
        """Keep rows under a new schema: drop vanished tables/columns (raft conversion)."""
        old = self.tables
        self.schema = self.full_schema = schema
        self.tables = {}
        for name, ts in schema.tables.items():
            table = Table(name, ts.columns, self.info)
            if name in old:
                for uuid, data in old[name].rows.items():
                    table._rows[uuid] = {c: v for c, v in data.items() if c in ts.columns}
            self.tables[name] = table
