"""An Answer: what a question returns, in one shape every renderer and ``diff`` reads.

A question (``nat``, ``gateways``, ``failover-sim``, ``check``, ...) turns a Topology into an
:class:`Answer`: the JSON collection name, declared :class:`Field` s (JSON key, header,
whether the field is part of the row's key, its kind, whether a table shows it only with
``--wide``), plain JSON-able rows, and meta (OVN rules applied, summary, notes, exit code).
Chassis-valued fields are decorated with hostnames in one place (:func:`decorate`), and
shown one way in tables (:func:`chassis_label`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..vocab import Word


class Kind(Word):
    """What a field holds, for renderers and ``diff``."""

    TEXT = "text"
    NUMBER = "number"
    BOOL = "bool"
    LIST = "list"
    CHASSIS = "chassis"              # a chassis name; JSON gains ``<key>_hostname`` with SB
    CHASSIS_LIST = "chassis-list"    # a list of chassis names
    DATA = "data"                    # nested JSON (members, owner, details)


@dataclass(frozen=True)
class Field:
    """One column of an answer."""

    key: str
    header: str
    kind: Kind = Kind.TEXT
    is_key: bool = False             # identifies the row across snapshots (diff, timeline)
    wide_only: bool = False          # tables show it with --wide only
    csv_only: bool = False           # a plain-value column for scripts, folded into another
    wrap: bool = False               # long text: tables wrap it to the terminal width
    compared: bool = True            # diff reports a change of this field
    show: Optional[Callable[[dict[str, Any]], Any]] = None   # table text from the row
    color: Optional[Callable[[Any], Optional[str]]] = None


@dataclass
class Answer:
    """The rows of one question, and what a person reads around them."""

    question: str
    collection: str
    fields: tuple[Field, ...]
    rows: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)      # more top-level JSON keys
    summary: list[str] = field(default_factory=list)        # lines after the table
    notes: list[str] = field(default_factory=list)          # stderr in table mode
    exit_code: int = 0
    empty_message: str = "nothing to show"
    hostnames: Optional[dict[str, str]] = None              # chassis -> hostname (SB)

    @property
    def key_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.is_key)

    def key(self, row: dict[str, Any]) -> tuple:
        return tuple([_hashable(row.get(k)) for k in self.key_names])

    @functools.cached_property
    def key_names(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields if f.is_key)

    def field(self, key: str) -> Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {self.collection: self.rows}
        data.update(self.meta)
        return data


def _hashable(value: Any) -> Any:
    if value.__class__ is str:
        return value
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def chassis_label(name: Optional[str], hostname: Optional[str] = None) -> str:
    """How every table shows a chassis: ``hostname (name…)`` when SB gives a hostname
    that differs (long system-ids shortened), else the name; ``-`` for none."""
    if not name:
        return "-"
    if not hostname or hostname == name:
        return name
    return f"{hostname} ({name[:8]}…)" if len(name) > 16 else f"{hostname} ({name})"


def decorate(answer: Answer) -> Answer:
    """Add ``<key>_hostname`` beside every chassis field of every row when the answer
    knows hostnames (SB given); the one place chassis get hostnames in JSON."""
    names = answer.hostnames
    if names is None:
        return answer
    keys = [f.key for f in answer.fields if f.kind == Kind.CHASSIS]
    if keys:
        for row in answer.rows:
            for key in keys:
                row[f"{key}_hostname"] = names.get(row.get(key) or "")
    return answer
