"""Find NB and SB database files inside a sosreport or must-gather folder.

Candidates are chosen by content, not by name: every regular file whose name mentions a
database (``ovnnb_db.db``, ``*_nbdb.gz``, ``nb.db`` …) is sniffed for an OVSDB header (or a
gzip wrapping one) and the schema name in its first kilobytes.
"""

from __future__ import annotations

import os
import re
import zlib
from pathlib import Path
from typing import Optional, Union

from ..snapshot import NB_NAME, SB_NAME
from .records import magic_of

_NAME_HINT = re.compile(r"(nb|sb|db)", re.IGNORECASE)
_SCHEMA_NAME = re.compile(rb'"name"\s*:\s*"(OVN_Northbound|OVN_Southbound)"')
_SNIFF = 1 << 20
_SKIP_DIRS = {"proc", "sys", "dev"}


def sniff_database(path: Path) -> Optional[str]:
    """OVN_Northbound / OVN_Southbound when ``path`` is an OVSDB file of that schema."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF)
    except OSError:
        return None
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, _SNIFF)
        except zlib.error:
            return None
    if magic_of(head) is None:
        return None
    match = _SCHEMA_NAME.search(head)
    return match.group(1).decode() if match else None


_DB_FILE = re.compile(r"(db|\.db\.gz)$", re.IGNORECASE)


def named_like(fname: str) -> list[str]:
    """The databases a database file's name suggests (``ovnnb_db.db`` -> NB; not
    ``ovn-nbctl_show`` or ``nb.db.txt``), for naming a damaged candidate when no file's
    content identifies one."""
    lower = fname.lower()
    if not _DB_FILE.search(lower):
        return []
    return [db for db, hint in ((NB_NAME, "nb"), (SB_NAME, "sb")) if hint in lower]


def find_databases(folder: Union[str, Path], rejected: Optional[dict[str, list[Path]]] = None
                   ) -> dict[str, list[Path]]:
    """Database files under ``folder`` by schema name, most likely first.  Files whose name
    suggests a database but whose content does not identify one go to ``rejected``."""
    found: dict[str, list[Path]] = {NB_NAME: [], SB_NAME: []}
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for fname in sorted(files):
            if not _NAME_HINT.search(fname):
                continue
            path = Path(root) / fname
            if path.is_symlink() or not path.is_file():
                continue
            db = sniff_database(path)
            if db in found:
                found[db].append(path)
            elif rejected is not None:
                for name in named_like(fname):
                    rejected.setdefault(name, []).append(path)
    for paths in found.values():
        paths.sort(key=lambda p: (p.stat().st_size == 0, -p.stat().st_mtime, str(p)))
    for paths in (rejected or {}).values():
        paths.sort(key=lambda p: (-p.stat().st_size, str(p)))
    return found

