"""Kubernetes objects that say what Kube-OVN was asked to do (the *intent*), as plain typed
records.  No I/O: :mod:`ovninspect.k8s.load` reads files into these.

Field names are Kube-OVN's own (``pkg/apis/kubeovn/v1/*.go``, the CRDs in
``dist/images/install.sh`` / ``charts/kube-ovn/templates/kube-ovn-crd.yaml``); each record
notes the JSON path it was read from.  Fields that do not exist in every release from v1.12
to v1.16 are listed in :data:`SINCE` (an older object simply lacks them: they read as
empty).

Objects are named ``Kind/name`` (cluster-scoped: every kubeovn.io kind here except IP, which
is cluster-scoped too) or ``Kind/namespace/name`` (Pods, VirtualMachines, ConfigMaps,
Namespaces are namespaced).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Optional

#: Kube-OVN field -> the first release that has it (the CRD schema of v1.12 has the rest).
SINCE: dict[str, str] = {
    "OvnFip.spec.type": "v1.14.0 (kubeovn/kube-ovn#5283); before, the ConfigMap "
                        "ovn-external-gw-config type decided",
    "IPPool.spec.enableAddressSet": "v1.15.0",
    "IptablesEIP.spec.namespace": "after v1.16 (master); before, the controller's namespace",
    "VpcNatGateway.spec.namespace": "after v1.16 (master); before, kube-system",
    "Vpc.spec.extraExternalSubnets": "v1.14.0",
    "Subnet.spec.u2oInterconnectionIP": "v1.12.0",
    "NB_Global.external_ids:kube-ovn-version": "v1.15.0",
    "Namespace annotation ovn.kubernetes.io/ip_pool as a list": "v1.13.9 / v1.14.0 "
                                                              "(kubeovn/kube-ovn#4777)",
}

KUBEOVN_GROUP = "kubeovn.io"
DEFAULT_VPC = "ovn-cluster"
DEFAULT_NAT_GW_NAMESPACE = "kube-system"
DEFAULT_EXTERNAL_NETWORK = "ovn-vpc-external-network"   # IptablesEIP/VpcNatGateway default
CONFIGMAPS = ("ovn-vpc-nat-config", "ovn-vpc-nat-gw-config", "ovn-external-gw-config",
              "cilium-config")
# annotations Kube-OVN reads or writes: ovn.kubernetes.io/<key> and, per attachment
# network, <provider>.kubernetes.io/<key> with provider <nad>.<ns>.ovn
_KUBEOVN_ANNOTATION = re.compile(r"^(?:[^/]+\.)?ovn\.kubernetes\.io/")


def is_kubeovn_annotation(key: str) -> bool:
    return bool(_KUBEOVN_ANNOTATION.match(key))


@dataclass(frozen=True)
class Meta:
    """kind, name, namespace and where the object was read (``file`` and 1-based
    document/item)."""

    kind: str
    name: str
    namespace: str = ""
    source: str = ""
    annotations: tuple[tuple[str, str], ...] = ()

    @property
    def ref(self) -> str:
        """``Kind/name`` or ``Kind/namespace/name``."""
        return "/".join(p for p in (self.kind, self.namespace, self.name) if p)

    def annotation(self, key: str) -> Optional[str]:
        for k, v in self.annotations:
            if k == key:
                return v
        return None


def split_ips(text: str) -> list[str]:
    """``"10.0.1.0/24,fd00::/64"`` -> both parts (Kube-OVN dual-stack notation)."""
    return [p.strip() for p in (text or "").split(",") if p.strip()]


@dataclass
class Subnet:
    meta: Meta
    cidr_block: str = ""          # spec.cidrBlock ("v4,v6" when dual stack)
    gateway: str = ""             # spec.gateway
    vpc: str = ""                 # spec.vpc (empty: ovn-cluster)
    provider: str = ""            # spec.provider (empty / "ovn" / "<nad>.<ns>.ovn": OVN)
    protocol: str = ""            # spec.protocol
    namespaces: tuple[str, ...] = ()   # spec.namespaces
    exclude_ips: tuple[str, ...] = ()  # spec.excludeIps
    vlan: str = ""                # spec.vlan
    logical_gateway: bool = False  # spec.logicalGateway
    u2o_interconnection: bool = False  # spec.u2oInterconnection
    ready: Optional[bool] = None  # status.conditions[type=Ready].status

    @property
    def vpc_name(self) -> str:
        return self.vpc or DEFAULT_VPC

    @property
    def is_ovn(self) -> bool:
        """Kube-OVN writes NB rows only for subnets of an OVN provider."""
        p = self.provider
        return p in ("", "ovn") or p.endswith(".ovn")

    @property
    def has_router_port(self) -> bool:
        """An overlay subnet, or an underlay one with logicalGateway or U2O."""
        return self.is_ovn and (not self.vlan or self.logical_gateway
                                or self.u2o_interconnection)


@dataclass
class IPPool:
    meta: Meta
    subnet: str = ""              # spec.subnet
    namespaces: tuple[str, ...] = ()   # spec.namespaces
    ips: tuple[str, ...] = ()     # spec.ips: addresses, CIDRs, "a..b" ranges
    enable_address_set: bool = False   # spec.enableAddressSet (v1.15.0)


@dataclass
class Vpc:
    meta: Meta
    namespaces: tuple[str, ...] = ()          # spec.namespaces
    enable_external: bool = False             # spec.enableExternal
    extra_external_subnets: tuple[str, ...] = ()  # spec.extraExternalSubnets (v1.14)
    static_routes: tuple[tuple[str, str], ...] = ()  # spec.staticRoutes (cidr, nextHopIP)
    ready: Optional[bool] = None  # status.standby, or status.conditions[Ready]
    router: str = ""              # status.router


@dataclass
class VpcNatGateway:
    meta: Meta
    vpc: str = ""                 # spec.vpc
    subnet: str = ""              # spec.subnet
    lan_ip: str = ""              # spec.lanIp
    external_subnets: tuple[str, ...] = ()   # spec.externalSubnets
    namespace: str = ""           # spec.namespace (newer than v1.16)

    @property
    def pod_namespace(self) -> str:
        return self.namespace or DEFAULT_NAT_GW_NAMESPACE

    def pod_name(self, prefix: str = "vpc-nat-gw") -> str:
        """The StatefulSet pod: ``<prefix>-<name>-0`` (ovn-vpc-nat-config natGwNamePrefix)."""
        return f"{prefix}-{self.meta.name}-0"


@dataclass
class IptablesEIP:
    meta: Meta
    v4ip: str = ""                # spec.v4ip
    v6ip: str = ""                # spec.v6ip
    mac: str = ""                 # spec.macAddress
    nat_gw_dp: str = ""           # spec.natGwDp (the VpcNatGateway)
    external_subnet: str = ""     # spec.externalSubnet
    status_ip: str = ""           # status.ip
    nat: str = ""                 # status.nat
    ready: Optional[bool] = None  # status.ready

    @property
    def addresses(self) -> list[str]:
        return [a for a in dict.fromkeys((self.status_ip or self.v4ip, self.v6ip)) if a]

    @property
    def subnet_name(self) -> str:
        return self.external_subnet or DEFAULT_EXTERNAL_NETWORK


@dataclass
class IptablesRule:
    """IptablesFIPRule (spec.eip, spec.internalIp), IptablesSnatRule (spec.eip,
    spec.internalCIDR), IptablesDnatRule (spec.eip, externalPort, protocol, internalIp,
    internalPort)."""

    meta: Meta
    eip: str = ""
    internal: str = ""            # internalIp / internalCIDR
    external_port: str = ""
    internal_port: str = ""
    protocol: str = ""
    ready: Optional[bool] = None  # status.ready


@dataclass
class OvnEip:
    meta: Meta
    external_subnet: str = ""     # spec.externalSubnet
    v4_ip: str = ""               # status.v4Ip, else spec.v4Ip
    v6_ip: str = ""               # status.v6Ip, else spec.v6Ip
    mac: str = ""                 # status.macAddress, else spec.macAddress
    type: str = ""                # status.type, else spec.type: nat (default) | lrp | lsp
    nat: str = ""                 # status.nat: fip / snat / dnat users, comma list
    ready: Optional[bool] = None  # status.ready

    @property
    def addresses(self) -> list[str]:
        return [a for a in (self.v4_ip, self.v6_ip) if a]

    @property
    def eip_type(self) -> str:
        return self.type or "nat"


@dataclass
class OvnNatRule:
    """OvnFip, OvnSnatRule and OvnDnatRule: the fields they share, and their own."""

    meta: Meta
    ovn_eip: str = ""             # spec.ovnEip
    ip_type: str = ""             # spec.ipType: ip | vip (OvnFip, OvnDnatRule)
    ip_name: str = ""             # spec.ipName: IP (or Vip) CR name
    vpc: str = ""                 # spec.vpc (with v4Ip)
    v4_ip: str = ""               # spec.v4Ip (OvnFip, OvnDnatRule) / spec.v4IpCidr (Snat)
    vpc_subnet: str = ""          # spec.vpcSubnet (OvnSnatRule)
    type: str = ""                # spec.type (OvnFip, v1.14.0): distributed | centralized
    external_port: str = ""       # spec.externalPort (OvnDnatRule)
    internal_port: str = ""       # spec.internalPort (OvnDnatRule)
    protocol: str = ""            # spec.protocol (OvnDnatRule)
    status_vpc: str = ""          # status.vpc
    status_eip: str = ""          # status.v4Eip
    status_ip: str = ""           # status.v4Ip (Fip, Dnat) / status.v4IpCidr (Snat)
    ready: Optional[bool] = None  # status.ready

    @property
    def vpc_name(self) -> str:
        return self.status_vpc or self.vpc


@dataclass
class ProviderNetwork:
    meta: Meta
    default_interface: str = ""   # spec.defaultInterface
    exclude_nodes: tuple[str, ...] = ()   # spec.excludeNodes
    ready_nodes: tuple[str, ...] = ()     # status.readyNodes
    not_ready_nodes: tuple[str, ...] = ()  # status.notReadyNodes
    ready: Optional[bool] = None  # status.ready


@dataclass
class Vlan:
    meta: Meta
    id: Optional[int] = None      # spec.id
    provider: str = ""            # spec.provider


@dataclass
class IPRecord:
    """The IP CR: one per pod/VM interface, named like its LSP (``<pod>.<ns>[.<provider>]``)."""

    meta: Meta
    pod_name: str = ""            # spec.podName
    namespace: str = ""           # spec.namespace
    subnet: str = ""              # spec.subnet
    node_name: str = ""           # spec.nodeName
    v4: str = ""                  # spec.v4IpAddress (else spec.ipAddress)
    v6: str = ""                  # spec.v6IpAddress
    mac: str = ""                 # spec.macAddress
    pod_type: str = ""            # spec.podType

    @property
    def addresses(self) -> list[str]:
        return [a for a in (self.v4, self.v6) if a]


@dataclass
class Workload:
    """A Pod, KubeVirt VirtualMachine or VirtualMachineInstance: only its Kube-OVN
    annotations (for a VM, its template's), its node and (for a pod) Kube-OVN images."""

    meta: Meta
    node: str = ""                # Pod spec.nodeName / VMI status.nodeName
    kube_ovn_images: tuple[str, ...] = ()   # kubeovn/kube-ovn:<tag> images it runs

    def kubeovn_annotation(self, key: str, provider: str = "") -> Optional[str]:
        """``ovn.kubernetes.io/<key>``, or ``<provider>.kubernetes.io/<key>``."""
        prefix = f"{provider}.kubernetes.io/" if provider else "ovn.kubernetes.io/"
        return self.meta.annotation(prefix + key)

    def interfaces(self) -> Iterator[tuple[str, str, Optional[str]]]:
        """(provider, logical_switch, ip_pool) for every interface with a
        ``logical_switch`` annotation (provider "" = the default network)."""
        for key, value in self.meta.annotations:
            if key.endswith(".kubernetes.io/logical_switch"):
                provider = key[: -len(".kubernetes.io/logical_switch")]
                provider = "" if provider == "ovn" else provider
                yield provider, value, self.kubeovn_annotation("ip_pool", provider)


@dataclass
class Namespace:
    meta: Meta                    # only Kube-OVN annotations (ip_pool, logical_switch ...)


@dataclass
class ConfigMap:
    meta: Meta
    data: dict[str, str] = field(default_factory=dict)


KINDS: tuple[str, ...] = (
    "Subnet", "IPPool", "Vpc", "VpcNatGateway", "IptablesEIP", "IptablesFIPRule",
    "IptablesSnatRule", "IptablesDnatRule", "OvnEip", "OvnFip", "OvnSnatRule", "OvnDnatRule",
    "ProviderNetwork", "Vlan", "IP", "Pod", "VirtualMachine", "VirtualMachineInstance",
    "Namespace", "ConfigMap",
)

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_kubeovn_version(text: str) -> Optional[tuple[int, int, int]]:
    m = _VERSION.match((text or "").strip())
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


@dataclass
class Cluster:
    """Every object read from ``--k8s``, by kind, plus what was skipped."""

    source: str
    objects: dict[str, dict[str, Any]] = field(default_factory=lambda: {k: {} for k in KINDS})
    skipped: dict[str, int] = field(default_factory=dict)   # unknown kind -> count
    duplicates: int = 0
    files: int = 0

    def add(self, obj: Any) -> None:
        bucket = self.objects[obj.meta.kind]
        key = obj.meta.ref
        if key in bucket:
            self.duplicates += 1   # must-gather holds objects twice (list + per-object file)
            return
        bucket[key] = obj

    def all(self, kind: str) -> list[Any]:
        return list(self.objects[kind].values())

    def get(self, kind: str, name: str, namespace: str = "") -> Optional[Any]:
        return self.objects[kind].get("/".join(p for p in (kind, namespace, name) if p))

    def has(self, *kinds: str) -> bool:
        """Whether the input held any object of these kinds (only then can a missing CR
        be told from a kind that was not collected)."""
        return any(self.objects[k] for k in kinds)

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.objects.items() if v}

    # -- typed views -------------------------------------------------------------------
    def subnets(self) -> list[Subnet]:
        return self.all("Subnet")

    def subnet(self, name: str) -> Optional[Subnet]:
        return self.get("Subnet", name)

    def configmap(self, name: str) -> Optional[ConfigMap]:
        for cm in self.all("ConfigMap"):
            if cm.meta.name == name:
                return cm
        return None

    def workloads(self) -> list[Workload]:
        return self.all("Pod") + self.all("VirtualMachine") + self.all(
            "VirtualMachineInstance")

    @property
    def cilium_chaining(self) -> Optional[bool]:
        """True when cilium-config has a chaining mode other than none; None without it."""
        cm = self.configmap("cilium-config")
        if cm is None:
            return None
        mode = (cm.data.get("cni-chaining-mode") or "").strip().lower()
        return mode not in ("", "none")

    def external_gw_type(self) -> Optional[str]:
        """ovn-external-gw-config ``type`` (centralized | distributed), the OvnFip default
        when spec.type is empty."""
        cm = self.configmap("ovn-external-gw-config")
        return (cm.data.get("type") or "").strip() or None if cm is not None else None

    def nat_gw_prefix(self) -> str:
        cm = self.configmap("ovn-vpc-nat-config")
        return ((cm.data.get("natGwNamePrefix") or "").strip() if cm else "") or "vpc-nat-gw"

    def kube_ovn_version(self) -> Optional[tuple[str, tuple[int, int, int]]]:
        """(text, release) from the kubeovn/kube-ovn image tag of the pods read (the
        controller's first), else None."""
        found: list[tuple[int, str]] = []
        for pod in self.all("Pod"):
            for image in pod.kube_ovn_images:
                tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else ""
                if parse_kubeovn_version(tag):
                    rank = 0 if "controller" in pod.meta.name else 1
                    found.append((rank, tag))
        if not found:
            return None
        tag = sorted(found)[0][1]
        release = parse_kubeovn_version(tag)
        assert release is not None
        return f"{tag} (image of Pod)", release

    def ip_records(self) -> list[IPRecord]:
        return self.all("IP")

    def node_of_pod(self, namespace: str, name: str) -> tuple[Optional[str], str]:
        """The node a pod runs on and where that was read: the Pod, else its IP CR(s)."""
        pod = self.get("Pod", name, namespace)
        if pod is not None and pod.node:
            return pod.node, f"Pod/{namespace}/{name} spec.nodeName"
        for ip in self.ip_records():
            if ip.pod_name == name and ip.namespace == namespace and ip.node_name:
                return ip.node_name, f"{ip.meta.ref} spec.nodeName"
        return None, ""


def names(objs: Iterable[Any]) -> list[str]:
    return [o.meta.ref for o in objs]
