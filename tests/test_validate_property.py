"""validate's bulk checks against its value-at-a-time definition (datum_error): random
columns mixing valid and invalid values of the shapes the fast paths decide in bulk
(string maps, UUID sets, bare atoms, row keys).  A fast path may say "surely valid" only
when every value is; check_rows names the first bad row exactly as the slow walk does."""

from __future__ import annotations

from typing import Any, Optional

from hypothesis import example, given
from hypothesis import strategies as st

from ovninspect.schema import AtomRules, ColumnType
from ovninspect.validate import (
    UUID_MATCH,
    BadValue,
    _all_uuids,
    _column_ok,
    check_rows,
    datum_error,
)

UUIDS = ["0b02cb02-996b-494d-8bd4-8ec4d6a140cd", "092196c4-0198-4d9e-bd90-b53c13488d4b"]
UUID_TEXTS = st.sampled_from(UUIDS + [u.upper() for u in UUIDS] + [
    UUIDS[0][:35], UUIDS[0] + "0", UUIDS[0].replace("-", "0"), UUIDS[0][:8] + "0" + UUIDS[0][9:],
    UUIDS[0][:8] + "-" * 5 + UUIDS[0][13:], "g" + UUIDS[0][1:], "é" + UUIDS[0][1:], "ab", ""])
ANY_UUID = st.one_of(UUID_TEXTS, st.text(max_size=40))
LEAF = st.one_of(st.text(max_size=3), st.sampled_from(["ab", "uuid", "map", "set"]),
                 st.integers(-3, 3), st.booleans(), st.none(), st.floats(allow_nan=False))
UUID_ATOM = st.one_of(st.tuples(st.just("uuid"), UUID_TEXTS).map(list),
                      st.tuples(st.sampled_from(["uuid", "named-uuid", "x"]),
                                st.one_of(ANY_UUID, LEAF)).map(list),
                      st.lists(st.just("uuid"), max_size=3), LEAF)
PAIR = st.one_of(st.tuples(LEAF, LEAF).map(list), st.tuples(st.text(max_size=2),
                                                            st.text(max_size=2)).map(list),
                 st.lists(st.text(max_size=2), max_size=3), LEAF,
                 st.tuples(UUID_ATOM, UUID_ATOM).map(list))
ATOM = st.one_of(LEAF, UUID_ATOM)


def _datum(name: str, member: st.SearchStrategy) -> st.SearchStrategy:
    inner = st.lists(member, max_size=4)
    return st.one_of(st.tuples(st.just(name), inner).map(list), ATOM,
                     st.tuples(st.sampled_from(["map", "set"]), inner).map(list),
                     st.tuples(st.just(name), inner, LEAF).map(list), st.just([name]),
                     st.tuples(st.just(name), LEAF).map(list))


STRING = AtomRules("string")
UUID = AtomRules("uuid", ref_table="T", ref_type="strong")
BIG = 2**63 - 1
TYPES: list[tuple[ColumnType, st.SearchStrategy]] = [
    (ColumnType("map", "string", "string", 0, BIG, key_rules=STRING, value_rules=STRING),
     _datum("map", PAIR)),
    (ColumnType("map", "string", "string", 1, 2, key_rules=STRING, value_rules=STRING),
     _datum("map", PAIR)),
    (ColumnType("map", "uuid", "string", 0, BIG, key_rules=UUID, value_rules=STRING),
     _datum("map", PAIR)),
    (ColumnType("set", "uuid", None, 0, BIG, key_rules=UUID), _datum("set", UUID_ATOM)),
    (ColumnType("set", "uuid", None, 1, 3, key_rules=UUID), _datum("set", UUID_ATOM)),
    (ColumnType("optional", "uuid", None, 0, 1, key_rules=UUID), _datum("set", UUID_ATOM)),
    (ColumnType("set", "string", None, 0, BIG, key_rules=STRING), _datum("set", ATOM)),
    (ColumnType("scalar", "string", key_rules=AtomRules("string", frozenset({"a", "ab"}))),
     _datum("set", ATOM)),
    (ColumnType("scalar", "integer", key_rules=AtomRules("integer", min=-2, max=2)),
     _datum("set", ATOM)),
]


@st.composite
def columns(draw: Any) -> tuple[ColumnType, list, bool]:
    ctype, value = draw(st.sampled_from(TYPES))
    good = draw(st.lists(st.sampled_from(
        [["set", []], ["map", []], ["uuid", UUIDS[0]], "a", 1]), max_size=3))
    return ctype, draw(st.lists(value, min_size=1, max_size=6)) + good, draw(st.booleans())


def _first_error(ctype: ColumnType, values: list, sizes: bool) -> Optional[tuple[int, str]]:
    for at, value in enumerate(values):
        try:
            error = datum_error(ctype, value, sizes)
        except TypeError:  # an unhashable enum lookup: the slow walk raises it too
            return at, "TypeError"
        if error:
            return at, error
    return None


# a UUID set or UUID-keyed map holding one UUID twice, in two cases: a duplicate
CASES = [(TYPES[3][0], [["set", [["uuid", UUIDS[0]], ["uuid", UUIDS[0].upper()]]]], True),
         (TYPES[2][0], [["map", [[["uuid", UUIDS[1].upper()], "a"], [["uuid", UUIDS[1]], "b"]]]],
          True)]


@given(columns())
@example(CASES[0])
@example(CASES[1])
def test_fast_path_true_only_when_every_value_is_valid(case: tuple) -> None:
    ctype, values, sizes = case
    try:
        ok = _column_ok(ctype, values, sizes)
    except (TypeError, ValueError):
        ok = False
    if ok:
        assert _first_error(ctype, values, sizes) is None


@given(columns())
@example(CASES[0])
@example(CASES[1])
def test_check_rows_names_the_first_bad_row(case: tuple) -> None:
    ctype, values, sizes = case
    keys = [f"{n:08x}-0000-4000-8000-000000000000" for n in range(len(values))]
    rows = {key: {"c": value} for key, value in zip(keys, values)}
    expected = _first_error(ctype, values, sizes)
    try:
        check_rows("T", {"c": ctype}, rows, () if sizes else ("c",))
    except BadValue as bad:
        assert expected is not None and (bad.uuid, bad.problem) == (keys[expected[0]],
                                                                    expected[1])
    except TypeError:
        assert expected is not None and expected[1] == "TypeError"
    else:
        assert expected is None


@given(st.lists(ANY_UUID, max_size=5))
def test_row_keys_checked_in_bulk_as_one_at_a_time(keys: list) -> None:
    if _all_uuids(keys):
        assert all(map(UUID_MATCH, keys)) and keys == [k.lower() for k in keys]
    rows = dict.fromkeys(keys, {})
    bad = next((k for k in rows if not UUID_MATCH(k)), None)
    try:
        check_rows("T", {}, rows)
    except BadValue as error:
        assert bad is not None and error.problem == "row key is not a valid UUID"
    else:
        assert bad is None
