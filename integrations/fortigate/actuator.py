"""Blocking addresses on a FortiGate by banning them (the banned-IP "quarantine").

`deny` adds the address to the FortiGate's banned list, which drops its traffic through
the firewall; `args.duration_seconds` becomes the ban's expiry, so FortiOS lifts it by
itself (none: until cleared). `revert` clears the ban, and `verify` reads the banned
list back. A ban already there is left as it is (its own expiry stands).

The banned list holds single addresses: a CIDR target of more than one address is a
definitive no, and a /32 or /128 is its address. A ban carries no comment, so the case
id is not written at the FortiGate; it is in the timeline.
"""

from __future__ import annotations

import ipaddress

from integrations.fortigate.client import Address, FortigateClient
from integrations.fortigate.options import FortigateOptions
from soar.containment.actuators import ActuatorResult
from soar.containment.models import ContainmentCommand, ContainmentVerb, TargetType

NETWORK_TARGETS = frozenset({TargetType.IPV4_NET, TargetType.IPV6_NET})


def single_address(value: str) -> Address | None:
    """The address a target names, or None for a network of more than one address."""
    network = ipaddress.ip_network(value, strict=False)
    return network.network_address if network.num_addresses == 1 else None


class FortigateActuator:
    """`deny` of `ipv4_net` and `ipv6_net` targets on one FortiGate's banned list."""

    def __init__(self, name: str, options: FortigateOptions) -> None:
        self.name = name
        self.client = FortigateClient(name, options)

    async def aclose(self) -> None:
        await self.client.aclose()

    def handles(self, command: ContainmentCommand) -> bool:
        return command.action is ContainmentVerb.DENY and command.target.type in NETWORK_TARGETS

    async def apply(self, command: ContainmentCommand) -> ActuatorResult:
        """Ban the address unless the FortiGate has it banned already."""
        value = command.target.value
        address = single_address(value)
        if address is None:
            size = ipaddress.ip_network(value, strict=False).num_addresses
            return ActuatorResult(
                ok=False,
                detail=f"the FortiGate bans single addresses, and {value} is a network of "
                f"{size} addresses; block it with a firewall policy or another actuator",
            )
        seconds = command.args.duration_seconds
        data: dict[str, object] = {"address": str(address), "expiry_seconds": seconds or 0}
        existing = (await self.client.banned()).get(address)
        if existing is not None:
            until = f"until {existing.expires} (epoch s)" if existing.expires else "until cleared"
            return ActuatorResult(
                ok=True,
                detail=f"{address} is already banned {until}",
                data={**data, "changed": False},
            )
        changed = await self.client.ban(address, seconds)
        if not changed:
            detail = f"{address} was already banned"
        elif seconds is None:
            detail = f"banned {address} until cleared"
        else:
            detail = f"banned {address} for {seconds} s"
        return ActuatorResult(ok=True, detail=detail, data={**data, "changed": changed})

    async def verify(self, command: ContainmentCommand) -> bool:
        """Whether the FortiGate lists the address as banned now."""
        address = single_address(command.target.value)
        return address is not None and address in await self.client.banned()

    async def revert(self, command: ContainmentCommand) -> ActuatorResult:
        """Clear the ban, if the FortiGate has the address banned."""
        value = command.target.value
        address = single_address(value)
        if address is None:
            return ActuatorResult(
                ok=True,
                detail=f"the FortiGate never bans a network such as {value}; nothing to undo",
            )
        data = {"address": str(address)}
        if address not in await self.client.banned():
            return ActuatorResult(
                ok=True,
                detail=f"{address} is not banned; nothing to undo",
                data={**data, "changed": False},
            )
        changed = await self.client.clear(address)
        detail = f"cleared the ban on {address}" if changed else f"{address} was no longer banned"
        return ActuatorResult(ok=True, detail=detail, data={**data, "changed": changed})
