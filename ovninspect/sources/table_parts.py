"""One table's share of many transactions, replayed only when something reads the table.

A long standalone log (thousands of small records) or a raft log (entries after the
snapshot) touches each table in many records.  The reader hands each record's part for a
table that nobody has read yet to a ``TableParts``: unparsed bytes (a standalone record
cut by txn_split) or the parsed rows (a raft entry, already parsed to read its header),
after an optional base (a ``TableSlice`` of a compacted record or raft snapshot).  The
table is replayed, part after part as ovsdb-server would, the first time it is read.

``check_all`` (at open) parses every part and checks what a replay checks except the
values (as ``TableSlice.check_all``): row keys, rows as objects, column names, and that a
deleted row exists.  ``has`` and ``find`` answer lookups by a scalar string column from
the bytes, as ``TableSlice`` does: every row key of a part is ``"<uuid>":{`` (a row) or
``"<uuid>":null`` (a deletion) in the compact layout ovsdb-server writes, and
``"<column>":"<text>"`` inside a row is that row's column (table_slice.py says why a byte
search is exact there); the row count ``check_all`` found in each part must match.  The
rows asked for are then replayed from their own spans only.  Anything else (spaces, an
escaped value, a row key twice in a part, a composite column) reads the table whole.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Iterator, Optional, Union

import orjson

from ..errors import InputError
from .records import Record, gc_paused, loads
from .table_slice import (
    _PLAIN_WORD,
    CHECK_CHUNK,
    ROW_KEY,
    UNINDEXED,
    TableSlice,
    find_row_starts,
    row_key_before,
    row_spans,
)

Part = Union[bytes, dict]           # a table's rows in one transaction
_NOT_PLAIN = object()               # a column value the byte search cannot read
_DELETE = object()

#: apply(rows, rec, part rows, is_diff, checked): a replay step, its values checked
#: unless ``checked`` (done for all parts at once), errors located
Apply = Callable[[dict, Record, Any, bool, bool], None]
#: check(rec, part rows, live uuids, shape): deletions, and (``shape``) the shape checks
Check = Callable[[Record, Any, set, bool], None]
#: rows_ok(parts, values): whether all parts pass the checks, tried in one go (False: the
#: caller checks part by part, which locates the first error)
RowsOk = Callable[[list, bool], bool]


class TableParts:
    """The rows of one table as a base slice and the parts of later transactions."""

    def __init__(self, base: Optional[TableSlice], apply: Apply, check: Check,
                 rows_ok: RowsOk, composite: Callable[[str], Optional[bool]]) -> None:
        self.base = base
        self.parts: list[tuple[Record, Part, bool]] = []   # (record, rows, is_diff)
        self._apply = apply
        self._check = check
        self._rows_ok = rows_ok
        self._composite = composite     # column -> composite? (None: no such column)
        self._counts: Optional[list[int]] = None   # rows in base and each part (check_all)
        self._failed: Optional[InputError] = None  # what a load raised (parts now spent)
        self._indexes: dict[str, Any] = {}
        self._where: Optional[dict[str, Any]] = None  # live uuid -> part number(s)
        self._mentions: dict[str, Any] = {}
        self._handed: dict[str, dict] = {}   # rows find/rows_with_string gave out

    def add(self, rec: Record, part: Part, is_diff: bool) -> None:
        self.parts.append((rec, part, is_diff))
        self._counts = None
        self._where = None
        self._indexes.clear()
        self._mentions.clear()
        self._handed.clear()

    def load(self) -> dict[str, dict]:
        """Every row, replayed and checked (the values of all parts in one go when they
        all pass; else part by part, as the replay of the file would).  Each part's bytes
        are dropped once parsed; a load that fails raises the same error again after."""
        if self._failed is not None:
            raise self._failed
        try:
            with gc_paused():
                return self._load()
        except InputError as exc:
            self._failed = exc
            raise

    def _load(self) -> dict[str, dict]:
        rows = self.base.load() if self.base is not None else {}
        parsed: list[Any] = []
        error: Optional[InputError] = None
        for number, (rec, part, is_diff) in enumerate(self.parts):
            try:
                parsed.append(_parse(rec, part))
            except InputError as exc:
                error = exc    # raised after the parts before it, which may fail first
                break
            self.parts[number] = (rec, {}, is_diff)
        checked = error is None and self._rows_ok(parsed, True)
        for (rec, _, is_diff), part_rows in zip(self.parts, parsed):
            self._apply(rows, rec, part_rows, is_diff, checked)
        if error is not None:
            raise error
        del parsed
        # the rows already given out are these rows, replayed the same way: keep one copy
        for uuid, row in self._handed.items():
            if uuid in rows:
                rows[uuid] = row
        return rows

    def check_all(self) -> None:
        """Check every part as a replay would, values aside, keeping nothing but the row
        counts (for ``find``): in pieces of about CHECK_CHUNK bytes, each piece's shapes
        in one go and its deletions part by part (a piece that fails is checked again
        part by part, which locates the first error)."""
        if self._failed is not None:
            raise self._failed
        live: set[str] = set()
        counts = []
        with gc_paused():
            if self.base is not None:
                self.base.check_all(live)
                counts.append(len(live))
            for piece in _pieces(self.parts):
                parsed = _parsed(piece)
                shaped = parsed is not None and self._rows_ok(parsed, False)
                for number, (rec, part, _) in enumerate(piece):
                    part_rows = parsed[number] if parsed is not None else _parse(rec, part)
                    self._check(rec, part_rows, live, not shaped)
                    counts.append(len(part_rows))
                del parsed
        self._counts = counts

    # -- lookups by a string column ---------------------------------------------------
    def has(self, column: str, value: str) -> Any:
        index = self._index(column)
        return UNINDEXED if index is None else value in index

    def find(self, column: str, values: Iterable[str]) -> Any:
        index = self._index(column)
        if index is None:
            return UNINDEXED
        out: dict[str, Optional[tuple[str, dict]]] = {}
        wanted: dict[str, str] = {}
        for value in values:
            uuid = index.get(value)
            out[value] = None
            if uuid is not None:
                wanted[uuid] = value
        if wanted:
            rows = self._replay(wanted)
            for uuid, value in wanted.items():
                row = None if rows is None else rows.get(uuid)
                if row is None or row.get(column) != value:
                    return UNINDEXED  # not the layout assumed: read the table whole
                out[value] = (uuid, row)
            self._handed.update(rows)  # type: ignore[arg-type]
        return out

    def rows_with_string(self, text: str) -> Any:
        """``{uuid: row}`` of every live row that some part wrote ``text`` into (a
        superset of the rows holding it now, for the caller to filter), in row order; or
        UNINDEXED.  As ``TableSlice.rows_with_string``: exact for a plain word in parts
        without ``\\u`` escapes."""
        found = self._mentions.get(text)
        if found is None:
            found = self._mentions[text] = self._rows_with_string(text)
        return found

    def _rows_with_string(self, text: str) -> Any:
        if (self._counts is None or self._failed is not None
                or not _PLAIN_WORD.fullmatch(text)):
            return UNINDEXED
        needle = f'"{text}"'.encode()
        mentioned: set[str] = set()
        if self.base is not None:
            found = self.base.rows_with_string(text)
            if found.__class__ is not dict:
                return UNINDEXED
            mentioned.update(found)
        for _, part, _ in self.parts:
            if part.__class__ is dict:
                mentioned.update(u for u, row in part.items() if _holds(row, text))
                continue
            if b"\\u" in part:
                return UNINDEXED
            pos = part.find(needle)
            while pos >= 0:
                match = row_key_before(part, pos)
                if match is None:
                    return UNINDEXED
                mentioned.add(match.group(1).decode())
                pos = part.find(needle, pos + len(needle))
        where = self._live()
        if where is None:
            return UNINDEXED
        order = [uuid for uuid in where if uuid in mentioned]
        rows = self._replay(order) if order else {}
        if rows is None or len(rows) != len(order):
            return UNINDEXED
        self._handed.update(rows)
        return {uuid: rows[uuid] for uuid in order}

    def _live(self) -> Optional[dict[str, Any]]:
        """Which parts hold each live row's history (built with an index, or alone)."""
        if self._where is None and self._failed is None and self._counts is not None:
            self._build(None)
        return self._where

    def _sources(self) -> Iterator[tuple[int, Record, Part, bool, int]]:
        """(number, record, rows, is_diff, expected row count) of the base and parts."""
        assert self._counts is not None
        counts = iter(self._counts)
        if self.base is not None:
            yield -1, None, self.base.raw, False, next(counts)  # type: ignore[misc]
        for number, (rec, part, is_diff) in enumerate(self.parts):
            yield number, rec, part, is_diff, next(counts)

    def _index(self, column: str) -> Optional[dict[str, str]]:
        """The first live row by the column's value, or None (read the table whole)."""
        if column in self._indexes:
            return self._indexes[column]
        index = None
        if (self._counts is not None and self._failed is None
                and self._composite(column) is False):
            index = self._build(column)
        self._indexes[column] = index
        return index

    def _build(self, column: Optional[str]) -> Optional[dict[str, str]]:
        """Replay, row key by row key, the column's value (None: no column) and which
        parts hold each live row's history (``self._where``)."""
        state: dict[str, Any] = {}              # live rows in replay order -> value
        where: dict[str, Any] = {}              # uuid -> part number or [part numbers]
        quoted = re.escape(f'"{column or ""}":'.encode())
        pattern = re.compile(ROW_KEY.pattern + b"|" + quoted + rb'("([^"\\]*)")?')
        for number, _, part, _, count in self._sources():
            if part.__class__ is dict:
                events = _dict_events(part, column or "")
            else:
                events = _byte_events(pattern.findall(part))
            if events is None or len(events) != count:
                return None
            for uuid, value in events:
                if value is _DELETE:
                    state.pop(uuid, None)
                    where.pop(uuid, None)
                elif uuid in state:
                    seen = where[uuid]
                    where[uuid] = seen + [number] if seen.__class__ is list else [seen, number]
                    if value is not None:
                        state[uuid] = value
                else:
                    where[uuid] = number
                    state[uuid] = value
        index: dict[str, str] = {}
        for uuid, value in state.items():
            if value is _NOT_PLAIN:
                return None
            if value is not None:
                index.setdefault(value, uuid)
        self._where = where
        return index

    def _replay(self, uuids: Iterable[str]) -> Optional[dict[str, dict]]:
        """The rows ``uuids``, replayed from their spans in the base and parts (None: the
        spans did not read as rows).  A row written by one part only (an insert: most
        rows) is that part's row object, all of them parsed and checked in one go."""
        once: dict[int, list[str]] = {}
        many: dict[int, list[str]] = {}
        handed = self._handed
        given = {uuid: handed[uuid] for uuid in uuids if uuid in handed}
        for uuid in uuids:
            if uuid in given:
                continue
            numbers = self._where[uuid]
            if numbers.__class__ is list:
                for number in numbers:
                    many.setdefault(number, []).append(uuid)
            else:
                once.setdefault(numbers, []).append(uuid)
        with gc_paused():
            rows = self._inserted(once)
            if rows is None:
                return None
            for number in sorted(many):
                found = self._rows_from(number, many[number])
                if found is None:
                    return None
                if number < 0:
                    rows.update(found)
                else:
                    rec, _, is_diff = self.parts[number]
                    self._apply(rows, rec, found, is_diff, False)
        rows.update(given)
        return rows

    def _rows_from(self, number: int, uuids: list[str]) -> Optional[dict[str, Any]]:
        """The rows ``uuids`` as part ``number`` (-1: the base) writes them, parsed."""
        if number < 0:
            assert self.base is not None
            return self.base.rows_at(self.base.row_starts(uuids))
        rec, part, _ = self.parts[number]
        if part.__class__ is dict:
            return {u: dict(part[u]) for u in uuids}
        got = rec.parse(row_spans(part, find_row_starts(part, uuids).values()))
        if got.__class__ is not list or len(got) != len(uuids):
            return None
        return dict(zip(uuids, got))

    def _inserted(self, once: dict[int, list[str]]) -> Optional[dict[str, dict]]:
        """The rows that one part (or the base) writes, by part number: the spans of all
        parts parsed in one go and their values checked at once; if a value is bad, part
        by part instead (which locates the error)."""
        rows: dict[str, dict] = {}
        spans = []
        order: list[str] = []
        for number, uuids in once.items():
            part = self.parts[number][1] if number >= 0 else None
            if part.__class__ is bytes:
                spans.append(row_spans(part, find_row_starts(part, uuids).values())[1:-1])
                order.extend(uuids)
                continue
            found = self._rows_from(number, uuids)
            if found is None:
                return None
            rows.update(found)
        if spans:
            try:
                got = loads(b"[" + b",".join(s for s in spans if s) + b"]")
            except ValueError:
                return None
            if got.__class__ is not list or len(got) != len(order):
                return None
            found = dict(zip(order, got))
            if not self._rows_ok([found], True):
                for number, uuids in sorted(once.items()):
                    if number >= 0:
                        rec, _, is_diff = self.parts[number]
                        self._apply({}, rec, {u: found[u] for u in uuids}, is_diff, False)
            rows.update(found)
        return rows


def _holds(value: Any, text: str) -> bool:
    """Whether a parsed datum holds the string ``text`` (an atom, a member, a key)."""
    if value.__class__ is str:
        return value == text
    if value.__class__ is list:
        return any(_holds(item, text) for item in value)
    if value.__class__ is dict:
        return any(_holds(item, text) for item in value.values())
    return False


def _parse(rec: Record, part: Part) -> Any:
    """A part's rows: ``rec.parse`` (records.loads), with its common case inline."""
    if part.__class__ is dict:
        return part
    if b"\\u0000" not in part and b"_comment" not in part:  # loads' extra checks
        try:
            return orjson.loads(part)
        except orjson.JSONDecodeError:
            pass
    return rec.parse(part)


def _parsed(parts: list[tuple[Record, Part, bool]]) -> Optional[list[Any]]:
    """Every part's rows, or None when one does not parse (the caller goes part by part,
    so that the first error is the one reported)."""
    try:
        return [_parse(rec, part) for rec, part, _ in parts]
    except InputError:
        return None


def _pieces(parts: list[tuple[Record, Part, bool]]) -> Iterator[list]:
    """The parts in runs of about CHECK_CHUNK bytes."""
    piece: list[tuple[Record, Part, bool]] = []
    size = 0
    for item in parts:
        piece.append(item)
        size += len(item[1]) if item[1].__class__ is bytes else 64 * len(item[1])
        if size >= CHECK_CHUNK:
            yield piece
            piece, size = [], 0
    if piece:
        yield piece


def _byte_events(found: list[tuple[bytes, bytes, bytes, bytes]]
                 ) -> Optional[list[list[Any]]]:
    """``[uuid, value]`` per row key of a part, from a search for row keys and the
    column: value the column's plain string, None when the row does not set it,
    _NOT_PLAIN, or _DELETE; None when the column is found outside a row."""
    events: list[list[Any]] = []
    for uuid, kind, quoted, inner in found:
        if uuid:
            events.append([uuid.decode(), None if kind == b"{" else _DELETE])
        elif not events or events[-1][1] is _DELETE:
            return None
        else:
            events[-1][1] = inner.decode() if quoted else _NOT_PLAIN
    return events


def _dict_events(rows: dict, column: str) -> Optional[list[tuple[str, Any]]]:
    """``_byte_events`` of a parsed part."""
    events: list[tuple[str, Any]] = []
    for uuid, row in rows.items():
        if row is None:
            events.append((uuid, _DELETE))
        elif row.__class__ is not dict:
            return None
        else:
            value = row.get(column)
            events.append((uuid, value if value is None or value.__class__ is str
                           else _NOT_PLAIN))
    return events
