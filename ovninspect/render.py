"""Renderers: an Answer becomes a table (fitted to the terminal), JSON or CSV.  Nothing here
knows OVN: the fields an answer declares say what each value is."""

from __future__ import annotations

import io
import os
import sys
from typing import Any, Iterator, Optional

import orjson

from .answers.model import Answer, Field, Kind, chassis_label
from .errors import escape

FORMATS = ("table", "json", "csv")
_COLORS = {"green": "32", "yellow": "33", "red": "31", "cyan": "36", "dim": "2", "bold": "1"}
_GAP = 2            # tabulate's "simple" format puts two spaces between columns
_MIN_WRAP = 40      # a wrapped column narrower than this goes under its row instead


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
    return b"".join(json_chunks(answer))


JSON_BATCH = 2000   # rows serialized per chunk by json_chunks
_ROWS_MARK = "\u2063ovninspect rows\u2063"   # stands for the rows while the rest is written


def json_chunks(answer: Answer) -> Iterator[bytes]:
    """``to_json_bytes`` of the answer's document, in pieces: the rows are written a batch
    at a time, so that a large answer (a long log's timeline: 250 MB of JSON) is never
    held whole beside its rows.  The same bytes: a batch's ``[...]`` with its rows moved
    two levels in (orjson writes a newline in a string as ``\n``, so every newline in
    its output is layout).  Rows of the same answer, joined, equal ``to_json_bytes``."""
    rows = answer.rows
    mark = to_json_bytes(_ROWS_MARK)
    head = to_json_bytes({**answer.to_json(), answer.collection: _ROWS_MARK}) if rows else b""
    if head.count(mark) != 1:
        yield to_json_bytes(answer.to_json())
        return
    before, after = head.split(mark)
    yield before + b"["
    for first in range(0, len(rows), JSON_BATCH):
        batch = to_json_bytes(rows[first:first + JSON_BATCH])   # b"[\n  {...},\n  {...}\n]"
        yield (b"," if first else b"") + batch[1:-2].replace(b"\n", b"\n  ")
    yield b"\n  ]" + after


def table_width() -> Optional[int]:
    """The width tables are fitted to: the terminal's when stdout is one, else
    ``$COLUMNS`` when set, else None (no wrapping: one line per row for pipes)."""
    if sys.stdout.isatty():
        import shutil  # only for a terminal (start-up time)

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
    """The widest unbreakable piece of a cell; words of a ``fix: `` line count with the
    five-space indent its continuation lines get (_wrap)."""
    return max((len(w) + (5 if line.startswith("fix: ") else 0)
                for line in text.split("\n") for w in line.split()), default=0)


def _widest_line(text: str) -> int:
    return max(map(len, text.split("\n")))


def _fit(cells: list[list[str]], headers: list[str], wrap: list[bool], width: int
         ) -> Optional[list[int]]:
    """Column widths whose sum (with gaps) is at most ``width``, shrinking wrap columns to
    no less than _MIN_WRAP and every column to no less than its longest word (text wraps
    at spaces); None when that cannot fit."""
    # tabulate makes a column at least its header plus two wide
    natural = [max([len(h) + 2] + [_widest_line(c[i]) for c in cells])
               for i, h in enumerate(headers)]
    floor = [max(len(h) + 2, min(_MIN_WRAP, natural[i]) if wrap[i] else 0,
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
    return widths if excess <= 0 else None


def _wrap(text: str, width: int, indent: str = "") -> str:
    import textwrap  # tables only (tabulate has imported it already)

    out = []
    for line in text.split("\n"):
        follow = indent + ("     " if line.startswith("fix: ") else "")
        out.extend(textwrap.wrap(line, width, initial_indent=indent, subsequent_indent=follow,
                                 break_long_words=False, break_on_hyphens=False) or [""])
    return "\n".join(out)


def _grid(cells: list[list[str]], headers: list[str], widths: list[int]) -> list[list[str]]:
    return [[_wrap(c, w) if _widest_line(c) > w else c for c, w in zip(row, widths)]
            for row in cells]


def render_table(answer: Answer, wide: bool = False, color: bool = False,
                 width: Optional[int] = None) -> str:
    """The rows as a table (``wide``: every column), then the summary lines.  With a
    ``width``: long text wraps inside its column; if the columns still do not fit, the
    long text (reason, message) goes on indented lines under each row; if even that does
    not fit, each row is printed as ``FIELD: value`` lines."""
    from tabulate import tabulate  # only tables need it (JSON/CSV start faster)

    fields = [f for f in answer.fields if (wide or not f.wide_only) and not f.csv_only]
    lines = []
    if not answer.rows:
        lines.append(answer.empty_message)
    else:
        cells = [[_text(answer, f, row) for f in fields] for row in answer.rows]
        headers = [f.header for f in fields]
        colors = [[f.color(row.get(f.key)) if color and f.color else None for f in fields]
                  for row in answer.rows]
        below: list[int] = []        # fields printed under their row
        if width is not None:
            widths = _fit(cells, headers, [f.wrap for f in fields], width)
            if widths is None:
                below, widths = _move_below(cells, headers, fields, width)
                if widths is None:
                    lines.append(_records(cells, headers, colors, width))
                    return _with_summary(lines, answer, width)
            cells = [[_wrap(c, widths[i]) if i not in below and _widest_line(c) > widths[i]
                      else c for i, c in enumerate(row)] for row in cells]
        keep = [i for i in range(len(fields)) if i not in below]
        body = [[paint(row[i], tint[i], color) for i in keep]
                for row, tint in zip(cells, colors)]
        table = tabulate(body, headers=[headers[i] for i in keep], tablefmt="simple",
                         disable_numparse=True)
        if below:
            assert width is not None
            out_lines = table.split("\n")
            result = out_lines[:2]
            rows_text = _split_rows(out_lines[2:], [row for row in body])
            label = len(below) > 1
            for row_lines, row, tint in zip(rows_text, cells, colors):
                result.extend(row_lines)
                for i in below:
                    if row[i] == "-":
                        continue
                    text = f"{headers[i]}: {row[i]}" if label else row[i]
                    result.append(paint(_wrap(text, width, "    "), tint[i], color))
            table = "\n".join(result)
        lines.append(table)
    return _with_summary(lines, answer, width)


def _move_below(cells: list[list[str]], headers: list[str], fields: list[Field], width: int
                ) -> tuple[list[int], Optional[list[int]]]:
    """Wrap columns to print under each row instead, widest first, until the rest fits:
    (their indices, the widths of all columns, 0 for those below) or (.., None)."""
    wraps = sorted((i for i, f in enumerate(fields) if f.wrap),
                   key=lambda i: -max(_widest_line(r[i]) for r in cells))
    for count in range(1, len(wraps) + 1):
        below = wraps[:count]
        keep = [i for i in range(len(fields)) if i not in below]
        fitted = _fit([[r[i] for i in keep] for r in cells], [headers[i] for i in keep],
                      [fields[i].wrap for i in keep], width)
        if fitted is not None:
            widths = [0] * len(fields)
            for i, w in zip(keep, fitted):
                widths[i] = w
            return below, widths
    return wraps, None


def _split_rows(lines: list[str], body: list[list[str]]) -> list[list[str]]:
    """The table lines of each row (a row spans as many lines as its tallest cell)."""
    out, pos = [], 0
    for row in body:
        height = max(cell.count("\n") + 1 for cell in row) if row else 1
        out.append(lines[pos:pos + height])
        pos += height
    return out


def _records(cells: list[list[str]], headers: list[str], colors: list[list[Optional[str]]],
             width: int) -> str:
    """Each row as ``FIELD: value`` lines, values wrapped to ``width``."""
    pad = max(len(h) for h in headers) + 2
    out = []
    for row, tint in zip(cells, colors):
        if out:
            out.append("")
        for header, cell, color in zip(headers, row, tint):
            text = _wrap(cell, max(20, width - pad), " " * pad)[pad:]
            out.append(paint(f"{header + ':':<{pad}}{text}", color, color is not None))
    return "\n".join(out)


def _with_summary(lines: list[str], answer: Answer, width: Optional[int] = None) -> str:
    if answer.summary:
        import textwrap

        lines.append("")
        for line in answer.summary:
            text = escape(line)
            lines.append(text if width is None or len(text) <= width else textwrap.fill(
                text, width, subsequent_indent="  ", break_long_words=False,
                break_on_hyphens=False))
    return "\n".join(lines)


def render_csv(answer: Answer) -> str:
    import csv  # imported by the only renderer that needs it (start-up time)

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
