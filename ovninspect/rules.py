"""Which of OVN's version-dependent rules hold for one release: the only place that
compares releases (semantics §0 and §7, ovn-changes §1 and §4).

Resolve once with :func:`rules_for` and ask named questions (``rules.mac_always_validated``,
``rules.external_ip_parser``, ...).  Each rule cites its ovn-semantics §7 number and the
releases it holds for, backports included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .ovn_version import OvnVersion

Release = tuple[int, int, int]
#: The newest northd the verdicts were checked against (tests/ovnlab.py builds).
NEWEST_VERIFIED: Release = (26, 3, 1)
#: Releases the oracle tier runs (host 23.03, scripts/ovn-versions.sh 25.03 and 26.03).
VERIFIED_SERIES = ((23, 3), (25, 3), (26, 3))


@dataclass(frozen=True)
class VersionRule:
    """One behaviour of ovn-northd that depends on the release."""

    name: str
    rule: int                                  # ovn-semantics §7 rule number
    holds: tuple[tuple[Release, Optional[Release]], ...]   # inclusive [low, high] ranges
    text: str                                  # what holds, for `info` and JSON
    short: str = ""                            # a few words, for footers; "" = not shown

    def applies(self, release: Release) -> bool:
        return any(low <= release and (high is None or release <= high)
                   for low, high in self.holds)


_LAST_24_09 = (24, 9, 99)
_SINCE_25_03 = (((25, 3, 0), None),)

RULES: tuple[VersionRule, ...] = (
    VersionRule("redirect_chassis_dgp", 3, (((0, 0, 0), (20, 9, 99)),),
                "LRP options:redirect-chassis makes a DGP (<= 20.09)",
                "redirect-chassis DGPs"),
    VersionRule("one_dgp_per_router", 3, (((0, 0, 0), (21, 6, 99)),),
                "only the first DGP of a router counts (<= 21.06)", "one DGP per router"),
    VersionRule("multi_dgp_drops_nat", 5, (((21, 9, 0), (22, 3, 99)),),
                "no NAT on routers with several DGPs (21.09-22.03)",
                "no NAT with several DGPs"),
    VersionRule("extract_external_ip", 6, _SINCE_25_03,
                "external_ip read with extract_ip_addresses: one address, prefix and "
                "trailing text allowed (>= 25.03)", "external_ip by extract_ip_addresses"),
    VersionRule("masked_external_ip", 6, (((0, 0, 0), _LAST_24_09),),
                "external_ip read with ip_parse_masked: one host address, /32 or /128 "
                "allowed (<= 24.09)", "external_ip by ip_parse_masked"),
    VersionRule("both_ext_ips_invalid", 7, (((20, 9, 0), None),),
                "allowed_ext_ips with exempted_ext_ips makes a NAT invalid (>= 20.09)",
                "allowed+exempted invalid"),
    VersionRule("mac_always_validated", 9, _SINCE_25_03,
                "external_mac validated for every NAT type (>= 25.03)",
                "MAC validated for every type"),
    VersionRule("peer_cr_port_auto", 13, _SINCE_25_03,
                "a DGP whose peer switch has no localnet centralizes its NAT (>= 25.03)",
                "peer cr port without localnet"),
    VersionRule("peer_cr_port_option", 13, (((24, 3, 6), _LAST_24_09),),
                "with options:centralize_routing=true, a DGP whose peer switch has no "
                "localnet centralizes its NAT (24.03.6-24.09)",
                "peer cr port with centralize_routing"),
    VersionRule("lb_on_plain_router", 25, (((22, 6, 0), None),),
                "LBs on a router with neither DGP nor chassis are distributed (>= 22.06)",
                "LBs on plain routers"),
    VersionRule("lb_first_dgp_only", 25, (((22, 6, 0), _LAST_24_09),),
                "on a router with several DGPs only one DGP gets LB flows (22.06-24.09)",
                "LB on the first DGP only"),
    VersionRule("lb_distributed_option", 25, (((26, 3, 0), None),),
                "LB options:distributed=true keeps VIPs off the gateway (>= 26.03)",
                "LB options:distributed"),
    VersionRule("dynamic_routing", 0, _SINCE_25_03,
                "dynamic routing (SB Advertised_Route) exists (>= 25.03)", "dynamic routing"),
    VersionRule("switch_lsp_links", 13, _SINCE_25_03,
                "LSPs of type switch link two logical switches; rule 13 still looks for a "
                "localnet on the DGP's direct peer switch only (>= 25.03)",
                "switch-type LSPs"),
    VersionRule("lr_disable_garp_rarp", 0, (((24, 3, 8), (24, 3, 99)), ((25, 3, 3), (25, 3, 99)),
                                            ((25, 9, 1), (25, 9, 99)), ((26, 3, 0), None)),
                "Logical_Router options:disable_garp_rarp silences GARP/RARP of the router's "
                "peer ports (24.03.8, 25.03.3, 25.09.1, >= 26.03)", "LR disable_garp_rarp"),
    VersionRule("lsp_disable_garp_rarp", 0, (((24, 9, 0), None),),
                "Logical_Switch_Port options:disable_garp_rarp (>= 24.09)",
                "LSP disable_garp_rarp"),
    # ovn-changes §1.1: 9c2f897bc/195331f5a in 24.03.7, 25.03.2, 25.09.0 (24.09 unreleased)
    VersionRule("claim_fighting", 24, (((0, 0, 0), (24, 3, 6)), ((24, 9, 0), _LAST_24_09),
                                       ((25, 3, 0), (25, 3, 1))),
                "two gateways in a BFD split can take the cr- claim from each other every "
                "500 ms (< 24.03.7, 24.09, 25.03.0-25.03.1)"),
    # ovn-changes §2.1: 65ca4a3c8 in 25.03.2 and 25.09.0
    VersionRule("redistribute_local_only", 0, (((25, 3, 2), (25, 3, 99)), ((25, 9, 0), None)),
                "dynamic-routing-redistribute-local-only=true keeps a route off chassis where "
                "its tracked port is not local (25.03.2+, >= 25.09)"),
    # ovn-changes §1.1: aa0880034 / 70df1aba7 in 25.03.2 and 25.09.0, not 24.03
    VersionRule("only_claimer_announces", 24, (((25, 3, 2), (25, 3, 99)), ((25, 9, 0), None)),
                "only the chassis holding the cr- claim sends GARPs and announces routes for "
                "centralized NAT IPs (25.03.2+, >= 25.09)"),
)
_BY_NAME = {r.name: r for r in RULES}


@dataclass(frozen=True)
class OvnRules:
    """The version rules that hold for one release; ``getattr(rules, name)`` answers each."""

    version: OvnVersion
    applied: frozenset[str]

    def __getattr__(self, name: str) -> bool:
        if name in _BY_NAME:
            return name in self.applied
        raise AttributeError(name)

    @property
    def external_ip_parser(self) -> str:
        """``extract`` (>= 25.03) or ``masked`` (older): rule 6."""
        return "extract" if "extract_external_ip" in self.applied else "masked"

    @property
    def peer_cr_port(self) -> Optional[str]:
        """Rule 13: ``auto`` (>= 25.03), ``centralize_routing`` (24.03.6-24.09), None."""
        if "peer_cr_port_auto" in self.applied:
            return "auto"
        if "peer_cr_port_option" in self.applied:
            return "centralize_routing"
        return None

    @property
    def series(self) -> str:
        major, minor, _ = self.version.release
        return f"{major}.{minor:02d}"

    def describe(self) -> list[str]:
        """One line per rule that holds, for ``info`` and JSON."""
        return [f"rule {r.rule}: {r.text}" if r.rule else r.text
                for r in RULES if r.name in self.applied]

    def footer(self) -> list[str]:
        """The lines every command prints under its table: the release, where it came
        from, the version rules in force, and any warning."""
        shorts = ", ".join(r.short for r in RULES if r.name in self.applied and r.short)
        return [f"OVN rules: {self.version.label()}: {shorts}", *self.warnings()]

    def to_dict(self) -> dict[str, object]:
        """The ``ovn_rules`` key of every command's JSON."""
        major, minor, patch = self.version.release
        return {"release": f"{major}.{minor:02d}.{patch}", "source": self.version.source,
                "detail": self.version.text, "rules": self.describe(),
                "warnings": self.warnings()}

    def warnings(self) -> list[str]:
        """What to tell the user about trusting these rules for this release."""
        release = self.version.release
        if release > NEWEST_VERIFIED and release[:2] not in VERIFIED_SERIES:
            major, minor, patch = NEWEST_VERIFIED
            return [f"OVN {self.series} is newer than the newest ovn-northd these verdicts "
                    f"were checked against ({major}.{minor:02d}.{patch}): its rules may differ"]
        return []

    def holds(self, name: str) -> bool:
        """Whether the rule named ``name`` (see RULES) holds for this release."""
        if name not in _BY_NAME:
            raise KeyError(name)
        return name in self.applied


def rules_for(version: OvnVersion) -> OvnRules:
    """The rules of ``version``'s release."""
    release = version.release
    return OvnRules(version, frozenset(r.name for r in RULES if r.applies(release)))


# -- known issues of released builds (ovn-changes §2; check rule release-known-issue) ------


@dataclass(frozen=True)
class KnownIssue:
    """A bug of some OVN releases that a snapshot's topology can run into."""

    name: str
    affected: tuple[tuple[Release, Release], ...]   # inclusive ranges
    affected_text: str
    fixed_text: str
    text: str                                        # what goes wrong
    component: str = "ovn-northd"                    # whose build the window is about

    def applies(self, release: Release) -> bool:
        return any(low <= release <= high for low, high in self.affected)


_ANY = 99
KNOWN_ISSUES: tuple[KnownIssue, ...] = (
    # ovn-changes §2.3: 1b4058b91 and follow-ups in v26.03.0, all reverted in v26.03.2
    KnownIssue("external-arp-26.03", (((26, 3, 0), (26, 3, 1)),), "26.03.0-26.03.1",
               "26.03.2",
               "ARP from localnet ports of DGP-attached switches is answered only on the "
               "resident chassis; external ARP (distributed FIPs included) may fail"),
    # ovn-changes §2.1: 621f85e92 in 24.03.8/25.03.3/25.09.3/26.03.1, reverted (30f431174)
    # in 24.03.9/25.09.4/26.03.2; 25.03 has no release with the revert
    KnownIssue("flow-restore-wait-deadlock",
               (((24, 3, 8), (24, 3, 8)), ((25, 3, 3), (25, 3, _ANY)), ((25, 9, 3), (25, 9, 3)),
                ((26, 3, 1), (26, 3, 1))),
               "24.03.8, 25.03.3 and later 25.03, 25.09.3, 26.03.1",
               "24.03.9, 25.09.4, 26.03.2 (no 25.03 release)",
               "ovn-controller holds flow-restore-wait after a restart; when the chassis "
               "reaches SB through an OVS bridge, OVS and OVN can deadlock (FDP-3862)",
               component="ovn-controller"),
    # ovn-changes §1.1: 9c2f897bc/195331f5a in 24.03.7, 25.03.2, 25.09.0 (24.09 unreleased)
    KnownIssue("gateway-claim-flapping",
               _BY_NAME["claim_fighting"].holds,  # type: ignore[arg-type]  (one place)
               "before 24.03.7, all 24.09, 25.03.0-25.03.1", "24.03.7, 25.03.2, 25.09.0",
               "with several gateway members two chassis can swap the cr-port claim every "
               "500 ms and GARPs are lost while they fight; SB may name the lower-priority "
               "gateway while computes send to the higher one", component="ovn-controller"),
    # ovn-changes §2.7, version-lab.md reproducer: observed on 26.03.1 only
    KnownIssue("northd-crash-dgp-router-peer", (((26, 3, 1), (26, 3, 1)),), "26.03.1",
               "not known (23.03.1 and 25.03.0 handle the same NB; no later build tested)",
               "ovn-northd 26.03.1 dies with SIGSEGV when it processes a NAT change of a "
               "router whose DGP is peered directly to another router's port (peer=, no "
               "switch), e.g. adding a NAT while it runs; a cold start on the finished NB "
               "survived in the lab"),
)
