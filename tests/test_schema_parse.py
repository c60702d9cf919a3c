"""Schemas are read without python-ovs (a faster start), yet exactly as it reads them: the
same verdict and, when accepted, the same column types, rules, roots, indexes and limits.
The oracle below is python-ovs's parse, converted the way ovninspect did before."""

from __future__ import annotations

import copy
import json
import random
import sys
from pathlib import Path
from typing import Any, Optional

import ovs.db.schema
import pytest

from ovninspect.schema import (
    ATOM_DEFAULTS,
    MAP,
    OPTIONAL,
    SCALAR,
    SET,
    AtomRules,
    ColumnType,
    DatumError,
    Schema,
    TableSchema,
    _schema_shape_error,
)

SCHEMAS = [p for p in (Path("/usr/share/ovn/ovn-nb.ovsschema"),
                       Path("/usr/share/ovn/ovn-sb.ovsschema"),
                       Path("/usr/share/openvswitch/vswitch.ovsschema")) if p.exists()]


def _rules(base: Any) -> AtomRules:
    enum = None
    if base.enum is not None:
        enum = frozenset(atom.value for atom in base.enum.values)
    max_length = base.max_length if base.max_length < sys.maxsize else None
    return AtomRules(base.type.to_string(), enum, base.min, base.max, base.min_length or 0,
                     max_length, base.ref_table_name,
                     base.ref_type if base.ref_table_name else None)


def _column(otype: Any) -> ColumnType:
    key = otype.key.type.to_string()
    value = otype.value.type.to_string() if otype.value is not None else None
    n_min, n_max = otype.n_min, otype.n_max
    if value is not None:
        kind, default = MAP, ({ATOM_DEFAULTS[key]: ATOM_DEFAULTS[value]} if n_min >= 1 else {})
    elif n_max == 1:
        kind = SCALAR if n_min == 1 else OPTIONAL
        default = ATOM_DEFAULTS[key] if n_min == 1 else None
    else:
        kind, default = SET, ((ATOM_DEFAULTS[key],) if n_min >= 1 else ())
    return ColumnType(kind, key, value, n_min, n_max, otype.key.ref_table_name, default,
                      _rules(otype.key),
                      _rules(otype.value) if otype.value is not None else None,
                      bool(otype.key.ref_table_name) and otype.key.is_strong_ref())


def oracle(raw: Any) -> Optional[Schema]:
    """python-ovs's reading (after the shape checks ovsdb-server adds), None if refused."""
    if _schema_shape_error(raw):
        return None
    try:
        parsed = ovs.db.schema.DbSchema.from_json(raw, allow_extensions=True)
    except Exception:
        return None
    tables = {}
    for tname, ts in parsed.tables.items():
        tables[tname] = TableSchema(
            tname, {c: _column(col.type) for c, col in ts.columns.items()}, bool(ts.is_root),
            [tuple(c.name for c in ix) for ix in ts.indexes],
            ts.max_rows if ts.max_rows < sys.maxsize else None)
    return Schema(parsed.name, parsed.version or "", tables, raw)


def ours(raw: Any) -> Optional[Schema]:
    try:
        return Schema.from_json(raw)
    except DatumError:
        return None


def _same(raw: Any) -> None:
    expected, got = oracle(raw), ours(raw)
    assert (expected is None) == (got is None), json.dumps(raw)[:2000]
    if expected is not None:
        assert (got.name, got.version) == (expected.name, expected.version)
        assert got.tables == expected.tables


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_installed_schemas(path: Path) -> None:
    _same(json.loads(path.read_text()))


ODD_NUMBERS = [0, 1, 2, -1, 1.0, 2.0, 1.5, 0.0, -0.5, 2**32 - 1, 2**32, 2**53, float(2**53),
               float(2**60), 2**63 - 1, 2**63, 2**70, True, False, None, "1", "unlimited",
               float("inf"), float("nan")]
ODD_ENUMS = [["set", []], ["set", ["a", "a"]], ["set", ["a", "b"]], "a", 1, 1.0, True,
             ["set", [1, 1.0]], ["set", [1, 2]], ["set", [1.5, 2]], ["set", [True, False]],
             ["set", [True, True]], ["uuid", "8a2a2d1e-4c5b-4b8a-9d3e-2f1a0b9c8d7e"],
             ["uuid", "not-a-uuid"], ["set", [float("inf")]], ["set", [2**64]], None,
             ["set", [["uuid", "8a2a2d1e-4c5b-4b8a-9d3e-2f1a0b9c8d7e"]]]]
BASES = ["string", "integer", "real", "boolean", "uuid"]
MEMBERS = ["minInteger", "maxInteger", "minReal", "maxReal", "minLength", "maxLength",
           "refTable", "refType", "enum"]


def _odd_base(rng: random.Random, tables: list[str]) -> Any:
    if rng.random() < 0.2:
        return rng.choice(BASES)
    base: dict[str, Any] = {"type": rng.choice(BASES)}
    for _ in range(rng.randint(1, 3)):
        member = rng.choice(MEMBERS)
        if member == "enum":
            base[member] = rng.choice(ODD_ENUMS)
        elif member == "refTable":
            base[member] = rng.choice(tables + ["Nope", "", "_x", 3])
        elif member == "refType":
            base[member] = rng.choice(["strong", "weak", "other"])
        else:
            base[member] = rng.choice(ODD_NUMBERS)
    return base


def _mutate(raw: dict, rng: random.Random) -> dict:
    raw = copy.deepcopy(raw)
    tables = raw["tables"]
    names = sorted(tables)
    for _ in range(rng.randint(1, 3)):
        table = tables[rng.choice(names)]
        columns = table["columns"]
        if not columns:
            continue
        what = rng.randrange(9)
        if what == 0:
            raw["version"] = rng.choice(["1.2", "1.2.3\n", "a.b.c", "7.3.0", "01.2.3", ""])
        elif what == 1:
            table["maxRows"] = rng.choice(ODD_NUMBERS)
        elif what == 2:
            table["isRoot"] = rng.choice([True, False])
        elif what == 3:
            cols = sorted(columns)
            table["indexes"] = [rng.sample(cols, min(len(cols), rng.randint(1, 2)))
                                + rng.choice([[], ["nope"], [cols[0]]])]
        elif what == 4:
            column = columns[rng.choice(sorted(columns))]
            column["ephemeral"] = rng.choice([True, False])
            if "indexes" not in table:
                table["indexes"] = [[c for c, col in columns.items() if col is column]]
        elif what == 5:
            table["columns"] = {} if rng.random() < 0.3 else columns
        else:
            column = columns[rng.choice(sorted(columns))]
            ctype: dict[str, Any] = {"key": _odd_base(rng, names)}
            if rng.random() < 0.4:
                ctype["value"] = _odd_base(rng, names)
            for bound in ("min", "max"):
                if rng.random() < 0.5:
                    ctype[bound] = rng.choice(ODD_NUMBERS)
            column["type"] = ctype if rng.random() < 0.9 else _odd_base(rng, names)
    return raw


@pytest.mark.skipif(not SCHEMAS, reason="no installed OVSDB schema")
@pytest.mark.parametrize("seed", range(8))
def test_mutated_schemas(seed: int) -> None:
    rng = random.Random(seed)
    bases = [json.loads(p.read_text()) for p in SCHEMAS]
    accepted = 0
    for _ in range(150):
        raw = _mutate(rng.choice(bases), rng)
        _same(raw)
        accepted += oracle(raw) is not None
    assert accepted > 20  # the mutations reach the accepting side too
