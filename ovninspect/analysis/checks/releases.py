"""Known bugs of the OVN release that last processed this NB (ovn-changes §1.1, §2.1, §2.3,
§2.7), keyed on ``NB_Global.options:northd_internal_version`` (rule 1) or --ovn-version.
The release ranges live in ``ovninspect.rules.KNOWN_ISSUES``."""

from __future__ import annotations

from ...rules import KNOWN_ISSUES, KnownIssue
from ...topology import Topology
from .base import INFO, Context, Finding


def _applicable(topo: Topology, issue: KnownIssue) -> list[str]:
    """The objects of this NB that run into ``issue`` (empty: it does not matter here)."""
    routers = list(topo.iter_routers())
    if issue.name == "external-arp-26.03":
        return [d.name for r in routers for d in r.dgps]
    if issue.name == "flow-restore-wait-deadlock":
        return [d.name for r in routers for d in r.dgps if len(d.members) > 1]
    if issue.name == "gateway-claim-flapping":
        return [d.name for r in routers for d in r.dgps if len(d.members) > 1]
    if issue.name == "northd-crash-dgp-router-peer":
        names = {p.name for p in topo.router_ports.values()}
        return [d.name for r in routers if r.nats for d in r.dgps
                if d.peer and d.peer in names]
    return []


def release_known_issue(topo: Topology, ctx: Context) -> list[Finding]:
    """One finding per known issue of this release that the topology can run into."""
    version = topo.version
    if version.source not in ("northd_internal_version", "override"):
        return []   # the schema gives the series only, not the patch release
    out = []
    release = version.release
    for issue in KNOWN_ISSUES:
        if not issue.applies(release):
            continue
        objects = _applicable(topo, issue)
        if not objects:
            continue
        major, minor, patch = release
        who = ("the ovn-controller of each chassis (northd_internal_version names northd "
               "only; check each chassis's own build)" if issue.component == "ovn-controller"
               else "ovn-northd")
        message = (f"OVN {major}.{minor:02d}.{patch} ({version.source}) is in the affected "
                   f"releases {issue.affected_text} of a known issue of {who}: {issue.text}; "
                   f"concerns {', '.join(sorted(objects)[:5])}"
                   + (f" and {len(objects) - 5} more" if len(objects) > 5 else "")
                   + f"; fixed in {issue.fixed_text}")
        hint = (f"Upgrade to {issue.fixed_text}." if not issue.fixed_text.startswith("not")
                else "No fixed release is known: stay on a release outside the range or "
                     "put a logical switch between the two routers.")
        out.append(Finding("release-known-issue", INFO, f"{issue.name}", message, hint,
                           {"issue": issue.name, "affected": issue.affected_text,
                            "fixed": issue.fixed_text, "component": issue.component,
                            "objects": sorted(objects)}))
    return out
