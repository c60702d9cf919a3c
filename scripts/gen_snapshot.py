#!/usr/bin/env python3
"""Write a large synthetic, valid OVN NB standalone database file directly (no server).

    python3 scripts/gen_snapshot.py OUT.db [--scale F] [--routers N --pods N --dnat N
        --snat N --ha-group-every N --records K --seed S]

The default (scale 1) is the lab's big NB (docs/lab-notes.md §6): 2,000 routers, ~104k
logical switch ports, 52k NATs (26k distributed FIPs, 24k centralized FIPs, 2k SNATs),
~170k rows, ~43 MB.  Every router has

* a distributed gateway port (DGP) ``lrp-NNNNN-ext`` on the shared external switch
  ``ext-net`` (which has one localnet port), with three Gateway_Chassis rows (priorities
  30/20/10) or, every ``--ha-group-every`` routers, an HA_Chassis_Group of three members;
* an internal port ``lrp-NNNNN-int`` on its own switch ``ls-NNNNN`` holding the pods
  (``addresses`` "<mac> <ip>", some with ``options:requested-chassis``);
* NATs: distributed FIPs (dnat_and_snat with logical_port and external_mac), centralized
  FIPs (dnat_and_snat without them) and SNATs.

The file follows ovsdb/log.c and ovsdb/file.c (docs/ovn-semantics.md §5.1-5.2): record 0 is
the schema, then ``--records`` transactions; each record is ``OVSDB JSON <len> <sha1>``
and a body whose length and SHA-1 include its trailing newline.  Inserts list only
non-default columns.  Rows are spooled per table into temporary files, so memory stays
flat whatever the scale; the output is byte-for-byte deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Optional

try:
    import orjson

    _dumps: Callable[[Any], bytes] = orjson.dumps
except ImportError:  # pragma: no cover - orjson is a project dependency
    def _dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode()

NB_SCHEMA = Path("/usr/share/ovn/ovn-nb.ovsschema")
BASE = {"routers": 2000, "pods": 100_000, "dnat": 50_000, "snat": 2000}
DATE_MS = 1_700_000_000_000          # fixed "_date" keeps the output deterministic
EXT_NET = 0x64400000                 # 100.64.0.0/10: DGP addresses and external IPs
EXT_PLEN = 10
INT_NET = 0x0A000000                 # 10.0.0.0/8: per-router internal subnets
PRIORITIES = (30, 20, 10)
NORTHD_VERSION = "23.03.1-20.27.0-70.6"
TABLES = ("NB_Global", "Logical_Router", "Logical_Router_Port", "Gateway_Chassis",
          "HA_Chassis_Group", "HA_Chassis", "Logical_Switch", "Logical_Switch_Port", "NAT")

Ref = tuple  # ("uuid", "<uuid>"): a tuple is an atom, a list is a set, a dict is a map


@dataclass(frozen=True)
class Params:
    """Counts and knobs of one generated database (already scaled)."""

    routers: int
    pods: int
    dnat: int
    snat: int
    distributed: float = 0.52        # share of dnat_and_snat FIPs that are distributed
    requested_chassis: float = 0.5   # share of pods with options:requested-chassis
    ha_group_every: int = 10         # 0: Gateway_Chassis on every DGP
    gateways: int = 16               # gateway chassis pool (gw-NNN)
    nodes: int = 200                 # compute chassis pool (node-NNNN)
    records: int = 1
    seed: int = 1


def ip4(n: int) -> str:
    """Dotted quad of a 32-bit integer."""
    return f"{n >> 24 & 255}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def share(total: int, parts: int, i: int) -> int:
    """Part ``i`` of ``total`` split as evenly as possible into ``parts``."""
    return total // parts + (1 if i < total % parts else 0)


def ref(uuid: str) -> Ref:
    return ("uuid", uuid)


def encode(value: Any) -> Any:
    """OVSDB JSON of a Python value: list -> set (bare atom if one), dict -> map."""
    if isinstance(value, list):
        return value[0] if len(value) == 1 else ["set", value]
    if isinstance(value, dict):
        return ["map", [[k, v] for k, v in value.items()]]
    return value


def row(**columns: Any) -> dict:
    """An insert: only the columns that differ from their default, OVSDB-encoded."""
    return {k: encode(v) for k, v in columns.items()
            if v is not None and v != "" and v != [] and v != {}
            and not (v is False or (type(v) is int and v == 0))}


class Spool:
    """Row text of one transaction, one anonymous temporary file per table."""

    def __init__(self) -> None:
        self.files: dict[str, IO[bytes]] = {
            t: tempfile.TemporaryFile() for t in TABLES}  # noqa: SIM115 - closed by close()
        self.counts = dict.fromkeys(TABLES, 0)

    def add(self, table: str, uuid: str, data: dict) -> None:
        sep = b"," if self.counts[table] else b""
        self.files[table].write(b'%s"%s":%s' % (sep, uuid.encode(), _dumps(data)))
        self.counts[table] += 1

    def body(self, trailer: bytes) -> Iterator[bytes]:
        """The transaction's JSON object in chunks: every non-empty table, then ``trailer``."""
        yield b"{"
        for table in TABLES:
            if not self.counts[table]:
                continue
            yield b'"%s":{' % table.encode()
            f = self.files[table]
            f.flush()
            f.seek(0)
            while chunk := f.read(1 << 20):
                yield chunk
            yield b"},"
        yield trailer

    def reset(self) -> None:
        for f in self.files.values():
            f.seek(0)
            f.truncate()
        self.counts = dict.fromkeys(TABLES, 0)

    def close(self) -> None:
        for f in self.files.values():
            f.close()


def write_record(out: IO[bytes], chunks: Callable[[], Iterator[bytes]]) -> int:
    """Write one record (header, body, trailing LF); ``chunks`` is called twice."""
    sha, length = hashlib.sha1(), 0
    for c in chunks():
        sha.update(c)
        length += len(c)
    sha.update(b"\n")
    length += 1
    out.write(b"OVSDB JSON %d %s\n" % (length, sha.hexdigest().encode()))
    for c in chunks():
        out.write(c)
    out.write(b"\n")
    return length


class Generator:
    """Builds the rows router by router into a Spool."""

    def __init__(self, p: Params) -> None:
        self.p = p
        self.rng = random.Random(p.seed)
        self.totals = dict.fromkeys(TABLES, 0)
        per_router = max(share(p.pods, p.routers, 0), share(p.snat, p.routers, 0)) + 3
        self.block = 1 << max(3, (per_router - 1).bit_length())   # internal subnet size
        self.int_plen = 32 - self.block.bit_length() + 1
        self.next_ext = EXT_NET + p.routers + 256                  # first floating IP
        n_ext = p.dnat + p.snat + p.routers + 256
        if n_ext >= 1 << (32 - EXT_PLEN):
            raise ValueError(f"{n_ext} external IPs do not fit in {ip4(EXT_NET)}/{EXT_PLEN}")
        self.n_distributed = round(p.dnat * p.distributed)

    def uuid(self) -> str:
        """A random (seeded) version-4 UUID."""
        n = self.rng.getrandbits(128) & ~(0xF << 76 | 0x3 << 62) | (4 << 76 | 0x2 << 62)
        h = f"{n:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def add(self, spool: Spool, table: str, data: dict, uuid: Optional[str] = None) -> str:
        uuid = uuid or self.uuid()
        spool.add(table, uuid, data)
        self.totals[table] += 1
        return uuid

    def take_ext_ip(self) -> str:
        ip = ip4(self.next_ext)
        self.next_ext += 1
        return ip

    def globals(self, spool: Spool, localnet: str) -> None:
        """NB_Global and the localnet port of the shared external switch."""
        self.add(spool, "NB_Global", row(options={
            "mac_prefix": "0a:58:00", "northd_internal_version": NORTHD_VERSION,
            "svc_monitor_mac": "0a:58:00:00:00:fe"}))
        self.add(spool, "Logical_Switch_Port", row(
            name="ext-net-localnet", type="localnet", addresses=["unknown"],
            options={"network_name": "physnet1"}), uuid=localnet)

    def gateway(self, spool: Spool, r: int, lrp: str) -> dict:
        """Gateway_Chassis rows or an HA_Chassis_Group for DGP ``lrp``; LRP columns."""
        members = [f"gw-{g:03d}" for g in self.rng.sample(range(self.p.gateways), 3)]
        every = self.p.ha_group_every
        if every and r % every == every - 1:
            ha = [ref(self.add(spool, "HA_Chassis", row(chassis_name=ch, priority=prio)))
                  for ch, prio in zip(members, PRIORITIES)]
            group = self.add(spool, "HA_Chassis_Group", row(name=f"hagrp-{r:05d}", ha_chassis=ha))
            return {"ha_chassis_group": ref(group)}
        gcs = [ref(self.add(spool, "Gateway_Chassis", row(
            name=f"{lrp}-{ch}", chassis_name=ch, priority=prio)))
            for ch, prio in zip(members, PRIORITIES)]
        return {"gateway_chassis": gcs}

    def router(self, spool: Spool, r: int, distributed_before: int) -> tuple[str, int]:
        """All rows of router ``r``; returns its external-switch LSP UUID and distributed FIPs."""
        p, rng = self.p, self.rng
        name = f"lr-{r:05d}"
        dgp, internal = f"lrp-{r:05d}-ext", f"lrp-{r:05d}-int"
        hi, lo = r >> 8 & 255, r & 255

        # Distributed gateway port on the external network.
        gw_ip = ip4(EXT_NET + 1 + r)
        dgp_uuid = self.add(spool, "Logical_Router_Port", row(
            name=dgp, mac=f"0a:64:00:00:{hi:02x}:{lo:02x}", networks=[f"{gw_ip}/{EXT_PLEN}"],
            **self.gateway(spool, r, dgp)))
        ext_lsp = self.add(spool, "Logical_Switch_Port", row(
            name=f"ext-{r:05d}-lrp", type="router", addresses=["router"],
            options={"router-port": dgp, "nat-addresses": "router"}))

        # Internal port, switch and pods.
        net = INT_NET + (r * self.block) % (1 << 24)
        subnet = f"{ip4(net)}/{self.int_plen}"
        int_uuid = self.add(spool, "Logical_Router_Port", row(
            name=internal, mac=f"0a:0a:00:00:{hi:02x}:{lo:02x}",
            networks=[f"{ip4(net + 1)}/{self.int_plen}"]))
        ports = [ref(self.add(spool, "Logical_Switch_Port", row(
            name=f"ls-{r:05d}-lrp", type="router", addresses=["router"],
            options={"router-port": internal})))]
        ns = f"ns-{r:05d}"
        pods: list[tuple[str, str]] = []
        for j in range(share(p.pods, p.routers, r)):
            pod, ip = f"pod-{j}.{ns}", ip4(net + 2 + j)
            opts = {}
            if rng.random() < p.requested_chassis:
                opts["requested-chassis"] = f"node-{rng.randrange(p.nodes):04d}"
            ports.append(ref(self.add(spool, "Logical_Switch_Port", row(
                name=pod, addresses=[f"0a:58:{hi:02x}:{lo:02x}:{j >> 8 & 255:02x}:{j & 255:02x} {ip}"],
                options=opts, external_ids={"pod": f"{ns}/pod-{j}", "ls": f"ls-{r:05d}",
                              "vendor": "synthetic"}))))
            pods.append((pod, ip))
        self.add(spool, "Logical_Switch", row(
            name=f"ls-{r:05d}", ports=ports, other_config={"subnet": subnet},
            external_ids={"router": name}))

        # NATs: distributed FIPs first, then centralized FIPs, then SNATs.
        nats: list[Ref] = []
        n_fip = share(p.dnat, p.routers, r)
        n_dist = share(self.n_distributed, p.routers, r)
        for k in range(n_fip):
            pod, ip = pods[k % len(pods)] if pods else ("", ip4(net + 2 + k))
            cols: dict[str, Any] = {"type": "dnat_and_snat", "external_ip": self.take_ext_ip(),
                                    "logical_ip": ip, "external_ids": {"router": name}}
            if k < n_dist and pod:
                n = distributed_before + k
                cols["logical_port"] = pod
                cols["external_mac"] = (f"fa:16:3e:{n >> 16 & 255:02x}:"
                                        f"{n >> 8 & 255:02x}:{n & 255:02x}")
            nats.append(ref(self.add(spool, "NAT", row(**cols))))
        for k in range(share(p.snat, p.routers, r)):
            ext_ip = gw_ip if k == 0 else self.take_ext_ip()
            logical = subnet if k == 0 or not pods else f"{pods[k % len(pods)][1]}/32"
            nats.append(ref(self.add(spool, "NAT", row(
                type="snat", external_ip=ext_ip, logical_ip=logical,
                external_ids={"router": name}))))

        self.add(spool, "Logical_Router", row(
            name=name, ports=[ref(dgp_uuid), ref(int_uuid)], nat=nats,
            external_ids={"tenant": f"tenant-{r % 97:02d}"}))
        return ext_lsp, n_dist if pods else 0


def generate(out_path: Path, p: Params, schema_path: Path = NB_SCHEMA) -> dict[str, int]:
    """Write the database to ``out_path`` (atomically); returns row counts per table."""
    schema = json.loads(schema_path.read_text())
    gen = Generator(p)
    n_records = max(1, min(p.records, p.routers))
    ext_switch, localnet = gen.uuid(), gen.uuid()
    tmp = out_path.with_name(f".{out_path.name}.tmp-{os.getpid()}")
    spool = Spool()
    try:
        with open(tmp, "wb") as out:
            write_record(out, lambda: iter([_dumps(schema)]))
            distributed_before = 0
            for k in range(n_records):
                if k == 0:
                    gen.globals(spool, localnet)
                ext_ports: list[Ref] = [ref(localnet)] if k == 0 else []
                for r in range(k * p.routers // n_records, (k + 1) * p.routers // n_records):
                    lsp, n_dist = gen.router(spool, r, distributed_before)
                    ext_ports.append(ref(lsp))
                    distributed_before += n_dist
                if k == 0:
                    gen.add(spool, "Logical_Switch", row(name="ext-net", ports=ext_ports),
                            uuid=ext_switch)
                else:   # a set diff toggles the new ports in (ovsdb/file.c, _is_diff)
                    spool.add("Logical_Switch", ext_switch, {"ports": encode(ext_ports)})
                trailer = b'"_date":%d,"_is_diff":true,"_comment":"gen_snapshot.py seed=%d part %d/%d"}' % (
                    DATE_MS + k * 1000, p.seed, k + 1, n_records)
                write_record(out, lambda t=trailer: spool.body(t))
                spool.reset()
        os.replace(tmp, out_path)
    finally:
        spool.close()
        if tmp.exists():
            tmp.unlink()
    return gen.totals


def params_from_args(args: argparse.Namespace) -> Params:
    """Apply ``--scale`` to the base (or given) counts."""
    def scaled(name: str) -> int:
        given = getattr(args, name)
        return round((BASE[name] if given is None else given) * args.scale)

    p = Params(routers=max(1, scaled("routers")), pods=scaled("pods"), dnat=scaled("dnat"),
               snat=scaled("snat"), distributed=args.distributed,
               requested_chassis=args.requested_chassis, ha_group_every=args.ha_group_every,
               gateways=args.gateways, nodes=args.nodes, records=args.records, seed=args.seed)
    if p.gateways < 3 or p.nodes < 1 or p.records < 1 or p.ha_group_every < 0:
        raise ValueError("need --gateways >= 3, --nodes >= 1, --records >= 1, --ha-group-every >= 0")
    if not 0 <= p.distributed <= 1 or not 0 <= p.requested_chassis <= 1:
        raise ValueError("--distributed and --requested-chassis are fractions in [0, 1]")
    return p


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, help="database file to write")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply all counts (default 1)")
    ap.add_argument("--routers", type=int, help=f"routers (default {BASE['routers']})")
    ap.add_argument("--pods", type=int, help=f"pod ports (default {BASE['pods']})")
    ap.add_argument("--dnat", type=int, help=f"dnat_and_snat FIPs (default {BASE['dnat']})")
    ap.add_argument("--snat", type=int, help=f"SNATs (default {BASE['snat']})")
    ap.add_argument("--distributed", type=float, default=0.52,
                    help="share of FIPs that are distributed (default 0.52)")
    ap.add_argument("--requested-chassis", type=float, default=0.5,
                    help="share of pods with options:requested-chassis (default 0.5)")
    ap.add_argument("--ha-group-every", type=int, default=10,
                    help="every Nth DGP uses an HA_Chassis_Group (0: never; default 10)")
    ap.add_argument("--gateways", type=int, default=16, help="gateway chassis pool (default 16)")
    ap.add_argument("--nodes", type=int, default=200, help="compute chassis pool (default 200)")
    ap.add_argument("--records", type=int, default=1,
                    help="split the data into K transaction records (default 1)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--schema", type=Path, default=NB_SCHEMA)
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    try:
        p = params_from_args(args)
        t0 = time.perf_counter()
        totals = generate(args.out, p, args.schema)
    except (OSError, ValueError) as e:
        print(f"gen_snapshot: {e}", file=sys.stderr)
        return 2
    if not args.quiet:
        rows = ", ".join(f"{t} {n}" for t, n in totals.items() if n)
        print(f"wrote {args.out}: {sum(totals.values())} rows ({rows}); "
              f"{max(1, min(p.records, p.routers))} txn record(s), "
              f"{args.out.stat().st_size} bytes in {time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
