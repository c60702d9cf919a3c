"""Which OVN release's rules apply (semantics §0, rule 1).

Order: ``--ovn-version`` override, ``NB_Global.options:northd_internal_version`` (the
northd that last processed this NB), the NB schema version, else the newest rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from .schema import version_tuple
from .snapshot import Snapshot

# NB schema version -> first OVN release that shipped it (semantics §0)
SCHEMA_RELEASES: list[tuple[tuple[int, ...], tuple[int, ...]]] = [
    ((5, 20, 0), (20, 3)), ((5, 23, 0), (20, 6)), ((5, 27, 0), (20, 9)),
    ((5, 28, 0), (20, 12)), ((5, 31, 0), (21, 3)), ((5, 32, 0), (21, 6)),
    ((5, 32, 1), (21, 9)), ((5, 34, 1), (21, 12)), ((6, 1, 0), (22, 3)),
    ((6, 3, 0), (22, 6)), ((7, 0, 0), (22, 12)), ((7, 0, 4), (23, 6)),
    ((7, 1, 0), (23, 9)), ((7, 3, 0), (24, 3)), ((7, 6, 0), (24, 9)),
    ((7, 11, 0), (25, 3)), ((7, 12, 0), (25, 9)), ((7, 18, 0), (26, 3)),
    ((7, 19, 0), (26, 9)),
]
NEWEST = (26, 9)
_RELEASE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class OvnVersion:
    """An OVN release as (major, minor, patch) plus where that knowledge came from."""

    release: tuple[int, int, int]
    source: str   # override | northd_internal_version | schema | unknown
    text: str

    def at_least(self, major: int, minor: int, patch: int = 0) -> bool:
        return self.release >= (major, minor, patch)

    def between(self, low: tuple[int, ...], high: tuple[int, ...]) -> bool:
        """Inclusive on both ends, comparing (major, minor) of ``high``."""
        return tuple(low) <= self.release and self.release[:2] <= tuple(high)[:2]

    def label(self) -> str:
        major, minor, patch = self.release
        return f"{major}.{minor:02d}.{patch} (from {self.source}: {self.text})"


def parse_release(text: str) -> Optional[tuple[int, int, int]]:
    """'23.03.1-20.27.0-70.6' or '24.09' -> (23, 3, 1) / (24, 9, 0)."""
    match = _RELEASE.match(text.strip())
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def release_for_schema(schema_version: str) -> Optional[tuple[int, int, int]]:
    have = version_tuple(schema_version)
    if not have:
        return None
    best: Optional[tuple[int, ...]] = None
    for schema, release in SCHEMA_RELEASES:
        if have >= schema:
            best = release
    if best is None:
        return (20, 0, 0)  # older than 20.03: OVS-era semantics
    return best[0], best[1], 0


def resolve(nb: Snapshot, override: Optional[str] = None) -> OvnVersion:
    """The OVN version whose rules apply to this NB."""
    if override:
        release = parse_release(override)
        if release is None:
            raise ValueError(f"--ovn-version {override!r} is not like 23.03 or 24.03.6")
        return OvnVersion(release, "override", override)
    internal = nb.northd_internal_version()
    if internal:
        release = parse_release(internal)
        if release is not None:
            return OvnVersion(release, "northd_internal_version", internal)
    release = release_for_schema(nb.version)
    if release is not None:
        return OvnVersion(release, "schema", f"NB schema {nb.version}")
    return OvnVersion((NEWEST[0], NEWEST[1], 0), "unknown",
                      "no version in the input; newest rules assumed")
