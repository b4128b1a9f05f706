"""What the actuator keeps on the host, as nft scripts, and how it reads it back from
`nft -j` — pure functions, no SSH.

**Blocklist** — table `inet <table>`::

    set blocklist4 { type ipv4_addr; flags interval, timeout; }
    set blocklist6 { type ipv6_addr; flags interval, timeout; }
    chain input   { type filter hook input priority filter - 10; policy accept;
                    ip saddr @blocklist4 counter drop; ip6 saddr @blocklist6 counter drop }
    chain forward { ... saddr and daddr, both families ... }
    chain output  { ... daddr, both families ... }

one chain per configured hook: `input` drops what comes from a blocked network to the
host, `forward` what passes through it either way, `output` what the host sends to one.
`interval` lets an element be a CIDR block; `timeout` lets each element expire by
itself. An interval set refuses overlapping elements, so a network inside one already
blocked is reported as already in effect, and one that contains blocked networks is
refused with their names.

**Isolation** — table `inet <table>_isolation`: input, output and forward chains with
policy drop ahead of every other filter (priority `filter - 20`), accepting only
loopback, IPv6 neighbour discovery (without it no IPv6 peer is reachable at all) and
traffic to and from the management sets. A connection that was open before isolation
is cut too: nothing is accepted because it is established, only because of who is on
the other end. It is written in one transaction that adds, deletes and defines the
table, so it is replaced whole or not at all.

Every value that reaches a script is rendered here from a parsed address, a validated
name or a comment reduced to a safe character set.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Family = Literal[4, 6]

BLOCK_PRIORITY = "filter - 10"
ISOLATION_PRIORITY = "filter - 20"
ISOLATION_RULES = {"input": 4, "output": 4, "forward": 0}
"""The chains of the isolation table, and how many rules each holds."""
COMMENT_MAX = 128
"""nft's limit on a comment."""
UNSAFE = re.compile(r"[^A-Za-z0-9 ._:/@+=#-]")


def set_name(version: int) -> str:
    return f"blocklist{version}"


def management_set(version: int) -> str:
    return f"management{version}"


def isolation_table(table: str) -> str:
    return f"{table}_isolation"


def protocol(version: int) -> str:
    return "ip" if version == 4 else "ip6"


def comment(text: str | None) -> str | None:
    """`text` safe inside an nft comment: letters, digits, space and `._:/@+=#-` only
    (anything else becomes `_`), at most 128 characters; None when nothing is left."""
    if not text:
        return None
    cleaned = UNSAFE.sub("_", text)[:COMMENT_MAX].strip()
    return cleaned or None


def network_of(value: str) -> IPNetwork:
    """The network a target names; an IPv4-mapped IPv6 one becomes the IPv4 network it
    carries, so that it is blocked where IPv4 traffic is matched."""
    network = ipaddress.ip_network(value.strip(), strict=False)
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            return ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    return network


def show(network: IPNetwork) -> str:
    """A network as nft writes it: a bare address for a single host."""
    if network.num_addresses == 1:
        return str(network.network_address)
    return str(network)


# -- reading `nft -j` ------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    """One element of an interval set: the range it spans and what it carries."""

    first: int
    last: int
    text: str
    timeout: int | None = None
    expires: int | None = None
    comment: str | None = None

    def covers(self, network: IPNetwork) -> bool:
        return (
            self.first <= int(network.network_address)
            and int(network.broadcast_address) <= self.last
        )

    def overlaps(self, network: IPNetwork) -> bool:
        return (
            self.first <= int(network.broadcast_address)
            and int(network.network_address) <= self.last
        )

    def equals(self, network: IPNetwork) -> bool:
        return self.first == int(network.network_address) and self.last == int(
            network.broadcast_address
        )

    def described(self) -> str:
        owner = f" ({self.comment})" if self.comment else ""
        return f"{self.text}{owner}"


def _span(value: Any) -> tuple[int, int, str] | None:
    """The range of an element value: an address, `{"prefix": ...}` or `{"range": ...}`."""
    try:
        if isinstance(value, str):
            address = int(ipaddress.ip_address(value))
            return address, address, value
        if isinstance(value, dict) and "prefix" in value:
            prefix = value["prefix"]
            network = ipaddress.ip_network(f"{prefix['addr']}/{prefix['len']}")
            return int(network.network_address), int(network.broadcast_address), str(network)
        if isinstance(value, dict) and "range" in value:
            low, high = value["range"]
            first, last = int(ipaddress.ip_address(low)), int(ipaddress.ip_address(high))
            return first, last, f"{low}-{high}"
    except (ValueError, KeyError, TypeError):
        return None
    return None


def elements(set_object: dict[str, Any]) -> list[Element]:
    """The elements of a set as `nft -j` lists it (bare values, or `{"elem": {...}}`
    carrying `timeout`, `expires` and `comment`)."""
    found: list[Element] = []
    for item in set_object.get("elem", []):
        details = item["elem"] if isinstance(item, dict) and "elem" in item else {"val": item}
        span = _span(details.get("val"))
        if span is None:
            continue
        found.append(
            Element(
                *span,
                timeout=details.get("timeout"),
                expires=details.get("expires"),
                comment=details.get("comment"),
            )
        )
    return found


@dataclass(frozen=True)
class Listing:
    """A table as `nft -j list table` shows it: its sets, chains and rules by name."""

    sets: dict[str, dict[str, Any]]
    chains: dict[str, dict[str, Any]]
    rules: dict[str, list[dict[str, Any]]]

    @classmethod
    def of(cls, objects: Iterable[dict[str, Any]]) -> Listing:
        sets: dict[str, dict[str, Any]] = {}
        chains: dict[str, dict[str, Any]] = {}
        rules: dict[str, list[dict[str, Any]]] = {}
        for item in objects:
            if "set" in item:
                sets[item["set"]["name"]] = item["set"]
            elif "chain" in item:
                chains[item["chain"]["name"]] = item["chain"]
            elif "rule" in item:
                rules.setdefault(item["rule"]["chain"], []).append(item["rule"])
        return cls(sets, chains, rules)

    def elements(self, name: str) -> list[Element]:
        found = self.sets.get(name)
        return elements(found) if found else []

    def base_chain(self, name: str, hook: str, policy: str) -> bool:
        """Whether chain `name` is a filter chain on `hook` with `policy`."""
        chain = self.chains.get(name, {})
        return (
            chain.get("type") == "filter"
            and chain.get("hook") == hook
            and chain.get("policy") == policy
        )


# -- the blocklist ---------------------------------------------------------------------

Drop = tuple[str, str, str]
"""A drop rule as (protocol, field, set): ("ip", "saddr", "blocklist4")."""


def drops_for(hook: str) -> set[Drop]:
    """The drop rules the chain on `hook` holds."""
    fields = {"input": ("saddr",), "output": ("daddr",), "forward": ("saddr", "daddr")}[hook]
    return {(protocol(v), field, set_name(v)) for v in (4, 6) for field in fields}


def _drop_of(rule: dict[str, Any]) -> Drop | None:
    """The rule as a drop of a set match, or None when it is anything else."""
    expressions = [e for e in rule.get("expr", []) if "counter" not in e]
    if len(expressions) != 2 or "drop" not in expressions[1]:
        return None
    match = expressions[0].get("match", {})
    payload = match.get("left", {}).get("payload", {})
    right = match.get("right")
    if match.get("op") != "==" or not isinstance(right, str) or not right.startswith("@"):
        return None
    return payload.get("protocol", ""), payload.get("field", ""), right[1:]


def chain_drops(listing: Listing, chain: str) -> set[Drop] | None:
    """The drop rules of a chain, or None when it holds any other rule."""
    drops = [_drop_of(rule) for rule in listing.rules.get(chain, [])]
    if any(drop is None for drop in drops):
        return None
    return {drop for drop in drops if drop is not None}


def blocklist_problems(listing: Listing) -> list[str]:
    """What a person must fix in the table before it can hold blocks: a set of our name
    with another type or without the flags (nft cannot change those in place)."""
    problems: list[str] = []
    for version in (4, 6):
        found = listing.sets.get(set_name(version))
        if found is None:
            continue
        flags = set(found.get("flags", []))
        if found.get("type") != f"ipv{version}_addr" or not {"interval", "timeout"} <= flags:
            problems.append(
                f"set {set_name(version)} exists as type {found.get('type')} with flags "
                f"{', '.join(sorted(flags)) or 'none'}, not ipv{version}_addr with interval, "
                "timeout; delete it (or choose another table) and block again"
            )
    return problems


def blocklist_ready(listing: Listing, hooks: Sequence[str]) -> bool:
    """Whether the table drops what its sets hold on exactly the configured hooks."""
    if any(set_name(v) not in listing.sets for v in (4, 6)):
        return False
    if set(listing.chains) != set(hooks):
        return False
    return all(
        listing.base_chain(hook, hook, "accept") and chain_drops(listing, hook) == drops_for(hook)
        for hook in hooks
    )


def blocklist_structure(table: str, hooks: Sequence[str], listing: Listing | None) -> list[str]:
    """The statements that make the table what :func:`blocklist_ready` expects, leaving
    set elements alone: missing sets added, each hook's chain (re)written, chains of
    hooks no longer configured removed."""
    listing = listing or Listing({}, {}, {})
    lines = [f"add table inet {table}"]
    for version in (4, 6):
        if set_name(version) not in listing.sets:
            lines.append(
                f"add set inet {table} {set_name(version)} "
                f"{{ type ipv{version}_addr; flags interval, timeout; }}"
            )
    for hook in hooks:
        if listing.base_chain(hook, hook, "accept") and chain_drops(listing, hook) == drops_for(
            hook
        ):
            continue
        lines.append(
            f"add chain inet {table} {hook} "
            f"{{ type filter hook {hook} priority {BLOCK_PRIORITY}; policy accept; }}"
        )
        lines.append(f"flush chain inet {table} {hook}")
        for proto, field, name in sorted(drops_for(hook)):
            lines.append(f"add rule inet {table} {hook} {proto} {field} @{name} counter drop")
    for extra in sorted(set(listing.chains) - set(hooks)):
        lines += [f"flush chain inet {table} {extra}", f"delete chain inet {table} {extra}"]
    return lines


def element_text(network: IPNetwork, duration: int | None, note: str | None) -> str:
    """One element as a script writes it: `{ 203.0.113.7 timeout 3600s comment "x" }`."""
    parts = [show(network)]
    if duration is not None:
        parts.append(f"timeout {duration}s")
    if note is not None:
        parts.append(f'comment "{note}"')
    return "{ " + " ".join(parts) + " }"


# -- isolation -------------------------------------------------------------------------


def collapsed(management: Iterable[str]) -> dict[int, list[IPNetwork]]:
    """The management networks per IP version, merged so that none overlaps (an interval
    set refuses overlapping elements)."""
    networks = [network_of(value) for value in management]
    v4 = [n for n in networks if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in networks if isinstance(n, ipaddress.IPv6Network)]
    return {
        4: list(ipaddress.collapse_addresses(v4)),
        6: list(ipaddress.collapse_addresses(v6)),
    }


def covered(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, management: Iterable[str]
) -> bool:
    """Whether `address` lies in one of the management networks."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(
        address in network for networks in collapsed(management).values() for network in networks
    )


def isolation_script(table: str, management: Iterable[str], note: str | None) -> str:
    """The whole isolation table, replacing any table of that name in one transaction."""
    name = isolation_table(table)
    networks = collapsed(management)
    lines = [f"add table inet {name}", f"delete table inet {name}", f"table inet {name} {{"]
    if note is not None:
        lines.append(f'    comment "{note}"')
    for version in (4, 6):
        members = ", ".join(show(n) for n in networks[version])
        elements_line = f" elements = {{ {members} }};" if members else ""
        lines.append(
            f"    set {management_set(version)} {{ type ipv{version}_addr; flags interval;"
            f"{elements_line} }}"
        )
    neighbour = "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept"
    for hook in ISOLATION_RULES:
        lines.append(
            f"    chain {hook} {{ type filter hook {hook} priority {ISOLATION_PRIORITY}; "
            "policy drop;"
        )
        if hook != "forward":
            interface, field = ("iif", "saddr") if hook == "input" else ("oif", "daddr")
            lines += [
                f'        {interface} "lo" accept',
                f"        {neighbour}",
                f"        ip {field} @{management_set(4)} accept",
                f"        ip6 {field} @{management_set(6)} accept",
            ]
        lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def isolation_in_effect(listing: Listing | None, management: Iterable[str]) -> bool:
    """Whether the isolation table holds its three chains with policy drop and their
    rules, and exactly the configured management networks."""
    if listing is None:
        return False
    for hook, count in ISOLATION_RULES.items():
        if not listing.base_chain(hook, hook, "drop") or len(listing.rules.get(hook, [])) != count:
            return False
    networks = collapsed(management)
    for version in (4, 6):
        if management_set(version) not in listing.sets:
            return False
        held = {(e.first, e.last) for e in listing.elements(management_set(version))}
        wanted = {(int(n.network_address), int(n.broadcast_address)) for n in networks[version]}
        if held != wanted:
            return False
    return True
