"""Switch-port addresses: a port holding its router port's address, a port outside its
switch's subnet, one IP on ports of different VPCs in one namespace (cms-footprints §5 R-a1,
R-b, R-e)."""

from __future__ import annotations

import ipaddress
import socket

from ...topology import Topology
from .base import ERROR, INFO, Context, Finding, SwitchNet, norm_ip


def _as_int(ip: str) -> tuple[int, int]:
    """(IP version, address as an integer), fast enough for 100k ports."""
    if ":" in ip:
        return 6, int.from_bytes(socket.inet_pton(socket.AF_INET6, ip), "big")
    return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, ip), "big")


def lanip_is_gateway(topo: Topology, ctx: Context) -> list[Finding]:
    """A switch port whose IP equals the address of a router port on the same switch
    (VPC NAT gateway lanIp = subnet gateway; R-a1)."""
    out = []
    for port in ctx.workload_ports:
        by_ip = ctx.router_addresses_on_switch.get(port.switch_uuid or "")
        if not by_ip:
            continue
        switch = ctx.switch_names.get(port.switch_uuid or "", port.switch_uuid)
        for ip in port.ips:
            for lrp in by_ip.get(norm_ip(ip), ()):
                nets = ", ".join(n for n in lrp.networks
                                 if norm_ip(n.split("/")[0]) == norm_ip(ip))
                message = (f"port on switch {switch} has {ip}, the address of router port "
                           f"{lrp.name} ({nets or ip}) of {lrp.router}: both answer ARP for "
                           f"{ip}, and workloads using it as their gateway may reach the port "
                           "instead of the router")
                if port.name.startswith("vpc-nat-gw-"):
                    message += (" (Kube-OVN VPC NAT gateway lanIp equals the subnet gateway, "
                                "kubeovn/kube-ovn#4566; IPAM rejects this only from "
                                "v1.15.18)")
                hint = (f"Give {port.name} a free address in the subnet (for a VPC NAT "
                        "gateway: another spec.lanIp) and keep the gateway address for the "
                        "router port.")
                out.append(Finding("lanip-is-gateway", ERROR, port.name, message, hint,
                                   {"switch": switch, "ip": ip, "router_port": lrp.name,
                                    "router": lrp.router}))
    return out


def port_outside_subnet(topo: Topology, ctx: Context) -> list[Finding]:
    """A switch port with an IP outside every subnet known for its switch (R-e 1)."""
    out = []
    parsed: dict[str, list[tuple[int, int, int, SwitchNet]]] = {}
    for port in ctx.workload_ports:
        sw = port.switch_uuid
        if sw is None:
            continue
        nets = parsed.get(sw)
        if nets is None:
            nets = []
            for n in ctx.switch_networks(sw):
                net = ipaddress.ip_network(n.cidr, strict=False)
                nets.append((net.version, int(net.network_address), int(net.netmask), n))
            parsed[sw] = nets
        if not nets:
            continue
        for ip in port.ips:
            version, value = _as_int(ip)
            same_family = [(base, mask, n) for v, base, mask, n in nets if v == version]
            if not same_family or any(value & mask == base for base, mask, _ in same_family):
                continue
            switch = ctx.switch_names.get(sw, sw)
            known = ", ".join(f"{n.cidr} ({n.source})" for _, _, n in same_family)
            message = (f"port on switch {switch} has {ip}, outside the switch's subnet(s) "
                       f"{known}: it cannot reach its gateway, and replies to it are not "
                       "routed back")
            hint = ("Re-create the workload with an address from its own subnet.  On Kube-OVN "
                    "this is an IP taken from another subnet's IPPool bound to the namespace "
                    "(kubeovn/kube-ovn#4573, fixed by #4777 in v1.13.9 and v1.14): give each "
                    "interface its own ip_pool or upgrade.")
            pod = port.external_ids.get("pod")
            out.append(Finding("port-outside-subnet", ERROR, port.name, message, hint,
                               {"switch": switch, "ip": ip,
                                "subnets": [n.cidr for _, _, n in same_family],
                                **({"pod": pod} if pod else {})}))
    return out


def ip_not_unique(topo: Topology, ctx: Context) -> list[Finding]:
    """One IP on ports of different VPCs whose pods share a Kubernetes namespace (R-b): legal
    for OVN, fatal for host datapaths needing cluster-wide unique pod IPs.  info, or error
    with --unique-ips."""
    severity = ERROR if ctx.unique_ips else INFO
    vpc_of_switch: dict[str, str] = {}

    def vpc(sw_uuid: str) -> str:
        key = vpc_of_switch.get(sw_uuid)
        if key is None:
            routers = sorted(r.name for r in ctx.routers_on_switch(sw_uuid))
            key = ",".join(routers) or f"switch {ctx.switch_names.get(sw_uuid, sw_uuid)}"
            vpc_of_switch[sw_uuid] = key
        return key

    by_ip: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for port in ctx.workload_ports:
        pod = port.external_ids.get("pod", "")
        if "/" not in pod or port.switch_uuid is None:
            continue
        namespace = pod.split("/", 1)[0]
        for ip in port.ips:
            by_ip.setdefault((namespace, norm_ip(ip)), []).append(
                (port.name, ip, vpc(port.switch_uuid)))
    out = []
    shared = [(key, ports) for key, ports in by_ip.items()
              if len(ports) > 1 and len({v for _, _, v in ports}) > 1]
    for (namespace, _), ports in sorted(shared):
        vpcs = sorted({v for _, _, v in ports})
        ip = ports[0][1]
        listed = ", ".join(f"{name} ({v})" for name, _, v in sorted(ports))
        message = (f"{ip} is on ports of {len(vpcs)} different VPCs whose pods are all in "
                   f"namespace {namespace}: {listed}.  Legal for OVN, but a host datapath that "
                   "needs cluster-wide unique pod IPs (Cilium in chaining mode, "
                   "kubeovn/kube-ovn#4952) refuses the second endpoint")
        hint = ("Give each VPC NAT gateway a lanIp that is unique cluster-wide, or run the "
                "gateways in per-tenant namespaces (VpcNatGateway spec.namespace)"
                + ("" if ctx.unique_ips else "; --unique-ips makes this an error") + ".")
        out.append(Finding("ip-not-unique", severity, f"IP {ip} in namespace {namespace}",
                           message, hint,
                           {"ip": ip, "namespace": namespace, "vpcs": vpcs,
                            "ports": sorted(name for name, _, _ in ports)}))
    return out
