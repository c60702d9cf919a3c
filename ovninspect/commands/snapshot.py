"""``ovninspect snapshot``: save any source (live or file) as a standalone .db file."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..sources import is_remote
from ..sources.writer import refuse_overwrite, write_standalone
from . import common


@common.handle_errors
def snapshot(
    db: Optional[str] = common.DB,
    output: Path = typer.Option(..., "--output", "-o", metavar="FILE",
                                help="Where to write the standalone database file."),
    sb: bool = typer.Option(False, "--sb-role", help="Save a Southbound DB."),
    private_key: Optional[str] = common.PRIVATE_KEY,
    certificate: Optional[str] = common.CERTIFICATE,
    ca_cert: Optional[str] = common.CA_CERT,
    timeout: float = common.TIMEOUT,
    allow_truncated: bool = common.ALLOW_TRUNCATED,
    verify: bool = common.VERIFY,
) -> None:
    """Save a live NB/SB (or any readable file, e.g. a clustered one) as a standalone file.

    The file has two records (schema, then every row), like ovsdb-client backup: ovsdb-server
    serves it and ovsdb-tool reads it.  The server is only read, never written.

    Examples:

      ovninspect snapshot --db tcp:192.0.2.10:6641 -o nb.db

      ovninspect snapshot --db ssl:192.0.2.10:6642 -p key.pem -c cert.pem -C ca.pem --sb-role -o sb.db

      ovninspect snapshot --db clustered-nb.db -o standalone-nb.db
    """
    inputs = common.Inputs(db, None, "table", private_key, certificate, ca_cert, timeout,
                           allow_truncated, verify=verify)
    if db and not is_remote(db):
        refuse_overwrite(output, [db])  # before reading: a same-name input is never read
    snap = common.load_snapshot(db, "sb" if sb else "nb", inputs)
    size = write_standalone(snap, output, f"ovninspect snapshot of {snap.info.source}",
                            [db] if db and not is_remote(db) else [])
    rows = sum(snap.row_counts().values())
    typer.echo(f"wrote {output}: {snap.name} {snap.version}, {rows} rows, {size} bytes",
               err=True)
