"""One table's rows as an unparsed slice of a transaction record (txn_split).

The slice is parsed whole the first time something reads the table.  A caller that only
looks rows up by a string column (``nat`` checking the switch ports its FIPs name, in a
100k-port NB) is answered without that: two byte searches list the column's values and
where the rows start, and only the rows asked for are parsed.

Why a byte search is exact here (the argument of txn_split): in valid JSON an unescaped
``"`` delimits a string, and a string followed by ``:`` is an object key.  A row is a flat
object of datum JSON (atoms and arrays, no objects) under its UUID key, so in the compact
layout ovsdb-server writes, ``":{`` ends a row key unless it lies inside a string, and
``"<column>":"<text>"`` is that column of a row.  Whether a value exists is answered when
every key of the column holds a plain string (no escapes, no spaces).  Rows are found only
when there are also exactly as many row keys as column keys, so the n-th value belongs to
the n-th row; each row parsed is checked to hold the value looked up.  Anything else
(spaces, rows without the column, ``":{`` inside a string) makes the caller parse the
table whole.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Optional

from ..errors import InputError
from .records import gc_paused

UNINDEXED = object()  # the answer when the slice cannot be searched: parse it whole
_ROW_KEY_END = re.compile(rb'":\{')
_PLAIN_WORD = re.compile(r"[A-Za-z0-9_.:-]+")
#: a row key and what follows: a row object, or ``null`` (a deletion, in a log's part)
ROW_KEY = re.compile(rb'"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})":'
                     rb'(\{|null[,}])')
CHECK_CHUNK = 4 << 20
FEW_ROWS = 64   # row_starts: up to this many rows are searched for one by one


class TableSlice:
    """The ``{uuid: row}`` JSON of one table that only inserts into an empty table."""

    def __init__(self, raw: bytes, parse: Callable[[bytes], Any],
                 check: Callable[[Any], None],
                 check_shape: Optional[Callable[[Any], None]] = None) -> None:
        self.raw = raw
        self._parse = parse      # bytes -> JSON (raises the source's error)
        self._check = check      # raises the source's error for rows a replay would reject
        self._check_shape = check_shape or check  # the cheap part of it, for check_all
        self._row_keys: Optional[list[int]] = None            # offsets of each '":{'
        self._values: dict[str, Optional[dict[bytes, int]]] = {}  # column -> {value: row #}
        self._aligned: set[str] = set()  # columns whose n-th value is the n-th row's
        self._parsed: dict[int, tuple[str, dict]] = {}          # row # -> (uuid, row)
        self._mentions: dict[str, Any] = {}  # text -> rows_with_string's answer
        self._starts: Optional[dict[str, int]] = None  # every row's start (row_starts)

    def load(self) -> dict[str, dict]:
        """Every row, parsed and checked."""
        with gc_paused():
            rows = self._parse(self.raw)
            self._check(rows)
        return rows

    def check_all(self, keys: Optional[set[str]] = None) -> None:
        """Parse every row and check its shape (``check_shape``: row keys, objects, column
        names), without keeping them (their UUIDs go to ``keys``): in pieces of about
        CHECK_CHUNK bytes cut between rows, each parsed, checked and dropped (memory stays
        low).  A cut that is not between two rows leaves a piece that is not valid JSON
        (its last string is unterminated), so it is never wrongly accepted: any piece that
        fails to parse sends the whole slice through ``load``, which gives the verdict."""
        raw = self.raw
        end = len(raw) - 1                       # the slice's closing brace
        pos = 1
        with gc_paused():
            while pos < end:
                cut = raw.find(b'},"', pos + CHECK_CHUNK, end)
                stop = end if cut < 0 else cut + 1
                try:
                    rows = self._parse(b"{" + raw[pos:stop] + b"}")
                except InputError:  # the piece, not the slice, may be bad: decide on the whole
                    rows = None
                if rows.__class__ is not dict:
                    rows = self.load()
                    if keys is not None:
                        keys.update(rows)
                    return
                self._check_shape(rows)
                if keys is not None:
                    keys.update(rows)
                del rows
                pos = stop + 1

    def rows_at(self, starts: dict[str, int]) -> Optional[dict[str, dict]]:
        """The rows whose objects open at ``starts`` (by UUID, from a ROW_KEY search),
        parsed and checked; None when the spans do not read as those rows."""
        with gc_paused():
            rows = self._parse(row_spans(self.raw, starts.values()))
        if rows.__class__ is not list or len(rows) != len(starts) or any(
                row.__class__ is not dict for row in rows):
            return None
        found = dict(zip(starts, rows))
        self._check(found)
        return found

    def row_starts(self, uuids: list[str]) -> dict[str, int]:
        """Where the rows ``uuids`` open (``rows_at``'s argument; a UUID with no row is left
        out).  A few are searched for one by one (``find_row_starts``); more read every row
        key once, kept for the next call."""
        starts = self._starts
        if starts is None and len(uuids) <= FEW_ROWS:
            return find_row_starts(self.raw, uuids)
        if starts is None:
            starts = self._starts = {m.group(1).decode(): m.end(2) - 1
                                     for m in ROW_KEY.finditer(self.raw) if m.group(2) == b"{"}
        return {u: starts[u] for u in uuids if u in starts}

    def has(self, column: str, value: str) -> Any:
        """Whether a row's string ``column`` is ``value``, or UNINDEXED."""
        index = self._index(column)
        return UNINDEXED if index is None else value.encode() in index

    def find(self, column: str, values: Iterable[str]) -> Any:
        """``{value: (uuid, row) or None}``: for each value the first row whose string
        ``column`` has it, the rows parsed in one go; or UNINDEXED."""
        index = self._index(column)
        if index is None or column not in self._aligned:
            return UNINDEXED
        raw, keys, parsed = self.raw, self._row_keys, self._parsed
        assert keys is not None
        last = len(keys) - 1
        out: dict[str, Optional[tuple[str, dict]]] = {}
        todo: list[tuple[str, int]] = []
        for value in values:
            number = index.get(value.encode())
            if number is None:
                out[value] = None
            elif number in parsed:
                out[value] = parsed[number]
            elif value not in out:
                out[value] = None  # filled in below
                todo.append((value, number))
        if not todo:
            return out
        spans = []
        for _, number in todo:
            start = keys[number] + 2
            spans.append(raw[start:raw.rfind(b"}", start, keys[number + 1] if number < last
                                             else len(raw) - 1) + 1])
        with gc_paused():
            rows = self._parse(b"[" + b",".join(spans) + b"]")
        if rows.__class__ is not list or len(rows) != len(todo):
            return UNINDEXED
        uuids = [raw[keys[number] - 36:keys[number]].decode() for _, number in todo]
        for (value, _), row in zip(todo, rows):
            if row.__class__ is not dict or row.get(column) != value:
                return UNINDEXED  # not the row layout assumed: parse the table whole
        self._check(dict(zip(uuids, rows)))
        for (value, number), uuid, row in zip(todo, uuids, rows):
            out[value] = parsed[number] = (uuid, row)
        return out

    def rows_with_string(self, text: str) -> Any:
        """``{uuid: row}`` of every row that holds the string ``text`` anywhere (as a
        value, a map key or a set member: a superset of the rows where one column has it,
        for the caller to filter), in row order; or UNINDEXED.

        Exact when ``text`` has only letters, digits and ``_.:-``: such a string can only
        be written as those bytes between two unescaped quotes unless the slice uses a
        ``\\u`` escape (then: UNINDEXED), and those bytes cannot lie inside another
        string (its quotes would be escaped)."""
        found = self._mentions.get(text)
        if found is None:
            found = self._mentions[text] = self._rows_with_string(text)
        return found

    def _rows_with_string(self, text: str) -> Any:
        raw = self.raw
        if not _PLAIN_WORD.fullmatch(text) or b"\\u" in raw:
            return UNINDEXED
        needle = f'"{text}"'.encode()
        starts: dict[str, int] = {}
        pos = raw.find(needle)
        while pos >= 0:
            key = row_key_before(raw, pos)
            if key is None:
                return UNINDEXED
            starts[key.group(1).decode()] = key.end() - 1
            after = ROW_KEY.search(raw, pos)   # the next row: search on from there
            pos = raw.find(needle, after.start()) if after is not None else -1
        if not starts:
            return {}
        found = self.rows_at(starts)
        return UNINDEXED if found is None else found

    def _index(self, column: str) -> Optional[dict[bytes, int]]:
        """Row numbers by the column's value (first row wins; -1 when the values cannot be
        matched to rows); None when some key of the column is not a plain string."""
        if column in self._values:
            return self._values[column]
        raw = self.raw
        quoted = f'"{column}"'.encode()
        key = re.escape(quoted)
        values = re.findall(key + rb':"([^"\\]*)"', raw)
        index = None
        # every key of the column matched? (a count of the quoted name, unless a string
        # value equals it: then an exact count of the keys)
        if len(values) == raw.count(quoted) or len(values) == len(re.findall(key + rb"\s*:",
                                                                           raw)):
            if self._row_keys is None:
                self._row_keys = [m.start() for m in _ROW_KEY_END.finditer(raw)]
            if len(self._row_keys) == len(values):
                index = dict(zip(reversed(values), range(len(values) - 1, -1, -1)))
                self._aligned.add(column)
            else:
                index = dict.fromkeys(values, -1)
        self._values[column] = index
        return index


def find_row_starts(raw: bytes, uuids: Iterable[str]) -> dict[str, int]:
    """Where the rows ``uuids`` open in a table's ``{uuid: row}`` JSON, a search each (a
    UUID with no row is left out): ``"<uuid>":{`` is only ever a row key, since inside a
    string its quotes would be escaped."""
    out = {}
    for uuid in uuids:
        at = raw.find(b'"%s":{' % uuid.encode())
        if at >= 0:
            out[uuid] = at + 39
    return out


def row_key_before(raw: bytes, pos: int) -> Optional[re.Match]:
    """The ROW_KEY match of the row whose object holds byte ``pos`` of a table's
    ``{uuid: row}`` JSON, or None (a ``":{`` inside a string is passed over)."""
    end = raw.rfind(b'":{', 0, pos)
    while end >= 37:
        match = ROW_KEY.match(raw, end - 37)
        if match is not None:
            return match
        end = raw.rfind(b'":{', 0, end)
    return None


def row_spans(raw: bytes, starts: Iterable[int]) -> bytes:
    """A JSON array of the row objects that open at ``starts``: each ends at the last
    ``}`` before the next row key (ROW_KEY), or before the closing brace of ``raw``."""
    out = []
    for start in starts:
        after = ROW_KEY.search(raw, start)
        stop = after.start() if after is not None else len(raw) - 1
        out.append(raw[start:raw.rfind(b"}", start, stop) + 1])
    return b"[" + b",".join(out) + b"]"
