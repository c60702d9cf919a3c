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
_BOOLEANS = {b"true": True, b"false": False}
_INTEGER = re.compile(rb"0|-?[1-9][0-9]{0,17}")  # fits an int64: as a parser reads it


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


def split_tables(raw: bytes, tables: Collection[str], loads: Callable[[bytes], Any],
                 start: int = 0, stop: Optional[int] = None
                 ) -> Optional[tuple[dict[str, Any], list[tuple[str, bytes]]]]:
    """``(specials, [(table, slice), ...])`` for a transaction record (or the transaction
    at ``raw[start:stop]``), where each slice is that table's ``{uuid: row}`` JSON and
    specials holds ``_date``, ``_comment`` and ``_is_diff``; None for any other layout or
    a key the schema lacks (the caller then parses the record whole and reports it)."""
    text = raw
    last = (len(text) if stop is None else stop) - 1  # the transaction's closing brace
    while last > start and text[last] in _SPACE:
        last -= 1
    if text[start:start + 1] != b"{" or text[last:last + 1] != b"}" or last <= start:
        return None
    boundaries = [m.end() - 1 for m in _BOUNDARY.finditer(text, start, last)]  # next keys
    specials: dict[str, Any] = {}
    slices: list[tuple[str, bytes]] = []
    used = 0
    pos = _skip_space(text, start + 1)
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
            scalar = text[value:end]
            if scalar in _BOOLEANS:  # the usual _is_diff and _date, without a parser
                specials[name] = _BOOLEANS[scalar]
            elif _INTEGER.fullmatch(scalar):
                specials[name] = int(scalar)
            else:
                try:
                    specials[name] = loads(scalar)
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


# -- the snapshot inside a raft header -----------------------------------------------------
# A clustered file's record 0 is ``{..., "prev_data": [schema, snapshot], ...}`` (the
# snapshot an embedded JSON object, in OVS 3.1 as in later releases), the members in hash
# order.  Strings and brackets, as a JSON tokenizer sees them:
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_PREFIX_TOKENS = 10000   # the members before prev_data are a few scalars and prev_servers
_END_TRIES = 64          # ']' tried, from the end, as the one that closes prev_data


def _member_value(raw: bytes, name: bytes) -> int:
    """Where the value of the top-level member ``name`` (quoted) of the object ``raw``
    starts, or -1 (not found among the first members)."""
    depth = 0
    for count, match in enumerate(_TOKEN.finditer(raw)):
        if count > _PREFIX_TOKENS:
            return -1
        token = raw[match.start()]
        if token == 0x22:  # a string: a key when it is followed by ':'
            if depth == 1 and match.group() == name:
                colon = _skip_space(raw, match.end())
                if raw[colon:colon + 1] == b":":
                    return _skip_space(raw, colon + 1)
        elif token in b"{[":
            depth += 1
        else:
            depth -= 1
            if depth <= 0:
                return -1
    return -1


def _container_end(raw: bytes, start: int) -> int:
    """Index just past the object or array that opens at ``raw[start]`` (-1: none)."""
    depth = 0
    for match in _TOKEN.finditer(raw, start):
        token = raw[match.start()]
        if token == 0x22:
            continue
        depth += 1 if token in b"{[" else -1
        if depth == 0:
            return match.end()
    return -1


def split_raft_header(raw: bytes, loads: Callable[[bytes], Any]
                      ) -> Optional[tuple[dict[str, Any], int, int]]:
    """``(header, start, stop)`` for a raft header record whose ``prev_data`` is
    ``[schema, {snapshot}]``: ``raw[start:stop]`` is the snapshot transaction, unparsed,
    and ``header`` the rest of the record parsed, with ``null`` in its place.  None for any
    other layout (the caller parses the record whole).

    Why this is exact: the tokenizer finds the top-level ``prev_data`` and the end of the
    schema in the bytes before the snapshot, so ``start`` is where ``prev_data[1]`` begins
    once ``header`` parses (that prefix then is valid JSON); and when ``header`` parses
    and ``raw[start:stop]`` is a valid object (split_tables' slices, each checked when
    parsed), putting one valid value in place of another leaves ``raw`` valid JSON, read as
    ``header`` with the snapshot in ``prev_data[1]``.  A second ``prev_data`` member (the
    last one counts) is left to the whole parse."""
    value = _member_value(raw, b'"prev_data"')
    if value < 0 or raw[value:value + 1] != b"[":
        return None
    first = _skip_space(raw, value + 1)
    if raw[first:first + 1] != b"{":
        return None
    schema_end = _container_end(raw, first)
    comma = _skip_space(raw, schema_end) if schema_end > 0 else -1
    if comma < 0 or raw[comma:comma + 1] != b",":
        return None
    start = _skip_space(raw, comma + 1)
    if raw[start:start + 1] != b"{":
        return None
    close = len(raw)
    for _ in range(_END_TRIES):
        close = raw.rfind(b"]", start, close)
        if close < 0:
            return None
        stop = close
        while raw[stop - 1] in _SPACE:
            stop -= 1
        if raw[stop - 1:stop] != b"}":
            continue
        rest = raw[:start] + b"null" + raw[stop:]
        if rest.count(b'"prev_data"') != 1:
            return None
        try:
            header = loads(rest)
        except ValueError:
            continue
        prev = header.get("prev_data") if header.__class__ is dict else None
        if prev.__class__ is list and len(prev) == 2 and prev[1] is None:
            return header, start, stop
    return None
