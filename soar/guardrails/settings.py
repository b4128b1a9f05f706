"""The guardrail policy: what containment must never touch, and how much of it per hour.

Configured under `[guardrails]`. Every list replaces its default when set, so an
operator who sets `never_block` should keep the defaults in it::

    [guardrails]
    gateways = ["10.0.0.1", "10.0.1.1"]
    resolvers = ["10.0.0.53"]
    never_isolate = ["dc-*", "backup-01.corp.example"]
    never_disable = ["administrator", "root", "breakglass-*"]

Accounts: `administrator` and `root` are protected by default because disabling the
built-in superuser can lock responders out in the middle of an incident. Break-glass
accounts have no standard name, so each site adds its own to `never_disable` (names or
fnmatch patterns). The list protects accounts from `revoke` as well as `disable`:
ending the sessions of a break-glass account during an incident does the same harm.

Prefixes: blocking more than a /16 of IPv4 or a /48 of IPv6 (one site's allocation)
at once is refused — a playbook blocks an attacker, not a continent. The limits are
settings for the site that knows better.
"""

from __future__ import annotations

import ipaddress

from pydantic import BaseModel, Field, field_validator

DEFAULT_NEVER_BLOCK = [
    "127.0.0.0/8",
    "::1/128",
    "169.254.0.0/16",
    "fe80::/10",
    "169.254.169.254/32",
    "fd00:ec2::254/128",
    "0.0.0.0/8",
]


class GuardrailSettings(BaseModel):
    """Protected addresses, hosts and accounts, and the hourly ceiling on containment."""

    never_block: list[str] = Field(
        default_factory=lambda: list(DEFAULT_NEVER_BLOCK),
        description="Addresses and networks never to block (CIDR or single address).",
    )
    gateways: list[str] = Field(
        default_factory=list, description="The site's gateway addresses; never blocked."
    )
    resolvers: list[str] = Field(
        default_factory=list, description="The site's DNS resolver addresses; never blocked."
    )
    never_isolate: list[str] = Field(
        default_factory=list, description="Host names or fnmatch patterns never to isolate."
    )
    never_isolate_tags: list[str] = Field(
        default_factory=lambda: ["domain-controller"],
        description="Inventory tags whose hosts are never isolated.",
    )
    never_disable: list[str] = Field(
        default_factory=lambda: ["administrator", "root"],
        description="Accounts or fnmatch patterns never disabled nor their sessions revoked.",
    )
    max_containments_per_hour: int = Field(
        default=20, ge=1, description="Containment actions applied in the last hour, at most."
    )
    min_block_prefix_v4: int = Field(
        default=16, ge=0, le=32, description="The widest IPv4 block allowed, as a prefix length."
    )
    min_block_prefix_v6: int = Field(
        default=48, ge=0, le=128, description="The widest IPv6 block allowed, as a prefix length."
    )

    @field_validator("never_block", "gateways", "resolvers")
    @classmethod
    def _networks_parse(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value.strip(), strict=False)
            except ValueError as error:
                raise ValueError(f"{value!r} is not an IP address or network") from error
        return [value.strip() for value in values]

    @field_validator("never_isolate_tags")
    @classmethod
    def _tags_lower(cls, values: list[str]) -> list[str]:
        return [value.strip().lower() for value in values]
