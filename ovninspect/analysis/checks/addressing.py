"""Switch-port addresses: a port holding its router port's address, a port outside its
switch's subnet, one IP on ports of different VPCs in one namespace (cms-footprints §5 R-a1,
R-b, R-e)."""

from __future__ import annotations

from ...addr import in_network, parse_ip, port_addresses, same_address
from ...topology import Topology
from .base import ERROR, INFO, Context, Finding, norm_ip

# Ports whose addresses are not workload addresses.
_SKIP_TYPES = frozenset({"router", "localnet", "l2gateway", "vtep"})


def lanip_is_gateway(topo: Topology, ctx: Context) -> list[Finding]:
    """A switch port whose IP equals the address of a router port on the same switch
    (VPC NAT gateway lanIp = subnet gateway; R-a1)."""
    out = []
    for sw_uuid, lrps in sorted(ctx.router_ports_on_switch.items()):
        gateway_ips = [(ip, lrp) for lrp in lrps for ip in lrp.ips]
        if not gateway_ips:
            continue
        for port in topo.switch_ports(sw_uuid):
            if port.type in _SKIP_TYPES:
                continue
            for ip in port_addresses(port.addresses):
                for gw_ip, lrp in gateway_ips:
                    if not same_address(ip, gw_ip):
                        continue
                    nets = ", ".join(n for n in lrp.networks if n.split("/")[0] == gw_ip)
                    message = (f"port on switch {port.switch} has {ip}, the address of router "
                               f"port {lrp.name} ({nets or gw_ip}) of {lrp.router}: both answer "
                               f"ARP for {ip}, and workloads using it as their gateway may "
                               "reach the port instead of the router")
                    if port.name.startswith("vpc-nat-gw-"):
                        message += (" (Kube-OVN VPC NAT gateway lanIp equals the subnet "
                                    "gateway, kubeovn/kube-ovn#4566; IPAM rejects this only "
                                    "from v1.15.18)")
                    hint = (f"Give {port.name} a free address in the subnet (for a VPC NAT "
                            "gateway: another spec.lanIp) and keep the gateway address for "
                            "the router port.")
                    out.append(Finding("lanip-is-gateway", ERROR, port.name, message, hint,
                                       {"switch": port.switch, "ip": ip,
                                        "router_port": lrp.name, "router": lrp.router}))
    return out


def port_outside_subnet(topo: Topology, ctx: Context) -> list[Finding]:
    """A switch port with an IP outside every subnet known for its switch (R-e 1)."""
    out = []
    switches = set(ctx.router_ports_on_switch)
    for sw in topo.nb.table("Logical_Switch"):
        if sw.uuid in switches or (sw.get("other_config", {}) or {}).get("subnet") or \
                topo.localnets(sw.uuid):
            switches.add(sw.uuid)
    for sw_uuid in sorted(switches):
        nets = ctx.switch_networks(sw_uuid)
        if not nets:
            continue
        for port in topo.switch_ports(sw_uuid):
            if port.type in _SKIP_TYPES:
                continue
            for ip in port_addresses(port.addresses):
                prefix = parse_ip(ip)
                same_family = [n for n in nets if parse_ip(n.cidr) is not None
                               and parse_ip(n.cidr).version == prefix.version]
                if not same_family or any(in_network(ip, n.cidr) for n in same_family):
                    continue
                known = ", ".join(f"{n.cidr} ({n.source})" for n in same_family)
                message = (f"port on switch {port.switch} has {ip}, outside the switch's "
                           f"subnet(s) {known}: it cannot reach its gateway, and replies "
                           "to it are not routed back")
                hint = ("Re-create the workload with an address from its own subnet.  On "
                        "Kube-OVN this is an IP taken from another subnet's IPPool bound to "
                        "the namespace (kubeovn/kube-ovn#4573, fixed by #4777 in v1.13.9 and "
                        "v1.14): give each interface its own ip_pool or upgrade.")
                pod = port.external_ids.get("pod")
                out.append(Finding("port-outside-subnet", ERROR, port.name, message, hint,
                                   {"switch": port.switch, "ip": ip,
                                    "subnets": [n.cidr for n in same_family],
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
    for row in topo.nb.table("Logical_Switch_Port"):
        pod = (row.get("external_ids", {}) or {}).get("pod", "")
        if "/" not in pod or row.get("type", "") in _SKIP_TYPES:
            continue
        sw = ctx.switch_of_port.get(row.uuid)
        if sw is None:
            continue
        namespace = pod.split("/", 1)[0]
        for ip in port_addresses(tuple(row.get("addresses", ()))):
            by_ip.setdefault((namespace, norm_ip(ip)), []).append((row["name"], ip, vpc(sw)))
    out = []
    for (namespace, _), ports in sorted(by_ip.items()):
        vpcs = sorted({v for _, _, v in ports})
        if len(vpcs) < 2:
            continue
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
