"""Reading inputs with bounded resources: gzip decompressed as a stream under a size cap
and a compression-ratio check, and reads of a claimed length done in steps, so a gzip
bomb or a record header claiming terabytes is refused before it costs memory or time."""

from __future__ import annotations

import io
import os
import zlib
from typing import BinaryIO, Optional

from ..errors import InputError

MAX_DECOMPRESSED = int(os.environ.get("OVNINSPECT_MAX_DECOMPRESSED", 8 << 30))  # 8 GiB
MAX_RATIO = 200           # a real NB compresses 5-20x; a bomb ~1000x
RATIO_AFTER = 16 << 20    # judge the ratio only past this much output
_STEP = 1 << 20


class GzipError(Exception):
    """Corrupt, truncated or too large gzip data (the caller names the input)."""


class GzipReader(io.RawIOBase):
    """A seekable-to-start, read-only stream of the decompressed members of ``raw``."""

    def __init__(self, raw: BinaryIO, limit: int = MAX_DECOMPRESSED) -> None:
        super().__init__()
        self.raw = raw
        self.limit = limit
        self._reset()

    def _reset(self) -> None:
        self.raw.seek(0)
        self.zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.pending = bytearray()   # decompressed, not yet returned
        self.produced = 0
        self.consumed = 0
        self.carry = b""             # input after the end of a member
        self.started = False         # inside a member
        self.eof = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        if offset != 0 or whence != 0:
            raise io.UnsupportedOperation("only a rewind is supported")
        self._reset()
        return 0

    def _more(self, want: int) -> None:
        while len(self.pending) < want and not self.eof:
            if self.carry:
                data, self.carry = self.carry, b""
            elif self.zlib.unconsumed_tail:
                data = self.zlib.unconsumed_tail
            else:
                data = self.raw.read(1 << 16)
                self.consumed += len(data)
                if not data:
                    if not self.zlib.eof and self.started:
                        raise GzipError("gzip data is truncated")
                    self.eof = True
                    return
            self.started = True
            try:
                out = self.zlib.decompress(data, _STEP)
            except zlib.error as exc:
                raise GzipError(f"gzip data is corrupt ({exc})") from None
            self.produced += len(out)
            if self.produced > self.limit:
                raise GzipError(f"gzip data expands beyond {self.limit >> 20} MiB "
                                "(OVNINSPECT_MAX_DECOMPRESSED)")
            used = self.consumed - len(self.zlib.unconsumed_tail) - len(self.carry)
            if self.produced > RATIO_AFTER and self.produced > MAX_RATIO * max(1, used):
                raise GzipError(f"gzip data expands more than {MAX_RATIO} times "
                                "(a gzip bomb?)")
            self.pending += out  # bytearray: amortized, no quadratic copies
            if self.zlib.eof:  # end of a member: another may follow (as gzip -d reads)
                self.carry = self.zlib.unused_data
                self.zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self.started = False
                if not self.carry.strip(b"\0"):
                    self.carry = b""
                    self.started = False

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        want = len(buffer)
        self._more(want)
        size = min(want, len(self.pending))
        buffer[:size] = self.pending[:size]
        del self.pending[:size]
        return size


def open_gzip(raw: BinaryIO) -> BinaryIO:
    return io.BufferedReader(GzipReader(raw), buffer_size=_STEP)  # type: ignore[return-value]


def remaining(fh: BinaryIO) -> Optional[int]:
    """Bytes left in a regular file (None for a stream whose size is unknown)."""
    try:
        return os.fstat(fh.fileno()).st_size - fh.tell()
    except (OSError, AttributeError, io.UnsupportedOperation, ValueError):
        if isinstance(fh, io.BytesIO):
            return len(fh.getbuffer()) - fh.tell()
        return None


def read_exactly(fh: BinaryIO, length: int) -> bytes:
    """Up to ``length`` bytes, read in steps (a claimed length is never allocated at once)."""
    if length <= 64 << 20:
        return fh.read(length)
    parts = []
    left = length
    while left > 0:
        part = fh.read(min(left, 64 << 20))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def gzip_input_error(source: str, exc: GzipError) -> InputError:
    return InputError(source, str(exc))
