"""Build the NB file forms servers really write, for scripts/bench.py ``--make-forms DIR``.

From one scripts/gen_snapshot.py database (rows router by router) it writes into DIR:

* ``compacted.db``: ``ovsdb-tool compact`` of it (rows in the server's hash order);
* ``compacted.db.gz``: gzip of that;
* ``clustered.db``: ``ovsdb-tool create-cluster`` from it (the data in the header's
  ``prev_data``);
* ``clustered-entries.db``: that cluster served by a clustered ovsdb-server which commits
  ``--entries`` small transactions (raft entries and commit_index records follow);
* ``log.db``: a standalone log written by a real ovsdb-server from an empty database:
  the same rows, one transaction per router, switch and HA group (big ones in chunks of
  ``CHUNK`` children), then ``--edits`` small updates and deletes; never compacted.

ovsdb-server compacts (snapshots) a database by itself only once 10-20 minutes have passed
since it opened it (ovsdb/storage.c, schedule_next_snapshot), so each server here must live
less than that; :func:`check_uncompacted` verifies the result.  Servers run from
tests/ovnlab.py in temporary directories and are stopped by pid.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import json
import random
import select
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

REPO = Path(__file__).resolve().parents[1]
GEN = REPO / "scripts" / "gen_snapshot.py"
DB = "OVN_Northbound"
CHUNK = 100          # children (NATs, switch ports) per build transaction
WINDOW = 64          # transactions in flight on the socket
SERVER_LIFE = 540.0  # seconds; ovsdb-server may compact on its own after 600
FORMS = ("compacted.db", "compacted.db.gz", "clustered.db", "clustered-entries.db", "log.db")

Log = Callable[[str], None]


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Reading records
# --------------------------------------------------------------------------------------

def records(path: Path) -> Iterator[dict]:
    """Every record body of an OVSDB file, parsed (docs/ovn-semantics.md §5.1)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        while header := f.readline():
            parts = header.split()
            body = f.read(int(parts[2]))
            if hashlib.sha1(body).hexdigest().encode() != parts[3]:
                raise ValueError(f"{path}: bad SHA-1")
            yield json.loads(body)


def load_rows(path: Path) -> dict[str, dict[str, dict]]:
    """Table -> uuid -> row of a standalone file of inserts (gen_snapshot.py output)."""
    tables: dict[str, dict[str, dict]] = {}
    for i, rec in enumerate(records(path)):
        if i == 0:
            continue
        for table, rows in rec.items():
            if not table.startswith("_"):
                tables.setdefault(table, {}).update(rows)
    return tables


def uuids(value: Any) -> list[str]:
    """The UUIDs of a set (or bare single-UUID) value."""
    if not value:
        return []
    if value[0] == "uuid":
        return [value[1]]
    return [atom[1] for atom in value[1]] if value[0] == "set" else []


def uuid_set(ids: list[str]) -> list:
    return ["set", [["uuid", u] for u in ids]]


# --------------------------------------------------------------------------------------
# A pipelined JSON-RPC client
# --------------------------------------------------------------------------------------

class Client:
    """Transactions on a unix socket, ``WINDOW`` in flight; any error raises."""

    def __init__(self, sock_path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(str(sock_path))
        self.buf = ""
        self.pos = 0
        self.utf8 = codecs.getincrementaldecoder("utf-8")()
        self.decoder = json.JSONDecoder()
        self.next_id = 0
        self.pending: dict[int, list] = {}
        self.count = 0

    def close(self) -> None:
        self.flush()
        self.sock.close()

    def send(self, ops: list[dict], comment: str = "") -> None:
        """Queue one transaction (``comment`` becomes its ``_comment``)."""
        if comment:
            ops = [*ops, {"op": "comment", "comment": comment}]
        self.next_id += 1
        self.pending[self.next_id] = ops
        self._send(json.dumps({"method": "transact", "params": [DB, *ops],
                               "id": self.next_id}).encode())
        while len(self.pending) >= WINDOW:
            self._collect()

    def _send(self, data: bytes) -> None:
        """Send ``data`` while reading what the server sends meanwhile: ovsdb-server reads
        no request from a client while its replies to that client are unsent."""
        view = memoryview(data)
        while view:
            readable, writable, _ = select.select([self.sock], [self.sock], [], 60)
            if readable:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    raise RuntimeError("ovsdb-server closed the connection")
                self._take(chunk)
            if writable:
                view = view[self.sock.send(view[:1 << 16]):]
            if not readable and not writable:
                raise RuntimeError("ovsdb-server stopped answering")

    def flush(self) -> None:
        while self.pending:
            self._collect()

    def send_all(self, txns: Iterable[tuple[list[dict], str]]) -> int:
        """Queue every (ops, comment) transaction, wait for their results; the count of
        transactions done so far."""
        for ops, comment in txns:
            self.send(ops, comment)
        self.flush()
        return self.count

    def transact(self, ops: list[dict], comment: str = "") -> list:
        """One transaction, waiting for its result."""
        self.send(ops, comment)
        want = self.next_id
        while want in self.pending:
            result = self._collect()
        return result

    def _collect(self) -> list:
        msg = self._message()
        if msg.get("method") == "echo":
            self._send(json.dumps({"result": msg.get("params"), "error": None,
                                   "id": msg.get("id")}).encode())
            return []
        ops = self.pending.pop(msg.get("id"), None)
        if ops is None:
            return []
        result = msg.get("result") or []
        errors = [r for r in result if isinstance(r, dict) and "error" in r]
        if msg.get("error") or errors:
            raise RuntimeError(f"transaction failed: {msg.get('error') or errors}: "
                               f"{json.dumps(ops)[:300]}")
        self.count += 1
        return result

    def _message(self) -> dict:
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos].isspace():
                self.pos += 1
            if self.pos < len(self.buf):
                try:
                    msg, self.pos = self.decoder.raw_decode(self.buf, self.pos)
                    return msg
                except json.JSONDecodeError:
                    pass
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("ovsdb-server closed the connection")
            self._take(chunk)

    def _take(self, chunk: bytes) -> None:
        self.buf = self.buf[self.pos:] + self.utf8.decode(chunk)
        self.pos = 0


def wait_leader(client: Client, timeout: float = 60.0) -> None:
    """Until a clustered server accepts a transaction (it has elected itself leader)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.transact([])
            return
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


# --------------------------------------------------------------------------------------
# Transactions: building the database, then editing it
# --------------------------------------------------------------------------------------

def _insert(table: str, uuid: str, row: dict) -> dict:
    return {"op": "insert", "table": table, "uuid": uuid, "row": row}


def _where(uuid: str) -> list:
    return [["_uuid", "==", ["uuid", uuid]]]


def _with_children(tables: dict, table: str, uuid: str, column: str, child: str,
                   extra: Callable[[dict], list[dict]], comment: str
                   ) -> Iterator[tuple[list[dict], str]]:
    """Transactions that insert root row ``uuid`` with the rows its ``column`` refers to
    (``CHUNK`` per transaction; later chunks are added with a mutate), plus ``extra``."""
    row = dict(tables[table][uuid])
    kids = uuids(row.get(column))
    first, rest = kids[:CHUNK], kids[CHUNK:]
    row[column] = uuid_set(first)
    ops = [_insert(table, uuid, row), *extra(row)]
    ops += [_insert(child, k, tables[child][k]) for k in first]
    yield ops, comment
    for i in range(0, len(rest), CHUNK):
        part = rest[i:i + CHUNK]
        yield ([*(_insert(child, k, tables[child][k]) for k in part),
                {"op": "mutate", "table": table, "where": _where(uuid),
                 "mutations": [[column, "insert", uuid_set(part)]]}],
               f"{comment} (+{len(part)})")


def build_txns(tables: dict[str, dict[str, dict]]) -> Iterator[tuple[list[dict], str]]:
    """The whole database as a CMS would write it: NB_Global, HA groups, switches with
    their ports, routers with their ports, gateway chassis and NATs."""
    def none(row: dict) -> list[dict]:
        return []

    done = {"NB_Global", "HA_Chassis_Group", "HA_Chassis", "Logical_Switch",
            "Logical_Switch_Port", "Logical_Router", "Logical_Router_Port",
            "Gateway_Chassis", "NAT"}
    unknown = {t for t, rows in tables.items() if rows} - done
    if unknown:
        raise RuntimeError(f"cannot replay rows of {sorted(unknown)}")
    for uuid, row in tables.get("NB_Global", {}).items():
        yield [_insert("NB_Global", uuid, row)], "ovn-nbctl: ovn-nbctl init"
    for uuid, row in tables.get("HA_Chassis_Group", {}).items():
        yield from _with_children(tables, "HA_Chassis_Group", uuid, "ha_chassis", "HA_Chassis",
                                  none, f"ovn-nbctl: ha-chassis-group-add {row.get('name')}")
    for uuid, row in tables.get("Logical_Switch", {}).items():
        yield from _with_children(tables, "Logical_Switch", uuid, "ports", "Logical_Switch_Port",
                                  none, f"ovn-nbctl: ls-add {row.get('name')}")

    def router_ports(row: dict) -> list[dict]:
        ops = []
        for p in uuids(row.get("ports")):
            lrp = tables["Logical_Router_Port"][p]
            ops.append(_insert("Logical_Router_Port", p, lrp))
            ops += [_insert("Gateway_Chassis", g, tables["Gateway_Chassis"][g])
                    for g in uuids(lrp.get("gateway_chassis"))]
        return ops

    for uuid, row in tables.get("Logical_Router", {}).items():
        yield from _with_children(tables, "Logical_Router", uuid, "nat", "NAT", router_ports,
                                  f"ovn-nbctl: lr-add {row.get('name')}")


class Editor:
    """Small edits of a loaded database, as an operator or CMS makes them: FIPs lose or
    gain external_mac, gateway priorities change, routers are disabled and enabled, NATs
    and pods are deleted, new FIPs are added, now and then a router is deleted."""

    def __init__(self, tables: dict[str, dict[str, dict]], seed: int) -> None:
        self.rng = random.Random(seed)
        self.routers = {u: r.get("name", u) for u, r in tables.get("Logical_Router", {}).items()}
        self.nat_router = {n: lr for lr, r in tables.get("Logical_Router", {}).items()
                           for n in uuids(r.get("nat"))}
        self.nat_list = list(self.nat_router)
        self.nats = tables.get("NAT", {})
        self.has_mac = {n for n, r in self.nats.items() if r.get("external_mac")}
        self.gcs = list(tables.get("Gateway_Chassis", {}))
        self.pods = [(ls, p) for ls, r in tables.get("Logical_Switch", {}).items()
                     for p in uuids(r.get("ports"))
                     if not tables["Logical_Switch_Port"][p].get("type")]
        self.gone: set[str] = set()
        self.added = 0

    def _nat(self) -> Optional[str]:
        for _ in range(50):
            n = self.rng.choice(self.nat_list) if self.nat_list else None
            if n and n not in self.gone and self.nat_router[n] not in self.gone:
                return n
        return None

    def txns(self, count: int) -> Iterator[tuple[list[dict], str]]:
        """``count`` transactions (a disable/enable pair counts as two)."""
        made = 0
        kinds = ["mac"] * 30 + ["prio"] * 20 + ["enable"] * 10 + ["natdel"] * 15 + \
                ["poddel"] * 10 + ["natadd"] * 14 + ["lrdel"]
        while made < count:
            for ops, comment in self._one(self.rng.choice(kinds)):
                yield ops, comment
                made += 1

    def _one(self, kind: str) -> Iterator[tuple[list[dict], str]]:
        nat = self._nat()
        if nat is None:
            return
        lr = self.nat_router[nat]
        name = self.routers[lr]
        ip = self.nats[nat].get("external_ip", "?") if nat in self.nats else "?"
        if kind == "mac" and self.nats.get(nat, {}).get("type") == "dnat_and_snat":
            mac: Any = ["set", []] if nat in self.has_mac else \
                f"fa:16:3f:{self.rng.randrange(256):02x}:{self.rng.randrange(256):02x}:01"
            self.has_mac ^= {nat}
            yield ([{"op": "update", "table": "NAT", "where": _where(nat),
                     "row": {"external_mac": mac}}],
                   f"ovn-nbctl: set NAT {ip} external_mac")
        elif kind == "prio" and self.gcs:
            gc = self.rng.choice(self.gcs)
            yield ([{"op": "update", "table": "Gateway_Chassis", "where": _where(gc),
                     "row": {"priority": self.rng.randrange(1, 40)}}],
                   "ovn-nbctl: lrp-set-gateway-chassis")
        elif kind == "enable":
            for on in (False, True):
                yield ([{"op": "update", "table": "Logical_Router", "where": _where(lr),
                         "row": {"enabled": on}}],
                       f"ovn-nbctl: set Logical_Router {name} enabled={str(on).lower()}")
        elif kind == "natdel":
            self.gone.add(nat)
            yield ([{"op": "mutate", "table": "Logical_Router", "where": _where(lr),
                     "mutations": [["nat", "delete", ["uuid", nat]]]}],
                   f"ovn-nbctl: lr-nat-del {name} dnat_and_snat {ip}")
        elif kind == "poddel" and self.pods:
            ls, pod = self.pods.pop(self.rng.randrange(len(self.pods)))
            yield ([{"op": "mutate", "table": "Logical_Switch", "where": _where(ls),
                     "mutations": [["ports", "delete", ["uuid", pod]]]}],
                   "ovn-nbctl: lsp-del")
        elif kind == "natadd":
            self.added += 1
            hi, lo = divmod(self.added, 250)
            row = {"type": "dnat_and_snat", "external_ip": f"198.18.{hi % 256}.{lo + 1}",
                   "logical_ip": f"10.255.{hi % 256}.{lo + 1}"}
            yield ([{"op": "insert", "table": "NAT", "row": row, "uuid-name": "n"},
                    {"op": "mutate", "table": "Logical_Router", "where": _where(lr),
                     "mutations": [["nat", "insert", ["named-uuid", "n"]]]}],
                   f"ovn-nbctl: lr-nat-add {name} dnat_and_snat {row['external_ip']}")
        elif kind == "lrdel":
            self.gone.add(lr)
            yield ([{"op": "delete", "table": "Logical_Router", "where": _where(lr)}],
                   f"ovn-nbctl: lr-del {name}")


# --------------------------------------------------------------------------------------
# The forms
# --------------------------------------------------------------------------------------

def _run(cmd: list[str], timeout: float = 600) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} -> rc {proc.returncode}: {proc.stderr.strip()[-300:]}")


def _serve(lab: Any, feed: Callable[[Client], int], clustered: bool) -> int:
    """Start the lab's NB server on its nb.db, ``feed`` it, stop it by pid; the number of
    transactions committed.  Fails if the server lived long enough to compact."""
    from tests.ovnlab import stop_pid

    t0 = time.monotonic()
    lab.start_nb()
    pid = int(lab.path("nb.pid").read_text())
    try:
        client = Client(lab.path("nb.sock"))
        if clustered:
            wait_leader(client)
        count = feed(client)
        client.close()
    finally:
        stop_pid(pid)
    if time.monotonic() - t0 > SERVER_LIFE:
        raise RuntimeError(f"ovsdb-server ran {time.monotonic() - t0:.0f} s: it may have "
                           f"compacted; build a smaller form")
    return count


def check_uncompacted(path: Path) -> int:
    """Records in a server-written log; raises if the server compacted it."""
    n = 0
    for n, rec in enumerate(records(path), 1):
        txn = rec.get("data", [None, rec])[1] if "data" in rec else rec
        if n > 2 and isinstance(txn, dict) and \
                str(txn.get("_comment", "")).startswith("compacting"):
            raise RuntimeError(f"{path}: ovsdb-server compacted it (record {n})")
    return n


def make_log(tables: dict, out: Path, work: Path, edits: int, seed: int, say: Log) -> str:
    """``log.db``: the rows written through a standalone ovsdb-server, then ``edits``."""
    from tests.ovnlab import OvnLab

    lab = OvnLab(root=work / "lab-log")
    try:
        def feed(client: Client) -> int:
            built = client.send_all(build_txns(tables))
            done = client.send_all(Editor(tables, seed).txns(edits))
            say(f"  log: {built} build + {done - built} edit transactions")
            return done

        feed_count = _serve(lab, feed, clustered=False)
        shutil.copyfile(lab.nb_db, out)
    finally:
        lab.stop()
    return f"{feed_count} transactions, {check_uncompacted(out)} records"


def make_clustered(compacted: Path, out_plain: Path, out_entries: Path, work: Path,
                   entries: int, tables: dict, seed: int, say: Log) -> str:
    """``clustered.db`` (create-cluster) and ``clustered-entries.db`` (plus ``entries``)."""
    from tests.ovnlab import OvnLab

    lab = OvnLab(root=work / "lab-raft")
    try:
        _run(["ovsdb-tool", "create-cluster", str(lab.nb_db), str(compacted),
              f"unix:{lab.path('nb.raft')}"])
        shutil.copyfile(lab.nb_db, out_plain)

        def feed(client: Client) -> int:
            return client.send_all(Editor(tables, seed + 1).txns(entries))

        count = _serve(lab, feed, clustered=True)
        shutil.copyfile(lab.nb_db, out_entries)
    finally:
        lab.stop()
    return f"{count} transactions, {check_uncompacted(out_entries)} records"


def make_forms(out: Path, work: Path, scale: float = 1.0, python: str = sys.executable,
               entries: int = 5000, edits: int = 3000, seed: int = 1,
               say: Log = _say) -> dict[str, int]:
    """Every form into ``out``; the sizes of the files written."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    out, work = out.resolve(), work.resolve()
    out.mkdir(parents=True, exist_ok=True)
    (out / "READY").unlink(missing_ok=True)
    t0 = time.monotonic()
    gen = work / "generated.db"
    say(f"generating scale {scale:g} (gen_snapshot.py) ...")
    _run([python, str(GEN), str(gen), "--scale", f"{scale:g}", "--quiet"])
    compacted = out / "compacted.db"
    say("ovsdb-tool compact ...")
    _run(["ovsdb-tool", "compact", str(gen), str(compacted)])
    (out / f".{compacted.name}.~lock~").unlink(missing_ok=True)   # left by ovsdb-tool
    say("gzip ...")
    with open(compacted, "rb") as src, gzip.open(out / "compacted.db.gz", "wb", 6) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    tables = load_rows(gen)
    notes: dict[str, str] = {}
    say("clustered: create-cluster, then entries through a clustered ovsdb-server ...")
    notes["clustered-entries.db"] = make_clustered(
        compacted, out / "clustered.db", out / "clustered-entries.db", work, entries, tables,
        seed, say)
    say("log: through a standalone ovsdb-server ...")
    notes["log.db"] = make_log(tables, out / "log.db", work, edits, seed, say)
    gen.unlink()
    sizes = {name: (out / name).stat().st_size for name in FORMS}
    lines = [f"# ovninspect bench forms, scale {scale:g}, built in "
             f"{time.monotonic() - t0:.0f} s by scripts/bench.py --make-forms"]
    lines += [f"{name}\t{size}\t{notes.get(name, '')}".rstrip() for name, size in sizes.items()]
    (out / "READY").write_text("\n".join(lines) + "\n")
    return sizes
