"""Cut one large standalone transaction record into per-table byte slices, unparsed.

A compacted NB is one record ``{"T1":{rows},"T2":{rows},...,"_date":N,...}``.  Cutting it
at the table boundaries lets the reader parse a table only when something reads it (an
``nat`` never touches ACLs, port groups or address sets, often most of a real NB) and
keeps the parser's working memory to one table at a time (design.md, Performance).

Finding a boundary without parsing is safe in valid JSON: a table's value ends with
``}}`` (last row, then the table) or ``null}`` (last row deleted), and what follows is
``,"<Table>":`` or ``,"_special":`` or the closing ``}``.  That sequence cannot occur inside
a string: the quote after the comma would end the string, and a string is never
followed by a letter.  Rows hold datum JSON (atoms and arrays, never objects), so no
``}}`` inside a row can end a table early.  Each slice is checked when it is parsed;
anything not laid out this way returns None and the caller parses the whole record.
"""

from __future__ import annotations

from typing import Any, Callable, Collection, Optional

_MAX_FALSE_CANDIDATES = 10_000


def _string_end(raw: bytes, start: int) -> int:
    """Index just past the JSON string that opens at ``raw[start]`` (-1 if unterminated)."""
    pos = start + 1
    while True:
        quote = raw.find(b'"', pos)
        if quote < 0:
            return -1
        backslashes = 0
        back = quote - 1
        while raw[back] == 0x5C:  # an odd run of backslashes escapes the quote
            backslashes += 1
            back -= 1
        if backslashes % 2 == 0:
            return quote + 1
        pos = quote + 1


def _key_at(raw: bytes, pos: int) -> Optional[tuple[str, int]]:
    """The object key whose opening quote is at ``pos`` and the index of its value, for
    the plain keys a transaction has (table names and ``_date``-style specials)."""
    if raw[pos:pos + 1] != b'"':
        return None
    end = raw.find(b'"', pos + 1)
    if end < 0 or raw[end + 1:end + 2] != b":":
        return None
    key = raw[pos + 1:end]
    if b"\\" in key:
        return None
    return key.decode("utf-8", "replace"), end + 2


class _Marks:
    """The next ``}}`` and ``null}`` at or after a position, each searched for once per
    stretch of the record (a plain ``find`` per table would rescan a missing marker to
    the end of the record every time)."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.found = {b"}}": -2, b"null}": -2}   # -2: not searched yet, -1: none left

    def next(self, marker: bytes, pos: int) -> int:
        at = self.found[marker]
        if at == -2 or (at != -1 and at < pos):
            at = self.found[marker] = self.raw.find(marker, pos)
        return at


def _table_end(raw: bytes, start: int, tables: Collection[str], marks: _Marks) -> int:
    """Index just past the table value that opens at ``raw[start]`` (-1 when not found)."""
    if raw[start + 1:start + 2] == b"}":
        return start + 2
    pos = start
    for _ in range(_MAX_FALSE_CANDIDATES):
        closing = marks.next(b"}}", pos)
        deleted = marks.next(b"null}", pos)
        if closing < 0 and deleted < 0:
            return -1
        end = deleted + 5 if deleted >= 0 and (closing < 0 or deleted < closing) else closing + 2
        after = raw[end:end + 2]
        if after == b',"':
            key = _key_at(raw, end + 1)
            if key is not None and (key[0] in tables or key[0].startswith("_")):
                return end
        elif after[:1] == b"}" and not raw[end + 1:].strip():
            return end
        pos = end - 1
    return -1


def _scalar_end(raw: bytes, start: int) -> int:
    """Index just past the scalar (string, number, true/false) at ``raw[start]``."""
    if raw[start:start + 1] == b'"':
        return _string_end(raw, start)
    ends = [i for i in (raw.find(b",", start), raw.find(b"}", start)) if i >= 0]
    return min(ends) if ends else -1


def split_tables(raw: bytes, tables: Collection[str], loads: Callable[[bytes], Any]
                 ) -> Optional[tuple[dict[str, Any], list[tuple[str, bytes]]]]:
    """``(specials, [(table, slice), ...])`` for a transaction record laid out as
    ovsdb-server writes it, where each slice is that table's ``{uuid: row}`` JSON and
    specials holds ``_date``, ``_comment``, ``_is_diff``; None for any other layout or a
    table the schema lacks (the caller then parses the record whole and reports it)."""
    if raw[:2] != b'{"':
        return None
    specials: dict[str, Any] = {}
    slices: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    marks = _Marks(raw)
    pos = 1
    while True:
        key = _key_at(raw, pos)
        if key is None or key[0] in seen:
            return None
        name, value = key
        seen.add(name)
        if name.startswith("_"):
            end = _scalar_end(raw, value)
            if end < 0:
                return None
            try:
                specials[name] = loads(raw[value:end])
            except ValueError:
                return None
        elif name in tables and raw[value:value + 1] == b"{":
            end = _table_end(raw, value, tables, marks)
            if end < 0:
                return None
            slices.append((name, raw[value:end]))
        else:
            return None
        if raw[end:end + 2] == b',"':
            pos = end + 1
            continue
        if raw[end:end + 1] == b"}" and not raw[end + 1:].strip():
            return specials, slices
        return None
