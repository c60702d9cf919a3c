#!/usr/bin/env python3
"""Write a long NB transaction log through a real ovsdb-server: thousands of small
transactions, the way a CMS builds and then edits a cloud (for ``timeline`` benchmarks).

    python3 scripts/gen_history.py OUT.db [--routers 200] [--pods 10] [--nats 5]

Phases, one object per transaction as a CMS writes them: routers, their internal and
external ports, gateway chassis, pods (switch ports) and NATs (half of the FIPs
distributed); then updates (FIPs lose or gain external_mac, gateway priorities change,
routers are disabled and enabled) and deletes (NATs, pods, whole routers).  The server is
started from tests/ovnlab.py in a temporary directory and stopped by pid; its standalone
log is copied to OUT.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import socket
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.oracle import stop_lab  # noqa: E402
from tests.ovnlab import OvnLab  # noqa: E402

DB = "OVN_Northbound"


class Client:
    """A bare JSON-RPC client on the server's unix socket: one transact per call."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(str(path))
        self.buf = ""
        self.decoder = json.JSONDecoder()
        self.next_id = 0
        self.count = 0

    def transact(self, *ops: dict, comment: str = "") -> list:
        self.next_id += 1
        if comment:
            ops = (*ops, {"op": "comment", "comment": comment})
        self.sock.sendall(json.dumps({"method": "transact", "params": [DB, *ops],
                                      "id": self.next_id}).encode())
        while True:
            reply = self._message()
            if reply.get("id") == self.next_id:
                break
        result = reply.get("result") or []
        errors = [r for r in result if isinstance(r, dict) and "error" in r]
        if reply.get("error") or errors:
            raise RuntimeError(f"transaction failed: {reply.get('error') or errors} {ops}")
        self.count += 1
        return result

    def _message(self) -> dict:
        while True:
            text = self.buf.lstrip()
            if text:
                try:
                    msg, end = self.decoder.raw_decode(text)
                    self.buf = text[end:]
                    return msg
                except json.JSONDecodeError:
                    pass
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise RuntimeError("server closed the connection")
            self.buf += chunk.decode()


def where(uuid: str) -> list:
    return [["_uuid", "==", ["uuid", uuid]]]


def link_ops(lr: str, ls: str, lrp_row: dict, peer: str) -> list[dict]:
    """Operations that add router port ``lrp_row`` to router ``lr`` and its router-type peer
    ``peer`` to switch ``ls`` (what ovn-nbctl lrp-add + lsp-add ... router do)."""
    return [
        {"op": "insert", "table": "Logical_Router_Port", "row": lrp_row, "uuid-name": "lrp"},
        {"op": "mutate", "table": "Logical_Router", "where": where(lr),
         "mutations": [["ports", "insert", ["named-uuid", "lrp"]]]},
        {"op": "insert", "table": "Logical_Switch_Port",
         "row": {"name": peer, "type": "router", "addresses": "router",
                 "options": ["map", [["router-port", lrp_row["name"]]]]}, "uuid-name": "lsp"},
        {"op": "mutate", "table": "Logical_Switch", "where": where(ls),
         "mutations": [["ports", "insert", ["named-uuid", "lsp"]]]},
    ]


def build(client: Client, routers: int, pods: int, nats: int, rng: random.Random) -> None:
    t = client.transact
    ext = t({"op": "insert", "table": "Logical_Switch", "row": {"name": "ext"},
             "uuid-name": "ls"},
            {"op": "insert", "table": "Logical_Switch_Port",
             "row": {"name": "ln-ext", "type": "localnet", "addresses": "unknown",
                     "options": ["map", [["network_name", "physnet1"]]]}, "uuid-name": "ln"},
            {"op": "mutate", "table": "Logical_Switch", "where": [["name", "==", "ext"]],
             "mutations": [["ports", "insert", ["named-uuid", "ln"]]]},
            comment="ls-add ext")[0]["uuid"][1]
    state: dict[str, Any] = {"routers": [], "pods": [], "nats": [], "ext": ext}
    for i in range(routers):
        name = f"vpc{i}"
        lr = t({"op": "insert", "table": "Logical_Router", "row": {"name": name}},
               comment=f"lr-add {name}")[0]["uuid"][1]
        hi, lo = divmod(i, 250)
        ls = t({"op": "insert", "table": "Logical_Switch", "row": {"name": f"{name}-int"},
                "uuid-name": "ls"}, comment=f"ls-add {name}-int")[0]["uuid"][1]
        t(*link_ops(lr, ls, {"name": f"{name}-int", "mac": f"00:00:01:{hi:02x}:{lo:02x}:01",
                             "networks": "192.168.0.1/24"}, f"{name}-int-rp"),
          comment=f"connect {name} {name}-int")
        gcs = [["named-uuid", f"gc{k}"] for k in (1, 2)]
        t({"op": "insert", "table": "Gateway_Chassis",
           "row": {"name": f"{name}-ext-gw1", "chassis_name": f"gw{i % 7}", "priority": 20},
           "uuid-name": "gc1"},
          {"op": "insert", "table": "Gateway_Chassis",
           "row": {"name": f"{name}-ext-gw2", "chassis_name": f"gw{(i + 1) % 7}",
                   "priority": 10}, "uuid-name": "gc2"},
          *link_ops(lr, ext, {"name": f"{name}-ext", "mac": f"00:00:02:{hi:02x}:{lo:02x}:01",
                              "networks": f"10.{hi}.{lo}.1/24",
                              "gateway_chassis": ["set", gcs]}, f"ext-{name}"),
          comment=f"lrp-set-gateway-chassis {name}-ext")
        for p in range(pods):
            pod = f"{name}-pod{p}"
            made = t({"op": "insert", "table": "Logical_Switch_Port",
                      "row": {"name": pod, "addresses": f"0a:{hi:02x}:{lo:02x}:00:00:{p:02x} "
                                                        f"192.168.0.{10 + p}"},
                      "uuid-name": "lsp"},
                     {"op": "mutate", "table": "Logical_Switch", "where": where(ls),
                      "mutations": [["ports", "insert", ["named-uuid", "lsp"]]]},
                     comment=f"lsp-add {name}-int {pod}")
            state["pods"].append((ls, pod, made[0]["uuid"][1]))
        for n in range(nats):
            row: dict[str, Any] = {"type": "dnat_and_snat", "external_ip": f"10.{hi}.{lo}.{10 + n}",
                                   "logical_ip": f"192.168.0.{10 + n % max(pods, 1)}"}
            if n == nats - 1:
                row = {"type": "snat", "external_ip": f"10.{hi}.{lo}.100",
                       "logical_ip": "192.168.0.0/24"}
            elif n % 2 == 0 and pods:
                row["logical_port"] = f"{name}-pod{n % pods}"
                row["external_mac"] = f"0a:f0:{hi:02x}:{lo:02x}:00:{n:02x}"
            nat = t({"op": "insert", "table": "NAT", "row": row, "uuid-name": "nat"},
                    {"op": "mutate", "table": "Logical_Router", "where": where(lr),
                     "mutations": [["nat", "insert", ["named-uuid", "nat"]]]},
                    comment=f"lr-nat-add {name} {row['type']} {row['external_ip']}")
            state["nats"].append((lr, nat[0]["uuid"][1], row))
        state["routers"].append((lr, name))
    edit(client, state, rng)


def edit(client: Client, state: dict[str, Any], rng: random.Random) -> None:
    t = client.transact
    fips = [x for x in state["nats"] if x[2]["type"] == "dnat_and_snat"]
    for _lr, nat, row in rng.sample(fips, len(fips) // 4):
        if "external_mac" in row:
            t({"op": "update", "table": "NAT", "where": where(nat),
               "row": {"external_mac": ["set", []]}}, comment="clear NAT external_mac")
        else:
            t({"op": "update", "table": "NAT", "where": where(nat),
               "row": {"external_mac": "0a:ff:00:00:00:01"}}, comment="set NAT external_mac")
    for _lr, name in rng.sample(state["routers"], len(state["routers"]) // 4):
        t({"op": "update", "table": "Gateway_Chassis", "where": [["name", "==", f"{name}-ext-gw2"]],
           "row": {"priority": 30}}, comment=f"lrp-set-gateway-chassis {name}-ext")
    for lr, name in rng.sample(state["routers"], len(state["routers"]) // 10):
        t({"op": "update", "table": "Logical_Router", "where": where(lr),
           "row": {"enabled": False}}, comment=f"set Logical_Router {name} enabled=false")
        t({"op": "update", "table": "Logical_Router", "where": where(lr),
           "row": {"enabled": True}}, comment=f"set Logical_Router {name} enabled=true")
    for lr, nat, row in rng.sample(state["nats"], len(state["nats"]) // 10):
        t({"op": "mutate", "table": "Logical_Router", "where": where(lr),
           "mutations": [["nat", "delete", ["uuid", nat]]]},
          comment=f"lr-nat-del {row['external_ip']}")
    for ls, pod, uuid in rng.sample(state["pods"], len(state["pods"]) // 10):
        # the port is garbage-collected once its switch no longer refers to it
        t({"op": "mutate", "table": "Logical_Switch", "where": where(ls),
           "mutations": [["ports", "delete", ["uuid", uuid]]]}, comment=f"lsp-del {pod}")
    for lr, name in rng.sample(state["routers"], len(state["routers"]) // 20):
        t({"op": "delete", "table": "Logical_Router", "where": where(lr)},
          comment=f"lr-del {name}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--routers", type=int, default=200)
    ap.add_argument("--pods", type=int, default=10)
    ap.add_argument("--nats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    start = time.monotonic()
    lab = OvnLab().start_nb()
    try:
        client = Client(lab.path("nb.sock"))
        build(client, args.routers, args.pods, args.nats, random.Random(args.seed))
        client.sock.close()
        shutil.copyfile(lab.nb_db, args.out)
    finally:
        stop_lab(lab)
    print(f"wrote {args.out}: {client.count} transactions, {args.out.stat().st_size} bytes, "
          f"{time.monotonic() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
