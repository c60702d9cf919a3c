"""OVSDB record framing (semantics §5.1, rule 26).

A database file is a sequence of records::

    OVSDB JSON <length> <sha1>\\n<length bytes of JSON, ending in \\n>

(``CLUSTER`` instead of ``JSON`` for raft files).  Length and SHA-1 cover the body
including its final newline.  Every record's magic must equal the first one's.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any, BinaryIO, Iterator, Union

from ..errors import InputError

MAGICS = (b"JSON", b"CLUSTER")
_MAX_HEADER = 128  # ovsdb/log.c reads the header line into a 128-byte buffer


@dataclass
class Record:
    index: int
    offset: int          # byte offset of the header
    body: Any            # parsed JSON


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
    first bad one.  Streaming keeps only one record body in memory at a time."""
    fh: BinaryIO = io.BytesIO(stream) if isinstance(stream, (bytes, bytearray)) else stream
    pos = 0
    index = 0
    first_magic = None
    loads = json.loads
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
        body = fh.read(length)
        if len(body) < length:
            raise RecordError(source, index, pos, f"record length {length} runs past the end "
                              f"of the file by {length - len(body)} bytes (truncated)")
        if hashlib.sha1(body).hexdigest() != parts[3].decode("ascii", "replace").lower():
            raise RecordError(source, index, pos, "SHA-1 mismatch: the record is corrupt")
        try:
            parsed = loads(body)
        except ValueError as exc:
            raise RecordError(source, index, pos, f"record is not valid JSON ({exc})") from None
        del body
        yield Record(index, pos, parsed)
        pos += len(line) + length
        index += 1


def compose_record(body: Any, magic: str = "JSON") -> bytes:
    """Frame one JSON value as an OVSDB record (compact JSON, final newline)."""
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    digest = hashlib.sha1(text).hexdigest()
    return b"OVSDB %s %d %s\n" % (magic.encode(), len(text), digest.encode()) + text
