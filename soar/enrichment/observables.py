"""Whether an observable is well formed enough to look up, and its one spelling.

An observable reaches the engine as an alert wrote it: `WEB-02.Example.COM.`, an IPv6
address in any of its forms, a hash in capitals. Every source is asked about one
canonical spelling, which is also the cache's key, so `8.8.8.8` and ` 8.8.8.8` cost
one call. What cannot be a value of its type (not an IP, an empty or non-hex hash, a
URL without a host) is refused before any source is asked, with the reason in words.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from soar.alerts.models import Observable, ObservableType

HASH_LENGTHS = {32: "MD5", 40: "SHA-1", 64: "SHA-256", 128: "SHA-512"}
HEX = frozenset("0123456789abcdef")
MAX_VALUE = 2048
LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
URL_SCHEMES = frozenset({"http", "https", "ftp", "ftps", "ws", "wss"})


def host_refusal(name: str) -> str | None:
    """Why `name` (already lower-case, without the root dot) is not a host name."""
    if not name:
        return "an empty name"
    if len(name) > 253:
        return "a name longer than 253 characters"
    if not all(LABEL.match(label) for label in name.split(".")):
        return "not a valid host name"
    return None


def refusal(observable: Observable) -> str | None:
    """Why the observable cannot be looked up anywhere, or None when it can."""
    value = observable.value.strip()
    kind = observable.type
    if not value:
        return f"an empty {kind.value}"
    if len(value) > MAX_VALUE:
        return f"a {kind.value} longer than {MAX_VALUE} characters"
    if kind is ObservableType.IP:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return f"{value!r} is not a valid IP address"
        return None
    if kind in (ObservableType.DOMAIN, ObservableType.HOSTNAME):
        why = host_refusal(value.lower().rstrip("."))
        return f"{value!r} is {why}" if why else None
    if kind is ObservableType.HASH:
        digest = value.lower()
        if len(digest) not in HASH_LENGTHS or not HEX.issuperset(digest):
            return f"{value!r} is not an MD5, SHA-1, SHA-256 or SHA-512 hash"
        return None
    if kind is ObservableType.URL:
        try:
            parts = urlsplit(value)
            host = parts.hostname
        except ValueError:
            return f"{value!r} is not a valid URL"
        if parts.scheme.lower() not in URL_SCHEMES or not host:
            return f"{value!r} is not a URL with a scheme and a host"
        return None
    if kind is ObservableType.EMAIL:
        local, _, domain = value.rpartition("@")
        if not local or host_refusal(domain.lower().rstrip(".")):
            return f"{value!r} is not a valid email address"
        return None
    return None


def canonical(observable: Observable) -> Observable:
    """The observable spelled the one way every source and the cache see it (call only
    when :func:`refusal` is None). IPs are compressed (an IPv4-mapped IPv6 address is
    its IPv4 address), names and hashes lower-case, URLs keep their path as written."""
    value = observable.value.strip()
    match observable.type:
        case ObservableType.IP:
            address = ipaddress.ip_address(value)
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
                address = address.ipv4_mapped
            value = str(address)
        case ObservableType.DOMAIN | ObservableType.HOSTNAME:
            value = value.lower().rstrip(".")
        case ObservableType.HASH | ObservableType.EMAIL | ObservableType.USER:
            value = value.lower()
        case ObservableType.URL:
            parts = urlsplit(value)
            value = parts._replace(
                scheme=parts.scheme.lower(), netloc=parts.netloc.lower()
            ).geturl()
    return (
        observable if value == observable.value else observable.model_copy(update={"value": value})
    )


def url_host(url: str) -> str | None:
    """The host a URL names (lower-case, brackets of an IPv6 literal removed)."""
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def guess_type(value: str) -> ObservableType:
    """What an operator most likely means by a bare value (`soar enrich VALUE`): an IP, a
    URL, an email address, a hash, else a domain."""
    text = value.strip()
    try:
        ipaddress.ip_address(text)
        return ObservableType.IP
    except ValueError:
        pass
    if "://" in text:
        return ObservableType.URL
    if "@" in text:
        return ObservableType.EMAIL
    if len(text) in HASH_LENGTHS and HEX.issuperset(text.lower()):
        return ObservableType.HASH
    return ObservableType.DOMAIN
