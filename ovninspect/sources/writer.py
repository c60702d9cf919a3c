"""Write a Snapshot as a standard standalone OVSDB file (schema + one transaction).

The result is what ``ovsdb-client backup`` produces: ovsdb-server serves it and
``ovsdb-tool`` reads it.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable

from ..errors import InputError
from ..snapshot import Snapshot
from .records import compose_record


def snapshot_transaction(snap: Snapshot, comment: str) -> dict[str, Any]:
    """Every row of ``snap`` as one insert-only transaction (datum JSON)."""
    txn: dict[str, Any] = {}
    for tname, table in snap.tables.items():
        rows: dict[str, Any] = {}
        for uuid, data in table.rows.items():
            out = {}
            for col, value in data.items():
                ctype = table.columns[col]
                out[col] = value if value.__class__ is list else \
                    ctype.encode(ctype.materialize(value))
            rows[uuid] = out
        if rows:
            txn[tname] = rows
    txn["_date"] = int(time.time() * 1000)
    txn["_comment"] = comment
    return txn


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def refuse_overwrite(path: Path, inputs: Iterable[str]) -> None:
    """InputError when ``path`` is one of the files read (by any name: same device and
    inode, so also a hard link or another path to it)."""
    try:
        target = os.stat(path)
    except OSError:
        return  # nothing there yet (or unreachable: the write reports it)
    for source in inputs:
        try:
            if _same_file(target, os.stat(source)):
                raise InputError(str(path), f"is the input {source}: refusing to write over it")
        except OSError:
            continue


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_standalone(snap: Snapshot, path: Path, comment: str,
                     inputs: Iterable[str] = ()) -> int:
    """Write ``snap`` to ``path`` atomically (a temporary file renamed over it, with the
    mode a new file gets under the umask); never over one of ``inputs``.  Returns the
    number of bytes written."""
    refuse_overwrite(path, [snap.info.source, *inputs])
    schema = snap.full_schema.raw
    if not schema:
        raise InputError(snap.info.source, "this source carries no schema, so it cannot be "
                         "saved as a database file")
    data = compose_record(schema) + compose_record(snapshot_transaction(snap, comment))
    target = Path(path)
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".ovninspect-", dir=str(target.parent))
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), 0o666 & ~_umask())
            os.fsync(fh.fileno())
        refuse_overwrite(target, [snap.info.source, *inputs])  # not replaced meanwhile
        os.replace(tmp, target)
        tmp = ""
    except OSError as exc:
        raise InputError(str(path), f"cannot write: {exc.strerror or exc}") from None
    finally:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
    return len(data)
