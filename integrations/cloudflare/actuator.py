"""Blocking addresses at Cloudflare with IP Access rules in one zone.

`deny` creates a `block` rule whose notes are the case id, so a person at Cloudflare
sees why it is there. The configuration follows Cloudflare's rules for targets:

- a single address (or a /32, a /128) is target `ip` (IPv4) or `ip6` (IPv6);
- a network is target `ip_range`, which Cloudflare takes for IPv4 /16 and /24 and IPv6
  /32, /48 and /64 only: any other prefix is a definitive no, in words.

A rule for the same configuration with another mode (an allowlist entry, a challenge)
is someone's decision: it is not replaced, and the command is refused. Cloudflare
rules do not expire, so `args.duration_seconds` is not Cloudflare's to keep: the rule
stays until reverted. `revert` deletes the block rules for the configuration, `verify`
reads them back.
"""

from __future__ import annotations

import ipaddress

from integrations.cloudflare.client import CloudflareClient, Rule
from integrations.cloudflare.options import CloudflareOptions
from soar.containment.actuators import ActuatorResult
from soar.containment.models import ContainmentCommand, ContainmentVerb, TargetType

NETWORK_TARGETS = frozenset({TargetType.IPV4_NET, TargetType.IPV6_NET})
RANGE_PREFIXES = {4: (16, 24), 6: (32, 48, 64)}
"""The prefix lengths Cloudflare takes for an `ip_range` rule, by IP version."""
BLOCK = "block"


def configuration(value: str) -> tuple[str, str] | None:
    """The `(target, value)` of a rule for a command's target (None: Cloudflare has no
    rule for a network of that size)."""
    network = ipaddress.ip_network(value, strict=False)
    if network.num_addresses == 1:
        target = "ip" if network.version == 4 else "ip6"
        return target, str(network.network_address)
    if network.prefixlen in RANGE_PREFIXES[network.version]:
        return "ip_range", str(network)
    return None


class CloudflareActuator:
    """`deny` of `ipv4_net` and `ipv6_net` targets with IP Access rules of one zone."""

    def __init__(self, name: str, options: CloudflareOptions) -> None:
        self.name = name
        self.client = CloudflareClient(name, options)

    async def aclose(self) -> None:
        await self.client.aclose()

    def handles(self, command: ContainmentCommand) -> bool:
        return command.action is ContainmentVerb.DENY and command.target.type in NETWORK_TARGETS

    async def apply(self, command: ContainmentCommand) -> ActuatorResult:
        """Create a block rule unless the zone has one for the configuration already."""
        value = command.target.value
        config = configuration(value)
        if config is None:
            return _unsupported(value)
        target, rule_value = config
        rules = await self.client.find(target, rule_value)
        if not rules:
            created = await self.client.create(target, rule_value, command.args.reference)
            if created is not None:
                return _result(True, f"blocked {rule_value} at Cloudflare until reverted", created)
            # Someone created one between the read and the create (10009): read it.
            rules = await self.client.find(target, rule_value)
            if not rules:
                return ActuatorResult(
                    ok=True,
                    detail=f"Cloudflare reports a rule for {rule_value} exists already",
                    data={"target": target, "value": rule_value, "changed": False},
                )
        return _existing(rules, rule_value)

    async def verify(self, command: ContainmentCommand) -> bool:
        """Whether the zone has a block rule for the configuration now."""
        config = configuration(command.target.value)
        if config is None:
            return False
        return any(rule.mode == BLOCK for rule in await self.client.find(*config))

    async def revert(self, command: ContainmentCommand) -> ActuatorResult:
        """Delete the block rules for the configuration (rules of other modes stay)."""
        value = command.target.value
        config = configuration(value)
        if config is None:
            return ActuatorResult(
                ok=True, detail=f"Cloudflare has no rule for a network such as {value}"
            )
        blocks = [rule for rule in await self.client.find(*config) if rule.mode == BLOCK]
        if not blocks:
            return ActuatorResult(
                ok=True,
                detail=f"no Cloudflare rule blocks {config[1]}; nothing to undo",
                data={"target": config[0], "value": config[1], "changed": False},
            )
        deleted = [rule.id for rule in blocks if await self.client.delete(rule.id)]
        return ActuatorResult(
            ok=True,
            detail=f"deleted the Cloudflare rule blocking {config[1]}"
            if deleted
            else f"the Cloudflare rule blocking {config[1]} was gone already",
            data={
                "target": config[0],
                "value": config[1],
                "rule_ids": deleted,
                "changed": bool(deleted),
            },
        )


def _unsupported(value: str) -> ActuatorResult:
    network = ipaddress.ip_network(value, strict=False)
    prefixes = " and ".join(f"/{p}" for p in RANGE_PREFIXES[network.version])
    return ActuatorResult(
        ok=False,
        detail=f"Cloudflare blocks IPv{network.version} ranges of {prefixes} only, not "
        f"{network} (/{network.prefixlen}); block the enclosing range or single addresses",
    )


def _existing(rules: list[Rule], value: str) -> ActuatorResult:
    """The answer when the zone has rules for the configuration already."""
    for rule in rules:
        if rule.mode == BLOCK:
            return _result(True, f"{value} is already blocked at Cloudflare", rule, changed=False)
    rule = rules[0]
    return _result(
        False,
        f"Cloudflare has a {rule.mode} rule for {value} (rule {rule.id}, notes "
        f"{rule.notes!r}); it is left as it is — a person decides whether to replace it",
        rule,
        changed=False,
    )


def _result(ok: bool, detail: str, rule: Rule, *, changed: bool = True) -> ActuatorResult:
    """A result carrying Cloudflare's reference for the rule."""
    return ActuatorResult(
        ok=ok,
        detail=detail,
        data={
            "rule_id": rule.id,
            "mode": rule.mode,
            "target": rule.target,
            "value": rule.value,
            "notes": rule.notes,
            "changed": changed,
        },
    )
