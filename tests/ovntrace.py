"""Run a build's ``ovn-trace`` against a lab's southbound DB and parse what it says.

``ovn-trace`` simulates the logical pipelines that ovn-controller would install from the SB
``Logical_Flow`` table.  Two properties matter for NAT evidence
(utilities/ovn-trace.c, the same in 23.03, 25.03 and 26.03):

* it parses every logical flow with the same lexer/expression/action parsers as
  ovn-controller (lib/lex.c, lib/expr.c, lib/actions.c); a flow whose match or actions do
  not parse is **skipped** with a ``WARN`` line (``<match>: parsing expression failed
  (<error>)`` or ``<actions>: parsing actions failed (<error>)``), just as ovn-controller
  skips it with ``error parsing match/actions`` (controller/lflow.c);
* ``is_chassis_resident("<port>")`` is decided once, when the flow is loaded
  (``ovntrace_is_chassis_resident``): true for any port that has an SB ``Port_Binding``
  (and for ``""``), false with a ``<port>: unknown logical port`` warning otherwise.  So a
  trace models one chassis on which *every* port is resident: the gateway chassis of every
  ``cr-<dgp>`` and the chassis of every VIF at once.  Centralized flows (gated on
  ``cr-<dgp>``) and distributed flows (gated on a VIF) both apply; which chassis would run
  them is read from the flows' gating, not from a trace.

    with OvnLab(build=b) as lab:
        ...
        r = trace(lab, "ext0", ip_microflow("ln-ext0", "00:00:00:00:ff:01",
                                             "00:00:00:00:0a:01", "8.8.8.8", "10.1.1.10"))
        r.outputs, r.dnat_to, r.warnings
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence

from tests.ovnlab import OvnLab

#: ``/* output to "vm1", type "" */``: a packet leaving a logical port (patch ports are
#: hops between datapaths, not final outputs).
_OUTPUT_RE = re.compile(r'/\* output to "([^"]*)", type "([^"]*)" \*/')
#: A ct NAT that changed an address: ``ct_dnat(ip4.dst=192.168.1.100)``; ovn-trace prints
#: the ``_in_czone`` variants as ``ct_dnatin_czone(...)`` (sic).
_CT_NAT_RE = re.compile(r"\bct_([sd])nat(?:_?in_czone)?\((ip[46])\.(src|dst)=([^)]*)\)")
#: A stateless rewrite in a router pipeline: ``ip4.dst = 192.168.1.100;``.
_SET_RE = re.compile(r"^\s*(ip[46]\.(?:src|dst)) = ([0-9A-Fa-f.:]+);\s*$")
#: ovn-trace's warning for a flow it could not load.
_ETH_SRC_RE = re.compile(r"^\s*eth\.src = ([0-9a-f:]{17}|xreg0\[0\.\.47\]);")
_XREG0_RE = re.compile(r"^\s*xreg0\[0\.\.47\] = ([0-9a-f:]{17});")
_UNPARSED_RE = re.compile(r"\|WARN\|(?P<text>.*): parsing (?P<what>expression|actions) failed"
                          r"(?: \((?P<error>.*)\))?\s*$")
_WARN_RE = re.compile(r"\|WARN\|(?P<msg>.*)$")


class TraceError(RuntimeError):
    """``ovn-trace`` itself failed (bad microflow, unknown datapath, no SB)."""


@dataclass(frozen=True)
class UnparsedFlow:
    """A logical flow ovn-trace skipped: ``what`` is ``match`` or ``actions``, ``text``
    the failing match or actions string as stored in SB, ``error`` the parser's reason."""

    what: str
    text: str
    error: str


@dataclass(frozen=True)
class TraceResult:
    """What one ``ovn-trace --summary`` run showed.

    ``outputs`` are the logical ports the packet finally leaves through (empty: dropped or
    consumed, e.g. turned into an ARP request nobody answers); ``nat`` the ct NAT
    transformations that changed an address, in order, as ``(kind, field, address)`` with
    kind ``dnat``/``snat`` and field ``ip4.dst`` etc.; ``rewrites`` stateless
    ``ipN.src/dst = X`` assignments; ``warnings`` every WARN line ovn-trace printed
    (``unparsed`` has the parsed subset about skipped flows)."""

    datapath: str
    microflow: str
    outputs: tuple[str, ...]
    nat: tuple[tuple[str, str, str], ...]
    rewrites: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]
    unparsed: tuple[UnparsedFlow, ...]
    text: str = field(repr=False)

    @property
    def dropped(self) -> bool:
        """True when the packet left through no logical port."""
        return not self.outputs

    def _last(self, fld: str) -> Optional[str]:
        hits = [a for _, f, a in self.nat if f.endswith(fld)]
        hits += [a for f, a in self.rewrites if f.endswith(fld)]
        return hits[-1] if hits else None

    @property
    def reply_mac(self) -> Optional[str]:
        """For a traced ARP request / neighbour solicitation: the source MAC of the
        ARP reply (``arp.op = 2``) or neighbour advertisement (``nd_na``) a router sent
        back out a logical port, resolving ``xreg0[0..47]`` (the router port's MAC, loaded
        in lr_in_admission); None when no reply left the datapaths."""
        if not self.outputs:
            return None
        lines = self.text.splitlines()
        for i, line in enumerate(lines):
            if line.strip() == "arp.op = 2;":
                before = [m.group(1) for x in lines[:i] if (m := _ETH_SRC_RE.match(x))]
                mac = before[-1] if before else None
            elif line.strip() == "nd_na {" or line.strip() == "nd_na_router {":
                after = [m.group(1) for x in lines[i + 1:] if (m := _ETH_SRC_RE.match(x))]
                mac = after[0] if after else None
            else:
                continue
            if mac and mac.startswith("xreg0"):
                loads = [m.group(1) for x in lines[:i] if (m := _XREG0_RE.match(x))]
                mac = loads[-1] if loads else mac
            return mac
        return None

    @property
    def dnat_to(self) -> Optional[str]:
        """The destination address a DNAT (ct or stateless) set, or None."""
        return self._last(".dst")

    @property
    def snat_to(self) -> Optional[str]:
        """The source address an SNAT (ct or stateless) set, or None."""
        return self._last(".src")


def parse_warnings(stderr: str) -> tuple[tuple[str, ...], tuple[UnparsedFlow, ...]]:
    """All WARN messages of ovn-trace's stderr, and those about skipped flows."""
    warnings: list[str] = []
    unparsed: list[UnparsedFlow] = []
    for line in stderr.splitlines():
        m = _WARN_RE.search(line)
        if not m:
            continue
        warnings.append(m.group("msg").strip())
        u = _UNPARSED_RE.search(line)
        if u:
            what = "match" if u.group("what") == "expression" else "actions"
            unparsed.append(UnparsedFlow(what, u.group("text"), u.group("error") or ""))
    return tuple(warnings), tuple(unparsed)


def parse_trace(datapath: str, microflow: str, stdout: str, stderr: str = "") -> TraceResult:
    """Parse the ``--summary`` output (and stderr) of one ovn-trace run."""
    outputs = tuple(p for p, t in _OUTPUT_RE.findall(stdout) if t != "patch")
    nat = tuple((("dnat" if k == "d" else "snat"), f"{fam}.{d}", a.strip())
                for k, fam, d, a in _CT_NAT_RE.findall(stdout))
    rewrites = tuple((m.group(1), m.group(2)) for line in stdout.splitlines()
                     if (m := _SET_RE.match(line)))
    warnings, unparsed = parse_warnings(stderr)
    return TraceResult(datapath, microflow, outputs, nat, rewrites, warnings, unparsed, stdout)


def ip_microflow(inport: str, eth_src: str, eth_dst: str, src: str, dst: str,
                 proto: str = "tcp", dport: int = 80, ttl: int = 64) -> str:
    """A microflow for an IPv4 or IPv6 (``:`` in ``dst``) TCP/UDP packet."""
    fam = "ip6" if ":" in dst else "ip4"
    parts = [f'inport == "{inport}"', f"eth.src == {eth_src}", f"eth.dst == {eth_dst}",
             f"{fam}.src == {src}", f"{fam}.dst == {dst}", f"ip.ttl == {ttl}"]
    if proto:
        parts += [proto, f"{proto}.dst == {dport}"]
    return " && ".join(parts)


def trace(lab: OvnLab, datapath: str, microflow: str, *, ct: Sequence[str] = (),
          extra: Iterable[str] = (), timeout: float = 60) -> TraceResult:
    """Run the lab build's ``ovn-trace --summary`` for ``microflow`` entering ``datapath``.

    ``ct`` lists ``--ct`` states for successive ct actions (ovn-trace's default is
    ``trk,est``).  Each call loads the whole SB (about 0.5 s for 5,000 flows): for many
    traces use :class:`TraceDaemon`, which also gets every unparsable-flow warning (a
    one-shot 26.03 ovn-trace rate-limits them to the first).  Raises TraceError when
    ovn-trace exits non-zero."""
    cmd = [lab.tool("ovn-trace"), f"--db={lab.sb_remote}", "--summary",
           *(f"--ct={s}" for s in ct), *extra, datapath, microflow]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise TraceError(f"{' '.join(cmd)} -> rc {proc.returncode}: {proc.stderr.strip()}")
    return parse_trace(datapath, microflow, proc.stdout, proc.stderr)


class TraceDaemon:
    """One ``ovn-trace --detach`` of the lab's build, answering ``trace`` over unixctl.

    ovn-trace reads the SB once, when it starts (``already_read`` in its main loop), and
    never again: start the daemon after ``sync`` and restart it after any NB/SB change.
    Loading a few thousand flows costs about half a second, a trace through the daemon a
    few milliseconds, so a test tracing dozens of microflows uses one daemon per SB state.
    The warnings about flows it could not load are read from its log once, at start
    (``warnings``, ``unparsed``), and attached to every result.  ``--ct`` is not offered:
    ovn-trace never rewinds its ``--ct`` list between traces, so every ct action of a
    daemon's traces sees the default state ``trk,est``.

        with TraceDaemon(lab) as td:
            r = td.trace("ext0", microflow)
    """

    def __init__(self, lab: OvnLab, name: str = "ovn-trace") -> None:
        self.lab = lab
        self.name = name
        self.ctl: Path = lab.path(f"{name}.ctl")
        self.pidfile: Path = lab.path(f"{name}.pid")
        self.log: Path = lab.path(f"{name}.log")
        self.pid: Optional[int] = None
        self.warnings: tuple[str, ...] = ()
        self.unparsed: tuple[UnparsedFlow, ...] = ()

    def start(self, timeout: float = 60) -> TraceDaemon:
        """Start the daemon with log rate limiting off; return once it has loaded the SB.

        26.03 logs unparsable flows with ``VLOG_WARN_RL`` at one message per second
        (23.03 and 25.03 with plain ``VLOG_WARN``), so a load prints only the first.  To
        see them all, the lab's SB ovsdb-server is paused (SIGSTOP) while the daemon
        starts: its connection is accepted by the listening socket but not answered, its
        unixctl server already runs and gets ``vlog/disable-rate-limit``, then the SB is
        resumed (SIGCONT) and the daemon reads it.  ``--detach`` returns after that read.
        (ovn-trace connects with ``retry=false``, so it cannot be started before the SB
        socket exists.)"""
        self.log.unlink(missing_ok=True)
        sb_pid = _pid_from(self.lab.path("sb.pid"))
        cmd = [self.lab.tool("ovn-trace"), f"--db={self.lab.sb_remote}", "--detach",
               "--no-chdir", f"--pidfile={self.pidfile}", f"--unixctl={self.ctl}",
               f"--log-file={self.log}", "-vconsole:off", "-vfile:warn"]
        proc: Optional[subprocess.Popen[str]] = None
        try:
            if sb_pid is not None:
                os.kill(sb_pid, signal.SIGSTOP)
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
            deadline = time.monotonic() + timeout
            while sb_pid is not None and not self.ctl.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise TraceError(f"{' '.join(cmd)}: no unixctl socket (rc {proc.poll()})")
                time.sleep(0.002)
            if sb_pid is not None:
                self.appctl("vlog/disable-rate-limit")
                os.kill(sb_pid, signal.SIGCONT)
                sb_pid = None
            _, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except BaseException:
            if proc is not None and proc.poll() is None:
                proc.kill()
            self.pid = _pid_from(self.pidfile)
            self.stop()
            raise
        finally:
            if sb_pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(sb_pid, signal.SIGCONT)
        if proc.returncode != 0:
            raise TraceError(f"{' '.join(cmd)} -> rc {proc.returncode}: {err.strip()}")
        self.pid = _pid_from(self.pidfile)
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        self.warnings, self.unparsed = parse_warnings(text)
        return self

    def appctl(self, *args: str, timeout: float = 60) -> str:
        """Run an ``ovn-appctl`` command against the daemon; return its output."""
        cmd = [self.lab.tool("ovn-appctl"), "-t", str(self.ctl), f"--timeout={int(timeout)}",
               *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 5)
        if proc.returncode != 0:
            raise TraceError(f"{' '.join(cmd)} -> rc {proc.returncode}: {proc.stderr.strip()}")
        return proc.stdout

    def trace(self, datapath: str, microflow: str, timeout: float = 60) -> TraceResult:
        """``trace --summary DATAPATH MICROFLOW`` through the daemon."""
        out = self.appctl("trace", "--summary", datapath, microflow, timeout=timeout)
        r = parse_trace(datapath, microflow, out)
        return TraceResult(r.datapath, r.microflow, r.outputs, r.nat, r.rewrites,
                           self.warnings, self.unparsed, r.text)

    def stop(self, grace: float = 2.0) -> None:
        """Stop the daemon by its pid (SIGTERM, then SIGKILL after ``grace`` s)."""
        pid, self.pid = self.pid, None
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while _running(pid):
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                break
            time.sleep(0.005)
        self.pidfile.unlink(missing_ok=True)

    def __enter__(self) -> TraceDaemon:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _pid_from(pidfile: Path) -> Optional[int]:
    """The pid in ``pidfile``, or None."""
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False
