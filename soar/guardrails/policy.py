"""The guardrail check: may this containment command run?

Pure and cheap, so it runs twice: before an approval is requested (nobody is asked to
approve what would be refused) and inside the containment activity right before the
actuator is called (the policy, the inventory or the hourly count may have changed
while the approval waited).

Networks are compared both ways: a target inside a protected network is refused
(`169.254.169.254` is in the link-local range), and so is a target that contains a
protected address (blocking `10.0.0.0/8` would cut off the gateway `10.0.0.1`). An
IPv4-mapped IPv6 target (`::ffff:10.0.0.1`) is checked as the IPv4 address it carries.
A host target written as an IP address is checked against the protected addresses too.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from soar.containment.models import ContainmentCommand, TargetType
from soar.enrichment.addresses import IPNetwork
from soar.enrichment.inventory import Inventory
from soar.enrichment.names import WILDCARDS, account_matches, host_matches
from soar.guardrails.models import GuardrailDecision
from soar.guardrails.settings import GuardrailSettings

WELL_KNOWN: dict[str, str] = {
    "127.0.0.0/8": "the loopback network",
    "::1/128": "the loopback address",
    "169.254.0.0/16": "the link-local network",
    "fe80::/10": "the IPv6 link-local network",
    "169.254.169.254/32": "the cloud metadata address",
    "fd00:ec2::254/128": "the cloud metadata address (IPv6)",
    "0.0.0.0/8": '"this network"',
}
"""How the default protected networks are named in a refusal."""

IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


@dataclass(frozen=True)
class Protected:
    """A network that must never be blocked, what it is, and the setting that says so."""

    network: IPNetwork
    label: str
    rule: str


def check(
    command: ContainmentCommand,
    policy: GuardrailSettings,
    inventory: Inventory,
    recent_containments: int,
) -> GuardrailDecision:
    """Allow the command, or refuse it with a reason that explains itself.

    `recent_containments` is the number of containment actions applied in the last hour.
    """
    target = command.target
    if target.type in (TargetType.IPV4_NET, TargetType.IPV6_NET):
        refusal = _check_network(target.value, policy)
    elif target.type is TargetType.HOSTNAME:
        refusal = _check_host(target.value, policy, inventory)
    else:
        refusal = _check_account(target.value, policy)
    if refusal is None and recent_containments >= policy.max_containments_per_hour:
        refusal = _refuse(
            "max_containments_per_hour",
            f"{recent_containments} containment actions in the last hour already reach "
            f"the ceiling of {policy.max_containments_per_hour}",
        )
    if refusal is not None:
        return refusal
    return GuardrailDecision(
        allowed=True,
        reason=(
            f"allowed: {command.action.value} {target.value} passes every guardrail "
            f"({recent_containments} of {policy.max_containments_per_hour} containment "
            "actions used in the last hour)"
        ),
    )


def _refuse(rule: str, why: str) -> GuardrailDecision:
    return GuardrailDecision(allowed=False, reason=f"refused: {why} ({rule})", rule=rule)


def _protected_networks(policy: GuardrailSettings, version: int) -> list[Protected]:
    """Every protected network of one IP version, the most specific first."""
    entries = [
        *(Protected(_network(v), "a configured gateway", "gateways") for v in policy.gateways),
        *(Protected(_network(v), "a configured resolver", "resolvers") for v in policy.resolvers),
        *(Protected(_network(v), _label(_network(v)), "never_block") for v in policy.never_block),
    ]
    same_family = [entry for entry in entries if entry.network.version == version]
    return sorted(same_family, key=lambda entry: entry.network.prefixlen, reverse=True)


def _label(network: IPNetwork) -> str:
    default = "a protected address" if network.num_addresses == 1 else "a protected network"
    return WELL_KNOWN.get(str(network), default)


def _within(inner: IPNetwork, outer: IPNetwork) -> bool:
    """Whether `inner` lies entirely inside `outer` (both of the same family)."""
    first, last = int(inner.network_address), int(inner.broadcast_address)
    return int(outer.network_address) <= first and last <= int(outer.broadcast_address)


def _network(value: str) -> IPNetwork:
    """The network, with an IPv4-mapped IPv6 network turned into its IPv4 one."""
    network = ipaddress.ip_network(value.strip(), strict=False)
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(IPV4_MAPPED):
        mapped = int(network.network_address) & 0xFFFF_FFFF
        return ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    return network


def _show(network: IPNetwork) -> str:
    return str(network.network_address) if network.num_addresses == 1 else str(network)


def _check_network(value: str, policy: GuardrailSettings) -> GuardrailDecision | None:
    target = _network(value)
    shown = _show(target)
    protected_networks = _protected_networks(policy, target.version)
    for protected in protected_networks:
        if target == protected.network:
            return _refuse(protected.rule, f"{shown} is {protected.label}")
        if _within(target, protected.network):
            return _refuse(protected.rule, f"{shown} is in {protected.network}, {protected.label}")
    for protected in protected_networks:
        if _within(protected.network, target):
            return _refuse(
                protected.rule,
                f"{shown} contains {_show(protected.network)}, {protected.label}",
            )
    widest = policy.min_block_prefix_v4 if target.version == 4 else policy.min_block_prefix_v6
    if target.prefixlen < widest:
        rule = f"min_block_prefix_v{target.version}"
        return _refuse(
            rule,
            f"{shown} spans {target.num_addresses:,} addresses, more than the widest "
            f"block allowed (/{widest})",
        )
    return None


def _check_host(
    value: str, policy: GuardrailSettings, inventory: Inventory
) -> GuardrailDecision | None:
    try:
        as_address = _check_network(value, policy)
    except ValueError:
        as_address = None
    if as_address is not None:
        return as_address
    for pattern in policy.never_isolate:
        if host_matches(value, pattern):
            return _refuse("never_isolate", f"host {value} {_listed(pattern, 'never-isolate')}")
    protected_tags = set(policy.never_isolate_tags)
    for asset in inventory.hosts(value):
        for tag in asset.tags:
            if tag in protected_tags:
                known_as = (
                    "" if asset.hostname == value else f" ({asset.hostname} in the inventory)"
                )
                return _refuse(
                    "never_isolate_tags",
                    f"host {value}{known_as} is tagged {tag} in the inventory",
                )
    return None


def _check_account(value: str, policy: GuardrailSettings) -> GuardrailDecision | None:
    for pattern in policy.never_disable:
        if account_matches(value, pattern):
            return _refuse("never_disable", f"account {value} {_listed(pattern, 'never-disable')}")
    return None


def _listed(pattern: str, list_name: str) -> str:
    if WILDCARDS.intersection(pattern):
        return f"matches the {list_name} pattern {pattern!r}"
    return f"is on the {list_name} list"
