"""What must not leave: the observables no outside source is ever asked about.

An outside reputation service learns what it is asked. Asking about an internal host
name tells it the company's naming; asking about a private address is useless and
tells it the network's layout. So these never leave, and the inventory answers for
them instead:

- IP addresses that are not public: private (RFC 1918, unique local), carrier-grade
  NAT, loopback, link-local, multicast, documentation, reserved;
- host and domain names without a dot, under one of the configured internal suffixes
  (`enrichment.internal_suffixes`), or known to the inventory;
- URLs and email addresses whose host is one of the above;
- user names, always: an account name says who someone is.
"""

from __future__ import annotations

from collections.abc import Sequence

from soar.alerts.models import Observable, ObservableType
from soar.enrichment.addresses import classify
from soar.enrichment.inventory import Inventory
from soar.enrichment.models import AddressClass
from soar.enrichment.observables import url_host


def _internal_suffix(name: str, suffixes: Sequence[str]) -> str | None:
    return next((s for s in suffixes if name == s or name.endswith(f".{s}")), None)


def name_exposure(name: str, suffixes: Sequence[str], inventory: Inventory) -> str | None:
    """Why a host or domain name is internal, or None when it is public."""
    name = name.strip().lower().rstrip(".")
    if "." not in name:
        return f"{name} is a name without a domain (internal)"
    suffix = _internal_suffix(name, suffixes)
    if suffix is not None:
        return f"{name} is under the internal domain {suffix}"
    if inventory.hosts(name):
        return f"{name} is a host of the inventory"
    return None


def address_exposure(value: str) -> str | None:
    """Why an IP address is internal, or None when it is public."""
    try:
        address_class = classify(value)
    except ValueError:
        return None
    if address_class is AddressClass.PUBLIC:
        return None
    return f"{value} is a {address_class.value} address"


def exposure(observable: Observable, suffixes: Sequence[str], inventory: Inventory) -> str | None:
    """Why the (canonical) observable must never be sent out, or None when it may."""
    value = observable.value
    match observable.type:
        case ObservableType.IP:
            return address_exposure(value)
        case ObservableType.DOMAIN | ObservableType.HOSTNAME:
            return name_exposure(value, suffixes, inventory)
        case ObservableType.URL:
            host = url_host(value) or ""
            why = (
                address_exposure(host) if _is_ip(host) else name_exposure(host, suffixes, inventory)
            )
            return f"its host {why}" if why else None
        case ObservableType.EMAIL:
            why = name_exposure(value.rpartition("@")[2], suffixes, inventory)
            return f"its domain {why}" if why else None
        case ObservableType.USER:
            return f"{value} is a user name"
    return None


def _is_ip(host: str) -> bool:
    try:
        classify(host)
    except ValueError:
        return False
    return True
