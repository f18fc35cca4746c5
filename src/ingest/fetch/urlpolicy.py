"""Which network addresses an article-page request may connect to (SSRF policy), as pure functions.

A feed's links are untrusted input: without this policy a feed could make the archiver fetch
`http://169.254.169.254/` (cloud metadata) or an admin page on the LAN. The check runs on the
*resolved* address of every connection (see `guard`), so hostnames, odd IP spellings
(`2130706433`, `0x7f.1`) and redirects all end up here as one canonical address.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

IPAddress = IPv4Address | IPv6Address
AllowRule = tuple[IPv4Network | IPv6Network, int | None]  # network, port (None = any port)

# Not covered by the stdlib flags below in every Python version.
_CGNAT = ip_network("100.64.0.0/10")


def parse_networks(specs: Iterable[str]) -> tuple[AllowRule, ...]:
    """Parse `allow_networks` entries: `10.0.0.0/8`, `127.0.0.1:8080`, `[::1]:8080`, `fd00::/8`.

    Raises ValueError naming the bad entry, so a typo in the config fails loudly.
    """
    return tuple(_parse_one(spec.strip()) for spec in specs if spec.strip())


def _parse_one(spec: str) -> AllowRule:
    address, port_text = spec, ""
    if spec.startswith("["):
        address, _, rest = spec[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise ValueError(f"invalid allow_networks entry {spec!r}")
        port_text = rest[1:]
    elif spec.count(":") == 1:  # IPv4 with a port; bare IPv6 has several colons
        address, _, port_text = spec.partition(":")
    try:
        network = ip_network(address, strict=False)
        port = int(port_text) if port_text else None
    except ValueError:
        raise ValueError(f"invalid allow_networks entry {spec!r}") from None
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"invalid port in allow_networks entry {spec!r}")
    return network, port


def canonical(ip: str) -> IPAddress:
    """The address a socket really reaches: zone index dropped, IPv4-mapped IPv6 unwrapped."""
    address = ip_address(ip.split("%", 1)[0])
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_public(address: IPAddress) -> bool:
    """True for globally routable unicast addresses; false for anything that reaches inside."""
    if (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_unspecified
        or address.is_multicast
        or address.is_reserved
        or not address.is_global
        or address in _CGNAT
    ):
        return False
    if isinstance(address, IPv6Address):
        if address.is_site_local:
            return False
        embedded = address.sixtofour  # 2002:7f00:1::/48 tunnels to 127.0.0.1
        return embedded is None or is_public(embedded)
    return True


def is_allowed(
    ip: str,
    port: int,
    *,
    allow: Iterable[AllowRule],
    origin_addrs: Set[tuple[str, int]],
) -> bool:
    """May a page request connect to `ip`:`port`?

    Public addresses always; otherwise only the feed's own address and port (`origin_addrs`: a
    feed on the LAN may link to its own pages) or what the operator listed in `allow_networks`.
    """
    address = canonical(ip)
    if is_public(address):
        return True
    if any(canonical(o_ip) == address and o_port == port for o_ip, o_port in origin_addrs):
        return True
    return any(address in net and rule_port in (None, port) for net, rule_port in allow)
