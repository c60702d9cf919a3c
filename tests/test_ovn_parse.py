"""ovninspect.ovn_parse reads NB text as OVS/OVN's C code does, and ovninspect.rules picks
the version rules at their boundaries (semantics §7 rules 3, 6, 9, 11, 13, 25).

The expectations come from the C sources named in each module's docstring; the
behaviour of real northd on the same spellings is checked by tests/test_nat_oracle.py
(every build) and tests/test_datapath_trace.py (ovn-trace).
"""

from __future__ import annotations

import pytest

from ovninspect.ovn_parse import (
    BAD,
    MASKED,
    PLAIN,
    eth_addr_from_string,
    extract_ip_addresses,
    find_member_address,
    ip_parse_masked,
    ipv6_parse_masked,
    lex_constant,
    lrp_networks,
)
from ovninspect.ovn_version import OvnVersion
from ovninspect.rules import RULES, rules_for


def texts(s: str) -> list[str]:
    return [f"{a.text}/{a.plen}" for a in extract_ip_addresses(s)]


@pytest.mark.parametrize("raw, want", [
    ("10.1.1.10", ["10.1.1.10/32"]),
    (" 10.1.1.10", ["10.1.1.10/32"]),          # %hhu skips leading spaces
    ("10.1.1.10 ", ["10.1.1.10/32"]),          # the loop skips the rest silently
    ("10.1.1.10/24", ["10.1.1.10/24"]),
    ("10.1.1.10/255.255.255.0", ["10.1.1.10/24"]),
    ("10.1.1.12.7", ["10.1.1.12/32"]),         # stops at junk
    ("010.8.1.28", ["10.8.1.28/32"]),          # %hhu is decimal
    ("172.16.1.300", ["172.16.1.44/32"]),      # and wraps mod 256
    ("10.1.1.10 10.1.1.11", ["10.1.1.10/32", "10.1.1.11/32"]),
    ("10.1.1.10,10.1.1.11", ["10.1.1.10/32"]),  # the comma stops it
    ("fd00::10/64", ["fd00::10/64"]),
    ("fd00::10", ["fd00::10/128"]),
    ("10.1.1.10/33", []),
    ("10.1.1.0/255.0.255.0", []),              # not a CIDR mask
    ("", []),
    ("garbage", []),
])
def test_extract_ip_addresses(raw: str, want: list[str]) -> None:
    assert texts(raw) == want


@pytest.mark.parametrize("raw, plen", [
    ("10.1.1.10", 32), ("10.1.1.10/32", 32), (" 10.1.1.10", 32), ("10.1.1.10/24", 24),
    ("10.0.0.0/255.0.255.0", -1), ("+10.1.1.1", 32), ("10. 1.1.1", 32),
])
def test_ip_parse_masked_accepts(raw: str, plen: int) -> None:
    got = ip_parse_masked(raw)
    assert got is not None and got.plen == plen


@pytest.mark.parametrize("raw", ["10.1.1.10 ", "10.1.1.12.7", "10.1.1.10/33", "a.b.c.d",
                                 "10.1.1", "10.1.1.10/"])
def test_ip_parse_masked_refuses(raw: str) -> None:
    assert ip_parse_masked(raw) is None


def test_ipv6_parse_masked() -> None:
    assert ipv6_parse_masked(" fd00::1").plen == 128
    assert ipv6_parse_masked("fd00::1/64").plen == 64
    assert ipv6_parse_masked("fd00::1/ffff:ffff::").plen == 32
    assert ipv6_parse_masked("fd00::1/129") is None
    assert ipv6_parse_masked("fd00::1 ") is None
    assert ipv6_parse_masked("10.1.1.1") is None


@pytest.mark.parametrize("raw, ok", [
    ("0a:00:00:00:00:01", True), ("0A:00:00:00:00:01", True), ("a:0:0:0:0:1", True),
    (" 0a:00:00:00:00:01", True), ("0x0a:00:00:00:00:01", True), ("00a:0:0:0:0:1", True),
    ("0a:00:00:00:00:01 ", False), ("zz:00", False), ("0a-00-00-00-00-01", False),
    ("0a:00:00:00:00", False), ("", False),
])
def test_eth_addr_from_string(raw: str, ok: bool) -> None:
    assert eth_addr_from_string(raw) is ok


@pytest.mark.parametrize("raw, kind, fmt", [
    ("10.1.1.10", PLAIN, "ipv4"), (" 10.1.1.10 ", PLAIN, "ipv4"),
    ("10.1.1.10/32", MASKED, "ipv4"), ("10.1.1.10/24", MASKED, "ipv4"),
    ("fd00::10", PLAIN, "ipv6"), ("fd00::10/64", MASKED, "ipv6"), ("::1", PLAIN, "ipv6"),
    ("00:11:22:33:44:55", PLAIN, "mac"), ("0A:00:00:00:00:01", PLAIN, "mac"),
    ("010.8.1.28", BAD, ""), ("172.16.1.300", BAD, ""), ("10.1.1.12.7", BAD, ""),
    ("10.1.1.10 10.1.1.11", BAD, "ipv4"), ("10.1.1.10,10.1.1.11", BAD, "ipv4"),
    ("a:0:0:0:0:1", BAD, ""), ("10.1.1.10/024", BAD, ""), ("-10.1.1.1", BAD, ""),
    ("not-an-ip", BAD, ""), ("", BAD, ""),
])
def test_lex_constant(raw: str, kind: str, fmt: str) -> None:
    got = lex_constant(raw)
    assert (got.kind, got.format) == (kind, fmt), got


def test_lex_constant_uses() -> None:
    assert lex_constant("10.1.1.10").in_ct_nat
    masked = lex_constant("10.1.1.10/32")
    assert masked.in_match and masked.in_load and not masked.in_ct_nat
    assert masked.plen == 32
    assert not lex_constant("010.1.1.1").in_match


def test_find_member_address_is_strict() -> None:
    assert find_member_address("10.1.1.10") == (4, 0x0A01010A)
    for raw in ("10.1.1.10/32", " 10.1.1.10", "010.1.1.10", "fd00::1/128"):
        assert find_member_address(raw) is None, raw
    assert find_member_address("::ffff:1.2.3.4") is None  # a dot: read as IPv4, refused


def test_lrp_networks_always_has_the_link_local_address() -> None:
    nets = lrp_networks("00:00:00:00:02:01", ("not-a-network",))
    assert [f"{a.text}/{a.plen}" for a in nets] == ["fe80::200:ff:fe00:201/64"]
    assert lrp_networks("00:00:00:00:02:01", ()) is not None
    assert lrp_networks("zz", ("10.0.0.1/24",)) is None
    nets = lrp_networks("00:00:00:00:02:01", ("10.0.0.1/24", "0.0.0.0/8", "fd00::1/64"))
    assert [f"{a.text}/{a.plen}" for a in nets] == ["10.0.0.1/24", "fd00::1/64",
                                                     "fe80::200:ff:fe00:201/64"]


def _rules(release: tuple[int, int, int]):
    return rules_for(OvnVersion(release, "override", "test"))


def test_rules_boundaries() -> None:
    assert _rules((24, 9, 3)).external_ip_parser == "masked"
    assert _rules((25, 3, 0)).external_ip_parser == "extract"
    assert _rules((24, 3, 5)).peer_cr_port is None
    assert _rules((24, 3, 6)).peer_cr_port == "centralize_routing"
    assert _rules((24, 9, 0)).peer_cr_port == "centralize_routing"
    assert _rules((25, 3, 0)).peer_cr_port == "auto"
    assert _rules((20, 9, 2)).redirect_chassis_dgp and not _rules((20, 12, 0)).redirect_chassis_dgp
    assert _rules((21, 6, 1)).one_dgp_per_router and not _rules((21, 9, 0)).one_dgp_per_router
    assert not _rules((21, 6, 0)).multi_dgp_drops_nat
    assert _rules((21, 9, 0)).multi_dgp_drops_nat and _rules((22, 3, 5)).multi_dgp_drops_nat
    assert not _rules((22, 6, 0)).multi_dgp_drops_nat
    assert not _rules((24, 9, 0)).mac_always_validated and _rules((25, 3, 0)).mac_always_validated
    assert _rules((26, 3, 0)).lb_distributed_option and not _rules((25, 9, 0)).lb_distributed_option
    with pytest.raises(AttributeError):
        _ = _rules((23, 3, 1)).no_such_rule


def test_rules_describe_and_warn() -> None:
    r = _rules((25, 3, 0))
    lines = r.describe()
    assert any("extract_ip_addresses" in line for line in lines)
    assert not any("ip_parse_masked" in line for line in lines)
    assert r.warnings() == []
    assert _rules((26, 3, 2)).warnings() == []           # a verified series
    newer = _rules((26, 9, 0)).warnings()
    assert newer and "26.09" in newer[0] and "26.03.1" in newer[0]
    assert all(rule.rule >= 0 and rule.holds for rule in RULES)
