"""Errors that the CLI turns into exit code 2 with one line naming the input, and how
text taken from an input is made safe to print on that one line."""

from __future__ import annotations

import contextlib
import re
from typing import Iterator, Optional

# control characters (C0, DEL, C1), line and paragraph separators, and lone surrogates
# (a non-UTF-8 file name, or a string in a corrupt input), all of them not printable
# (str.isprintable).  A pattern, not a compiled one: re compiles it on first use, into its
# cache (~1 ms, at every start-up otherwise)
_UNSAFE = "[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]"


def _escaped(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str, keep: str = "") -> str:
    """``text`` with every character that could break or fake a line (or drive a
    terminal) shown as an escape; those in ``keep`` stay."""
    if text.isprintable():
        return text
    if keep:
        return re.sub(_UNSAFE, lambda m: m.group() if m.group() in keep else _escaped(m), text)
    return re.sub(_UNSAFE, _escaped, text)


class InputError(Exception):
    """An input (file, folder or remote) that cannot be read or is not what we need.

    ``source`` names the input the way the user gave it; ``problem`` says what is wrong,
    including the record and byte offset where that applies.
    """

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class UsageError(Exception):
    """A command-line value that does not make sense (exit code 2)."""


_reading: list[str] = []


@contextlib.contextmanager
def reading(source: str) -> Iterator[None]:
    """Name ``source`` as the input being read (for a last-resort error message)."""
    _reading.append(source)
    try:
        yield
    finally:
        _reading.pop()


def input_being_read(default: Optional[str] = None) -> Optional[str]:
    """The input being read now (innermost), else ``default``."""
    return _reading[-1] if _reading else default
