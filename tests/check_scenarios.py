"""Recipes for the ``ovninspect check`` tests: each scenario builds, with ovn-nbctl (and
ovn-sbctl), one NB that triggers a rule next to a near miss that must not trigger it.

Every builder takes an :class:`OvnLab` whose NB server is running and issues only plain
``ovn-nbctl`` commands, so a scenario can be replayed by hand against any NB::

    with OvnLab() as lab:
        lab.start_nb()
        nat_invalid(lab)

Rows that ovn-nbctl refuses to write (a dnat with logical_port, a bad MAC, ...) are made
with ``create NAT ... -- add Logical_Router R nat @n``, as other clients or raw edits would.
Scenarios that need SB (``SB_SCENARIOS``) also run ovn-northd (to create the port bindings)
and then register chassis and bind ports with ovn-sbctl.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from tests.ovnlab import OvnLab

# -- building blocks ----------------------------------------------------------------------


def switch(lab: OvnLab, ls: str, localnet: Optional[str] = None, **ln_ids: str) -> None:
    """A logical switch, optionally with a localnet port ``ln-<ls>`` (network_name=localnet)."""
    lab.add_switch(ls, localnet, localnet=f"ln-{ls}")
    for key, value in (ln_ids if localnet else {}).items():
        lab.nbctl("set", "Logical_Switch_Port", f"ln-{ls}", f"external_ids:{key}={value}")


def connect(lab: OvnLab, lr: str, ls: str, lrp: str, mac: str, *networks: str) -> None:
    """Router port ``lrp`` on ``lr`` plus its router-type peer LSP ``<ls>-<lr>`` on ``ls``."""
    lab.connect(lr, ls, lrp, mac, *networks)


def pod(lab: OvnLab, ls: str, name: str, mac: str, ip: str, **ids: str) -> None:
    """A workload port ``name`` on ``ls`` with addresses "<mac> <ip>" and external_ids."""
    lab.nbctl("lsp-add", ls, name, "--", "lsp-set-addresses", name, f"{mac} {ip}")
    for key, value in ids.items():
        lab.nbctl("set", "Logical_Switch_Port", name, f'external_ids:"{key}"="{value}"')


def gateway(lab: OvnLab, lrp: str, *members: tuple[str, int]) -> None:
    """Gateway_Chassis members (chassis, priority) on ``lrp``: this makes it a DGP."""
    for chassis, priority in members:
        lab.nbctl("lrp-set-gateway-chassis", lrp, chassis, str(priority))


def ha_group(lab: OvnLab, lrp: str, group: str, *members: tuple[str, int]) -> None:
    """An HA_Chassis_Group ``group`` with ``members``, set as ``lrp``'s ha_chassis_group."""
    lab.nbctl("ha-chassis-group-add", group)
    for chassis, priority in members:
        lab.nbctl("ha-chassis-group-add-chassis", group, chassis, str(priority))
    uuid = lab.nbctl("get", "HA_Chassis_Group", group, "_uuid").strip()
    lab.nbctl("set", "Logical_Router_Port", lrp, f"ha_chassis_group={uuid}")


def raw_nat(lab: OvnLab, lr: str, **cols: str) -> None:
    """A NAT row written with ``create NAT`` (bypasses lr-nat-add's checks).  Keys with a
    colon set map entries, e.g. ``**{"options:staleless": "false"}``."""
    kv = []
    for key, value in cols.items():
        column, sep, mkey = key.partition(":")
        kv.append(f'{column}:"{mkey}"="{value}"' if sep else f'{column}="{value}"')
    lab.nbctl("--id=@n", "create", "NAT", *kv, "--", "add", "Logical_Router", lr, "nat", "@n")


def uuid_of(lab: OvnLab, table: str, name: str) -> str:
    return lab.nbctl("get", table, name, "_uuid").strip()


def vpc(lab: OvnLab, name: str, subnet_gw: str, ext_switch: str, ext_ip: str,
        members: tuple[tuple[str, int], ...] = (("node-177", 100), ("node-46", 90)),
        mac_suffix: int = 1, **router_ids: str) -> None:
    """A Kube-OVN-shaped VPC: router ``name``, subnet switch ``<name>-subnet1`` (gateway
    ``subnet_gw``), DGP ``<name>-<ext_switch>`` with address ``ext_ip`` and ``members``."""
    lab.nbctl("lr-add", name)
    for key, value in router_ids.items():
        lab.nbctl("set", "Logical_Router", name, f'external_ids:"{key}"="{value}"')
    switch(lab, f"{name}-subnet1")
    connect(lab, name, f"{name}-subnet1", f"{name}-{name}-subnet1",
            f"00:00:00:00:{mac_suffix:02x}:01", subnet_gw)
    connect(lab, name, ext_switch, f"{name}-{ext_switch}", f"00:00:00:e1:{mac_suffix:02x}:01",
            ext_ip)
    if members:
        gateway(lab, f"{name}-{ext_switch}", *members)


# -- scenarios ------------------------------------------------------------------------------


def nat_invalid(lab: OvnLab) -> None:
    """nat-invalid: four rows northd drops on vpc1 and vpc3; valid near misses next to them.

    * 10.9.101.13: dnat_and_snat with logical_port and external_mac "not-a-mac" (rule 9);
    * 10.9.101.14: dnat_and_snat whose logical_ip is a CIDR (rule 8);
    * 10.9.101.15: gateway_port = the subnet port, not a DGP (rule 10);
    * 10.9.200.5 on vpc3: two DGPs, neither contains it, no gateway_port (rule 11).
    Near misses: 10.9.101.9 distributed FIP; 10.9.101.17 snat with a junk MAC (only checked
    from OVN 25.03 for snat); 10.9.101.20 on vpc3 inside one DGP's subnet.
    """
    switch(lab, "external0", localnet="external0")
    switch(lab, "external1", localnet="external1")
    vpc(lab, "vpc1", "192.168.0.1/24", "external0", "10.9.101.1/24")
    pod(lab, "vpc1-subnet1", "pod1.ns1", "00:00:00:00:00:04", "192.168.0.4")
    lab.nbctl("lr-nat-add", "vpc1", "dnat_and_snat", "10.9.101.9", "192.168.0.4", "pod1.ns1",
              "00:00:00:00:09:09")
    raw_nat(lab, "vpc1", type="dnat_and_snat", external_ip="10.9.101.13",
            logical_ip="192.168.0.13", logical_port="pod1.ns1", external_mac="not-a-mac")
    raw_nat(lab, "vpc1", type="dnat_and_snat", external_ip="10.9.101.14",
            logical_ip="192.168.0.0/24")
    lab.nbctl("--id=@n", "create", "NAT", "type=dnat_and_snat", "external_ip=10.9.101.15",
              "logical_ip=192.168.0.15",
              f"gateway_port={uuid_of(lab, 'Logical_Router_Port', 'vpc1-vpc1-subnet1')}",
              "--", "add", "Logical_Router", "vpc1", "nat", "@n")
    raw_nat(lab, "vpc1", type="snat", external_ip="10.9.101.17", logical_ip="192.168.0.0/24",
            external_mac="zz:00")
    # vpc3: two DGPs
    vpc(lab, "vpc3", "192.168.3.1/24", "external0", "10.9.101.3/24", mac_suffix=3)
    connect(lab, "vpc3", "external1", "vpc3-external1", "00:00:00:e1:03:02", "10.9.102.3/24")
    gateway(lab, "vpc3-external1", ("node-177", 100), ("node-46", 90))
    raw_nat(lab, "vpc3", type="dnat_and_snat", external_ip="10.9.200.5",
            logical_ip="192.168.3.5")   # lr-nat-add refuses it
    lab.nbctl("lr-nat-add", "vpc3", "dnat_and_snat", "10.9.101.20", "192.168.3.20")


def nat_inactive(lab: OvnLab) -> None:
    """nat-inactive: vpc4 has no DGP (its external port has no gateway chassis), vpc5 has a
    DGP but enabled=false, vpc7's external port has only options:redirect-chassis.  Near miss: gw1, a gateway router (options:chassis) with an snat."""
    switch(lab, "external0", localnet="external0")
    vpc(lab, "vpc4", "192.168.4.1/24", "external0", "10.9.101.4/24", members=(), mac_suffix=4)
    lab.nbctl("lr-nat-add", "vpc4", "dnat_and_snat", "10.9.101.40", "192.168.4.40")
    vpc(lab, "vpc5", "192.168.5.1/24", "external0", "10.9.101.5/24", mac_suffix=5)
    lab.nbctl("lr-nat-add", "vpc5", "snat", "10.9.101.5", "192.168.5.0/24")
    lab.nbctl("set", "Logical_Router", "vpc5", "enabled=false")
    # vpc7: only the pre-20.12 options:redirect-chassis, which northd >= 20.12 ignores
    vpc(lab, "vpc7", "192.168.7.1/24", "external0", "10.9.101.7/24", members=(), mac_suffix=7)
    lab.nbctl("set", "Logical_Router_Port", "vpc7-external0", "options:redirect-chassis=node-1")
    lab.nbctl("lr-nat-add", "vpc7", "snat", "10.9.101.7", "192.168.7.0/24")
    lab.nbctl("lr-add", "gw1", "--", "set", "Logical_Router", "gw1", "options:chassis=node-1")
    switch(lab, "gw1-ext")
    connect(lab, "gw1", "gw1-ext", "gw1-ext0", "00:00:00:e1:06:01", "172.16.0.2/24")
    lab.nbctl("lr-nat-add", "gw1", "snat", "172.16.0.2", "10.0.0.0/8")


def dnat_blackhole(lab: OvnLab) -> None:
    """dnat-blackhole: 10.9.101.14 is a dnat with logical_port pod2 and external_mac.  Near
    misses: the same as dnat_and_snat (10.9.101.16, distributed) and a plain dnat
    (10.9.101.18, centralized)."""
    switch(lab, "external0", localnet="external0")
    vpc(lab, "vpc1", "192.168.0.1/24", "external0", "10.9.101.1/24")
    pod(lab, "vpc1-subnet1", "pod2.ns1", "00:00:00:00:00:05", "192.168.0.5")
    pod(lab, "vpc1-subnet1", "pod3.ns1", "00:00:00:00:00:06", "192.168.0.6")
    raw_nat(lab, "vpc1", type="dnat", external_ip="10.9.101.14", logical_ip="192.168.0.5",
            logical_port="pod2.ns1", external_mac="00:00:00:00:0e:0e")
    lab.nbctl("lr-nat-add", "vpc1", "dnat_and_snat", "10.9.101.16", "192.168.0.6", "pod3.ns1",
              "00:00:00:00:0e:10")
    lab.nbctl("lr-nat-add", "vpc1", "dnat", "10.9.101.18", "192.168.0.5")


def fip_port_missing(lab: OvnLab) -> None:
    """fip-port-missing: 10.9.101.15 distributed to ghost.ns1, a port that does not exist.
    Near miss: 10.9.101.9 distributed to the existing pod1.ns1."""
    switch(lab, "external0", localnet="external0")
    vpc(lab, "vpc1", "192.168.0.1/24", "external0", "10.9.101.1/24")
    pod(lab, "vpc1-subnet1", "pod1.ns1", "00:00:00:00:00:04", "192.168.0.4")
    lab.nbctl("lr-nat-add", "vpc1", "dnat_and_snat", "10.9.101.9", "192.168.0.4", "pod1.ns1",
              "00:00:00:00:09:09")
    raw_nat(lab, "vpc1", type="dnat_and_snat", external_ip="10.9.101.15",
            logical_ip="192.168.0.15", logical_port="ghost.ns1",
            external_mac="00:00:00:00:09:15")   # lr-nat-add checks the port exists


def ambiguous_gateway_port(lab: OvnLab) -> None:
    """nat-ambiguous-gateway-port: vpc3 has DGPs on 10.9.0.0/16 and 10.9.101.0/24;
    10.9.101.5 is in both and has no gateway_port.  Near misses: 10.9.101.6 with
    --gateway-port, 10.9.5.5 only in the /16."""
    switch(lab, "external0", localnet="external0")
    switch(lab, "external1", localnet="external1")
    vpc(lab, "vpc3", "192.168.3.1/24", "external0", "10.9.0.3/16", mac_suffix=3)
    connect(lab, "vpc3", "external1", "vpc3-external1", "00:00:00:e1:03:02", "10.9.101.3/24")
    gateway(lab, "vpc3-external1", ("node-177", 100), ("node-46", 90))
    lab.nbctl("lr-nat-add", "vpc3", "snat", "10.9.101.5", "192.168.3.0/25")
    lab.nbctl("--gateway-port=vpc3-external1", "lr-nat-add", "vpc3", "snat", "10.9.101.6",
              "192.168.3.128/25")
    lab.nbctl("lr-nat-add", "vpc3", "dnat_and_snat", "10.9.5.5", "192.168.3.5")


def eip_off_link(lab: OvnLab) -> None:
    """eip-off-link: 10.9.200.7 on vpc1 is outside its only DGP's 10.9.101.0/24; vpc2 has the
    same shape but redistributes nat through OVN dynamic routing (options only honoured from
    OVN 25.03); vpc6's external switch declares ipv4_network=10.9.0.0/16 (info).  vpc3 has two
    DGPs and 10.9.200.5 in neither: that is nat-invalid, not eip-off-link.  vpc7's IPv6 EIP
    2001:db8:200::7 is off-link for its dual-stack DGP.  Near miss: 10.9.101.7 on-link."""
    switch(lab, "external0", localnet="external0")
    switch(lab, "external1", localnet="external1")
    switch(lab, "external6", "external6", ipv4_network="10.9.0.0/16")
    vpc(lab, "vpc1", "192.168.0.1/24", "external0", "10.9.101.1/24")
    lab.nbctl("lr-nat-add", "vpc1", "dnat_and_snat", "10.9.200.7", "192.168.0.7")
    lab.nbctl("lr-nat-add", "vpc1", "dnat_and_snat", "10.9.101.7", "192.168.0.8")
    vpc(lab, "vpc2", "192.168.2.1/24", "external0", "10.9.101.2/24", mac_suffix=2)
    lab.nbctl("set", "Logical_Router", "vpc2", "options:dynamic-routing=true",
              "options:dynamic-routing-redistribute=nat")
    lab.nbctl("lr-nat-add", "vpc2", "dnat_and_snat", "10.9.200.8", "192.168.2.8")
    vpc(lab, "vpc3", "192.168.3.1/24", "external0", "10.9.101.3/24", mac_suffix=3)
    connect(lab, "vpc3", "external1", "vpc3-external1", "00:00:00:e1:03:02", "10.9.102.3/24")
    gateway(lab, "vpc3-external1", ("node-177", 100), ("node-46", 90))
    raw_nat(lab, "vpc3", type="dnat_and_snat", external_ip="10.9.200.5",
            logical_ip="192.168.3.5")   # lr-nat-add refuses it
    vpc(lab, "vpc6", "192.168.6.1/24", "external6", "10.9.106.1/24", mac_suffix=6)
    lab.nbctl("lr-nat-add", "vpc6", "dnat_and_snat", "10.9.200.6", "192.168.6.6")
    # vpc7: dual-stack DGP, an off-link IPv6 EIP: the route to suggest is via the IPv6 address
    vpc(lab, "vpc7", "192.168.7.1/24", "external1", "10.9.107.1/24", mac_suffix=7)
    lab.nbctl("set", "Logical_Router_Port", "vpc7-external1",
              'networks="10.9.107.1/24","2001:db8:107::1/64"')
    lab.nbctl("lr-nat-add", "vpc7", "dnat_and_snat", "2001:db8:200::7", "fd00:7::7")


def eip_duplicate(lab: OvnLab) -> None:
    """eip-duplicate (scenario a, R-a4): vpcA and vpcB share external0; both snat to
    10.9.101.50, and vpcB's FIP 10.9.101.2 is vpcA's gateway-port address.  Near misses:
    vpcC's snat to its own gateway-port address 10.9.101.4 (router SNAT), and 10.9.101.60
    used by vpcA and by vpcC, which sits on another external switch."""
    switch(lab, "external0", localnet="external0")
    switch(lab, "external1", localnet="external1")
    vpc(lab, "vpcA", "10.0.1.1/24", "external0", "10.9.101.2/24", mac_suffix=0x0a)
    vpc(lab, "vpcB", "10.0.1.1/24", "external0", "10.9.101.3/24", mac_suffix=0x0b)
    vpc(lab, "vpcC", "10.0.1.1/24", "external1", "10.9.101.4/24", mac_suffix=0x0c)
    lab.nbctl("lr-nat-add", "vpcA", "snat", "10.9.101.50", "10.0.1.0/24")
    lab.nbctl("lr-nat-add", "vpcB", "snat", "10.9.101.50", "10.0.1.0/24")
    lab.nbctl("lr-nat-add", "vpcB", "dnat_and_snat", "10.9.101.2", "10.0.1.9")
    lab.nbctl("lr-nat-add", "vpcC", "snat", "10.9.101.4", "10.0.1.0/24")
    lab.nbctl("lr-nat-add", "vpcA", "dnat_and_snat", "10.9.101.60", "10.0.1.6")
    lab.nbctl("lr-nat-add", "vpcC", "dnat_and_snat", "10.9.101.60", "10.0.1.6")


def fip_intent(lab: OvnLab) -> None:
    """fip-intent-mismatch (scenario c): Kube-OVN vpc1 (vendor=kube-ovn) has OvnFip
    10.9.101.9 with logical_port, external_mac and options:staleless=false (asked
    centralized, distributed by OVN), and OvnFip 10.9.101.11 with stateless=true but no
    port/MAC (asked distributed, centralized).  Near misses: 10.9.101.10 stateless=true with
    port and MAC; plain-OVN router vpc9 with an lr-nat-add FIP (stateless=false, no CMS)."""
    switch(lab, "external0", localnet="external0")
    vpc(lab, "vpc1", "192.168.0.1/24", "external0", "10.9.230.12/16", vendor="kube-ovn")
    pod(lab, "vpc1-subnet1", "starter-backend-7ff5f85b46-8d9gh.vpc1", "a6:3f:0e:7b:c2:51",
        "192.168.0.4", pod="vpc1/starter-backend-7ff5f85b46-8d9gh", vendor="kube-ovn")
    pod(lab, "vpc1-subnet1", "busybox.vpc1", "a6:3f:0e:7b:c2:52", "192.168.0.5",
        pod="vpc1/busybox", vendor="kube-ovn")
    raw_nat(lab, "vpc1", type="dnat_and_snat", external_ip="10.9.101.9",
            logical_ip="192.168.0.4", logical_port="starter-backend-7ff5f85b46-8d9gh.vpc1",
            external_mac="a6:3f:0e:7b:c2:51", **{"options:staleless": "false"})
    raw_nat(lab, "vpc1", type="dnat_and_snat", external_ip="10.9.101.10",
            logical_ip="192.168.0.5", logical_port="busybox.vpc1",
            external_mac="a6:3f:0e:7b:c2:52", **{"options:stateless": "true"})
    raw_nat(lab, "vpc1", type="dnat_and_snat", external_ip="10.9.101.11",
            logical_ip="192.168.0.6", **{"options:stateless": "true"})
    vpc(lab, "vpc9", "192.168.9.1/24", "external0", "10.9.109.1/24", mac_suffix=9)
    pod(lab, "vpc9-subnet1", "vm9", "00:00:00:00:09:01", "192.168.9.9")
    lab.nbctl("lr-nat-add", "vpc9", "dnat_and_snat", "10.9.109.9", "192.168.9.9", "vm9",
              "00:00:00:00:09:99")


NEUTRON_ROUTER = "neutron-6e1d0a3c-4b3f-4f5c-9f1e-2a7b8c9d0e1f"


def neutron_fip(lab: OvnLab) -> None:
    """neutron-fip-not-distributed: NB_Global says neutron:fip-distributed=True; FIP
    172.24.4.10 has no external_mac, FIP 172.24.4.11 has one that differs from
    neutron:fip_external_mac.  Near miss: FIP 172.24.4.12 with the recorded MAC.  FIP
    172.24.4.13 has no external_mac on purpose: its fixed IP is a load-balancer backend."""
    lab.nbctl("init")
    lab.nbctl("set", "NB_Global", ".", 'external_ids:"neutron:fip-distributed"="True"')
    switch(lab, "neutron-ext", localnet="physnet1")
    switch(lab, "neutron-int")
    r = NEUTRON_ROUTER
    lab.nbctl("lr-add", r)
    connect(lab, r, "neutron-int", "lrp-int", "fa:16:3e:00:00:01", "10.0.0.1/24")
    connect(lab, r, "neutron-ext", "lrp-gw", "fa:16:3e:00:00:02", "172.24.4.2/24")
    gateway(lab, "lrp-gw", ("gw-1", 2), ("gw-2", 1))
    lab.nbctl("lb-add", "lb-13", "172.24.4.100:80", "10.0.0.13:8080", "tcp")
    lab.nbctl("lr-lb-add", r, "lb-13")
    for i, mac in ((10, None), (11, "fa:16:3e:aa:aa:11"), (12, "fa:16:3e:bb:bb:12"),
                   (13, None)):
        port = f"port-{i}"
        pod(lab, "neutron-int", port, f"fa:16:3e:00:01:{i:02d}", f"10.0.0.{i}")
        cols = {"type": "dnat_and_snat", "external_ip": f"172.24.4.{i}",
                "logical_ip": f"10.0.0.{i}", "logical_port": port,
                "external_ids:neutron:fip_id": f"fip-{i}",
                "external_ids:neutron:fip_external_mac": f"fa:16:3e:bb:bb:{i:02d}"}
        if mac:
            cols["external_mac"] = mac
        raw_nat(lab, r, **cols)


def lanip_is_gateway(lab: OvnLab) -> None:
    """lanip-is-gateway (scenario a, R-a1): vpcA's NAT gateway pod has lanIp 10.0.1.254, the
    address of router port vpcA-vpcA-subnet1, and vpcA's default route points at it (so
    nexthop-self fires too: report both).  Near miss: vpcB's gateway at 10.0.1.253, its
    route via 10.0.1.253, while vpcB's router port is 10.0.1.254."""
    switch(lab, "external0", localnet="external0")
    for name, lan, suffix in (("vpcA", "10.0.1.254", 0x0a), ("vpcB", "10.0.1.253", 0x0b)):
        vpc(lab, name, "10.0.1.254/24", "external0", f"10.9.101.{suffix}/24", mac_suffix=suffix,
            vendor="kube-ovn")
        gw = f"vpc-nat-gw-gw{name[-1]}-0"
        pod(lab, f"{name}-subnet1", f"{gw}.kube-system", f"00:00:00:aa:{suffix:02x}:01", lan,
            pod=f"kube-system/{gw}", vendor="kube-ovn")
        route(lab, name, "0.0.0.0/0", lan, vendor="kube-ovn")   # Vpc.spec.staticRoutes


def nexthop_self(lab: OvnLab) -> None:
    """nexthop-self (R-a2):
    * vpcA: user default route 0.0.0.0/0 via 10.0.1.254 = vpcA's own port address (error),
      and a reroute policy to it (error);
    * vpcK: the Kube-OVN >= 1.14 auto src-ip route 192.168.0.0/24 -> 192.168.0.1 (warning);
    * vpcL: the same auto route plus a user dst-ip default route via 10.9.0.1 that it
      outranks (error on the auto route).
    Near misses: vpcN's default route via 10.0.1.253 and its policy to 10.0.1.200; vpcL's
    user default route itself."""
    switch(lab, "external0", localnet="external0")
    vpc(lab, "vpcA", "10.0.1.254/24", "external0", "10.9.101.10/16", mac_suffix=0x0a,
        vendor="kube-ovn")
    vpc(lab, "vpcN", "10.0.1.254/24", "external0", "10.9.101.11/16", mac_suffix=0x0e,
        vendor="kube-ovn")
    vpc(lab, "vpcK", "192.168.0.1/24", "external0", "10.9.101.12/16", mac_suffix=0x0b,
        vendor="kube-ovn")
    vpc(lab, "vpcL", "192.168.0.1/24", "external0", "10.9.101.13/16", mac_suffix=0x0c,
        vendor="kube-ovn")
    route(lab, "vpcA", "0.0.0.0/0", "10.0.1.254", vendor="kube-ovn")
    route(lab, "vpcN", "0.0.0.0/0", "10.0.1.253", vendor="kube-ovn")
    route(lab, "vpcK", "192.168.0.0/24", "192.168.0.1", policy="src-ip", vendor="kube-ovn")
    route(lab, "vpcL", "192.168.0.0/24", "192.168.0.1", policy="src-ip", vendor="kube-ovn")
    route(lab, "vpcL", "0.0.0.0/0", "10.9.0.1", vendor="kube-ovn")
    lab.nbctl("lr-policy-add", "vpcA", "29000", "ip4.src == 10.0.1.0/24", "reroute",
              "10.0.1.254")
    lab.nbctl("lr-policy-add", "vpcN", "29000", "ip4.src == 10.0.1.0/24", "reroute",
              "10.0.1.200")


def route(lab: OvnLab, lr: str, prefix: str, nexthop: str, policy: str = "dst-ip",
          **ids: str) -> None:
    """A Logical_Router_Static_Route with external_ids (as Kube-OVN writes them)."""
    kv = [f"ip_prefix={prefix!s}", f'nexthop="{nexthop}"', f"policy={policy}"]
    kv += [f'external_ids:"{k}"="{v}"' for k, v in ids.items()]
    lab.nbctl("--id=@r", "create", "Logical_Router_Static_Route", *kv,
              "--", "add", "Logical_Router", lr, "static_routes", "@r")


def ip_not_unique(lab: OvnLab) -> None:
    """ip-not-unique (scenario b, R-b): NAT gateways of vpc1 and vpc2 both have lanIp
    10.0.1.2 and live in namespace kube-system.  Near miss: 10.0.1.5 used by pods of
    namespaces ns-a (vpc1) and ns-b (vpc2), the normal VPC-isolation case."""
    switch(lab, "external0", localnet="external0")
    for i in (1, 2):
        name = f"vpc{i}"
        vpc(lab, name, "10.0.1.1/24", "external0", f"10.9.101.{i}/24", mac_suffix=i,
            vendor="kube-ovn")
        gw = f"vpc-nat-gw-{name}-natgw1-0"
        pod(lab, f"{name}-subnet1", f"{gw}.kube-system", f"00:00:00:aa:0{i}:02", "10.0.1.2",
            pod=f"kube-system/{gw}", vendor="kube-ovn")
        ns = "ns-a" if i == 1 else "ns-b"
        pod(lab, f"{name}-subnet1", f"app.{ns}", f"00:00:00:aa:0{i}:05", "10.0.1.5",
            pod=f"{ns}/app", vendor="kube-ovn")


def port_outside_subnet(lab: OvnLab) -> None:
    """port-outside-subnet (scenario e, R-e): VM vm1 on subnet-10-69 (10.69.0.0/16) got
    10.66.6.10 from the IPPool of subnet-10-66; port on VLAN switch vlan-70 (localnet
    ipv4_network=10.70.0.0/16) has 10.71.0.5.  Near misses: vm2 10.69.9.10, vlan port
    10.70.0.5, a port with any IP on a switch with no known subnet."""
    lab.nbctl("lr-add", "ovn-cluster")
    for sw, gw in (("subnet-10-66", "10.66.0.1/16"), ("subnet-10-69", "10.69.0.1/16")):
        switch(lab, sw)
        connect(lab, "ovn-cluster", sw, f"ovn-cluster-{sw}", "00:00:00:66:00:" + sw[-2:], gw)
    pod(lab, "subnet-10-69", "vm1.default.attachnet.default.ovn", "00:00:00:69:00:01",
        "10.66.6.10", pod="default/vm1")
    pod(lab, "subnet-10-69", "vm2.default.attachnet.default.ovn", "00:00:00:69:00:02",
        "10.69.9.10", pod="default/vm2")
    switch(lab, "vlan-70", "provider70", ipv4_network="10.70.0.0/16")
    pod(lab, "vlan-70", "vlanpod1.default", "00:00:00:70:00:01", "10.71.0.5")
    pod(lab, "vlan-70", "vlanpod2.default", "00:00:00:70:00:02", "10.70.0.5")
    switch(lab, "bare")
    pod(lab, "bare", "anything", "00:00:00:ba:00:01", "203.0.113.7")


def gateways(lab: OvnLab) -> None:
    """gw-single-chassis: vpc1's DGP has one gateway chassis.  gw-both-hcg-and-gc: vpc3's DGP
    has an HA group (node-1/100, node-2/50) and a Gateway_Chassis (node-3/10).  gw-no-members:
    vpc4's DGP has an empty HA group.  Near miss: vpc2's DGP with two gateway chassis."""
    switch(lab, "external0", localnet="external0")
    vpc(lab, "vpc1", "192.168.1.1/24", "external0", "10.9.101.1/24",
        members=(("node-177", 100),), mac_suffix=1)
    vpc(lab, "vpc2", "192.168.2.1/24", "external0", "10.9.101.2/24", mac_suffix=2)
    vpc(lab, "vpc3", "192.168.3.1/24", "external0", "10.9.101.3/24",
        members=(("node-3", 10),), mac_suffix=3)
    ha_group(lab, "vpc3-external0", "hagrp-vpc3", ("node-1", 100), ("node-2", 50))
    vpc(lab, "vpc4", "192.168.4.1/24", "external0", "10.9.101.4/24", members=(), mac_suffix=4)
    ha_group(lab, "vpc4-external0", "hagrp-vpc4")
    lab.nbctl("lr-nat-add", "vpc4", "snat", "10.9.101.4", "192.168.4.0/24")


def sb_gateways_nb(lab: OvnLab) -> None:
    """NB half of the SB scenario (runs before northd syncs):

    * vpc1: DGP members node-177/100 and ghost-90/90 (ghost-90 never registered);
    * vpc2: DGP members ghost-a/100 and ghost-b/90 (none registered);
    * vpc3: DGP members node-177/100, node-46/90 (both registered), distributed FIPs
      10.9.101.31 (pod-a) and 10.9.101.32 (pod-b) on external0 (localnet external0).
    """
    switch(lab, "external0", localnet="external0")
    vpc(lab, "vpc1", "192.168.1.1/24", "external0", "10.9.101.1/24",
        members=(("node-177", 100), ("ghost-90", 90)), mac_suffix=1)
    vpc(lab, "vpc2", "192.168.2.1/24", "external0", "10.9.101.2/24",
        members=(("ghost-a", 100), ("ghost-b", 90)), mac_suffix=2)
    vpc(lab, "vpc3", "192.168.3.1/24", "external0", "10.9.101.3/24", mac_suffix=3)
    pod(lab, "vpc3-subnet1", "pod-a", "00:00:00:03:00:31", "192.168.3.31")
    pod(lab, "vpc3-subnet1", "pod-b", "00:00:00:03:00:32", "192.168.3.32")
    lab.nbctl("lr-nat-add", "vpc3", "dnat_and_snat", "10.9.101.31", "192.168.3.31", "pod-a",
              "00:00:00:03:01:31")
    lab.nbctl("lr-nat-add", "vpc3", "dnat_and_snat", "10.9.101.32", "192.168.3.32", "pod-b",
              "00:00:00:03:01:32")


def sb_gateways_sb(lab: OvnLab) -> None:
    """SB half: chassis node-177 (maps external0) and node-46 (maps only physnet9); pod-a is
    bound to node-46 (fip-no-bridge-mapping), pod-b to node-177 (near miss); cr-vpc3-external0
    is active on node-46 although node-177 has the higher priority (active-not-preferred),
    cr-vpc1-external0 on node-177 (near miss)."""
    lab.sbctl("chassis-add", "node-177", "geneve", "127.0.0.177")
    lab.sbctl("chassis-add", "node-46", "geneve", "127.0.0.46")
    lab.sbctl("set", "Chassis", "node-177",
              'other_config:"ovn-bridge-mappings"="external0:br-ext"', "hostname=vnode-103-177")
    lab.sbctl("set", "Chassis", "node-46",
              'other_config:"ovn-bridge-mappings"="physnet9:br-9"', "hostname=vnode-117-46")
    lab.sbctl("lsp-bind", "pod-a", "node-46")
    lab.sbctl("lsp-bind", "pod-b", "node-177")
    lab.sbctl("lsp-bind", "cr-vpc3-external0", "node-46")
    lab.sbctl("lsp-bind", "cr-vpc1-external0", "node-177")


def sb_claims_nb(lab: OvnLab) -> None:
    """NB half of the southbound-reality scenario (issue 14):

    * vpcA on external0: DGP gw1/100, gw2/90; FIPs 10.9.101.41 (pa, requested-chassis
      node1) and 10.9.101.42 (pb, requested-chassis host-node2, a hostname);
    * vpcB alone on external1 (its own router group): DGP gw1/100, gw2/90, nothing bound
      behind it;
    * ports pc and pd on vpcA's subnet for the stale-chassis bindings.
    """
    switch(lab, "external0", localnet="external0")
    switch(lab, "external1", localnet="external1")
    members = (("gw1", 100), ("gw2", 90))
    vpc(lab, "vpcA", "192.168.41.1/24", "external0", "10.9.101.40/24", members, mac_suffix=0x41)
    vpc(lab, "vpcB", "192.168.42.1/24", "external1", "10.9.102.40/24", members, mac_suffix=0x42)
    pod(lab, "vpcA-subnet1", "pa", "00:00:00:41:00:01", "192.168.41.11")
    pod(lab, "vpcA-subnet1", "pb", "00:00:00:41:00:02", "192.168.41.12")
    pod(lab, "vpcA-subnet1", "pc", "00:00:00:41:00:03", "192.168.41.13")
    pod(lab, "vpcA-subnet1", "pd", "00:00:00:41:00:04", "192.168.41.14")
    lab.nbctl("lsp-set-options", "pa", "requested-chassis=node1")
    lab.nbctl("lsp-set-options", "pb", "requested-chassis=host-node2")
    lab.nbctl("lr-nat-add", "vpcA", "dnat_and_snat", "10.9.101.41", "192.168.41.11", "pa",
              "00:00:00:41:01:01")
    lab.nbctl("lr-nat-add", "vpcA", "dnat_and_snat", "10.9.101.42", "192.168.41.12", "pb",
              "00:00:00:41:01:02")


def sb_claims_sb(lab: OvnLab) -> None:
    """SB half: gw1, gw2, node1, node2 registered and reporting (Chassis_Private); node3 is
    host-3's old name (host-3 reports again as node3b); node4 never reported.

    * sb-cr-unclaimed: cr-vpcA-external0 bound nowhere; near miss cr-vpcB-external1 on gw1;
    * fip-bound-elsewhere: pa bound on node2 (requested node1); near miss pb on node2
      (requested by its hostname);
    * sb-binding-dead-chassis: pc on node3 (renamed), pd on node4 (no Chassis_Private);
      near miss: pa, pb on reporting chassis;
    * gw-no-ref-chassis (info): vpcB's group has two members and nothing bound behind it;
      near miss vpcA (northd lists node2, node3, node4 as ref_chassis).
    """
    maps = "external0:br-ex,external1:br-ex1"
    for i, (name, host) in enumerate((("gw1", "host-gw1"), ("gw2", "host-gw2"),
                                      ("node1", "host-node1"), ("node2", "host-node2"),
                                      ("node3", "host-3"), ("node3b", "host-3"),
                                      ("node4", "host-4"))):
        lab.sbctl("chassis-add", name, "geneve", f"127.0.4.{i + 1}")
        lab.sbctl("set", "Chassis", name, f'other_config:"ovn-bridge-mappings"="{maps}"',
                  f"hostname={host}")
        if name not in ("node3", "node4"):
            uuid = lab.sbctl("get", "Chassis", name, "_uuid").strip()
            lab.sbctl("create", "Chassis_Private", f"name={name}", f"chassis={uuid}")
    lab.sbctl("lsp-bind", "pa", "node2")
    lab.sbctl("lsp-bind", "pb", "node2")
    lab.sbctl("lsp-bind", "pc", "node3")
    lab.sbctl("lsp-bind", "pd", "node4")
    lab.sbctl("lsp-bind", "cr-vpcB-external1", "gw1")


def clean(lab: OvnLab) -> None:
    """No findings at all: one VPC with a two-chassis DGP, a distributed FIP, an snat and a
    default route to the upstream gateway."""
    switch(lab, "external0", localnet="external0")
    vpc(lab, "vpc1", "192.168.0.1/24", "external0", "10.9.101.1/24")
    pod(lab, "vpc1-subnet1", "pod1.ns1", "00:00:00:00:00:04", "192.168.0.4")
    lab.nbctl("lr-nat-add", "vpc1", "dnat_and_snat", "10.9.101.9", "192.168.0.4", "pod1.ns1",
              "00:00:00:00:09:09")
    lab.nbctl("lr-nat-add", "vpc1", "snat", "10.9.101.1", "192.168.0.0/24")
    lab.nbctl("lr-route-add", "vpc1", "0.0.0.0/0", "10.9.101.254")


def nat_spelling(lab: OvnLab) -> None:
    """nat-prefix-external-ip / nat-flows-rejected: spellings northd turns into flows that
    do not do what the row says (ovn-changes §3), on vpc1 (DGP 10.9.101.1/24).

    * 10.9.101.30/24 FIP: >= 25.03 matches the whole /24 (and ct_snat of it is refused);
      23.03 drops the row (nat-invalid);
    * 10.9.101.31/32 snat: accepted by every release, but ct_snat(10.9.101.31/32) is
      refused: nothing is SNATed;
    * 010.9.101.32 FIP: a leading zero northd reads and ovn-controller refuses: nothing is
      translated;
    * 10.9.101.33.7 FIP: >= 25.03 reads 10.9.101.33, ovn-controller refuses the flows;
      23.03 drops the row;
    * 10.9.101.36 FIP to logical_ip 192.168.0.36/32: ct_dnat refuses the prefix.
    Near misses: " 10.9.101.34" (a leading space is fine everywhere) and 10.9.101.35.
    """
    switch(lab, "external0", localnet="external0")
    vpc(lab, "vpc1", "192.168.0.1/24", "external0", "10.9.101.1/24")
    for ext, logical, kind in (("10.9.101.30/24", "192.168.0.30", "dnat_and_snat"),
                               ("10.9.101.31/32", "192.168.0.0/24", "snat"),
                               ("010.9.101.32", "192.168.0.32", "dnat_and_snat"),
                               ("10.9.101.33.7", "192.168.0.33", "dnat_and_snat"),
                               (" 10.9.101.34", "192.168.0.34", "dnat_and_snat"),
                               ("10.9.101.35", "192.168.0.35", "dnat_and_snat"),
                               ("10.9.101.36", "192.168.0.36/32", "dnat_and_snat")):
        raw_nat(lab, "vpc1", type=kind, external_ip=ext, logical_ip=logical)


def nb_rules(lab: OvnLab) -> None:
    """The NB-only rules of issue #14 item 4 on one external switch external0 (localnet
    external0); every router is Kube-OVN-shaped (:func:`vpc`).

    * dgp-disabled: vpcD's DGP has enabled=false (FIP 10.9.101.41 distributed to podD,
      snat 10.9.101.42, FIP 10.9.101.43 centralized to podD2).  Near miss: vpcE's DGP with
      enabled=true written out (FIP 10.9.101.58 centralized to podE4).
    * snat-blackhole: 10.9.101.52 on vpcE, an snat with logical_port podE2 and
      external_mac.  Near misses: the FIP 10.9.101.51 (dnat_and_snat with port and MAC) and
      the plain snat 10.9.101.53.
    * fip-logical-ip-duplicate: 10.9.101.54 and 10.9.101.55 on vpcE both to 192.168.5.30.
      Near miss: 10.9.101.56 to 192.168.5.31.
    * fip-logical-ip-prefix: 10.9.101.57 to 192.168.5.22/32, distributed to podE3.
    * gw-duplicate-member: vpcF's DGP has two Gateway_Chassis rows for node-1 (100 and 50);
      vpcG's HA group has two HA_Chassis for node-3.  Near miss: vpcE (node-177, node-46).
    * gr-has-dgp: gateway router gw1 (chassis node-1) whose port gw1-ext0 has a gateway
      chassis.  gr-chassis-empty: gw3 with options:chassis="".  Near miss: gw2 (node-2).
    * eip-duplicate: vpcH has no DGP, but its NAT 10.9.101.51 is vpcE's FIP.  Near miss:
      vpcI, no DGP, NAT 10.9.101.61 nobody else uses.
    * gw-garp-disabled: vpcJ has options:disable_garp_rarp=true, vpcK's DGP peer LSP
      external0-vpcK has it.  Near miss: vpcE.
    * transit-router-nat: vpcT's DGP is on ts1 (other_config:interconn-ts=ts1) and vpcT has
      an snat; tr1 is a transit router (its port has options:requested-chassis) with an
      snat.  Near miss: vpcE.
    """
    switch(lab, "external0", localnet="external0")
    vpc(lab, "vpcD", "192.168.4.1/24", "external0", "10.9.101.4/24", mac_suffix=0x0d)
    pod(lab, "vpcD-subnet1", "podD", "00:00:00:00:0d:20", "192.168.4.20")
    lab.nbctl("lr-nat-add", "vpcD", "dnat_and_snat", "10.9.101.41", "192.168.4.20", "podD",
              "00:00:00:00:0d:41")
    lab.nbctl("lr-nat-add", "vpcD", "snat", "10.9.101.42", "192.168.4.0/24")
    pod(lab, "vpcD-subnet1", "podD2", "00:00:00:00:0d:21", "192.168.4.21")
    lab.nbctl("lr-nat-add", "vpcD", "dnat_and_snat", "10.9.101.43", "192.168.4.21")
    lab.nbctl("set", "Logical_Router_Port", "vpcD-external0", "enabled=false")
    vpc(lab, "vpcE", "192.168.5.1/24", "external0", "10.9.101.5/24", mac_suffix=0x0e)
    lab.nbctl("set", "Logical_Router_Port", "vpcE-external0", "enabled=true")
    for name, last in (("podE", 20), ("podE2", 21), ("podE3", 22), ("podE4", 23)):
        pod(lab, "vpcE-subnet1", name, f"00:00:00:00:0e:{last:02x}", f"192.168.5.{last}")
    lab.nbctl("lr-nat-add", "vpcE", "dnat_and_snat", "10.9.101.51", "192.168.5.20", "podE",
              "00:00:00:00:0e:51")
    raw_nat(lab, "vpcE", type="snat", external_ip="10.9.101.52", logical_ip="192.168.5.21",
            logical_port="podE2", external_mac="00:00:00:00:0e:52")
    lab.nbctl("lr-nat-add", "vpcE", "snat", "10.9.101.53", "192.168.5.0/24")
    raw_nat(lab, "vpcE", type="dnat_and_snat", external_ip="10.9.101.54",
            logical_ip="192.168.5.30")
    raw_nat(lab, "vpcE", type="dnat_and_snat", external_ip="10.9.101.55",
            logical_ip="192.168.5.30")
    lab.nbctl("lr-nat-add", "vpcE", "dnat_and_snat", "10.9.101.56", "192.168.5.31")
    raw_nat(lab, "vpcE", type="dnat_and_snat", external_ip="10.9.101.57",
            logical_ip="192.168.5.22/32", logical_port="podE3",
            external_mac="00:00:00:00:0e:57")
    lab.nbctl("lr-nat-add", "vpcE", "dnat_and_snat", "10.9.101.58", "192.168.5.23")
    # duplicate gateway members
    vpc(lab, "vpcF", "192.168.6.1/24", "external0", "10.9.101.6/24",
        members=(("node-1", 100),), mac_suffix=0x0f)
    lab.nbctl("--id=@g", "create", "Gateway_Chassis", "name=vpcF-external0_node-1",
              "chassis_name=node-1", "priority=50", "--", "add", "Logical_Router_Port",
              "vpcF-external0", "gateway_chassis", "@g")
    vpc(lab, "vpcG", "192.168.7.1/24", "external0", "10.9.101.7/24", members=(),
        mac_suffix=0x10)
    ha_group(lab, "vpcG-external0", "hagrp-vpcG", ("node-3", 100), ("node-4", 90))
    lab.nbctl("--id=@h", "create", "HA_Chassis", "chassis_name=node-3", "priority=10",
              "--", "add", "HA_Chassis_Group", "hagrp-vpcG", "ha_chassis", "@h")
    # gateway routers
    for gr, chassis, last in (("gw1", "node-1", 1), ("gw2", "node-2", 2), ("gw3", "", 3)):
        lab.nbctl("lr-add", gr, "--", "set", "Logical_Router", gr,
                  f'options:chassis="{chassis}"')
        connect(lab, gr, "external0", f"{gr}-ext0", f"00:00:00:e1:20:{last:02x}",
                f"10.9.101.{200 + last}/24")
        lab.nbctl("lr-nat-add", gr, "snat", f"10.9.101.{200 + last}", f"10.{last}.0.0/16")
    gateway(lab, "gw1-ext0", ("node-2", 10))
    # routers without a DGP
    vpc(lab, "vpcH", "192.168.8.1/24", "external0", "10.9.101.8/24", members=(),
        mac_suffix=0x11)
    lab.nbctl("lr-nat-add", "vpcH", "dnat_and_snat", "10.9.101.51", "192.168.8.51")
    vpc(lab, "vpcI", "192.168.9.1/24", "external0", "10.9.101.9/24", members=(),
        mac_suffix=0x12)
    lab.nbctl("lr-nat-add", "vpcI", "dnat_and_snat", "10.9.101.61", "192.168.9.61")
    # GARP switched off
    vpc(lab, "vpcJ", "192.168.10.1/24", "external0", "10.9.101.10/24", mac_suffix=0x13)
    lab.nbctl("set", "Logical_Router", "vpcJ", "options:disable_garp_rarp=true")
    lab.nbctl("lr-nat-add", "vpcJ", "snat", "10.9.101.100", "192.168.10.0/24")
    vpc(lab, "vpcK", "192.168.11.1/24", "external0", "10.9.101.11/24", mac_suffix=0x14)
    lab.nbctl("set", "Logical_Switch_Port", "external0-vpcK", "options:disable_garp_rarp=true")
    lab.nbctl("lr-nat-add", "vpcK", "snat", "10.9.101.110", "192.168.11.0/24")
    # OVN-IC
    switch(lab, "ts1")
    lab.nbctl("set", "Logical_Switch", "ts1", "other_config:interconn-ts=ts1")
    vpc(lab, "vpcT", "192.168.12.1/24", "ts1", "169.254.100.1/24", mac_suffix=0x15)
    lab.nbctl("lr-nat-add", "vpcT", "snat", "169.254.100.1", "192.168.12.0/24")
    lab.nbctl("lr-add", "tr1")
    connect(lab, "tr1", "ts1", "tr1-ts1", "00:00:00:e1:30:01", "169.254.100.2/24")
    lab.nbctl("lrp-add", "tr1", "tr1-az2", "00:00:00:e1:30:02", "169.254.200.1/24")
    lab.nbctl("set", "Logical_Router_Port", "tr1-az2", "options:requested-chassis=az2-gw")
    lab.nbctl("lr-nat-add", "tr1", "snat", "169.254.100.2", "192.168.13.0/24")


def spine_leaf(lab: OvnLab) -> None:
    """external-switch-via-spine (OVN >= 25.03, LSP type switch; needs a >= 25.03
    ovn-nbctl for the ``peer`` column): vpcS's DGP is on leaf0, which has no localnet but is
    linked by switch-type ports to spine0, which has one; FIP 10.9.101.91 to podS.  Near
    miss: vpcN's DGP directly on spine0, FIP 10.9.101.92 to podN."""
    switch(lab, "spine0", localnet="external0")
    switch(lab, "leaf0")
    lab.nbctl("lsp-add", "leaf0", "leaf0-spine0", "--", "lsp-set-type", "leaf0-spine0",
              "switch", "--", "set", "Logical_Switch_Port", "leaf0-spine0",
              "peer=spine0-leaf0")
    lab.nbctl("lsp-add", "spine0", "spine0-leaf0", "--", "lsp-set-type", "spine0-leaf0",
              "switch", "--", "set", "Logical_Switch_Port", "spine0-leaf0",
              "peer=leaf0-spine0")
    vpc(lab, "vpcS", "192.168.20.1/24", "leaf0", "10.9.101.90/24", mac_suffix=0x20)
    pod(lab, "vpcS-subnet1", "podS", "00:00:00:00:20:91", "192.168.20.91")
    lab.nbctl("lr-nat-add", "vpcS", "dnat_and_snat", "10.9.101.91", "192.168.20.91", "podS",
              "00:00:00:00:20:a1")
    vpc(lab, "vpcN", "192.168.21.1/24", "spine0", "10.9.101.89/24", mac_suffix=0x21)
    pod(lab, "vpcN-subnet1", "podN", "00:00:00:00:21:92", "192.168.21.92")
    lab.nbctl("lr-nat-add", "vpcN", "dnat_and_snat", "10.9.101.92", "192.168.21.92", "podN",
              "00:00:00:00:21:a2")


def router_peer(lab: OvnLab) -> None:
    """release-known-issue, "crashes northd 26.03.1" (version-lab.md reproducer): s3's DGP
    s3-ext0 is peered straight to s3up's port and s3 has an snat.  Near miss: s4/s4up, the
    same pair without a NAT.  northd 26.03.1 starts on the finished NB; it dies when a NAT
    of such a router changes while it runs (tests/test_check.py)."""
    for r, last in (("s3", 3), ("s4", 4)):
        lab.nbctl("lr-add", r, "--", "lr-add", f"{r}up")
        lab.nbctl("lrp-add", r, f"{r}-ext0", f"00:00:00:0{last}:10:01", f"10.{last}.1.1/24",
                  f"peer={r}up-dn")
        lab.nbctl("lrp-add", f"{r}up", f"{r}up-dn", f"00:00:00:0{last}:20:01",
                  f"10.{last}.1.2/24", f"peer={r}-ext0")
        lab.nbctl("lrp-set-gateway-chassis", f"{r}-ext0", "ch1", "10")
    lab.nbctl("lr-nat-add", "s3", "snat", "10.3.1.11", "192.168.3.0/24")


# -- building into files -----------------------------------------------------------------------


def kubeovn_field(lab: OvnLab) -> None:
    """The NB side of the Kube-OVN field reports whose CRs are in fixtures/kubeovn-crds/
    (4566.yaml, 4952.yaml, 4916.yaml, 4573.yaml), as Kube-OVN writes it (vendor=kube-ovn):

    * external switch ``external0`` (localnet, ipv4_network=10.9.0.0/16) for OVN EIPs;
    * (a) kube-ovn#4566: ``vpca`` and ``vpcb``, both 10.0.1.0/24 with gateway .254; NAT
      gateway pods ``vpc-nat-gw-gwa-0.kube-system`` at 10.0.1.254 (= gateway) and
      ``vpc-nat-gw-gwb-0.kube-system`` at 10.0.1.253;
    * (b) kube-ovn#4952: ``vpcc`` and ``vpcd`` (10.0.2.0/24, gateway .1) with gateways
      ``gwc`` and ``gwd`` both at 10.0.2.2, ``vpce`` with ``gwe`` at 10.0.2.3;
    * (e) kube-ovn#4573: ``ovn-cluster`` with subnets ``subnet-10-66`` (10.66.0.1/16) and
      ``subnet-10-69`` (10.69.0.1/16); the VM's port on subnet-10-69 is missing (its
      allocation failed).
    The iptables EIPs of (d) are not in NB at all.
    """
    switch(lab, "external0", localnet="external0", ipv4_network="10.9.0.0/16")
    for i, (name, gw, ext) in enumerate((("vpca", "10.0.1.254/24", "10.9.230.21/16"),
                                         ("vpcb", "10.0.1.254/24", "10.9.230.22/16"),
                                         ("vpcc", "10.0.2.1/24", "10.9.230.23/16"),
                                         ("vpcd", "10.0.2.1/24", "10.9.230.24/16"),
                                         ("vpce", "10.0.2.1/24", "10.9.230.25/16")), start=1):
        vpc(lab, name, gw, "external0", ext, mac_suffix=i, vendor="kube-ovn")
        lab.nbctl("set", "Logical_Switch", f"{name}-subnet1", "external_ids:vendor=kube-ovn")
    for n, (gw, ls, ip) in enumerate((("gwa", "vpca-subnet1", "10.0.1.254"),
                                      ("gwb", "vpcb-subnet1", "10.0.1.253"),
                                      ("gwc", "vpcc-subnet1", "10.0.2.2"),
                                      ("gwd", "vpcd-subnet1", "10.0.2.2"),
                                      ("gwe", "vpce-subnet1", "10.0.2.3")), start=1):
        pod(lab, ls, f"vpc-nat-gw-{gw}-0.kube-system", f"00:00:00:0a:00:{n:02x}", ip,
            pod=f"kube-system/vpc-nat-gw-{gw}-0", vendor="kube-ovn")
        lab.nbctl("set", "Logical_Switch_Port", f"vpc-nat-gw-{gw}-0.kube-system",
                  f"external_ids:ls={ls}")
    lab.nbctl("lr-add", "ovn-cluster")
    lab.nbctl("set", "Logical_Router", "ovn-cluster", "external_ids:vendor=kube-ovn")
    for k, (sub, gw) in enumerate((("subnet-10-66", "10.66.0.1/16"),
                                   ("subnet-10-69", "10.69.0.1/16")), start=1):
        switch(lab, sub)
        lab.nbctl("set", "Logical_Switch", sub, "external_ids:vendor=kube-ovn")
        connect(lab, "ovn-cluster", sub, f"ovn-cluster-{sub}", f"00:00:00:0c:00:{k:02x}", gw)
    pod(lab, "subnet-10-66", "web-0.default", "00:00:00:0d:00:01", "10.66.6.5",
        pod="default/web-0", vendor="kube-ovn")


@dataclass(frozen=True)
class Scenario:
    name: str
    nb: Callable[[OvnLab], None]
    sb: Optional[Callable[[OvnLab], None]] = None
    min_series: Optional[str] = None   # build with this OVN series' ovn-nbctl (newer NB columns)


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("nat_invalid", nat_invalid),
    Scenario("nat_inactive", nat_inactive),
    Scenario("dnat_blackhole", dnat_blackhole),
    Scenario("nat_spelling", nat_spelling),
    Scenario("fip_port_missing", fip_port_missing),
    Scenario("ambiguous_gateway_port", ambiguous_gateway_port),
    Scenario("eip_off_link", eip_off_link),
    Scenario("eip_duplicate", eip_duplicate),
    Scenario("fip_intent", fip_intent),
    Scenario("neutron_fip", neutron_fip),
    Scenario("lanip_is_gateway", lanip_is_gateway),
    Scenario("nexthop_self", nexthop_self),
    Scenario("ip_not_unique", ip_not_unique),
    Scenario("port_outside_subnet", port_outside_subnet),
    Scenario("gateways", gateways),
    Scenario("sb_gateways", sb_gateways_nb, sb_gateways_sb),
    Scenario("sb_claims", sb_claims_nb, sb_claims_sb),
    Scenario("clean", clean),
    Scenario("nb_rules", nb_rules),
    Scenario("spine_leaf", spine_leaf, min_series="25.03"),
    Scenario("router_peer", router_peer),
    Scenario("kubeovn_field", kubeovn_field),
)}


def build(name: str, out_dir: Path) -> tuple[Path, Optional[Path]]:
    """Build scenario ``name`` in a private lab; return copies of its NB (and SB) files."""
    from tests.oracle import stop_lab

    scenario = SCENARIOS[name]
    lab = OvnLab(build=scenario_build(scenario))
    try:
        lab.start_nb()
        if scenario.sb is not None:
            lab.start_sb()
            lab.start_northd()
        scenario.nb(lab)
        if scenario.sb is not None:
            lab.sync(timeout=30)
            scenario.sb(lab)
        out_dir.mkdir(parents=True, exist_ok=True)
        nb = out_dir / f"{name}-nb.db"
        shutil.copyfile(lab.nb_db, nb)
        sb = None
        if scenario.sb is not None:
            sb = out_dir / f"{name}-sb.db"
            shutil.copyfile(lab.sb_db, sb)
        return nb, sb
    finally:
        stop_lab(lab)


def scenario_build(scenario: Scenario):
    """The OVN build a scenario is made with: the host's, or for ``min_series`` the first
    installed build of that series or newer (LookupError when there is none)."""
    if scenario.min_series is None:
        return None
    from tests.ovnlab import builds

    want = tuple(int(x) for x in scenario.min_series.split("."))
    for b in builds():
        if tuple(int(x) for x in b.series.split(".")) >= want:
            return b
    raise LookupError(f"scenario {scenario.name} needs OVN >= {scenario.min_series}")


_BUILT: dict[str, tuple[Path, Optional[Path]]] = {}
_OUT: list[Path] = []


def built(name: str) -> tuple[Path, Optional[Path]]:
    """:func:`build` once per test process, into one temp dir removed at exit."""
    if name not in _BUILT:
        if not _OUT:
            import atexit
            import tempfile

            out = Path(tempfile.mkdtemp(prefix="ovninspect-check-"))
            atexit.register(shutil.rmtree, out, ignore_errors=True)
            _OUT.append(out)
        _BUILT[name] = build(name, _OUT[0])
    return _BUILT[name]
