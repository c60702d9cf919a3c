"""OVSDB record framing (semantics §5.1, rule 26).

A database file is a sequence of records::

    OVSDB JSON <length> <sha1>\\n<length bytes of JSON, ending in \\n>

(``CLUSTER`` instead of ``JSON`` for raft files).  Length and SHA-1 cover the body
including its final newline.  Every record's magic must equal the first one's.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import json
import re
from typing import Any, BinaryIO, Iterator, Optional, Union

import orjson

from ..errors import InputError
from .bounded import read_exactly, remaining

MAGICS = (b"JSON", b"CLUSTER")
_MAX_HEADER = 128
_SURROGATE = re.compile("[\ud800-\udfff]")
DBL_MAX = 1.7976931348623157e308  # ovsdb/log.c reads the header line into a 128-byte buffer


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: parsed JSON is a large acyclic tree, and
    collections while it grows only cost time (3x on a 43 MB NB, lab-notes §6)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strings_and_numbers_error(value: Any) -> Optional[str]:
    """What lib/json.c refuses in a parsed value that Python accepts: a NUL character
    (``\\u0000``), an unpaired surrogate escape, a number out of the range of a double."""
    todo = [value]
    while todo:
        item = todo.pop()
        cls = item.__class__
        if cls is dict:
            todo.extend(item)
            todo.extend(item.values())
        elif cls is list:
            todo.extend(item)
        elif cls is str:
            if "\0" in item:
                return "null bytes are not supported in strings"
            if _SURROGATE.search(item):
                return "string holds an unpaired UTF-16 surrogate escape"
        elif cls is float and not -DBL_MAX <= item <= DBL_MAX:
            return "number out of the range of a double"
    return None


#: lib/json.c refuses input nested deeper than this (arrays and objects, the outer one
#: counting 1); orjson allows 1,024 and Python's parser what the recursion limit allows.
MAX_DEPTH = 1000
_FREE_FORM = ("_comment",)   # values ovsdb-server keeps without a type to check them


def depth_error(value: Any, limit: int = MAX_DEPTH) -> Optional[str]:
    """"nesting too deep" when ``value`` nests more than ``limit`` containers."""
    todo = [(value, 1)]
    while todo:
        item, depth = todo.pop()
        cls = item.__class__
        if cls is dict or cls is list:
            if depth > limit:
                return "nesting too deep"
            children = item.values() if cls is dict else item
            todo.extend((child, depth + 1) for child in children
                        if child.__class__ is dict or child.__class__ is list)
    return None


def _comments_are_strings(data: bytes) -> bool:
    """Every ``"_comment"`` in the JSON text is a key whose value is a string, so none
    nests (``"_comment":"`` cannot lie inside a string, whose quotes are escaped; any other
    layout, or the word as a value, says False and the parsed value is walked)."""
    return data.count(b'"_comment"') == data.count(b'"_comment":"')


def _free_form_depth_error(value: Any) -> Optional[str]:
    """The only places a record nests deeper than its datums allow, and that no value
    check will see: ``_comment`` of a transaction (standalone, or in a raft entry's data,
    a few levels down)."""
    todo = [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if depth > 5:
            continue
        if item.__class__ is dict:
            for key, child in item.items():
                if key in _FREE_FORM and (child.__class__ is dict or child.__class__ is list):
                    problem = depth_error(child, MAX_DEPTH - depth)
                    if problem:
                        return problem
                elif child.__class__ is dict or child.__class__ is list:
                    todo.append((child, depth + 1))
        elif item.__class__ is list:
            todo.extend((child, depth + 1) for child in item
                        if child.__class__ is dict or child.__class__ is list)
    return None


def loads(data: bytes) -> Any:
    """Parse JSON as ovsdb-server's parser (lib/json.c) would, or raise ValueError.

    orjson does it fast; what it refuses is tried again with the standard library (for a
    message, and for big integers), which is stricter here than by default: no NaN or
    Infinity, UTF-8 only, no NUL characters or unpaired surrogates, nesting depth limited.
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    else:
        if b"\\u0000" in data and strings_and_numbers_error(value):
            raise ValueError("null bytes are not supported in strings")
        if b"_comment" in data and not _comments_are_strings(data):
            problem = _free_form_depth_error(value)
            if problem:
                raise ValueError(problem)
        return value
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 at byte {exc.start}") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("nesting too deep") from None
    problem = depth_error(value) or strings_and_numbers_error(value)
    if problem:
        raise ValueError(problem)
    return value


class Record:
    """One record: where it is, its raw body, and the body parsed on first use."""

    __slots__ = ("index", "offset", "raw", "source", "_body")

    def __init__(self, index: int, offset: int, raw: bytes, source: str) -> None:
        self.index = index
        self.offset = offset      # byte offset of the header
        self.raw = raw            # the body as stored (length and SHA-1 checked)
        self.source = source
        self._body: Any = None

    @property
    def body(self) -> Any:
        """The parsed JSON (RecordError when it is not JSON); drops the raw bytes."""
        if self.raw is not None:
            self._body = self.parse(self.raw)
            self.raw = None  # type: ignore[assignment]
        return self._body

    def parse(self, data: bytes) -> Any:
        """Parse ``data`` (this record's body or a slice of it) or raise RecordError."""
        try:
            return loads(data)
        except ValueError as exc:
            raise self.error(f"record is not valid JSON ({exc})") from None

    def error(self, problem: str) -> RecordError:
        return RecordError(self.source, self.index, self.offset, problem)


class RecordError(InputError):
    """A bad record: ``index`` and ``offset`` locate it, ``valid`` records came before it."""

    def __init__(self, source: str, index: int, offset: int, problem: str) -> None:
        super().__init__(source, f"record {index} at byte offset {offset}: {problem}")
        self.index = index
        self.offset = offset


def magic_of(data: bytes) -> str | None:
    """'JSON' or 'CLUSTER' when ``data`` starts like an OVSDB file, else None."""
    for magic in MAGICS:
        if data.startswith(b"OVSDB " + magic + b" "):
            return magic.decode()
    return None


def iter_records(stream: Union[bytes, BinaryIO], source: str) -> Iterator[Record]:
    """Yield records in order from bytes or a binary stream; raise RecordError at the
    first bad framing.  A record's JSON is parsed when its ``body`` is first read (a
    consumer may slice ``raw`` instead); streaming keeps one record in memory at a time."""
    fh: BinaryIO = io.BytesIO(stream) if isinstance(stream, (bytes, bytearray)) else stream
    pos = 0
    index = 0
    first_magic = None
    while True:
        line = fh.readline(_MAX_HEADER + 1)
        if not line:
            return
        if not line.endswith(b"\n"):
            if len(line) <= _MAX_HEADER:
                raise RecordError(source, index, pos, "file ends inside a record header "
                                  "(truncated)")
            raise RecordError(source, index, pos, "header line too long or missing")
        parts = line[:-1].split(b" ")
        if (len(parts) != 4 or parts[0] != b"OVSDB" or parts[1] not in MAGICS
                or not parts[2].isdigit() or len(parts[3]) != 40):
            shown = line[:60].rstrip(b"\n").decode("ascii", "replace")
            raise RecordError(source, index, pos, f"bad record header {shown!r}")
        if first_magic is None:
            first_magic = parts[1]
        elif parts[1] != first_magic:
            raise RecordError(source, index, pos, f"magic {parts[1].decode()} differs from "
                              f"the first record's {first_magic.decode()}")
        length = int(parts[2])
        left = remaining(fh)
        if left is not None and length > left:
            raise RecordError(source, index, pos, f"record length {length} runs past the end "
                              f"of the file by {length - left} bytes (truncated)")
        body = read_exactly(fh, length)
        if len(body) < length:
            raise RecordError(source, index, pos, f"record length {length} runs past the end "
                              f"of the file by {length - len(body)} bytes (truncated)")
        if hashlib.sha1(body).hexdigest() != parts[3].decode("ascii", "replace").lower():
            raise RecordError(source, index, pos, "SHA-1 mismatch: the record is corrupt")
        rec = Record(index, pos, body, source)
        del body
        yield rec
        pos += len(line) + length
        index += 1


def compose_record(body: Any, magic: str = "JSON") -> bytes:
    """Frame one JSON value as an OVSDB record (compact JSON, final newline)."""
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    digest = hashlib.sha1(text).hexdigest()
    return b"OVSDB %s %d %s\n" % (magic.encode(), len(text), digest.encode()) + text
