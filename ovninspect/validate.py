"""Row values checked as ovsdb-server checks them when it reads a database.

lib/ovsdb-data.c (ovsdb_datum_from_json, ovsdb_atom_from_json, ovsdb_atom_check_constraints,
ovsdb_datum_sort) and lib/json.c define what a stored value may be:

* an atom of the column's type: a JSON string, an integer in the signed 64-bit range (a
  number with an integral value, such as ``1.0``, is an integer), a finite real, a boolean,
  ``["uuid", "<36 hex-and-dash characters>"]``; within the column's enum, integer/real
  range and string length (in characters);
* a set ``["set", [atoms]]`` (or one bare atom) and a map ``["map", [[k, v], ...]]`` whose
  size lies within the column's min/max and which holds no duplicate key;
* a column *diff* (``_is_diff``) is parsed without the size rules; its result is sized
  when applied.

Rows are checked a column at a time: the common cases are decided with set and map
operations at C speed, and only a column that fails them is walked value by value to
name the first bad row.  Row keys must be UUIDs; references are checked for their syntax
here (their targets when transactions are verified, sources/integrity.py).
"""

from __future__ import annotations

import operator
import re
from itertools import chain
from typing import Any, Collection, Iterable, Optional

from .schema import INT64_MAX, INT64_MIN, MAP, AtomRules, ColumnType, DatumError

UUID_MATCH = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z").match
DBL_MAX = 1.7976931348623157e308
_first, _second = operator.itemgetter(0), operator.itemgetter(1)
_STR, _INT, _BOOL, _LIST = {str}, {int}, {bool}, {list}
_NUMBERS = frozenset({int, float})
_PLAIN_STRING = AtomRules("string")
_UNLIMITED = 1 << 31
_LOWER_HEX_DASH = b"0123456789abcdef-"


class BadValue(DatumError):
    """A stored value ovsdb-server refuses: names the table, row and column."""

    def __init__(self, table: str, uuid: str, column: Optional[str], problem: str) -> None:
        where = f"{table} row {uuid}" + (f" column {column}" if column else "")
        super().__init__(f"{where}: {problem}")
        self.table, self.uuid, self.column, self.problem = table, uuid, column, problem


def short(raw: Any, limit: int = 60) -> str:
    text = repr(raw)
    return text if len(text) <= limit else text[:limit - 3] + "..."


# -- one value at a time: the definition, and the messages -------------------------------
def atom_error(rules: AtomRules, raw: Any) -> Optional[str]:
    """Why ``raw`` is not a valid atom of ``rules`` (None when it is)."""
    typ, cls = rules.type, raw.__class__
    if typ == "string":
        if cls is not str:
            return f"expected a string, got {short(raw)}"
        size = len(raw)
        if size < rules.min_length:
            return f"string {short(raw)} is shorter than the minimum length {rules.min_length}"
        if rules.max_length is not None and size > rules.max_length:
            return f"string {short(raw)} is longer than the maximum length {rules.max_length}"
    elif typ == "integer":
        if cls is float and raw.is_integer() and INT64_MIN < raw < INT64_MAX:
            raw = int(raw)       # lib/json.c reads 1.0 and 1e2 as integers
        elif cls is not int:
            return f"expected an integer, got {short(raw)}"
        elif not INT64_MIN <= raw <= INT64_MAX:
            return f"integer {raw} does not fit in 64 bits"
        if ((rules.min is not None and raw < rules.min)
                or (rules.max is not None and raw > rules.max)):
            return f"{raw} is not in the valid range {_range(rules)}"
    elif typ == "real":
        if cls not in _NUMBERS:
            return f"expected a real number, got {short(raw)}"
        if not -DBL_MAX <= raw <= DBL_MAX:
            return f"number {short(raw)} is out of the range of a double"
        if ((rules.min is not None and raw < rules.min)
                or (rules.max is not None and raw > rules.max)):
            return f"{raw} is not in the valid range {_range(rules)}"
    elif typ == "boolean":
        if cls is not bool:
            return f"expected a boolean, got {short(raw)}"
    elif typ == "uuid":
        if cls is list and len(raw) == 2 and raw[0] == "named-uuid":
            return "named-uuid is not allowed in a database file"
        if cls is not list or len(raw) != 2 or raw[0] != "uuid" or raw[1].__class__ is not str:
            return f'expected ["uuid", <string>], got {short(raw)}'
        if not UUID_MATCH(raw[1]):
            return f"{short(raw[1])} is not a valid UUID"
    else:
        return f"unknown atomic type {typ}"
    if rules.enum is not None and raw not in rules.enum:
        allowed = ", ".join(sorted(map(str, rules.enum)))
        return f"{short(raw)} is not one of the allowed values ({allowed})"
    return None


def _range(rules: AtomRules) -> str:
    low = "-inf" if rules.min is None else f"{rules.min:g}"
    high = "inf" if rules.max is None else f"{rules.max:g}"
    return f"{low} to {high}"


def _atom_key(raw: Any) -> Any:
    """What makes two atoms equal (UUIDs compare by value, whatever their case)."""
    return raw[1].lower() if raw.__class__ is list else raw


def datum_error(ctype: ColumnType, raw: Any, sizes: bool = True) -> Optional[str]:
    """Why ``raw`` is not a valid datum of ``ctype`` (None when it is).  ``sizes=False``
    for a column diff, which may break the size rules (ovsdb_transient_datum_from_json)."""
    key_rules = ctype.key_rules
    if key_rules is None:
        return None  # a column type inferred from an export: nothing to check against
    is_map = ctype.kind == MAP
    if not is_map and not (raw.__class__ is list and raw and raw[0] == "set"):
        return atom_error(key_rules, raw)
    name = "map" if is_map else "set"
    if raw.__class__ is not list or len(raw) != 2 or raw[0] != name or \
            raw[1].__class__ is not list:
        return f'expected ["{name}", <array>], got {short(raw)}'
    items = raw[1]
    size = len(items)
    if sizes and not ctype.n_min <= size <= ctype.n_max:
        return (f"{name} has {size} members, not "
                + (str(ctype.n_min) if ctype.n_min == ctype.n_max else
                   f"{ctype.n_min} to {ctype.n_max}"))
    keys = []
    for item in items:
        key = item
        if is_map:
            if item.__class__ is not list or len(item) != 2:
                return f"map member {short(item)} is not a [key, value] pair"
            key, value = item
            assert ctype.value_rules is not None
            error = atom_error(ctype.value_rules, value)
            if error:
                return error
        error = atom_error(key_rules, key)
        if error:
            return error
        keys.append(_atom_key(key))
    if len(set(keys)) != len(keys):
        return "map contains a duplicate key" if is_map else "set contains a duplicate"
    return None


# -- a whole column of many rows, at C speed where it can be ----------------------------
def _atoms_ok(rules: AtomRules, atoms: list) -> bool:
    """True when every atom is surely valid (False: look at each one)."""
    if not atoms:
        return True
    types = set(map(type, atoms))
    typ = rules.type
    if typ == "string":
        if types != _STR:
            return False
        if rules.min_length or rules.max_length is not None:
            lengths = list(map(len, atoms))
            if min(lengths) < rules.min_length or (
                    rules.max_length is not None and max(lengths) > rules.max_length):
                return False
    elif typ == "integer":
        if types != _INT:
            return False
        low = INT64_MIN if rules.min is None else max(INT64_MIN, rules.min)
        high = INT64_MAX if rules.max is None else min(INT64_MAX, rules.max)
        if min(atoms) < low or max(atoms) > high:
            return False
    elif typ == "real":
        if not types <= _NUMBERS:
            return False
        low = -DBL_MAX if rules.min is None else max(-DBL_MAX, rules.min)
        high = DBL_MAX if rules.max is None else min(DBL_MAX, rules.max)
        if min(atoms) < low or max(atoms) > high:
            return False
    elif typ == "boolean":
        if types != _BOOL:
            return False
    elif typ == "uuid":
        if types != _LIST or dict(atoms).keys() != {"uuid"}:  # dict: each is a pair
            return False
        return rules.enum is None and _all_uuids(list(map(_second, atoms)))
    else:
        return False
    return rules.enum is None or set(atoms) <= rules.enum


def _unique(lists: list, uuid: bool) -> bool:
    """True when no list holds an atom twice (UUID atoms: lower-case ones, see _all_uuids)."""
    if uuid:
        return all(len(set(map(_second, x))) == len(x) for x in lists)
    return sum(map(len, map(set, lists))) == sum(map(len, lists))


def _all_uuids(texts: Collection[str]) -> bool:
    """True when every string is a UUID in lower case, decided on their bytes in bulk
    (False: some is not, or is upper case, or is no string)."""
    count = len(texts)
    if not count:
        return True
    try:
        if set(map(len, texts)) != {36}:
            return False
        raw = "".join(texts).encode("ascii")
    except (TypeError, UnicodeEncodeError):
        return False
    dashes = b"-" * count
    return (not raw.translate(None, _LOWER_HEX_DASH) and raw.count(b"-") == 4 * count
            and all(raw[at::36] == dashes for at in (8, 13, 18, 23)))


def _column_ok(ctype: ColumnType, values: list, sizes: bool) -> bool:
    """True when every value of the column is surely valid."""
    key_rules = ctype.key_rules
    if key_rules is None or not values:
        return True
    types = set(map(type, values))
    if ctype.kind == MAP:
        if types != _LIST or dict(values).keys() != {"map"}:  # dict: each is a pair
            return False
        inner = list(map(_second, values))
        if set(map(type, inner)) != _LIST:
            return False
        if sizes and (ctype.n_min or ctype.n_max < _UNLIMITED):
            lengths = list(map(len, inner))
            if min(lengths) < ctype.n_min or max(lengths) > ctype.n_max:
                return False
        pairs = list(chain.from_iterable(inner))
        if not pairs:
            return True
        if set(map(type, pairs)) != _LIST:
            return False
        value_rules = ctype.value_rules
        assert value_rules is not None
        if key_rules == _PLAIN_STRING and value_rules == _PLAIN_STRING:
            # dict() of each map takes only pairs and counts their distinct keys
            return (sum(map(len, map(dict, inner))) == len(pairs)
                    and set(map(type, chain.from_iterable(pairs))) == _STR)
        if set(map(len, pairs)) != {2}:
            return False
        if not (_atoms_ok(key_rules, list(map(_first, pairs)))
                and _atoms_ok(value_rules, list(map(_second, pairs)))):
            return False
        if key_rules.type == "uuid":
            return all(len({k[1] for k, _ in x}) == len(x) for x in inner)
        return sum(map(len, map(dict, inner))) == len(pairs)
    if key_rules.type != "uuid" and list not in types:
        return _atoms_ok(key_rules, values)  # bare atoms only: the common case
    atoms, sets = [], []
    for value in values:
        if value.__class__ is list and value and value[0] == "set":
            sets.append(value)
        else:
            atoms.append(value)
    if sets:
        if set(map(len, sets)) != {2}:
            return False
        inner = list(map(_second, sets))
        if set(map(type, inner)) != _LIST:
            return False
        if sizes:
            lengths = list(map(len, inner))
            if min(lengths) < ctype.n_min or max(lengths) > ctype.n_max:
                return False
        members = list(chain.from_iterable(inner))
        if not _atoms_ok(key_rules, members) or not _unique(inner, key_rules.type == "uuid"):
            return False
    return _atoms_ok(key_rules, atoms)


def _by_column(data: list[dict], names: Iterable[str]) -> dict[str, list]:
    """The values of each column, in row order, gathered in one pass over the rows."""
    by_column: dict[str, list] = {name: [] for name in names}
    for row in data:
        for name in row:
            by_column[name].append(row[name])
    return by_column


def check_rows(table: str, columns: dict[str, ColumnType], rows: dict[str, Any],
               diff_columns: Iterable[str] = (), values: bool = True) -> None:
    """Raise BadValue for the first row whose key is not a UUID, which is not an object
    (``null``, a deletion, is let through), which names a column the schema lacks or
    holds a value ovsdb-server refuses (``values=False``: the values are not looked at).
    ``diff_columns`` hold column diffs (no size rules)."""
    if not _all_uuids(rows) and not all(map(UUID_MATCH, rows)):
        bad = next(u for u in rows if not UUID_MATCH(u))
        raise BadValue(table, short(bad), None, "row key is not a valid UUID")
    data = list(rows.values())
    if None in data:
        data = [r for r in data if r is not None]
        rows = {u: r for u, r in rows.items() if r is not None}
    if set(map(type, data)) - {dict}:
        uuid = next(u for u, r in rows.items() if r.__class__ is not dict)
        raise BadValue(table, uuid, None, "row is not a JSON object")
    present = set().union(*data) if data else set()
    unknown = present - columns.keys()
    if unknown:
        name = sorted(unknown)[0]
        uuid = next(u for u, r in rows.items() if name in r)
        raise BadValue(table, uuid, short(name), f"no such column in table {table}")
    if not values:
        return
    diffs = frozenset(diff_columns)
    by_column = _by_column(data, present)
    for column in present:
        ctype = columns[column]
        sizes = column not in diffs
        values = by_column[column]
        try:
            if _column_ok(ctype, values, sizes):
                continue
        except (TypeError, ValueError):  # e.g. an unhashable list where an atom should be,
            pass                          # a list not a pair given to dict()
        for uuid, row in rows.items():
            if column in row:
                error = datum_error(ctype, row[column], sizes)
                if error:
                    raise BadValue(table, uuid, column, error)
