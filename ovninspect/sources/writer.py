"""Write a Snapshot as a standard standalone OVSDB file (schema + one transaction).

The result is what ``ovsdb-client backup`` produces: ovsdb-server serves it and
``ovsdb-tool`` reads it.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

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


def write_standalone(snap: Snapshot, path: Path, comment: str) -> int:
    """Write ``snap`` to ``path`` atomically; return the number of bytes written."""
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
        os.replace(tmp, target)
    except OSError as exc:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise InputError(str(path), f"cannot write: {exc.strerror or exc}") from None
    return len(data)
