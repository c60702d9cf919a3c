"""Cut one large standalone transaction record into per-table byte slices, unparsed.

A compacted NB is one record ``{"T1":{rows},"T2":{rows},...,"_date":N,...}``.  Cutting it
at the table boundaries lets the reader parse a table only when something reads it (an
``nat`` never touches ACLs, port groups or address sets, often most of a real NB) and
keeps the parser's working memory to one table at a time (design.md, Performance).

A boundary is a ``}`` then ``,`` then the quoted name of the next top-level key (OVN
table names are capitalized, the specials start with ``_``); one regular-expression pass
finds them all.  In valid JSON that sequence cannot lie inside a string (the quote after
the comma would end the string, and a string is never followed by a letter), nor inside
a row: rows hold datum JSON (atoms and arrays, no objects), and row keys are lower-case
UUIDs.  Every boundary must name a table of the schema or a special key, in an order
that accounts for each one; each slice is checked when it is parsed.  Anything else
returns None and the caller parses the record whole, which reports what is wrong.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Collection, Optional

SPECIALS = ("_date", "_comment", "_is_diff")
_BOUNDARY = re.compile(rb'\}\s*,\s*"(?=[A-Z_])')
_KEY = re.compile(rb'"([A-Za-z_][A-Za-z0-9_]*)"\s*:\s*')
_SPACE = b" \t\r\n"


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


def _scalar_end(raw: bytes, start: int) -> int:
    """Index just past the scalar (string, number, true/false) at ``raw[start]``."""
    if raw[start:start + 1] == b'"':
        return _string_end(raw, start)
    ends = [i for i in (raw.find(b",", start), raw.find(b"}", start)) if i >= 0]
    return min(ends) if ends else -1


def _skip_space(raw: bytes, pos: int) -> int:
    while pos < len(raw) and raw[pos] in _SPACE:
        pos += 1
    return pos


def split_tables(raw: bytes, tables: Collection[str], loads: Callable[[bytes], Any]
                 ) -> Optional[tuple[dict[str, Any], list[tuple[str, bytes]]]]:
    """``(specials, [(table, slice), ...])`` for a transaction record, where each slice is
    that table's ``{uuid: row}`` JSON and specials holds ``_date``, ``_comment`` and
    ``_is_diff``; None for any other layout or a key the schema lacks (the caller then
    parses the record whole and reports it)."""
    text = raw
    last = len(text) - 1                       # the record's closing brace
    while last > 0 and text[last] in _SPACE:
        last -= 1
    if text[:1] != b"{" or text[last:last + 1] != b"}":
        return None
    boundaries = [m.end() - 1 for m in _BOUNDARY.finditer(text, 0, last)]  # next key quotes
    specials: dict[str, Any] = {}
    slices: list[tuple[str, bytes]] = []
    used = 0
    pos = _skip_space(text, 1)
    while True:
        key = _KEY.match(text, pos)
        if key is None:
            return None
        name = key.group(1).decode()
        value = key.end()
        if name in specials or any(name == n for n, _ in slices):
            return None
        if name in SPECIALS:
            end = _scalar_end(text, value)
            if end < 0:
                return None
            try:
                specials[name] = loads(text[value:end])
            except ValueError:
                return None
            after = _skip_space(text, end)
            if after == last:
                break
            if text[after:after + 1] != b",":
                return None
            pos = _skip_space(text, after + 1)
            continue
        if name not in tables or text[value:value + 1] != b"{":
            return None
        if used < len(boundaries):
            quote = boundaries[used]
            used += 1
            end = text.rfind(b"}", value, quote) + 1
            if end <= value:
                return None
            slices.append((name, text[value:end]))
            pos = quote
            continue
        end = text.rfind(b"}", value, last) + 1  # the last key: its value closes before ours
        if end <= value or _skip_space(text, end) != last:
            return None
        slices.append((name, text[value:end]))
        break
    if used != len(boundaries):
        return None
    return specials, slices
