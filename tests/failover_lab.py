"""Scenarios for the gateways / failover-sim tests, built with ovn-nbctl / ovn-sbctl against
a real ovsdb-server and ovn-northd (tests/ovnlab.py), then saved as NB/SB files.

* :func:`build_5050`: kubeovn/kube-ovn#5050 as Kube-OVN v1.13 writes it
  (docs/cms-footprints.md §5(c), §6): VPC ``vpc1`` with DGP ``vpc1-external0`` on two gateway
  chassis (priorities 100/99), a distributed FIP for a pod bound with ``lsp-bind`` to a
  non-gateway chassis, an SNAT and a centralized FIP; every chassis maps ``external0``.
* :func:`build_mixed`: several routers sharing gateway chassis - Gateway_Chassis, an HA
  group that also has (ignored) gateway_chassis, a priority tie, a single-member DGP, an
  unregistered member, a gateway router, a router without DGP, LB VIPs, a pod on a chassis
  without the bridge mapping and a pod on a gateway chassis.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

from tests.ovnlab import OvnLab

REPO = Path(__file__).resolve().parent.parent

# kubeovn/kube-ovn#5050 / #5272 names (OVS system-ids and node names)
GW_A = "5e150a0c-2ad8-497c-9431-dbee99264b56"    # vnode-103-177, priority 100
GW_B = "35d64a88-30a3-4dbb-a7e0-0508e3e63eb6"    # vnode-117-46, priority 99
NODE = "9c7f3b2e-61d4-4a8e-b0f5-2d7c8e1a9b34"    # vnode-pod, runs the pod, not a gateway
HOSTS = {GW_A: "vnode-103-177", GW_B: "vnode-117-46", NODE: "vnode-pod"}
POD = "starter-backend-7ff5f85b46-8d9gh.vpc1"
POD_MAC = "a6:3f:0e:7b:c2:51"


def add_switch(lab: OvnLab, ls: str, network_name: Optional[str] = None) -> None:
    lab.add_switch(ls, network_name)


def connect(lab: OvnLab, lr: str, ls: str, lrp: str, mac: str, *networks: str) -> None:
    """LRP ``lrp`` on ``lr`` plus its router-type peer LSP ``<ls>-<lr>`` on ``ls``."""
    lab.connect(lr, ls, lrp, mac, *networks)


def add_pod(lab: OvnLab, ls: str, name: str, mac: str, ip: str,
            requested_chassis: Optional[str] = None) -> None:
    lab.nbctl("lsp-add", ls, name, "--", "lsp-set-addresses", name, f"{mac} {ip}")
    if requested_chassis:
        lab.nbctl("lsp-set-options", name, f"requested-chassis={requested_chassis}")


def add_chassis(lab: OvnLab, name: str, ip: str, hostname: str,
                mappings: Optional[str] = "external0:br-external") -> None:
    """An SB Chassis row as ovn-controller would register it (unique encap IP each)."""
    lab.sbctl("chassis-add", name, "geneve", ip)
    cols = [f"hostname={hostname}"]
    if mappings:
        cols.append(f"other_config:ovn-bridge-mappings={mappings}")
    lab.sbctl("set", "Chassis", name, *cols)


def fip(lab: OvnLab, lr: str, external_ip: str, logical_ip: str,
        port: Optional[str] = None, mac: Optional[str] = None) -> None:
    args = ["lr-nat-add", lr, "dnat_and_snat", external_ip, logical_ip]
    if port and mac:
        args += [port, mac]
    lab.nbctl(*args)


def ha_group(lab: OvnLab, name: str, *members: tuple[str, int]) -> str:
    lab.nbctl("ha-chassis-group-add", name)
    for chassis, prio in members:
        lab.nbctl("ha-chassis-group-add-chassis", name, chassis, str(prio))
    return lab.nbctl("--bare", "--columns=_uuid", "find", "HA_Chassis_Group",
                     f"name={name}").strip()


def save(lab: OvnLab, dest: Path, with_sb: bool = True) -> tuple[Path, Optional[Path]]:
    """Copy the NB (and SB) files the lab's servers wrote (committed after ``sync``)."""
    lab.sync()
    dest.mkdir(parents=True, exist_ok=True)
    nb = dest / "nb.db"
    shutil.copyfile(lab.nb_db, nb)
    sb = None
    if with_sb:
        sb = dest / "sb.db"
        shutil.copyfile(lab.sb_db, sb)
    return nb, sb


def build_5050(lab: OvnLab, pod_mappings: Optional[str] = "external0:br-external",
               requested_chassis: Optional[str] = None, sb: bool = True) -> None:
    """The kubeovn/kube-ovn#5050 scenario (cms-footprints §6 rows; NB and SB).  With
    ``sb=False`` only the NB part: real ovn-controllers register and bind (tests/
    controller_lab.py)."""
    n = lab.nbctl
    n("lr-add", "vpc1", "--", "set", "Logical_Router", "vpc1", "external_ids:vendor=kube-ovn")
    add_switch(lab, "vpc1-subnet1")
    connect(lab, "vpc1", "vpc1-subnet1", "vpc1-vpc1-subnet1", "5e:2a:91:0c:4d:17",
            "192.168.0.1/24")
    add_pod(lab, "vpc1-subnet1", POD, POD_MAC, "192.168.0.4", requested_chassis)
    add_pod(lab, "vpc1-subnet1", "starter-frontend-5c9d7b8f6d-x2k4q.vpc1",
            "a6:3f:0e:7b:c2:52", "192.168.0.5")
    add_switch(lab, "external0", network_name="external0")
    connect(lab, "vpc1", "external0", "vpc1-external0", "0a:bc:88:9d:2e:91", "10.9.230.12/16")
    for chassis, prio in ((GW_A, 100), (GW_B, 99)):
        n("--id=@gc", "create", "Gateway_Chassis", f'name="vpc1-external0-{chassis}"',
          f'chassis_name="{chassis}"', f"priority={prio}", "external_ids:lrp=vpc1-external0",
          "--", "add", "Logical_Router_Port", "vpc1-external0", "gateway_chassis", "@gc")
    # the OvnFip: logical_port + the pod's MAC, misspelled "staleless" option (ignored)
    n("--id=@n", "create", "NAT", "type=dnat_and_snat", "external_ip=10.9.101.9",
      "logical_ip=192.168.0.4", f'logical_port="{POD}"', f'external_mac="{POD_MAC}"',
      "options:staleless=false", "--", "add", "Logical_Router", "vpc1", "nat", "@n")
    n("lr-nat-add", "vpc1", "snat", "10.9.101.10", "192.168.0.0/24")
    fip(lab, "vpc1", "10.9.101.11", "192.168.0.5")
    lab.sync()
    if not sb:
        return
    add_chassis(lab, GW_A, "127.0.0.177", HOSTS[GW_A])
    add_chassis(lab, GW_B, "127.0.0.46", HOSTS[GW_B])
    add_chassis(lab, NODE, "127.0.0.10", HOSTS[NODE], pod_mappings)
    lab.sbctl("lsp-bind", POD, NODE)
    lab.sbctl("lsp-bind", "cr-vpc1-external0", GW_A)


def build_mixed(lab: OvnLab) -> None:
    """Several routers sharing gateway chassis (see module docstring)."""
    n = lab.nbctl
    add_switch(lab, "ext", network_name="physnet")
    add_switch(lab, "ext-nolocalnet")
    # r1: Gateway_Chassis gw1 30, gw2 20, gw3 10 and an unregistered gw9 40
    n("lr-add", "r1")
    add_switch(lab, "ls1")
    connect(lab, "r1", "ls1", "r1-ls1", "00:00:00:01:00:01", "10.1.0.1/24")
    connect(lab, "r1", "ext", "r1-ext", "00:00:00:01:00:02", "172.16.0.1/24")
    for ch, prio in (("gw9", 40), ("gw1", 30), ("gw2", 20), ("gw3", 10)):
        n("lrp-set-gateway-chassis", "r1-ext", ch, str(prio))
    add_pod(lab, "ls1", "p1", "0a:00:00:00:01:01", "10.1.0.11")
    add_pod(lab, "ls1", "p2", "0a:00:00:00:01:02", "10.1.0.12")
    add_pod(lab, "ls1", "p3", "0a:00:00:00:01:03", "10.1.0.13")
    add_pod(lab, "ls1", "p4", "0a:00:00:00:01:04", "10.1.0.14")
    fip(lab, "r1", "172.16.0.11", "10.1.0.11", "p1", "0a:00:00:00:01:01")   # on node1
    fip(lab, "r1", "172.16.0.12", "10.1.0.12", "p2", "0a:00:00:00:01:02")   # on gw1
    fip(lab, "r1", "172.16.0.13", "10.1.0.13", "p3", "0a:00:00:00:01:03")   # node2, no map
    fip(lab, "r1", "172.16.0.14", "10.1.0.14", "p4", "0a:00:00:00:01:04")   # unbound
    fip(lab, "r1", "172.16.0.15", "10.1.0.15")                                # centralized
    n("lr-nat-add", "r1", "snat", "172.16.0.1", "10.1.0.0/24")
    n("--id=@n", "create", "NAT", "type=dnat_and_snat", "external_ip=172.16.0.16",
      "logical_ip=10.1.0.16", 'external_mac="not-a-mac"', 'logical_port="p1"',
      "--", "add", "Logical_Router", "r1", "nat", "@n")                      # inactive
    n("lb-add", "lb1", "172.16.0.100:80", "10.1.0.11:8080", "tcp")
    n("lr-lb-add", "r1", "lb1")
    # r2: single member gw2
    n("lr-add", "r2")
    add_switch(lab, "ls2")
    connect(lab, "r2", "ls2", "r2-ls2", "00:00:00:02:00:01", "10.2.0.1/24")
    connect(lab, "r2", "ext", "r2-ext", "00:00:00:02:00:02", "172.16.0.2/24")
    n("lrp-set-gateway-chassis", "r2-ext", "gw2", "5")
    n("lr-nat-add", "r2", "snat", "172.16.0.2", "10.2.0.0/24")
    add_pod(lab, "ls2", "q1", "0a:00:00:00:02:01", "10.2.0.11")
    fip(lab, "r2", "172.16.0.21", "10.2.0.11", "q1", "0a:00:00:00:02:01")  # on node1
    # r3: HA group (gw3 10, gw1 10: a tie) plus gateway_chassis gw2 that northd ignores
    n("lr-add", "r3")
    connect(lab, "r3", "ext", "r3-ext", "00:00:00:03:00:02", "172.16.0.3/24")
    n("lrp-set-gateway-chassis", "r3-ext", "gw2", "100")
    uuid = ha_group(lab, "grp-r3", ("gw3", 10), ("gw1", 10))
    n("set", "Logical_Router_Port", "r3-ext", f"ha_chassis_group={uuid}")
    n("lr-nat-add", "r3", "dnat_and_snat", "172.16.0.31", "10.3.0.11")
    # gr1: gateway router on gw4
    n("lr-add", "gr1", "--", "set", "Logical_Router", "gr1", "options:chassis=gw4")
    connect(lab, "gr1", "ext", "gr1-ext", "00:00:00:04:00:02", "172.16.0.4/24")
    n("lr-nat-add", "gr1", "snat", "172.16.0.4", "10.4.0.0/24")
    n("lb-add", "lb-gr", "172.16.0.104:443", "10.4.0.5:443", "tcp")
    n("lr-lb-add", "gr1", "lb-gr")
    # r4: no DGP: its NAT is not applied
    n("lr-add", "r4")
    connect(lab, "r4", "ext-nolocalnet", "r4-ext", "00:00:00:05:00:02", "172.17.0.4/24")
    n("lr-nat-add", "r4", "snat", "172.17.0.4", "10.5.0.0/24")
    lab.sync()
    for i, (name, maps) in enumerate((("gw1", "physnet:br-ex"), ("gw2", "physnet:br-ex"),
                                      ("gw3", "physnet:br-ex"), ("gw4", "physnet:br-ex"),
                                      ("node1", "physnet:br-ex"), ("node2", "other:br-x"))):
        add_chassis(lab, name, f"127.0.1.{i + 1}", f"host-{name}", maps)
    lab.sbctl("lsp-bind", "p1", "node1")
    lab.sbctl("lsp-bind", "p2", "gw1")
    lab.sbctl("lsp-bind", "p3", "node2")
    lab.sbctl("lsp-bind", "q1", "node1")
    lab.sbctl("lsp-bind", "cr-r1-ext", "gw2")     # observed differs from predicted gw1


def make(builder: str, dest: Path, **kw: object) -> tuple[Path, Optional[Path]]:
    """Build scenario ``builder`` in a fresh lab and save its NB and SB files in ``dest``."""
    with OvnLab() as lab:
        lab.start_nb().start_sb().start_northd()
        {"5050": build_5050, "mixed": build_mixed}[builder](lab, **kw)  # type: ignore[operator]
        return save(lab, dest)


def cli(*args: str, check_rc: Optional[int] = None) -> subprocess.CompletedProcess:
    """Run ``python -m ovninspect ARGS`` from the repository, no environment defaults."""
    env = {k: v for k, v in os.environ.items() if k not in ("OVN_NB_DB", "OVN_SB_DB")}
    proc = subprocess.run([sys.executable, "-m", "ovninspect", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    if check_rc is not None:
        assert proc.returncode == check_rc, (proc.returncode, proc.stdout, proc.stderr)
    return proc
