"""Live NB/SB through JSON-RPC: ``get_schema`` plus one read of the tables a command needs.

The connection (unix/tcp/ssl, with ``-p/-c/-C`` for SSL) is made by python-ovs's stream
library, the same one ovsdbapp's IDL uses.  Instead of the IDL's monitor and per-value
Datum objects (95 s for a 43 MB NB, design.md) the reply is parsed with the C JSON decoder
and decoded lazily like a file.  The tables are read by one ``monitor_cond`` that asks
for the initial rows only (the server leaves default values out: a third fewer bytes than
a ``select``), or by one ``select`` transaction from a server without it.  Nothing but
``list_dbs``, ``get_schema``, ``monitor_cond`` and ``select`` is ever sent: a live read
never writes.  ``via="ovsdbapp"`` reads through an ovsdbapp IDL connection instead (same
Snapshot, much slower; kept for comparison and as a fallback).

A command may read some tables lazily (``LoadOptions.lazy``, :class:`LiveRows`): their
rows come when an analysis first reads them, through a new connection.  ``nat`` reads up
front only the switch ports its FIPs name (26k of 104k in a 43 MB NB): one
``monitor_cond`` whose condition is an ``==`` clause per name, which ovsdb-server matches
by hash in one pass over the table (a ``select``'s ``where`` scans the table once per op:
33 ms each there).  Those are separate reads of a database that may change in between,
as two ``ovn-nbctl`` commands are.
"""

from __future__ import annotations

import errno
import json
import os
import re
import socket
import ssl
import time
from collections import deque
from typing import Any, Callable, Iterable, Optional

import orjson

from ..errors import InputError
from ..schema import DatumError, Schema, TableSchema
from ..snapshot import Snapshot, SourceInfo, Table
from ..validate import UUID_MATCH, BadValue, check_rows, short
from .table_slice import UNINDEXED

_CHUNK = 1 << 20
MAX_REPLY = int(os.environ.get("OVNINSPECT_MAX_REPLY_MIB", 256)) << 20  # one reply
PROGRESS_RATE = 1 << 20   # a reply still arriving at this many bytes/s earns more time
_QUIET = 0.05             # a socket silent this long: try to parse what has come
_AFTER = re.compile(r"unexpected content after document: .*\(char (\d+)\)")


class _Rpc:
    """A minimal blocking JSON-RPC client over an already connected socket.

    Framing: messages are concatenated JSON objects.  What has arrived is parsed when it
    may be complete (its braces balance, the socket falls quiet, or it has doubled since
    the last try): a brace inside a string never hangs it, and the parse work stays
    linear.  ``timeout`` bounds each reply as a whole; a large reply still arriving at
    PROGRESS_RATE earns one more second per PROGRESS_RATE bytes.  A reply larger than
    MAX_REPLY is refused.
    """

    def __init__(self, sock: Any, remote: str, timeout: float) -> None:
        self.sock = sock
        self.remote = remote
        self.timeout = timeout
        self.buf = bytearray()
        self.ready: deque[Any] = deque()  # complete messages not handled yet
        self.next_id = 0
        self.waiting: dict[int, Optional[dict]] = {}  # requests sent -> reply when it came

    def call(self, method: str, params: list) -> Any:
        return self.wait(self.send(method, params))

    def send(self, method: str, params: list) -> tuple[int, str]:
        """Send a request without waiting for its reply (``wait``)."""
        self.next_id += 1
        self._send({"method": method, "params": params, "id": self.next_id},
                   time.monotonic())
        self.waiting[self.next_id] = None
        return self.next_id, method

    def wait(self, request: tuple[int, str]) -> Any:
        """The result of a request sent (within ``timeout`` from now)."""
        msg_id, method = request
        start = time.monotonic()
        msg = self.waiting.pop(msg_id, None)
        while msg is None:
            msg = self._receive(start)
            if msg.get("method") == "echo":  # inactivity probe from the server
                self._send({"result": msg.get("params", []), "error": None,
                            "id": msg.get("id")}, start)
                msg = None
            elif msg.get("id") != msg_id:
                other = msg.get("id")
                if other.__class__ is int and other in self.waiting:
                    self.waiting[other] = msg  # the reply to a request sent earlier
                msg = None
        if msg.get("error") is not None:
            raise RpcError(self.remote, f"{method} failed: {short(msg['error'], 200)}")
        if "result" not in msg:
            raise InputError(self.remote, f"reply to {method} has no result")
        return msg["result"]

    def _deadline(self, start: float) -> float:
        return start + self.timeout + len(self.buf) / PROGRESS_RATE

    def _send(self, msg: dict, start: float) -> None:
        data = json.dumps(msg, separators=(",", ":")).encode()
        try:
            while data:
                remaining = self._deadline(start) - time.monotonic()
                if remaining <= 0:
                    raise InputError(self.remote, f"could not send for {self.timeout:g} s")
                self.sock.settimeout(remaining)
                sent = self.sock.send(data)
                data = data[sent:]
        except TimeoutError:
            raise InputError(self.remote, f"could not send for {self.timeout:g} s") from None
        except OSError as exc:
            raise ConnectionLost(self.remote, f"connection lost while sending: {exc}") from None

    def _split(self, thorough: bool) -> bool:
        """Move the complete messages at the start of the buffer to ``ready``.  orjson
        parses them and says where the first ends when more follows; the standard
        library is tried only when the socket fell quiet (``thorough``), for what orjson
        refuses (it is then also the judge of what is wrong)."""
        found = False
        while self.buf:
            try:
                self.ready.append(orjson.loads(self.buf))
                self.buf.clear()
                return True
            except orjson.JSONDecodeError as exc:
                after = _AFTER.search(str(exc))
            if after is None:
                break
            end = int(after.group(1))
            try:
                self.ready.append(orjson.loads(self.buf[:end]))
            except orjson.JSONDecodeError:
                break
            del self.buf[:end]
            while self.buf[:1] in (b" ", b"\n", b"\r", b"\t"):
                del self.buf[:1]
            found = True
        if found or not thorough:
            return found
        try:
            text = bytes(self.buf).decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(self.buf) - 3:
                raise InputError(self.remote, "server sent bytes that are not UTF-8") from None
            return False  # a character cut in two: wait for the rest
        if text.lstrip()[:1] not in ("{", ""):
            raise InputError(self.remote, "server sent something that is not JSON-RPC")
        try:
            msg, end = json.JSONDecoder(parse_constant=_no_constant).raw_decode(
                text, len(text) - len(text.lstrip()))
        except RecursionError:
            raise InputError(self.remote, "server sent JSON nested too deeply") from None
        except ValueError:
            return False
        self.ready.append(msg)
        self.buf = bytearray(text[end:].encode())
        return True

    def _receive(self, start: float) -> dict:
        """The next message, within the reply's deadline."""
        tried_at = -1                    # buffer size at the last parse attempt
        quiet_at = -1                    # ... at the last thorough one
        depth = self.buf.count(b"{") - self.buf.count(b"}")
        while True:
            if self.ready:
                msg = self.ready.popleft()
                if not isinstance(msg, dict):
                    raise InputError(self.remote, "server sent something that is not "
                                     "JSON-RPC")
                return msg
            if self.buf and len(self.buf) != tried_at and (
                    (depth <= 0 and self.buf.rstrip().endswith(b"}"))
                    or len(self.buf) >= 2 * max(tried_at, 1 << 16)):
                tried_at = len(self.buf)
                if self._split(False):
                    depth = self.buf.count(b"{") - self.buf.count(b"}")
                    tried_at = -1
                    continue
            remaining = self._deadline(start) - time.monotonic()
            if remaining <= 0:
                raise InputError(self.remote, f"no complete answer within {self.timeout:g} s "
                                 "(use --timeout to wait longer)")
            try:
                self.sock.settimeout(min(remaining, _QUIET))
                chunk = self.sock.recv(_CHUNK)
            except TimeoutError:
                if self.buf and len(self.buf) != quiet_at:  # quiet: try what has come
                    tried_at = quiet_at = len(self.buf)
                    if self._split(True):
                        depth = self.buf.count(b"{") - self.buf.count(b"}")
                        tried_at = -1
                continue
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as exc:
                raise ConnectionLost(self.remote, f"connection lost: {exc}") from None
            if not chunk:
                hint = "" if self.next_id > 1 or self.remote.startswith("ssl:") else \
                    " before answering (an SSL port given as tcp:?)"
                raise ConnectionLost(self.remote, "server closed the connection" + hint)
            if len(self.buf) + len(chunk) > MAX_REPLY:
                raise InputError(self.remote, f"reply larger than {MAX_REPLY >> 20} MiB "
                                 "(OVNINSPECT_MAX_REPLY_MIB)")
            self.buf += chunk
            depth += chunk.count(b"{") - chunk.count(b"}")


class RpcError(InputError):
    """The server answered a request with an error."""


class ConnectionLost(InputError):
    """The connection broke or the server closed it."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


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
    start = time.monotonic()
    try:
        error, stream = ovs.stream.Stream.open_block(ovs.stream.Stream.open(remote),
                                                     int(options.timeout * 1000))
    except Exception as exc:  # python-ovs raises assorted errors for bad SSL files etc.
        raise InputError(remote, f"cannot connect: {exc}") from None
    if error:
        if remote.startswith("ssl:"):
            left = max(0.2, options.timeout - (time.monotonic() - start))
            raise InputError(remote, f"cannot connect: {_ssl_diagnosis(remote, options, left)}")
        raise InputError(remote, f"cannot connect: {_strerror(error)}")
    return stream  # keep the Stream alive: it closes its socket when collected


def _strerror(error: int) -> str:
    if error == errno.ECONNREFUSED:
        return "connection refused (nothing listens there)"
    return os.strerror(error) if error > 0 else f"error {error}"


def _ssl_diagnosis(remote: str, options: Any, timeout: float) -> str:
    """Why an ssl: connection failed, found by trying the handshake with Python's ssl
    module (python-ovs reports only an errno)."""
    try:
        _, host, port = remote.split(":", 2)
        context = ssl.create_default_context(cafile=options.ca_cert)
        context.check_hostname = False
        context.load_cert_chain(options.certificate, options.private_key)
    except (OSError, ValueError, ssl.SSLError) as exc:
        return f"cannot use the SSL files: {exc}"
    try:
        with socket.create_connection((host.strip("[]"), int(port)),
                                      timeout=timeout) as sock, \
                context.wrap_socket(sock) as tls:
            tls.getpeercert()
    except ssl.SSLCertVerificationError as exc:
        return f"the server's certificate is not trusted by the -C CA ({exc.verify_message})"
    except ssl.SSLError as exc:
        reason = exc.reason or str(exc)
        if reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"):
            return "TLS handshake failed: the server does not speak SSL/TLS there"
        if "UNKNOWN_CA" in reason or "CERTIFICATE" in reason:
            return f"the server refused our certificate ({reason}): is -c signed by its CA?"
        return f"TLS handshake failed ({reason})"
    except ConnectionRefusedError:
        return "connection refused (nothing listens there)"
    except TimeoutError:
        return (f"no TLS handshake within {options.timeout:g} s (is it an SSL port? "
                "use --timeout to wait longer)")
    except OSError as exc:
        return f"{exc.strerror or exc}"
    return "TLS handshake failed"


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
    if not isinstance(dbs, list) or not all(isinstance(d, str) for d in dbs):
        raise InputError(rpc.remote, f"list_dbs answered {short(dbs)}, not a list of names")
    if db_name not in dbs:
        served = ", ".join(d for d in dbs if d != "_Server") or "nothing"
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


#: A lazy table's key (``LoadOptions.lazy``): read up front the rows whose ``column`` holds
#: a value of ``table.column`` (``("name", "NAT", "logical_port")``); None: no row up front.
LazyKey = Optional[tuple[str, str, str]]
_INITIAL_ONLY = {"initial": True, "insert": False, "delete": False, "modify": False}


class _Session:
    """The connection of one live read; a table read later connects again."""

    def __init__(self, spec: str, db_name: str, options: Any) -> None:
        self.spec = spec
        self.db_name = db_name
        self.options = options
        self.remote = spec
        self.stream: Any = None
        self.rpc: Optional[_Rpc] = None

    def open(self) -> _Rpc:
        if self.rpc is None:
            self.stream, self.remote = _connect(self.spec, self.options)
            self.rpc = _Rpc(self.stream.socket, self.remote, self.options.timeout)
        return self.rpc

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
        self.stream = self.rpc = None

    def call(self, method: str, params: list) -> Any:
        """One request: on the open connection, else on a new one closed after it."""
        if self.rpc is not None:
            return self.rpc.call(method, params)
        try:
            return self.open().call(method, params)
        finally:
            self.close()


def _select(table: str, columns: list[str]) -> dict:
    return {"op": "select", "table": table, "where": [], "columns": ["_uuid", *columns]}


def _checked(tname: str, columns: dict, rows: dict[str, dict], remote: str
             ) -> dict[str, dict]:
    try:
        check_rows(tname, columns, rows)
    except BadValue as exc:
        raise InputError(remote, str(exc)) from None
    return rows


def _select_rows(tname: str, columns: dict, reply: Any, remote: str, check: bool = True
                 ) -> dict[str, dict]:
    """The rows of one ``select`` result (their values checked unless ``check`` is
    False: then the caller does)."""
    if not isinstance(reply, dict) or not isinstance(reply.get("rows"), list):
        raise InputError(remote, f"select on {tname} failed: {short(reply, 200)}")
    rows = {}
    for row in reply["rows"]:
        if not isinstance(row, dict):
            raise InputError(remote, f"select on {tname}: a row is not a JSON object")
        ref = row.pop("_uuid", None)
        if not (isinstance(ref, list) and len(ref) == 2 and ref[0] == "uuid"
                and isinstance(ref[1], str) and UUID_MATCH(ref[1])):
            raise InputError(remote, f"select on {tname}: a row has no valid _uuid "
                             f"({short(ref)})")
        rows[ref[1]] = row
    extra = set().union(*rows.values()) - columns.keys() if rows else ()
    if extra:
        raise InputError(remote, f"select on {tname}: the server sent column "
                         f"{short(sorted(extra)[0])}, which was not asked for")
    return _checked(tname, columns, rows, remote) if check else rows


def _monitor_rows(tname: str, columns: dict, reply: Any, remote: str, check: bool = True
                  ) -> dict[str, dict]:
    """The initial rows of one table in a ``monitor_cond`` reply (checked unless
    ``check`` is False).  Columns holding their default value are left out."""
    updates = reply.get(tname, {}) if isinstance(reply, dict) else None
    if not isinstance(updates, dict):
        raise InputError(remote, f"monitor_cond on {tname}: unexpected reply "
                         f"{short(reply, 200)}")
    rows = {}
    for uuid, update in updates.items():
        row = update.get("initial") if isinstance(update, dict) else None
        if not isinstance(row, dict):
            raise InputError(remote, f"monitor_cond on {tname}: row {short(uuid)} has no "
                             "initial contents")
        rows[uuid] = row
    return _checked(tname, columns, rows, remote) if check else rows


def _read_tables(call: Callable[[str, list], Any], db_name: str,
                 tables: dict[str, dict], fetch: dict[str, list[str]], remote: str
                 ) -> dict[str, dict[str, dict]]:
    """Every row of ``tables`` (name -> the snapshot's columns), values not checked yet:
    one ``monitor_cond`` for the initial rows only (defaults left out: a third fewer
    bytes for the server to write and the client to parse), or, from a server without
    it, one ``select`` transaction."""
    if not tables:
        return {}
    request = {t: [{"columns": fetch[t], "select": _INITIAL_ONLY}] for t in tables}
    try:
        reply = call("monitor_cond", [db_name, "ovninspect", request])
    except RpcError:
        pass
    else:
        if not isinstance(reply, dict):
            raise InputError(remote, f"unexpected reply to monitor_cond: {short(reply, 200)}")
        return {t: _monitor_rows(t, columns, reply, remote, False)
                for t, columns in tables.items()}
    result = call("transact", [db_name, *(_select(t, fetch[t]) for t in tables)])
    if not isinstance(result, list) or len(result) < len(tables):
        raise InputError(remote, "unexpected reply to the select transaction")
    return {t: _select_rows(t, columns, reply, remote, False)
            for (t, columns), reply in zip(tables.items(), result)}


class LiveRows:
    """A live table read when an analysis first needs it (snapshot.PendingRows): every
    row through a ``select``; the rows whose ``key`` column holds given values through
    one ``monitor_cond`` (each value asked for is remembered, found or not).

    ``ask`` sends that request without waiting: the server answers it while the client
    checks the other tables and builds its topology, and the reply is read on the first
    lookup (the connection stays open until then)."""

    def __init__(self, session: _Session, table: Table, fetch: list[str],
                 key: Optional[str]) -> None:
        self.session = session
        self.name = table.name
        self.columns = table.columns
        self.fetch = fetch          # the columns to read
        self.key = key
        self.found: dict[str, Optional[tuple[str, dict]]] = {}
        self.asked: Optional[tuple[tuple[int, str], list[str]]] = None  # reply not read yet

    def load(self) -> dict[str, dict]:
        self._settle()
        session = self.session
        rows = _read_tables(session.call, session.db_name, {self.name: self.columns},
                            {self.name: self.fetch}, session.remote)[self.name]
        return _checked(self.name, self.columns, rows, session.remote)

    def ask(self, values: list[str]) -> None:
        """Request the rows whose key column holds one of ``values`` on the open
        connection; ``_settle`` reads the reply.  (A condition with no clause would
        match every row: no values, no request.)"""
        if values:
            self.asked = (self.session.open().send("monitor_cond", self._request(values)),
                          values)

    def _request(self, values: list[str]) -> list:
        return [self.session.db_name, f"ovninspect {self.name}",
                {self.name: [{"columns": self.fetch, "select": _INITIAL_ONLY,
                              "where": [[self.key, "==", v] for v in values]}]}]

    def _settle(self) -> None:
        """Read the reply to ``ask`` and close the connection.  A tcp/ssl server drops
        a connection silent for two inactivity probes (10 s) while an analysis runs:
        then the request is made again on a new one.  A server without ``monitor_cond``
        (before OVS 2.6) leaves every lookup to a whole read."""
        if self.asked is None:
            return
        request, values = self.asked
        self.asked = None
        session = self.session
        try:
            try:
                assert session.rpc is not None
                reply = session.rpc.wait(request)
            except ConnectionLost:
                session.close()
                reply = session.open().call("monitor_cond", self._request(values))
        except RpcError:
            self.key = None
            return
        finally:
            session.close()
        found: dict[str, Optional[tuple[str, dict]]] = dict.fromkeys(values)
        for uuid, row in _monitor_rows(self.name, self.columns, reply,
                                       session.remote).items():
            value = row.get(self.key)
            if value.__class__ is str and value in found and found[value] is None:
                found[value] = (uuid, row)
        self.found.update(found)

    def find(self, column: str, values: Iterable[str]) -> Any:
        self._settle()
        if column != self.key:
            return UNINDEXED
        values = list(values)
        todo = [v for v in dict.fromkeys(values) if v not in self.found]
        if todo:
            self.ask(todo)  # on a new connection
            self._settle()
            if self.key is None:
                return UNINDEXED
        return {v: self.found[v] for v in values}

    def has(self, column: str, value: str) -> Any:
        found = self.find(column, (value,))
        return found if found is UNINDEXED else found[value] is not None

    def check_all(self) -> None:
        """Nothing: rows are checked as they are read (``--verify`` reads them all)."""

    def rows_with_string(self, text: str) -> Any:
        return UNINDEXED


def read_live(spec: str, db_name: str, options: Any) -> Snapshot:
    """Read ``db_name`` from a live server (optionally only ``options.tables``; the tables
    in ``options.lazy`` when first used, unless ``options.verify``)."""
    if getattr(options, "via", None) == "ovsdbapp" or os.environ.get("OVNINSPECT_LIVE") == \
            "ovsdbapp":
        return read_live_ovsdbapp(spec, db_name, options)
    session = _Session(spec, db_name, options)
    keep = False  # a LiveRows still waits for a reply on this connection
    try:
        rpc = session.open()  # its own deadlines, per reply
        remote = session.remote
        _check_db(rpc, db_name)
        raw_schema = rpc.call("get_schema", [db_name])
        if not isinstance(raw_schema, dict):
            raise InputError(remote, f"get_schema answered {short(raw_schema)}, not a schema")
        try:
            schema = Schema.from_json(raw_schema)
        except DatumError as exc:
            raise InputError(remote, f"server sent an invalid schema: {exc}") from None
        fetch = _tables_to_fetch(schema, options.tables)
        lazy = {} if getattr(options, "verify", False) else {
            t: key for t, key in (getattr(options, "lazy", None) or {}).items() if t in fetch}
        snap = _blank_snapshot(schema, fetch, remote)
        eager = {t: snap.tables[t].columns for t in fetch if t not in lazy}
        rows = _read_tables(rpc.call, db_name, eager, fetch, remote)
        for tname, key in lazy.items():
            pending = _lazy_table(snap, session, tname, fetch[tname], key, rows)
            keep = keep or pending.asked is not None
        for tname, table_rows in rows.items():  # checked while the server answers `ask`
            snap.tables[tname].rows.update(_checked(tname, eager[tname], table_rows, remote))
    except BaseException:
        session.close()
        raise
    if not keep:
        session.close()
    return snap


def _lazy_table(snap: Snapshot, session: _Session, tname: str, fetch: list[str],
                key: LazyKey, rows: dict[str, dict[str, dict]]) -> LiveRows:
    """Leave ``tname`` to be read when first used, and ask now for the rows ``key``
    names in ``rows`` (read, not checked yet)."""
    column, source, source_column = key or (None, "", "")
    if column not in fetch or source not in rows:
        column = None
    table = snap.tables[tname]
    pending = LiveRows(session, table, fetch, column)
    table.defer(pending)
    if column is not None:
        values: set[str] = set()
        for row in rows[source].values():
            values.update(_strings(row.get(source_column)))
        pending.ask(sorted(v for v in values if v))
    return pending


def _strings(datum: Any) -> list[str]:
    """The string atoms of a datum as it came (a bare atom or ``["set", [...]]``)."""
    if datum.__class__ is str:
        return [datum]
    if datum.__class__ is list and len(datum) == 2 and datum[0] == "set" and \
            datum[1].__class__ is list:
        return [v for v in datum[1] if v.__class__ is str]
    return []


def _blank_snapshot(schema: Schema, fetch: dict[str, list[str]], remote: str) -> Snapshot:
    """A snapshot of the tables and columns in ``fetch``, without rows."""
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
    snap = _blank_snapshot(schema, fetch, spec)
    for tname, reply in zip(fetch, result):
        table = snap.tables[tname]
        table.rows.update(_select_rows(tname, table.columns, reply, spec))
    snap.info.format = "live (ovsdbapp IDL)"
    return snap

