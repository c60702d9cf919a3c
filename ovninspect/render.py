"""Renderers: a Report becomes a table (tabulate), JSON or CSV.  Nothing here knows OVN."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import orjson

from .errors import escape

FORMATS = ("table", "json", "csv")
_COLORS = {"green": "32", "yellow": "33", "red": "31", "cyan": "36", "dim": "2", "bold": "1"}


@dataclass
class Column:
    """A table column: the row key, its header, and an optional colour chooser."""

    key: str
    header: str
    wide_only: bool = False
    color: Optional[Callable[[Any], Optional[str]]] = None
    show: Optional[Callable[[dict[str, Any]], Any]] = None  # table text from the whole row
    csv_only: bool = False  # a plain-value column for scripts, folded into another in tables


@dataclass
class Report:
    """Rows under one JSON key, plus what a person reads around the table."""

    key: str
    rows: list[dict[str, Any]]
    columns: list[Column]
    extra: dict[str, Any] = field(default_factory=dict)      # more top-level JSON keys
    summary: list[str] = field(default_factory=list)         # lines after the table
    notes: list[str] = field(default_factory=list)           # stderr in table mode
    empty_message: str = "nothing to show"


def paint(text: str, color: Optional[str], enabled: bool) -> str:
    if not enabled or not color or color not in _COLORS:
        return text
    return f"\033[{_COLORS[color]}m{text}\033[0m"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(_cell(v) for v in value) if value else "-"
    if isinstance(value, dict):
        return ",".join(f"{k}={_cell(v)}" for k, v in value.items()) if value else "-"
    return str(value)


def _csv_cell(value: Any) -> str:
    """Plain values for scripts: empty for none, true/false, ';' between list items."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ";".join(_csv_cell(v) for v in value)
    if isinstance(value, dict):
        return ";".join(f"{k}={_csv_cell(v)}" for k, v in value.items())
    return str(value)


def to_json_bytes(data: Any) -> bytes:
    """Stable JSON: sorted keys at every level, two-space indent, UTF-8."""
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)


def render_json_bytes(report: Report) -> bytes:
    data = {report.key: report.rows}
    data.update(report.extra)
    return to_json_bytes(data)


def render_table(report: Report, wide: bool = False, color: bool = False) -> str:
    from tabulate import tabulate  # only tables need it (JSON/CSV start faster)

    cols = [c for c in report.columns if (wide or not c.wide_only) and not c.csv_only]
    lines = []
    if report.rows:
        body = []
        for row in report.rows:
            line = []
            for c in cols:
                text = escape(_cell(c.show(row) if c.show else row.get(c.key)), keep="\n")
                line.append(paint(text, c.color(row.get(c.key)) if c.color else None, color))
            body.append(line)
        lines.append(tabulate(body, headers=[c.header for c in cols], tablefmt="simple",
                              disable_numparse=True))
    else:
        lines.append(report.empty_message)
    if report.summary:
        lines.append("")
        lines.extend(report.summary)
    return "\n".join(lines)


def render_csv(report: Report, wide: bool = True) -> str:
    cols = [c for c in report.columns if wide or not c.wide_only]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.key for c in cols])
    for row in report.rows:
        writer.writerow([_csv_cell(row.get(c.key)) for c in cols])
    return out.getvalue().rstrip("\n")


def render(report: Report, fmt: str, wide: bool = False, color: bool = False) -> str:
    """The report in ``fmt`` (table, json or csv)."""
    if fmt == "json":
        return render_json_bytes(report).decode()
    if fmt == "csv":
        return render_csv(report)
    return render_table(report, wide=wide, color=color)
