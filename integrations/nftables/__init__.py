"""The `nftables` integration: a Linux host or gateway's own firewall, driven over SSH.

Configured as::

    [actuators.edge]
    type = "nftables"
    options = { host = "gw.corp.example", username = "root",
                client_keys = ["/etc/soar/edge_ed25519"],
                known_hosts = "/etc/soar/known_hosts",
                management = ["10.0.0.5"] }

It blocks IPv4/IPv6 networks (`deny`) in the table `inet <table>` and isolates the host
itself (`contain`, when the target names it) — see :mod:`integrations.nftables.actuator`.
Building it reads the key files and `known_hosts` but connects to nothing; the first
command connects.
"""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.nftables import ruleset
from integrations.nftables.actuator import NftablesActuator
from integrations.nftables.options import NftablesOptions
from soar.integrations.errors import IntegrationConfigError, PermanentError


def make_actuator(name: str, options: NftablesOptions) -> NftablesActuator:
    """The actuator for `[actuators.<name>]` (raises a configuration error naming
    `client_keys` or `known_hosts` when a file cannot be read)."""
    return NftablesActuator(name, options)


async def check(name: str, options: NftablesOptions) -> list[str]:
    """Connect (verifying the host key), ask nft its version and say what the tables
    hold and whether isolation would be allowed — changing nothing. A key file or
    known_hosts that cannot be read is a :class:`PermanentError` naming the option."""
    try:
        actuator = NftablesActuator(name, options)
    except IntegrationConfigError as error:
        raise PermanentError(name, str(error)) from None
    shell, table = actuator.shell, options.table
    try:
        version = await actuator.nft.version()
        lines = [
            f"connected to {shell.where} as {options.username}; the host key matches "
            f"{options.known_hosts}",
            f"nft: {version}",
        ]
        objects = await actuator.nft.read(f"table inet {table}")
        if objects is None:
            lines.append(f"table inet {table}: absent (made by the first block)")
        else:
            listing = ruleset.Listing.of(objects)
            blocked = sum(len(listing.elements(ruleset.set_name(v))) for v in (4, 6))
            state = (
                f"dropping on {', '.join(options.hooks)}"
                if ruleset.blocklist_ready(listing, options.hooks)
                else "not laid out as configured (rewritten by the next block)"
            )
            lines.append(f"table inet {table}: {blocked} blocked networks, {state}")
        isolation = ruleset.isolation_table(table)
        isolated = await actuator.nft.read(f"table inet {isolation}") is not None
        lines.append(f"isolation (table inet {isolation}): {'in effect' if isolated else 'off'}")
        peer = await shell.peer_address()
        if peer is not None and ruleset.covered(peer, options.management):
            lines.append(f"this product connects from {peer}, which management covers")
        else:
            lines.append(
                f"this product connects from {peer or 'an address the host does not say'}, "
                "which management does not cover: contain would be refused"
            )
        return lines
    finally:
        await actuator.aclose()


INTEGRATION = Integration(
    vendor="nftables (Linux, over SSH)",
    handles="blocks IPv4/IPv6 networks and isolates the host, with nft over SSH",
    options=NftablesOptions,
    actuator=make_actuator,
    check=check,
)
