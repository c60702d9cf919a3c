"""Live NB/SB through JSON-RPC: ``get_schema`` plus one read-only ``select`` transaction.

The connection (unix/tcp/ssl, with ``-p/-c/-C`` for SSL) is made by python-ovs's stream
library, the same one ovsdbapp's IDL uses.  Instead of the IDL's monitor and per-value
Datum objects (95 s for a 43 MB NB, design.md) the reply is parsed with the C JSON decoder
and decoded lazily like a file.  Nothing but ``list_dbs``, ``get_schema`` and ``select``
is ever sent: a live read never writes.  ``via="ovsdbapp"`` reads through an ovsdbapp IDL
connection instead (same Snapshot, much slower; kept for comparison and as a fallback).
"""

from __future__ import annotations

import json
import os
import select
import time
from typing import Any, Optional

from ..errors import InputError
from ..schema import DatumError, Schema, TableSchema
from ..snapshot import Snapshot, SourceInfo

_CHUNK = 1 << 20


class _Rpc:
    """A minimal blocking JSON-RPC client over an already connected socket."""

    def __init__(self, sock: Any, remote: str, timeout: float) -> None:
        self.sock = sock
        self.remote = remote
        self.timeout = timeout
        self.decoder = json.JSONDecoder()
        self.buf = b""
        self.next_id = 0

    def call(self, method: str, params: list) -> Any:
        self.next_id += 1
        msg_id = self.next_id
        self._send({"method": method, "params": params, "id": msg_id})
        while True:
            msg = self._receive(self.timeout)
            if msg.get("method") == "echo":  # inactivity probe from the server
                self._send({"result": msg.get("params", []), "error": None, "id": msg.get("id")})
                continue
            if msg.get("id") != msg_id:
                continue
            if msg.get("error") is not None:
                raise InputError(self.remote, f"{method} failed: {msg['error']}")
            return msg.get("result")

    def _send(self, msg: dict) -> None:
        data = json.dumps(msg, separators=(",", ":")).encode()
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise InputError(self.remote, f"connection lost while sending: {exc}") from None

    def _parse_buffer(self) -> Optional[dict]:
        """The first complete message in the buffer (kept in bytes: replies can be large)."""
        try:
            msg = json.loads(self.buf)
            rest = b""
        except ValueError as exc:
            if "Extra data" not in str(exc):
                return None
            text = self.buf.decode("utf-8", "replace")
            start = len(text) - len(text.lstrip())
            try:
                msg, end = self.decoder.raw_decode(text, start)
            except ValueError:
                return None
            rest = text[end:].encode()
        if not isinstance(msg, dict):
            raise InputError(self.remote, "server sent something that is not JSON-RPC")
        self.buf = rest
        return msg

    def _receive(self, timeout: float) -> dict:
        """The next message; ``timeout`` bounds the wait for data, not the whole transfer."""
        if self.buf.rstrip().endswith(b"}"):
            msg = self._parse_buffer()
            if msg is not None:
                return msg
        chunks = [self.buf]
        depth = self.buf.count(b"{") - self.buf.count(b"}")
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise InputError(self.remote, f"no answer for {timeout:g} s "
                                 "(use --timeout to wait longer)")
            if not getattr(self.sock, "pending", lambda: 0)():
                ready, _, _ = select.select([self.sock], [], [], remaining)
                if not ready:
                    continue
            try:
                chunk = self.sock.recv(_CHUNK)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as exc:
                raise InputError(self.remote, f"connection lost: {exc}") from None
            if not chunk:
                raise InputError(self.remote, "server closed the connection")
            chunks.append(chunk)
            depth += chunk.count(b"{") - chunk.count(b"}")
            deadline = time.monotonic() + timeout  # data arrived: the server is working
            if not chunk.rstrip().endswith(b"}"):
                continue
            # Braces inside strings can skew the count; then a quiet socket decides.
            if depth > 0 or self._more_waiting(0.0 if depth == 0 else 0.05):
                continue
            self.buf = b"".join(chunks)
            chunks.clear()
            msg = self._parse_buffer()
            if msg is not None:
                return msg
            chunks.append(self.buf)

    def _more_waiting(self, wait: float = 0.0) -> bool:
        if getattr(self.sock, "pending", lambda: 0)():
            return True
        ready, _, _ = select.select([self.sock], [], [], wait)
        return bool(ready)


def _connect_one(remote: str, options: Any) -> Any:
    import ovs.stream

    if remote.startswith("ssl:"):
        files = (options.private_key, options.certificate, options.ca_cert)
        if not all(files):
            raise InputError(remote, "an ssl: remote needs -p PRIVATE_KEY, -c CERTIFICATE "
                             "and -C CA_CERT")
        for f in files:
            if not os.path.isfile(f):
                raise InputError(remote, f"SSL file {f} does not exist")
        ovs.stream.Stream.ssl_set_private_key_file(options.private_key)
        ovs.stream.Stream.ssl_set_certificate_file(options.certificate)
        ovs.stream.Stream.ssl_set_ca_cert_file(options.ca_cert)
    if not ovs.stream.Stream.is_valid_name(remote):
        raise InputError(remote, "not a valid remote (use unix:PATH, tcp:IP:PORT or "
                         "ssl:IP:PORT)")
    try:
        error, stream = ovs.stream.Stream.open_block(ovs.stream.Stream.open(remote),
                                                     int(options.timeout * 1000))
    except Exception as exc:  # python-ovs raises assorted errors for bad SSL files etc.
        raise InputError(remote, f"cannot connect: {exc}") from None
    if error:
        raise InputError(remote, f"cannot connect: {os.strerror(error) if error > 0 else error}")
    stream.socket.setblocking(True)
    return stream  # keep the Stream alive: it closes its socket when collected


def _connect(spec: str, options: Any) -> tuple[Any, str]:
    errors = []
    for remote in [r.strip() for r in spec.split(",") if r.strip()]:
        try:
            return _connect_one(remote, options), remote
        except InputError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    raise InputError(spec, "cannot connect to any remote: "
                     + "; ".join(e.problem for e in errors))


def _check_db(rpc: _Rpc, db_name: str) -> None:
    dbs = rpc.call("list_dbs", [])
    if db_name not in (dbs or []):
        served = ", ".join(d for d in (dbs or []) if d != "_Server") or "nothing"
        raise InputError(rpc.remote, f"serves {served}, not {db_name}")


def _tables_to_fetch(schema: Schema, wanted: Optional[dict[str, Optional[list[str]]]]
                     ) -> dict[str, list[str]]:
    """Columns to select per table; ``wanted["*"]`` covers tables not named (None = all)."""
    out = {}
    for tname, ts in schema.tables.items():
        if wanted is None:
            out[tname] = list(ts.columns)
            continue
        if tname in wanted:
            cols = wanted[tname]
        elif "*" in wanted:
            cols = wanted["*"]
        else:
            continue
        out[tname] = list(ts.columns) if cols is None else [c for c in cols if c in ts.columns]
    return out


def read_live(spec: str, db_name: str, options: Any) -> Snapshot:
    """Read ``db_name`` from a live server (optionally only ``options.tables``)."""
    if getattr(options, "via", None) == "ovsdbapp" or os.environ.get("OVNINSPECT_LIVE") == \
            "ovsdbapp":
        return read_live_ovsdbapp(spec, db_name, options)
    stream, remote = _connect(spec, options)
    try:
        rpc = _Rpc(stream.socket, remote, options.timeout)
        _check_db(rpc, db_name)
        raw_schema = rpc.call("get_schema", [db_name])
        try:
            schema = Schema.from_json(raw_schema)
        except DatumError as exc:
            raise InputError(remote, f"server sent an invalid schema: {exc}") from None
        fetch = _tables_to_fetch(schema, options.tables)
        ops = [{"op": "select", "table": t, "where": [], "columns": ["_uuid", *cols]}
               for t, cols in fetch.items()]
        result = rpc.call("transact", [db_name, *ops]) if ops else []
    finally:
        stream.close()
    return _snapshot_from_select(schema, fetch, result, remote)


def _snapshot_from_select(schema: Schema, fetch: dict[str, list[str]], result: Any,
                          remote: str) -> Snapshot:
    if not isinstance(result, list) or len(result) < len(fetch):
        raise InputError(remote, "unexpected reply to the select transaction")
    tables = {t: TableSchema(t, {c: schema.tables[t].columns[c] for c in cols},
                             schema.tables[t].is_root, schema.tables[t].indexes)
              for t, cols in fetch.items()}
    view = Schema(schema.name, schema.version, tables, schema.raw)
    partial = any(len(cols) != len(schema.tables[t].columns) for t, cols in fetch.items())
    info = SourceInfo(remote, "live (JSON-RPC select)", records=len(fetch))
    if partial or len(fetch) != len(schema.tables):
        info.notes.append("only the tables and columns this command needs were read")
    snap = Snapshot(view, info)
    snap.full_schema = schema
    for (tname, _cols), reply in zip(fetch.items(), result):
        if not isinstance(reply, dict) or "rows" not in reply:
            raise InputError(remote, f"select on {tname} failed: {reply}")
        rows = snap.tables[tname].rows
        for row in reply["rows"]:
            uuid = row.pop("_uuid")[1]
            rows[uuid] = row
    return snap


def read_live_ovsdbapp(spec: str, db_name: str, options: Any) -> Snapshot:
    """The same read through an ovsdbapp IDL connection (registers only what is wanted)."""
    from ovsdbapp.backend.ovs_idl import connection, idlutils

    if spec.startswith("ssl:"):
        _connect_one(spec.split(",")[0], options).close()  # validates and sets SSL files
    try:
        helper = idlutils.get_schema_helper(spec, db_name)
    except Exception as exc:
        raise InputError(spec, f"cannot fetch the {db_name} schema: {exc}") from None
    schema = Schema.from_json(helper.schema_json)
    fetch = _tables_to_fetch(schema, options.tables)
    for tname, cols in fetch.items():
        helper.register_columns(tname, cols)
    idl = connection.OvsdbIdl(spec, helper, leader_only=False)
    conn = connection.Connection(idl, int(options.timeout))
    try:
        conn.start()
    except Exception as exc:
        raise InputError(spec, f"cannot sync through ovsdbapp: {exc}") from None
    try:
        result = []
        for tname in fetch:
            rows = []
            for row in idl.tables[tname].rows.values():
                data = {"_uuid": ["uuid", str(row.uuid)]}
                for col in fetch[tname]:
                    datum = row._data.get(col)
                    if datum is not None:
                        data[col] = datum.to_json()
                rows.append(data)
            result.append({"rows": rows})
    finally:
        conn.stop()
    snap = _snapshot_from_select(schema, fetch, result, spec)
    snap.info.format = "live (ovsdbapp IDL)"
    return snap

