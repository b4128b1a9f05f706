"""Options of the `nftables` integration: which host to reach over SSH, how to prove
who it is, and how its firewall is laid out.

The host key is always checked against `known_hosts`; there is no option to accept an
unknown key, because a containment tool that talks to whoever answers can be turned
against the network it protects. `table`, `hooks` and the addresses are the only values
that reach an nft script besides the (validated) targets, so each is checked here.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from integrations.core.options import IntegrationOptions

Hook = Literal["input", "forward", "output"]
DEFAULT_HOOKS: tuple[Hook, ...] = ("input", "forward")

TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,19}")
"""A table name nft takes unquoted; short, so `<table>_isolation` stays short too."""


class NftablesOptions(IntegrationOptions):
    """`[actuators.<name>] type = "nftables"`: one Linux host or gateway over SSH."""

    host: str = Field(min_length=1, description="The host's name or address to SSH to.")
    port: int = Field(default=22, ge=1, le=65535)
    username: str = Field(
        min_length=1, description="Who to log in as; the account must be able to run nft."
    )
    client_keys: list[Path] = Field(
        default_factory=list, description="Private key files (unencrypted) to log in with."
    )
    password: SecretStr | None = Field(
        default=None, description="A password to log in with, when no key is used."
    )
    known_hosts: Path = Field(
        description="An OpenSSH known_hosts file holding the host's key; an unknown or "
        "different key is refused."
    )
    table: str = Field(default="soar", description="The nft table (family inet) of blocks.")
    hooks: list[Hook] = Field(
        default_factory=lambda: list(DEFAULT_HOOKS),
        min_length=1,
        description="Where blocked networks are dropped: `input` (to this host), "
        "`forward` (through it, both directions), `output` (from it).",
    )
    management: list[str] = Field(
        default_factory=list,
        description="Addresses and networks that still reach the host while it is "
        "isolated; the address this product connects from must be among them.",
    )
    hostnames: list[str] = Field(
        default_factory=list,
        description="Names the host is known by in alerts, besides `host`, for `contain`.",
    )
    connect_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    command_timeout_seconds: float = Field(default=15.0, gt=0, le=300)

    @field_validator("table")
    @classmethod
    def _table_name(cls, value: str) -> str:
        if not TABLE_NAME.fullmatch(value):
            raise ValueError(
                "must start with a letter and hold only letters, digits and _ (20 at most)"
            )
        return value

    @field_validator("hooks")
    @classmethod
    def _distinct_hooks(cls, values: list[Hook]) -> list[Hook]:
        return list(dict.fromkeys(values))

    @field_validator("management")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value.strip(), strict=False)
            except ValueError as error:
                raise ValueError(f"{value!r} is not an IP address or network") from error
        return [value.strip() for value in values]

    @model_validator(mode="after")
    def _some_credential(self) -> NftablesOptions:
        if not self.client_keys and self.password is None:
            raise ValueError("give client_keys or a password to log in with")
        return self

    def names(self) -> frozenset[str]:
        """Every name `contain` recognises as this host (lower case, no trailing dot)."""
        return frozenset(host_name(value) for value in (self.host, *self.hostnames))


def host_name(value: str) -> str:
    """A host name as :meth:`NftablesOptions.names` compares it."""
    return value.strip().rstrip(".").lower()
