"""Simulated chassis running the real ovn-controller, attached to an :class:`OvnLab`.

The second oracle of ``failover-sim`` (issue #13): northd's flows cannot tell who wins a
gateway election, who claims a ``cr-`` port or what a lone survivor does; ovn-controller
decides that, with BFD.  This module runs it, as shared/docs/controller-lab.md measured:

* a ``main`` sandbox (ovsdb-server + ovs-vswitchd) whose bridge ``n1`` is the shared
  network;
* per chassis, its own ovsdb-server, ``ovs-vswitchd --enable-dummy=system`` (the dummy
  datapath; ``=override`` would also replace the tunnel ports and BFD never comes up) and a
  real ``ovn-controller``, in a directory of its own (``OVS_*``/``OVN_*`` dirs point there);
* ``br-phys`` of each chassis linked to ``n1`` by a dummy port over a unix socket, its encap
  IP set with ``netdev-dummy/ip4addr`` and ``ovs/route/add``, every peer's tunnel neighbour
  with ``tnl/neigh/set`` (runtime state: redone when a chassis comes back); ``br-phys`` has
  a fixed MAC so peers' neighbour entries stay right across restarts;
* VIFs are ports on ``br-int`` with ``external_ids:iface-id``.

Everything lives in the lab's temp dir; daemons are stopped by pid (:meth:`stop`, also on
errors, since the lab is a context manager); waits are bounded.  Read back with
:meth:`ControllerLab.observe`: who claims each ``cr-``/``l3gateway`` port (SB), BFD state
per tunnel, the ``nat(src=…)``/``nat(dst=…)`` addresses (flows and groups) and ``dl_dst``
MACs in each chassis' ``br-int`` flows, and which localnet ports each chassis has patched.

A chassis is taken down with ``kill -9`` of its ovn-controller and ovs-vswitchd (its
ovsdb-server stays: it is only the local config DB), as a crash or power loss would.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, TypeVar

from tests.ovnlab import LabError, OvnLab, _alive, run, stop_pid

VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"   # the same path in the roots
CHASSIS_TOOLS = ("ovn-controller", "ovs-vswitchd", "ovs-vsctl", "ovs-appctl", "ovs-ofctl")
T = TypeVar("T")


def have_controller(lab_build: object = None) -> bool:
    """True when the build (default: the host's) has ovn-controller and ovs-vswitchd."""
    from tests.ovnlab import host_build
    build = lab_build or host_build()
    return all(build.has(t) for t in CHASSIS_TOOLS)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ChassisSpec:
    """One simulated chassis: its SB name (system-id), hostname, bridge mappings
    (``net:bridge,…``; None: no mapping at all) and the LSPs bound on it as VIFs."""

    name: str
    hostname: Optional[str] = None
    mappings: Optional[str] = "physnet:br-ex"
    vifs: tuple[str, ...] = ()


@dataclass
class Observation:
    """What the sandbox shows at one moment."""

    live: frozenset[str]
    claims: dict[str, Optional[str]]          # cr-/l3gateway port -> chassis name (SB)
    gateway_routers: dict[str, list[str]]     # router name -> its l3gateway ports
    bindings: dict[str, Optional[str]]        # VIF port -> chassis name (SB)
    bfd: dict[str, dict[str, str]]            # chassis -> peer chassis -> BFD state
    nat_src: dict[str, set[str]]              # chassis -> addresses in nat(src=…)
    nat_dst: dict[str, set[str]]              # chassis -> addresses in nat(dst=…)
    macs: dict[str, set[tuple[int, str]]]     # chassis -> (datapath key, dl_dst) matched
    arp_tpa: dict[str, set[str]]              # chassis -> arp_tpa addresses matched
    localnets: dict[str, set[str]]            # chassis -> localnet LSPs patched to br-int
    ref_chassis: dict[str, set[str]] = field(default_factory=dict)  # SB group -> names
    datapaths: dict[str, int] = field(default_factory=dict)   # SB datapath name -> key

    def key(self) -> tuple:
        """What must stay unchanged for the state to count as settled."""
        def frozen(d: dict[str, set]) -> tuple:
            return tuple(sorted((k, tuple(sorted(v))) for k, v in d.items()))
        return (tuple(sorted(self.claims.items(), key=lambda kv: kv[0])),
                frozen(self.nat_src), frozen(self.nat_dst), frozen(self.macs),
                frozen(self.localnets),
                tuple(sorted((c, tuple(sorted(p.items()))) for c, p in self.bfd.items())))


def wait_for(pred: Callable[[], T], timeout: float, what: str, step: float = 0.25) -> T:
    """Poll ``pred`` until it returns something true; LabError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise LabError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


_NAT = re.compile(r"nat\((src|dst)=([^,)]+)")
_DL_DST = re.compile(r"dl_dst=([0-9a-f:]{17})(?:[,/ ]|$)")
_ARP_TPA = re.compile(r"arp_tpa=([0-9.]+)(?:[,/ ]|$)")
_METADATA = re.compile(r"metadata=(0x[0-9a-f]+|[0-9]+)(?:[,/ ]|$)")


def _nat_address(raw: str) -> str:
    """The (first) address of a ``nat(src=…)`` argument: ``10.0.0.5``, ``10.0.0.5:8080``,
    ``10.0.0.5-10.0.0.9``, ``fd00::5``, ``[fd00::5]:8080``."""
    if raw.startswith("["):
        return raw[1:].split("]", 1)[0]
    first = raw.split("-", 1)[0]
    return first.split(":", 1)[0] if first.count(":") == 1 else first


def parse_flows(text: str) -> tuple[set[str], set[str], set[tuple[int, str]], set[str]]:
    """(nat src addresses, nat dst addresses, (datapath key, dl_dst MAC) pairs matched,
    arp_tpa addresses) in an ``ovs-ofctl dump-flows`` listing.  The datapath key is the
    flow's ``metadata`` (SB Datapath_Binding tunnel_key; -1 when the flow has none)."""
    src: set[str] = set()
    dst: set[str] = set()
    macs: set[tuple[int, str]] = set()
    tpa: set[str] = set()
    for line in text.splitlines():
        if "actions=" not in line:
            continue
        match, _, actions = line.partition("actions=")
        for kind, raw in _NAT.findall(actions):
            (src if kind == "src" else dst).add(_nat_address(raw))
        md = _METADATA.search(match)
        key = int(md.group(1), 0) if md else -1
        macs.update((key, mac) for mac in _DL_DST.findall(match))
        tpa.update(_ARP_TPA.findall(match))
    return src, dst, macs, tpa


class _Sandbox:
    """One simulated host: ovsdb-server and ovs-vswitchd (and, for a chassis,
    ovn-controller) with every file in ``dir``."""

    def __init__(self, clab: ControllerLab, name: str, index: int) -> None:
        self.clab = clab
        self.name = name
        self.dir = clab.root / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.index = index
        self.ip = f"192.168.0.{index}"
        self.mac = f"aa:55:aa:55:{index // 256:02x}:{index % 256:02x}"
        self.env = dict(os.environ)
        for prefix in ("OVS", "OVN"):
            for kind in ("RUNDIR", "LOGDIR", "DBDIR", "SYSCONFDIR"):
                self.env[f"{prefix}_{kind}"] = str(self.dir)

    def f(self, name: str) -> str:
        return str(self.dir / name)

    def cmd(self, tool: str, *args: str, timeout: float = 30, check: bool = True) -> str:
        return run([self.clab.tool(tool), *args], timeout=timeout, check=check, env=self.env,
                   cwd=str(self.dir))

    def vsctl(self, *args: str) -> str:
        return self.cmd("ovs-vsctl", f"--db=unix:{self.f('db.sock')}", "--timeout=20",
                        "--no-wait", *args)

    def appctl(self, *args: str, check: bool = True) -> str:
        return self.cmd("ovs-appctl", "-t", self.f("ovs-vswitchd.ctl"), "--timeout=10", *args,
                        check=check)

    def pid(self, daemon: str) -> Optional[int]:
        try:
            pid = int(Path(self.f(f"{daemon}.pid")).read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def start_db(self) -> None:
        if not Path(self.f("conf.db")).exists():
            self.cmd("ovsdb-tool", "create", self.f("conf.db"), VSWITCH_SCHEMA)
        self.cmd("ovsdb-server", self.f("conf.db"), f"--remote=punix:{self.f('db.sock')}",
                 f"--pidfile={self.f('ovsdb-server.pid')}",
                 f"--unixctl={self.f('ovsdb-server.ctl')}",
                 f"--log-file={self.f('ovsdb-server.log')}",
                 "--detach", "--no-chdir", "-vconsole:off")
        self.vsctl("init")

    def start_vswitchd(self) -> None:
        self.cmd("ovs-vswitchd", f"unix:{self.f('db.sock')}", "--enable-dummy=system",
                 f"--pidfile={self.f('ovs-vswitchd.pid')}",
                 f"--unixctl={self.f('ovs-vswitchd.ctl')}",
                 f"--log-file={self.f('ovs-vswitchd.log')}",
                 "--detach", "--no-chdir", "-vconsole:off")

    def start_controller(self) -> None:
        # 23.03 rejects --unixctl: its socket is ovn-controller.<pid>.ctl in OVN_RUNDIR
        self.cmd("ovn-controller", f"unix:{self.f('db.sock')}",
                 f"--pidfile={self.f('ovn-controller.pid')}",
                 f"--log-file={self.f('ovn-controller.log')}",
                 "--detach", "--no-chdir", "-vconsole:off")

    def kill(self, daemons: Iterable[str], sig: int = signal.SIGKILL) -> None:
        for daemon in daemons:
            pid = self.pid(daemon)
            if pid is None:
                continue
            stop_pid(pid, sig)


class ControllerLab:
    """N chassis with real ovn-controller on ``lab``'s SB (NB, SB and northd already
    running).  Use as a context manager, or call :meth:`stop` in a ``finally``."""

    DAEMONS = ("ovn-controller", "ovs-vswitchd")
    #: BFD timers written to NB_Global options (northd copies them to SB_Global, which
    #: ovn-controller reads): detection in about 3 x 300 ms instead of 3 x 1 s.
    BFD = {"bfd-min-rx": "300", "bfd-min-tx": "300", "bfd-decay-min-rx": "300",
           "bfd-mult": "3"}

    def __init__(self, lab: OvnLab, chassis: Iterable[ChassisSpec],
                 bfd: Optional[dict[str, str]] = None) -> None:
        self.lab = lab
        self.specs = {c.name: c for c in chassis}
        self.root = lab.root / "hv"
        self.root.mkdir(parents=True, exist_ok=True)
        self.bfd_options = self.BFD if bfd is None else bfd
        self.main: Optional[_Sandbox] = None
        self.boxes: dict[str, _Sandbox] = {}
        self.down: set[str] = set()
        self._started: list[_Sandbox] = []
        #: when :meth:`wait_converged` last saw claims, BFD or flows change (monotonic)
        self.last_change = 0.0
        #: restarts redone because the chassis did not hear a peer (see :meth:`bring_up`)
        self.deaf_restarts = 0

    def tool(self, name: str) -> str:
        return self.lab.tool(name)

    # -- set-up ---------------------------------------------------------------------------
    def start(self, timeout: float = 60) -> ControllerLab:
        """Start ``main`` and every chassis, then wait until each has registered in SB,
        bound its VIFs and brought up BFD on every tunnel that has it enabled."""
        if self.bfd_options:
            self.lab.nbctl("set", "NB_Global", ".",
                           *(f"options:{k}={v}" for k, v in self.bfd_options.items()))
        main = self.main = _Sandbox(self, "main", 254)
        main.start_db()
        self._started.append(main)
        main.start_vswitchd()
        main.vsctl("add-br", "n1")
        for i, spec in enumerate(self.specs.values(), start=1):
            box = self.boxes[spec.name] = _Sandbox(self, spec.name, i)
            main.vsctl("add-port", "n1", f"n1-{i}", "--", "set", "Interface", f"n1-{i}",
                       f"options:pstream=punix:{main.f(spec.name + '.sock')}")
            box.start_db()
            self._started.append(box)
            box.vsctl(
                "add-br", "br-phys", "--", "set", "Bridge", "br-phys",
                f"other-config:hwaddr=\"{box.mac}\"",
                "--", "add-port", "br-phys", "phys-n1",
                "--", "set", "Interface", "phys-n1",
                f"options:stream=unix:{main.f(spec.name + '.sock')}",
                "--", "add-br", "br-int", "--", "set", "Bridge", "br-int", "fail-mode=secure",
                "other-config:disable-in-band=true")
            bridges = {m.split(":", 1)[1] for m in (spec.mappings or "").split(",") if ":" in m}
            for br in sorted(bridges):
                box.vsctl("--may-exist", "add-br", br)
            for n, lsp in enumerate(spec.vifs):
                box.vsctl("add-port", "br-int", f"vif{n}", "--", "set", "Interface", f"vif{n}",
                          f"external_ids:iface-id={lsp}")
            ids = [f"external_ids:system-id={spec.name}",
                   f"external_ids:hostname={spec.hostname or spec.name}",
                   f"external_ids:ovn-remote={self.lab.sb_remote}",
                   "external_ids:ovn-encap-type=geneve", f"external_ids:ovn-encap-ip={box.ip}",
                   "external_ids:ovn-remote-probe-interval=0"]
            if spec.mappings:
                ids.append(f"external_ids:ovn-bridge-mappings={spec.mappings}")
            box.vsctl("set", "Open_vSwitch", ".", *ids)
        for box in self.boxes.values():
            box.start_vswitchd()
            self._configure_net(box)
        for box in self.boxes.values():
            box.start_controller()
        self.wait_converged(timeout)
        return self

    def _configure_net(self, box: _Sandbox) -> None:
        """Runtime-only state of a (re)started vswitchd: encap address, route, peers'
        tunnel neighbours.  First wait until vswitchd has applied its database (a change
        made without --no-wait returns then) and br-phys has its fixed MAC: an address
        given to a netdev the bridge is still (re)opening would not stay."""
        wait_for(lambda: box.appctl("version", check=False), 20, f"{box.name} ovs-vswitchd")
        box.cmd("ovs-vsctl", f"--db=unix:{box.f('db.sock')}", "--timeout=20", "set",
                "Open_vSwitch", ".", f"external_ids:lab-start={time.time():.3f}")
        wait_for(lambda: box.vsctl("get", "Interface", "br-phys", "mac_in_use").strip()
                 .strip('"') == box.mac, 20, f"{box.name} br-phys MAC")
        box.appctl("netdev-dummy/ip4addr", "br-phys", f"{box.ip}/24")
        box.appctl("ovs/route/add", "192.168.0.0/24", "br-phys")
        wait_for(lambda: f"SRC {box.ip}" in box.appctl("ovs/route/show"), 20,
                 f"{box.name} route from {box.ip}")
        for peer in self.boxes.values():
            if peer is not box:
                box.appctl("tnl/neigh/set", "br-phys", peer.ip, peer.mac)

    # -- failures -------------------------------------------------------------------------
    def take_down(self, *names: str) -> None:
        """``kill -9`` the ovn-controller and ovs-vswitchd of each chassis, together."""
        for name in names:
            self.boxes[name].kill(self.DAEMONS)
            self.down.add(name)

    def bring_up(self, *names: str, attempts: int = 3) -> None:
        """Restart the ovs-vswitchd and ovn-controller of chassis taken down, each until
        it hears a peer (BFD up on one tunnel), restarting it again if not within 20 s.

        A restart on the dummy datapath was seen (26.03 / OVS 4.0, about one in ten) to
        leave the chassis deaf: its BFD packets reach the peers ("init" there) but nothing
        reaches its datapath.  That is the lab's unix-socket link, not OVN: each restart
        gets a fresh port on ``n1``, and a deaf chassis is restarted again."""
        for name in names:
            self._restart(name)
        for name in names:
            for attempt in range(attempts):
                try:
                    wait_for(lambda n=name: self._hears(n), 20, f"{name} to hear a peer")
                    break
                except LabError:
                    if attempt == attempts - 1:
                        raise
                    self.deaf_restarts += 1
                    self.boxes[name].kill(self.DAEMONS)
                    self._restart(name)

    def _restart(self, name: str) -> None:
        box = self.boxes[name]
        assert self.main is not None
        port = f"n1-{box.index}"
        self.main.vsctl("--if-exists", "del-port", "n1", port, "--", "add-port", "n1", port,
                        "--", "set", "Interface", port,
                        f"options:pstream=punix:{self.main.f(name + '.sock')}")
        # A real host has its encap IP before OVS starts; here the dummy address is set
        # after vswitchd is up, and tunnel ports it already had were seen to stay deaf
        # (26.03/OVS 4.0: BFD "down" here, "init" at the peers).  So the tunnel ports go
        # while vswitchd is down, and ovn-controller makes them again after the address
        # is set, as on the first start.
        data = json.loads(box.vsctl("--format=json", "--columns=name,type", "list",
                                    "Interface"))
        for iface, kind in data["data"]:
            if kind in ("geneve", "vxlan", "stt"):
                box.vsctl("--if-exists", "del-port", "br-int", iface)
        box.start_vswitchd()
        self._configure_net(box)
        box.start_controller()
        self.down.discard(name)

    def _hears(self, name: str) -> bool:
        """BFD is up on at least one of ``name``'s tunnels."""
        data = json.loads(self.boxes[name].vsctl("--format=json", "--columns=bfd_status",
                                                 "list", "Interface"))
        return any(dict(row[0][1]).get("state") == "up" for row in data["data"])

    # -- reading back ---------------------------------------------------------------------
    def _sb(self, table: str, *where: str) -> list[dict]:
        data = self.lab.sbctl_json("find" if where else "list", table, *where)
        return [dict(zip(data["headings"], row)) for row in data["data"]]

    def observe(self) -> Observation:
        live = frozenset(n for n in self.boxes if n not in self.down)
        chassis = {r["_uuid"][1]: r["name"] for r in self._sb("Chassis")}
        dp_rows = self._sb("Datapath_Binding")
        dps = {r["_uuid"][1]: r["external_ids"] for r in dp_rows}
        keys = {dict(r["external_ids"][1]).get("name", ""): r["tunnel_key"] for r in dp_rows}

        def holder(row: dict) -> Optional[str]:
            ch = row["chassis"]
            return chassis.get(ch[1], ch[1]) if ch and ch[0] == "uuid" else None

        claims: dict[str, Optional[str]] = {}
        grs: dict[str, list[str]] = {}
        bindings: dict[str, Optional[str]] = {}
        vifs = {v for s in self.specs.values() for v in s.vifs}
        for row in self._sb("Port_Binding"):
            if row["type"] in ("chassisredirect", "l3gateway"):
                claims[row["logical_port"]] = holder(row)
            if row["type"] == "l3gateway":
                ext = dict(dps.get(row["datapath"][1], ["map", []])[1])
                grs.setdefault(ext.get("name", ""), []).append(row["logical_port"])
            if row["logical_port"] in vifs:
                bindings[row["logical_port"]] = holder(row)
        refs = {r["name"]: {chassis.get(u[1], u[1]) for u in _set(r["ref_chassis"])}
                for r in self._sb("HA_Chassis_Group")}
        by_ip = {b.ip: n for n, b in self.boxes.items()}
        bfd: dict[str, dict[str, str]] = {}
        nat_src: dict[str, set[str]] = {}
        nat_dst: dict[str, set[str]] = {}
        macs: dict[str, set[tuple[int, str]]] = {}
        tpa: dict[str, set[str]] = {}
        localnets: dict[str, set[str]] = {}
        for name in sorted(live):
            box = self.boxes[name]
            peers: dict[str, str] = {}
            data = json.loads(box.vsctl("--format=json", "--columns=name,options,bfd,bfd_status",
                                        "list", "Interface"))
            for row in data["data"]:
                rec = dict(zip(data["headings"], row))
                opts, cfg, status = (dict(rec[k][1]) for k in ("options", "bfd", "bfd_status"))
                if cfg.get("enable") == "true" and "remote_ip" in opts:
                    peers[by_ip.get(opts["remote_ip"], opts["remote_ip"])] = \
                        status.get("state", "none")
            bfd[name] = peers
            # groups too: a load balancer's nat(dst=backend) is in its select group
            flows = "\n".join(box.cmd("ovs-ofctl", "-O", "OpenFlow15", dump, "br-int",
                                       check=False) for dump in ("dump-flows", "dump-groups"))
            nat_src[name], nat_dst[name], macs[name], tpa[name] = parse_flows(flows)
            ports = json.loads(box.vsctl("--format=json", "--columns=external_ids", "list",
                                         "Port"))
            localnets[name] = {dict(r[0][1]).get("ovn-localnet-port", "")
                               for r in ports["data"]} - {""}
        return Observation(live, claims, grs, bindings, bfd, nat_src, nat_dst, macs, tpa,
                           localnets, refs, keys)

    # -- waiting --------------------------------------------------------------------------
    def _bfd_settled(self, obs: Observation) -> bool:
        """Every live chassis sees BFD up to each live peer and not up to each dead one
        (only tunnels on which ovn-controller enabled BFD count)."""
        for peers in obs.bfd.values():
            for peer, state in peers.items():
                if (state == "up") != (peer in obs.live):
                    return False
        return True

    def wait_converged(self, timeout: float = 60, quiet: float = 2.0,
                       need: Optional[Callable[[Observation], bool]] = None) -> Observation:
        """Wait until BFD has settled (up between live chassis, down towards dead ones),
        every VIF of a live chassis is bound to it, and claims, BFD and flows have not
        changed for ``quiet`` seconds (and ``need`` holds, when given)."""
        deadline = time.monotonic() + timeout
        last: Optional[tuple] = None
        since = time.monotonic()
        while True:
            obs = self.observe()
            ok = (self._bfd_settled(obs)
                  and all(obs.bindings.get(v) == n for n in obs.live for v in self.specs[n].vifs)
                  and (need is None or need(obs)))
            key = obs.key() if ok else None
            now = time.monotonic()
            if key is None or key != last:
                last, since = key, now
            elif now - since >= quiet:
                self.last_change = since
                return obs
            if now > deadline:
                raise LabError(f"chassis did not converge within {timeout:.0f} s "
                               f"(down: {sorted(self.down)}); last: claims {obs.claims}, "
                               f"bfd {obs.bfd}\n{self.diagnose(obs)}")
            time.sleep(0.3)

    def diagnose(self, obs: Observation) -> str:
        """Tunnel, route and neighbour state of each live chassis whose BFD is not up
        everywhere (for the error message of a wait that timed out)."""
        out = []
        for name in sorted(obs.live):
            if all(st == "up" for peer, st in obs.bfd.get(name, {}).items() if peer in obs.live):
                continue
            box = self.boxes[name]
            out.append(f"== {name}")
            for args in (("tnl/ports/show", "-v"), ("ovs/route/show",), ("tnl/neigh/show",),
                         ("dpif/show",)):
                out.append(box.appctl(*args, check=False))
            with contextlib.suppress(OSError):
                out.extend(Path(box.f("ovs-vswitchd.log")).read_text().splitlines()[-15:])
        return "\n".join(out)

    # -- teardown -------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop every daemon this lab started, by pid (chassis first, then main)."""
        for box in reversed(self._started):
            box.kill(("ovn-controller", "ovs-vswitchd"), signal.SIGTERM)
            box.kill(("ovsdb-server",), signal.SIGTERM)
        self._started.clear()

    def pids(self) -> list[int]:
        """Pids of every daemon of this lab still running (for leak checks)."""
        out = []
        for box in ([self.main] if self.main else []) + list(self.boxes.values()):
            for d in ("ovn-controller", "ovs-vswitchd", "ovsdb-server"):
                pid = box.pid(d)
                if pid is not None:
                    out.append(pid)
        return out

    def __enter__(self) -> ControllerLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _set(value: object) -> list:
    """An OVSDB JSON set (or single atom) as a list of atoms."""
    if isinstance(value, list) and value and value[0] == "set":
        return list(value[1])
    return [value] if value not in (None, "", []) else []
