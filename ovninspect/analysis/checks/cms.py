"""What the CMS asked for versus what OVN does (cms-footprints §1.5, §2, R-c).

Intent comes from ``analysis.owners`` (Kube-OVN ``staleless``/``stateless``, Neutron
``neutron:fip-distributed``); the effect is the placement verdict.
"""

from __future__ import annotations

from ...topology import Topology
from ..owners import KUBE_OVN, NEUTRON, is_lb_backend
from ..placement import CENTRALIZED, DISTRIBUTED, INACTIVE
from .base import INFO, WARNING, Context, Finding


def fip_intent_mismatch(topo: Topology, ctx: Context) -> list[Finding]:
    """The CMS asked for a centralized FIP and OVN distributes it, or the reverse.  Neutron
    FIPs that should be distributed are left to neutron-fip-not-distributed."""
    out = []
    by_crs: set[str] = set()
    if ctx.k8s is not None:   # kubeovn-fip-type-mismatch judges these from the OvnFip CRs
        from .kubeovn import ovnfip_nats

        by_crs = ovnfip_nats(ctx)
    for v in ctx.verdicts:
        owner = ctx.owners.get(v.nat.uuid)
        if owner is None or not owner.mismatch(v.mode) or v.nat.uuid in by_crs:
            continue
        if owner.cms == NEUTRON and owner.intent == DISTRIBUTED:
            continue
        nat = v.nat
        who = {KUBE_OVN: "Kube-OVN", NEUTRON: "Neutron"}.get(owner.cms, owner.cms)
        kind = f" {owner.kind}" if owner.kind else ""
        if owner.intent == CENTRALIZED and v.mode == DISTRIBUTED:
            message = (f"{who}{kind} asked for a centralized FIP ({owner.intent_source}) but "
                       f"OVN distributes it: logical_port {nat.logical_port} and external_mac "
                       f"{nat.external_mac} are set, so {nat.external_ip} is translated and "
                       "answered on the chassis of the port, not on the gateway chassis")
            if owner.cms == KUBE_OVN and owner.kind and "OvnFip" in owner.kind:
                message += ("; this is the known Kube-OVN >= 1.12 behaviour: OvnFip always "
                            "writes logical_port and external_mac")
                if "staleless" in nat.options:
                    message += " and the misspelled 'staleless' option is ignored by OVN"
                message += " (kubeovn/kube-ovn#5050)"
                hint = ("Plan for the distributed behaviour: the EIP follows the pod, survives "
                        "gateway-node failures, and every node that may host the pod needs "
                        "the external provider network (bridge mapping).  Editing the NAT row "
                        "is not durable: Kube-OVN rewrites it.")
            else:
                hint = ("To centralize it, clear external_mac (or logical_port) on the NAT; "
                        "otherwise align the CMS setting with the distributed behaviour.")
        else:
            message = (f"{who}{kind} asked for a distributed FIP ({owner.intent_source}) but "
                       f"OVN centralizes it: {v.reason}")
            hint = ("A distributed FIP needs type dnat_and_snat with both logical_port and "
                    "external_mac, on a router with a DGP whose external switch has a localnet "
                    "port.")
        out.append(Finding("fip-intent-mismatch", WARNING, ctx.nat_object(nat), message, hint,
                           ctx.nat_details(nat, cms=owner.cms, kind=owner.kind,
                                           intent=owner.intent, mode=v.mode)))
    return out


def neutron_fip_not_distributed(topo: Topology, ctx: Context) -> list[Finding]:
    """``NB_Global external_ids:neutron:fip-distributed=True`` but a Neutron FIP lacks
    external_mac, or it differs from ``neutron:fip_external_mac``."""
    flag = ctx.nb_ids.get("neutron:fip-distributed", "")
    if flag.strip().lower() != "true":
        return []
    out = []
    for v in ctx.verdicts:
        nat = v.nat
        ids = nat.external_ids
        if "neutron:fip_id" not in ids or nat.type != "dnat_and_snat" or v.mode == INACTIVE:
            continue
        router = topo.router_of(nat)
        if router.is_gateway_router:
            continue   # pinned router (tunnelled external network): never distributed
        expected = ids.get("neutron:fip_external_mac")
        severity = WARNING
        if nat.external_mac is None:
            message = (f"Neutron has distributed floating IPs enabled "
                       f"(neutron:fip-distributed={flag}) but FIP {ids['neutron:fip_id']} has no "
                       f"external_mac: OVN centralizes {nat.external_ip} on the gateway")
            lsp = topo.lsp(nat.logical_port)
            if is_lb_backend(topo, nat):
                severity = INFO
                message += ("; its fixed IP is a load-balancer backend, which Neutron keeps "
                            "centralized on purpose")
            elif lsp is not None and lsp.up is False:
                severity = INFO
                message += (f"; port {lsp.name} is down, and Neutron sets external_mac only "
                            "once it is up")
            else:
                message += " (Neutron bugs LP #2025264, #2111593 left FIPs in this state)"
            if severity == INFO:
                hint = ("Nothing to repair: Neutron means it this way"
                        + (" (the FIP is centralized while its fixed IP is a load-balancer "
                           "backend)." if is_lb_backend(topo, nat) else
                           "; external_mac is set when the port comes up."))
            else:
                hint = ("Run the Neutron OVN DB sync/maintenance (neutron-ovn-db-sync-util "
                        "--sync mode repair) or re-associate the FIP; external_mac should be "
                        f"{expected or 'the FIP port MAC'}.")
        elif expected and nat.external_mac.lower() != expected.lower():
            message = (f"FIP {ids['neutron:fip_id']} has external_mac {nat.external_mac} but "
                       f"Neutron recorded neutron:fip_external_mac={expected}: ARP for "
                       f"{nat.external_ip} is answered with a MAC Neutron does not own")
            hint = (f"Set external_mac to {expected} (or let Neutron's maintenance repair "
                    "it).")
        else:
            continue
        out.append(Finding("neutron-fip-not-distributed", severity, ctx.nat_object(nat),
                           message, hint,
                           ctx.nat_details(nat, fip_id=ids.get("neutron:fip_id"),
                                           external_mac=nat.external_mac,
                                           expected_mac=expected)))
    return out
