"""How OVN's C code reads NB text, to the character: northd's address parsers (OVS
``ovs_scan``-based, lenient) and ovn-controller's logical-flow lexer (strict).

northd copies ``NAT.external_ip``, ``logical_ip`` and ``external_mac`` into the logical
flows as written, so a spelling can pass northd and still be refused by ovn-controller:
the flow is then dropped on every chassis (semantics §7 rule 6; ovn-changes §3).  Sources
(read, not copied): openvswitch/ovs lib/util.c ``ovs_scan__``/``scan_int``/``scan_set``,
lib/packets.c ``ip_parse_masked_len``/``ipv6_parse_masked_len``/``eth_addr_from_string``;
ovn-org/ovn lib/ovn-util.c ``parse_and_store_addresses``/``find_lport_address``, lib/lex.c
``lex_parse_integer__``/``lex_parse_mask``, lib/actions.c ``parse_ct_nat``.
"""

from __future__ import annotations

# _socket: the C module behind socket, for inet_pton/inet_ntop and AF_* without
# socket.py's enums and selectors (start-up time)
import _socket as socket
import functools
import re
from typing import NamedTuple, Optional

_SPACES = " \t\n\v\f\r"          # C isspace() in the "C" locale
_HEX = "0123456789abcdefABCDEF"
_IPV6_SET = frozenset(_HEX + ":.")
_U32 = (1 << 32) - 1
_U128 = (1 << 128) - 1
_PTON = socket.inet_pton
_AF4, _AF6 = socket.AF_INET, socket.AF_INET6
# the spellings almost every NB uses: every parser below agrees on them (fast paths)
_CANON_MAC = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}\Z")
_CANON_CIDR4 = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3})/(0|[1-9]\d?)\Z")


def plain_mac(text: str) -> bool:
    """Six two-digit hex octets: what every parser and the lexer take alike."""
    return _CANON_MAC.match(text) is not None


def plain_address(text: str) -> Optional[int]:
    """4 or 6 for a plain address inet_pton takes as written, else None."""
    got = _canonical(text)
    return None if got is None else got[0]


def plain_cidr(text: str, version: int) -> bool:
    """``ADDRESS/N`` written plainly (a plain address, a decimal length without leading
    zeros within the family's size) in IP ``version``."""
    address, _, plen = text.partition("/")
    return (plain_address(address) == version and plen.isdigit() and plen.isascii()
            and (plen == "0" or plen[0] != "0") and int(plen) <= (32 if version == 4 else 128))


def _canonical(text: str) -> Optional[tuple[int, int]]:
    """(version, value) of a plain address inet_pton takes as it is, else None."""
    try:
        return 4, int.from_bytes(_PTON(_AF4, text), "big")
    except (OSError, ValueError, TypeError):
        pass
    if ":" in text:
        try:
            return 6, int.from_bytes(_PTON(_AF6, text), "big")
        except (OSError, ValueError, TypeError):
            pass
    return None


# -- ovs_scan ---------------------------------------------------------------------------
def _skip_spaces(s: str, i: int) -> int:
    while i < len(s) and s[i] in _SPACES:
        i += 1
    return i


def _scan_int(s: str, i: int, base: int) -> Optional[tuple[int, int]]:
    """One ``%d``/``%u``/``%x`` conversion from ``s[i:]``: leading spaces, a sign, ``0x``
    (base 16), then digits; the value unbounded (callers wrap it)."""
    i = _skip_spaces(s, i)
    negative = i < len(s) and s[i] == "-"
    if i < len(s) and s[i] in "+-":
        i += 1
    if base == 16 and s[i:i + 2] in ("0x", "0X"):
        i += 2
    start, value = i, 0
    while i < len(s):
        digit = _HEX.find(s[i])
        if digit >= 16:
            digit -= 6          # upper-case A-F
        if digit < 0 or digit >= base:
            break
        value = value * base + digit
        i += 1
    if i == start:
        return None
    return (-value if negative else value), i


def _scan_byte(s: str, i: int, base: int = 10) -> Optional[tuple[int, int]]:
    """``%hhu`` / ``%hhx``: the low 8 bits of the scanned value."""
    got = _scan_int(s, i, base)
    return None if got is None else (got[0] & 0xFF, got[1])


def _scan_ipv4(s: str, i: int) -> Optional[tuple[int, int]]:
    """``IP_SCAN_FMT`` ("%hhu.%hhu.%hhu.%hhu") at ``s[i:]``: (value, end)."""
    value = 0
    for octet in range(4):
        if octet:
            if i >= len(s) or s[i] != ".":
                return None
            i += 1
        got = _scan_byte(s, i)
        if got is None:
            return None
        value = (value << 8) | got[0]
        i = got[1]
    return value, i


def _scan_decimal(s: str, i: int) -> Optional[tuple[int, int]]:
    """``%d`` into a C int."""
    got = _scan_int(s, i, 10)
    if got is None:
        return None
    value = got[0] & _U32
    return (value - (1 << 32) if value >= 1 << 31 else value), got[1]


def _prefix_mask(plen: int, bits: int) -> int:
    return ((1 << bits) - 1) ^ ((1 << (bits - plen)) - 1)


def ip_parse_masked_len(s: str, i: int = 0) -> Optional[tuple[int, int, int]]:
    """OVS ``ip_parse_masked_len``: ``IP/IP``, ``IP/N`` or ``IP`` at ``s[i:]`` as
    (address, mask, end); None on error (including a prefix outside 0-32)."""
    ip = _scan_ipv4(s, i)
    if ip is None:
        return None
    address, end = ip
    if end < len(s) and s[end] == "/":
        mask = _scan_ipv4(s, end + 1)
        if mask is not None:
            return address, mask[0], mask[1]
        prefix = _scan_decimal(s, end + 1)
        if prefix is not None:
            if not 0 <= prefix[0] <= 32:
                return None
            return address, _prefix_mask(prefix[0], 32), prefix[1]
    return address, _U32, end


def _inet_pton(family: int, text: str) -> Optional[int]:
    try:
        return int.from_bytes(socket.inet_pton(family, text), "big")
    except (OSError, ValueError):    # ValueError: an embedded NUL
        return None


def ipv4_pton(text: str) -> Optional[int]:
    """glibc ``inet_pton(AF_INET)``: four decimal octets, no leading zeros, nothing else."""
    return _inet_pton(socket.AF_INET, text)


def ipv6_pton(text: str) -> Optional[int]:
    """glibc ``inet_pton(AF_INET6)``."""
    return _inet_pton(socket.AF_INET6, text)


def _scan_ipv6_text(s: str, i: int) -> Optional[tuple[str, int]]:
    """``%46[0123456789abcdefABCDEF:.]``: the characters, at least one."""
    start = i
    while i < len(s) and s[i] in _IPV6_SET and i - start < 46:
        i += 1
    return (s[start:i], i) if i > start else None


def ipv6_parse_masked_len(s: str, i: int = 0) -> Optional[tuple[int, int, int]]:
    """OVS ``ipv6_parse_masked_len``: (address, mask, end) or None."""
    got = _scan_ipv6_text(s, _skip_spaces(s, i))
    if got is None:
        return None
    address = ipv6_pton(got[0])
    if address is None:
        return None
    end = got[1]
    if end < len(s) and s[end] == "/":
        prefix = _scan_decimal(s, end + 1)
        if prefix is not None:
            if not 0 <= prefix[0] <= 128:
                return None
            return address, _prefix_mask(prefix[0], 128), prefix[1]
        mask_text = _scan_ipv6_text(s, end + 1)
        if mask_text is not None:
            mask = ipv6_pton(mask_text[0])
            if mask is None:
                return None
            return address, mask, mask_text[1]
    return address, _U128, end


def _cidr_plen(mask: int, bits: int) -> Optional[int]:
    """The prefix length of a CIDR mask, None when the mask is not contiguous."""
    plen = bin(mask).count("1")
    return plen if mask == _prefix_mask(plen, bits) else None


class Address(NamedTuple):
    """An address as OVN parsed it: IP version, integer value, prefix length."""

    version: int
    value: int
    plen: int

    @property
    def is_host(self) -> bool:
        return self.plen == (32 if self.version == 4 else 128)

    @property
    def text(self) -> str:
        family = socket.AF_INET if self.version == 4 else socket.AF_INET6
        size = 4 if self.version == 4 else 16
        return socket.inet_ntop(family, self.value.to_bytes(size, "big"))

    @property
    def network_text(self) -> str:
        bits = 32 if self.version == 4 else 128
        net = Address(self.version, self.value & _prefix_mask(self.plen, bits), self.plen)
        return f"{net.text}/{self.plen}"


def ip_parse_masked(s: str) -> Optional[Address]:
    """OVS ``ip_parse_masked`` (the whole string): IPv4 with any mask.  ``plen`` is -1
    for a mask that is not a prefix."""
    plain = _canonical(s)
    if plain is not None and plain[0] == 4:
        return Address(4, plain[1], 32)
    got = ip_parse_masked_len(s)
    if got is None or got[2] != len(s):
        return None
    plen = _cidr_plen(got[1], 32)
    return Address(4, got[0], -1 if plen is None else plen)


def ipv6_parse_masked(s: str) -> Optional[Address]:
    """OVS ``ipv6_parse_masked`` (the whole string)."""
    plain = _canonical(s)
    if plain is not None and plain[0] == 6:
        return Address(6, plain[1], 128)
    got = ipv6_parse_masked_len(s)
    if got is None or got[2] != len(s):
        return None
    plen = _cidr_plen(got[1], 128)
    return Address(6, got[0], -1 if plen is None else plen)


def extract_ip_addresses(s: str) -> list[Address]:
    """OVN ``extract_ip_addresses`` (northd >= 25.03 for ``external_ip``): CIDR addresses
    one after another, spaces between them skipped; stops silently at anything else."""
    plain = _canonical(s)
    if plain is not None:
        return [Address(plain[0], plain[1], 32 if plain[0] == 4 else 128)]
    out: list[Address] = []
    i = 0
    while i < len(s):
        got = ip_parse_masked_len(s, i)
        if got is not None and _cidr_plen(got[1], 32) is not None:
            out.append(Address(4, got[0], _cidr_plen(got[1], 32) or 0))
            i = got[2]
            continue
        got = ipv6_parse_masked_len(s, i)
        if got is None or _cidr_plen(got[1], 128) is None:
            break
        out.append(Address(6, got[0], _cidr_plen(got[1], 128) or 0))
        i = got[2]
    return out


def find_member_address(text: str) -> Optional[tuple[int, int]]:
    """What OVN ``find_lport_address`` compares with a port's networks (northd's DGP
    choice for a NAT without ``gateway_port``, rule 11): IPv4 when the text has a dot,
    else IPv6, each through strict inet_pton; (version, value) or None ("bad ip")."""
    if "." in text:
        value = ipv4_pton(text)
        return None if value is None else (4, value)
    value = ipv6_pton(text)
    return None if value is None else (6, value)


def eth_addr_parse(text: str) -> Optional[tuple[int, ...]]:
    """OVS ``eth_addr_from_string``: six ``%hhx`` fields separated by ``:``, nothing
    after them (each field may have leading spaces, a sign, ``0x``, any number of digits);
    the six octets, or None."""
    if _CANON_MAC.match(text):
        return tuple(bytes.fromhex(text.replace(":", "")))
    i, octets = 0, []
    for field in range(6):
        if field:
            if i >= len(text) or text[i] != ":":
                return None
            i += 1
        got = _scan_byte(text, i, 16)
        if got is None:
            return None
        octets.append(got[0])
        i = got[1]
    return tuple(octets) if i == len(text) else None


def eth_addr_from_string(text: str) -> bool:
    """True when OVS ``eth_addr_from_string`` accepts ``text`` (rules 3 and 9)."""
    return eth_addr_parse(text) is not None


@functools.lru_cache(maxsize=1 << 16)
def lrp_networks(mac: str, networks: tuple[str, ...]) -> Optional[tuple[Address, ...]]:
    """OVN ``extract_lrp_networks``: a router port's addresses as northd uses them, the
    IPv6 link-local address from its MAC always included; None when the MAC does not
    parse (northd then skips the port).  Entries that are not a CIDR address, and
    ``0.0.0.0``, are skipped as northd does."""
    octets = eth_addr_parse(mac)
    if octets is None:
        return None
    out: list[Address] = []
    for text in networks:
        got = ip_parse_masked_len(text)
        if got is not None and got[2] == len(text) and _cidr_plen(got[1], 32) is not None:
            if got[0]:
                out.append(Address(4, got[0], _cidr_plen(got[1], 32) or 0))
            continue
        got = ipv6_parse_masked_len(text)
        if got is not None and got[2] == len(text) and _cidr_plen(got[1], 128) is not None:
            out.append(Address(6, got[0], _cidr_plen(got[1], 128) or 0))
    lla = bytes([0xFE, 0x80, 0, 0, 0, 0, 0, 0, octets[0] ^ 0x02, octets[1], octets[2], 0xFF,
                 0xFE, octets[3], octets[4], octets[5]])
    out.append(Address(6, int.from_bytes(lla, "big"), 64))
    return tuple(out)


# -- ovn-controller's lexer ---------------------------------------------------------------
PLAIN, MASKED, BAD = "plain", "masked", "bad"


class Constant(NamedTuple):
    """A NB value as the constant it becomes inside a logical flow."""

    kind: str                  # plain | masked | bad
    format: str = ""           # ipv4 | ipv6 | mac | decimal | hex
    plen: Optional[int] = None  # masked with a CIDR prefix
    error: str = ""

    @property
    def in_match(self) -> bool:
        """Usable in a match (``ip4.dst == X``)."""
        return self.kind != BAD

    @property
    def in_ct_nat(self) -> bool:
        """Usable as ``ct_snat(X)`` / ``ct_dnat(X)``: a plain address only."""
        return self.kind == PLAIN and self.format in ("ipv4", "ipv6")

    @property
    def in_load(self) -> bool:
        """Usable as ``ip4.src = X`` (stateless NAT): masked constants too."""
        return self.kind != BAD


def _lex_integer(s: str, i: int) -> tuple[Optional[str], str, int]:
    """``lex_parse_integer__``: (format or None, error, end)."""
    end, saw_dot = i, False
    while end < len(s) and (s[end].isascii() and s[end].isalnum()
                            or (s[end] == ":" and not saw_dot)
                            or (s[end] == "." and s[end + 1:end + 2] != ".")):
        saw_dot = saw_dot or s[end] == "."
        end += 1
    token = s[i:end]
    if not token:
        return None, "Integer constant expected.", end
    if len(token) == 17 and _is_mac_token(token):
        return "mac", "", end
    if token.isdigit():
        if token[0] == "0" and len(token) > 1:
            return None, "Decimal constants must not have leading zeros.", end
        if int(token) >= 1 << 64:
            return None, "Decimal constants must be less than 2**64.", end
        return "decimal", "", end
    if token[:2] in ("0x", "0X"):
        digits = token[2:]
        if digits and all(c in _HEX for c in digits):
            return "hex", "", end
        return None, "Invalid hex constant.", end
    if len(token) < 46:
        if ipv4_pton(token) is not None:
            return "ipv4", "", end
        if ipv6_pton(token) is not None:
            return "ipv6", "", end
    return None, "Invalid numeric constant.", end


def _is_mac_token(token: str) -> bool:
    """``ovs_scan(ETH_ADDR_SCAN_FMT"%n") && n == 17`` on a 17-character token."""
    return eth_addr_from_string(token)


def lex_constant(text: str) -> Constant:
    """What ovn-controller's lexer makes of ``text`` where a flow expects one constant:
    surrounding whitespace is fine; anything but exactly one integer-like token (with an
    optional ``/mask``) makes the flow fail to parse."""
    plain = _canonical(text)
    if plain is not None:
        return Constant(PLAIN, "ipv4" if plain[0] == 4 else "ipv6")
    cidr = _CANON_CIDR4.match(text)
    if cidr and int(cidr.group(2)) <= 32 and _canonical(cidr.group(1)):
        return Constant(MASKED, "ipv4", int(cidr.group(2)))
    if _CANON_MAC.match(text):
        return Constant(PLAIN, "mac")
    i = _skip_spaces(text, 0)
    if i == len(text):
        return Constant(BAD, error="nothing where a constant is expected")
    first = text[i]
    starts_number = first.isdigit() or text[i:i + 2] == "::" or (
        first in _HEX and _prefix_colon(text, i))
    if not starts_number:
        return Constant(BAD, error=f"{text.strip()!r} is not a constant")
    fmt, error, end = _lex_integer(text, i)
    if fmt is None:
        return Constant(BAD, error=error)
    plen: Optional[int] = None
    kind = PLAIN
    if end < len(text) and text[end] == "/":
        mask_fmt, error, end = _lex_integer(text, end + 1)
        if mask_fmt is None:
            return Constant(BAD, error=error)
        mask_text = text[text.rindex("/", 0, end) + 1:end]
        if mask_fmt == fmt:
            kind = MASKED
        elif mask_fmt == "decimal" and fmt in ("ipv4", "ipv6") and int(mask_text) <= (
                32 if fmt == "ipv4" else 128):
            kind, plen = MASKED, int(mask_text)
        elif fmt == "decimal" and mask_fmt == "hex" and int(text[i:text.index("/", i)]) == 0:
            kind = MASKED
        else:
            return Constant(BAD, error="Value and mask have incompatible formats.")
    if _skip_spaces(text, end) != len(text):
        return Constant(BAD, fmt, plen, f"unexpected {text[end:].strip()!r} after "
                        f"{text[i:end]!r}")
    return Constant(kind, fmt, plen)


def _prefix_colon(text: str, i: int) -> bool:
    """lex.c: a token starting with a hex letter is a number when its hex run is
    followed by a colon (``fd00::1``, ``aa:bb:...``), else an identifier."""
    j = i
    while j < len(text) and text[j] in _HEX:
        j += 1
    return j < len(text) and text[j] == ":"
