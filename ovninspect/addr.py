"""Address parsing the way OVN reads NB columns (strict, fast; netaddr for network math)."""

from __future__ import annotations

# _socket: the C module behind socket, for inet_pton/inet_ntop and AF_* without
# socket.py's enums and selectors (start-up time)
import _socket as socket
import re
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple, Optional

if TYPE_CHECKING:
    import netaddr

_pton = socket.inet_pton
_AF_INET = socket.AF_INET
_MAC = re.compile(r"[0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{1,2}){5}\Z")


class IpPrefix(NamedTuple):
    """An address with an optional prefix length, e.g. ``10.0.0.1`` or ``10.0.0.0/24``."""

    text: str
    version: int          # 4 or 6
    address: str          # the address part as written
    plen: Optional[int]   # None when no "/N" was given

    @property
    def is_host(self) -> bool:
        return self.plen is None or self.plen == (32 if self.version == 4 else 128)


def parse_ip(text: object) -> Optional[IpPrefix]:
    """Parse ``IP`` or ``IP/N`` (IPv4 or IPv6); None when it is not exactly one of them."""
    if text.__class__ is str:
        try:  # the common case first: one IPv4 address (inet_pton allows no spaces)
            _pton(_AF_INET, text)
            return IpPrefix(text, 4, text, None)
        except OSError:
            pass
    if not isinstance(text, str) or not text or text != text.strip():
        return None
    addr, sep, plen_text = text.partition("/")
    for version, family in ((4, socket.AF_INET), (6, socket.AF_INET6)):
        try:
            socket.inet_pton(family, addr)
        except OSError:
            continue
        if not sep:
            return IpPrefix(text, version, addr, None)
        if not plen_text.isdigit() or int(plen_text) > (32 if version == 4 else 128):
            return None
        return IpPrefix(text, version, addr, int(plen_text))
    return None


def valid_mac(text: object) -> bool:
    """Six colon-separated hex octets and nothing after them (lib/packets.c)."""
    return isinstance(text, str) and _MAC.match(text) is not None


@lru_cache(maxsize=65536)
def network(text: str) -> Optional[netaddr.IPNetwork]:
    """An LRP ``networks`` entry (``10.9.101.1/24``) as a network; None when unparsable."""
    import netaddr  # network math only (a faster start for the common paths)

    prefix = parse_ip(text)
    if prefix is None:
        return None
    try:
        return netaddr.IPNetwork(text if prefix.plen is not None else prefix.address)
    except (netaddr.AddrFormatError, ValueError):
        return None


@lru_cache(maxsize=65536)
def bounds(net_text: str) -> Optional[tuple[int, int, int]]:
    """(version, first, last) of a network such as ``10.9.101.1/24``; None if unparsable."""
    net = network(net_text)
    return None if net is None else (net.version, net.first, net.last)


def host_value(text: object) -> Optional[tuple[int, int]]:
    """(version, integer value) of one address, bare or with a host-length prefix
    (``10.0.0.1``, ``10.0.0.1/32``); None for anything else (a network, garbage)."""
    if text.__class__ is str:
        try:  # the common case first: one IPv4 address
            return 4, int.from_bytes(_pton(_AF_INET, text), "big")  # type: ignore[arg-type]
        except OSError:
            pass
    prefix = parse_ip(text)
    if prefix is None or not prefix.is_host:
        return None
    return ip_int(prefix.address)


def ip_int(text: str) -> Optional[tuple[int, int]]:
    """(version, integer value) of a bare address, or None."""
    for version, family in ((4, socket.AF_INET), (6, socket.AF_INET6)):
        try:
            return version, int.from_bytes(socket.inet_pton(family, text), "big")
        except OSError:
            continue
    return None


def in_network(ip: str, net_text: str) -> bool:
    """True when address ``ip`` (optionally ``ip/N``) lies inside network ``net_text``."""
    net = bounds(net_text)
    value = ip_int(ip.split("/")[0]) if isinstance(ip, str) else None
    if net is None or value is None or net[0] != value[0]:
        return False
    return net[1] <= value[1] <= net[2]


def same_address(a: str, b: str) -> bool:
    """True when two address texts denote the same IP (``::1`` == ``0::1``)."""
    pa, pb = parse_ip(a), parse_ip(b)
    if pa is None or pb is None or pa.version != pb.version:
        return False
    family = socket.AF_INET if pa.version == 4 else socket.AF_INET6
    return socket.inet_pton(family, pa.address) == socket.inet_pton(family, pb.address)


def port_addresses(addresses: tuple) -> list[str]:
    """IPs from LSP ``addresses`` entries like ``"0a:00:00:00:00:01 10.0.0.5 fd00::5"``."""
    out = []
    for entry in addresses:
        for token in str(entry).split():
            if len(token) == 17 and _MAC.match(token):
                continue  # the usual first token: six groups are never an IPv6 address
            if parse_ip(token) is not None:
                out.append(token.split("/")[0])
    return out
