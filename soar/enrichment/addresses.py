"""Address classification: is this IP on the internet, inside, or not a real host at all?

Only a public address is worth blocking at the edge or asking a reputation service
about; a private one is an internal host, a documentation one is test data. The checks
run from the most specific to the most general, because the standard library's
`is_private` also covers the documentation, "this network" and reserved ranges, and a
documentation address reported as "private" would send an analyst looking for a host
that does not exist. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is classified as
the IPv4 address it carries.
"""

from __future__ import annotations

import ipaddress

from soar.enrichment.models import AddressClass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


LOOPBACK = _networks("127.0.0.0/8", "::1/128")
LINK_LOCAL = _networks("169.254.0.0/16", "fe80::/10")
MULTICAST = _networks("224.0.0.0/4", "ff00::/8")
DOCUMENTATION = _networks(
    "192.0.2.0/24",  # TEST-NET-1, RFC 5737
    "198.51.100.0/24",  # TEST-NET-2
    "203.0.113.0/24",  # TEST-NET-3
    "2001:db8::/32",  # RFC 3849
    "3fff::/20",  # RFC 9637
)
PRIVATE = _networks(
    "10.0.0.0/8",  # RFC 1918
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",  # RFC 6598 shared address space (carrier-grade NAT)
    "fc00::/7",  # RFC 4193 unique local addresses
)

_ORDER: tuple[tuple[AddressClass, tuple[IPNetwork, ...]], ...] = (
    (AddressClass.LOOPBACK, LOOPBACK),
    (AddressClass.LINK_LOCAL, LINK_LOCAL),
    (AddressClass.MULTICAST, MULTICAST),
    (AddressClass.DOCUMENTATION, DOCUMENTATION),
    (AddressClass.PRIVATE, PRIVATE),
)


def parse_address(value: str | IPAddress) -> IPAddress:
    """The address, unwrapped from IPv4-mapped IPv6. Raises `ValueError` if it is none."""
    address = value if not isinstance(value, str) else ipaddress.ip_address(value.strip())
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def classify(value: str | IPAddress) -> AddressClass:
    """The class of an address; anything not routable on the internet and not named
    above (`0.0.0.0/8`, `240.0.0.0/4`, benchmarking, deprecated site-local) is reserved."""
    address = parse_address(value)
    for address_class, networks in _ORDER:
        if any(address in network for network in networks):
            return address_class
    if not address.is_global or (
        isinstance(address, ipaddress.IPv6Address) and address.is_site_local
    ):
        return AddressClass.RESERVED
    return AddressClass.PUBLIC


def describe(address: str, address_class: AddressClass) -> str:
    """A reason an analyst can read: "203.0.113.9 is a documentation address"."""
    return f"{address} is a {address_class.value} address"
