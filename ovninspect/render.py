"""Renderers: an Answer becomes a table (fitted to the terminal), JSON or CSV.  Nothing here
knows OVN: the fields an answer declares say what each value is."""

from __future__ import annotations

import csv
import io
import os
import shutil
import sys
import textwrap
from typing import Any, Optional

import orjson

from .answers.model import Answer, Field, Kind, chassis_label
from .errors import escape

FORMATS = ("table", "json", "csv")
_COLORS = {"green": "32", "yellow": "33", "red": "31", "cyan": "36", "dim": "2", "bold": "1"}
_GAP = 2            # tabulate's "simple" format puts two spaces between columns
_MIN_WRAP = 16      # a wrapped column is never narrower than this


def paint(text: str, color: Optional[str], enabled: bool) -> str:
    if not enabled or not color or color not in _COLORS:
        return text
    return "\n".join(f"\033[{_COLORS[color]}m{line}\033[0m" for line in text.split("\n"))


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


def render_json_bytes(answer: Answer) -> bytes:
    return to_json_bytes(answer.to_json())


def table_width() -> Optional[int]:
    """The width tables are fitted to: the terminal's when stdout is one, else
    ``$COLUMNS`` when set, else None (no wrapping: one line per row for pipes)."""
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else None


def _text(answer: Answer, f: Field, row: dict[str, Any]) -> str:
    if f.show is not None:
        value = f.show(row)
    elif f.kind == Kind.CHASSIS:
        names = answer.hostnames or {}
        value = chassis_label(row.get(f.key), names.get(row.get(f.key) or ""))
    elif f.kind == Kind.CHASSIS_LIST:
        names = answer.hostnames or {}
        value = ", ".join(chassis_label(c, names.get(c)) for c in row.get(f.key) or ()) or "-"
    else:
        value = row.get(f.key)
    return escape(_cell(value), keep="\n")


def _longest_word(text: str) -> int:
    return max((len(w) for w in text.split()), default=0)


def _fit(cells: list[list[str]], headers: list[str], wrap: list[bool], width: int
         ) -> list[int]:
    """Column widths whose sum (with gaps) is at most ``width`` where that is possible:
    wrap columns shrink first, then the others, none below its longest word."""
    natural = [max([len(h)] + [max(map(len, c[i].split("\n"))) for c in cells])
               for i, h in enumerate(headers)]
    floor = [max(len(h), min(_MIN_WRAP, natural[i]) if wrap[i] else 0,
                 max((_longest_word(c[i]) for c in cells), default=0))
             for i, h in enumerate(headers)]
    widths = list(natural)
    excess = sum(widths) + _GAP * (len(widths) - 1) - width
    for first in (True, False):          # wrap columns, then every other column
        while excess > 0:
            room = [(widths[i] - floor[i], i) for i in range(len(widths))
                    if (wrap[i] or not first) and widths[i] > floor[i]]
            if not room:
                break
            slack, i = max(room)
            cut = min(slack, excess, max(1, slack // 2))
            widths[i] -= cut
            excess -= cut
    return widths


def _wrap(text: str, width: int) -> str:
    out = []
    for line in text.split("\n"):
        indent = "     " if line.startswith("fix: ") else ""
        out.extend(textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False,
                                 subsequent_indent=indent) or [""])
    return "\n".join(out)


def render_table(answer: Answer, wide: bool = False, color: bool = False,
                 width: Optional[int] = None) -> str:
    """The rows as a table (``wide``: every column), fitted to ``width`` columns when
    given; then the summary lines."""
    from tabulate import tabulate  # only tables need it (JSON/CSV start faster)

    fields = [f for f in answer.fields if (wide or not f.wide_only) and not f.csv_only]
    lines = []
    if answer.rows:
        cells = [[_text(answer, f, row) for f in fields] for row in answer.rows]
        headers = [f.header for f in fields]
        if width is not None:
            widths = _fit(cells, headers, [f.wrap for f in fields], width)
            cells = [[_wrap(c, w) if max(map(len, c.split("\n"))) > w else c
                      for c, w in zip(row, widths)] for row in cells]
        if color:
            cells = [[paint(c, f.color(row.get(f.key)) if f.color else None, True)
                      for c, f in zip(line, fields)] for line, row in zip(cells, answer.rows)]
        lines.append(tabulate(cells, headers=headers, tablefmt="simple",
                              disable_numparse=True))
    else:
        lines.append(answer.empty_message)
    if answer.summary:
        lines.append("")
        lines.extend(escape(s) for s in answer.summary)
    return "\n".join(lines)


def render_csv(answer: Answer) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f.key for f in answer.fields])
    for row in answer.rows:
        writer.writerow([_csv_cell(row.get(f.key)) for f in answer.fields])
    return out.getvalue().rstrip("\n")


def render(answer: Answer, fmt: str, wide: bool = False, color: bool = False,
           width: Optional[int] = None) -> str:
    """The answer in ``fmt`` (table, json or csv)."""
    if fmt == "json":
        return render_json_bytes(answer).decode()
    if fmt == "csv":
        return render_csv(answer)
    return render_table(answer, wide=wide, color=color, width=width)
