"""Blocking addresses on a Palo Alto Networks firewall by tagging them.

`deny` registers the configured tag on the address through the User-ID API; a dynamic
address group matching that tag, used by a deny rule, then holds the address — at once,
without a commit. `args.duration_seconds` becomes the tag's timeout, so PAN-OS drops it
by itself (at most 30 days); without one the tag stays until reverted. `revert`
unregisters the tag, and `verify` reads the registered addresses back from PAN-OS.

PAN-OS registers single addresses: a CIDR target of more than one address (a /24) is a
definitive no, and a /32 or /128 is its address. PAN-OS keeps no note on a registered
tag, so the case id is not written there; it is in the timeline.
"""

from __future__ import annotations

import ipaddress

from integrations.panos.client import Address, PanosClient
from integrations.panos.options import PanosOptions
from soar.containment.actuators import ActuatorResult
from soar.containment.models import ContainmentCommand, ContainmentVerb, TargetType

MAX_TIMEOUT = 2_592_000
"""The longest tag timeout PAN-OS takes: 30 days."""

NETWORK_TARGETS = frozenset({TargetType.IPV4_NET, TargetType.IPV6_NET})


def single_address(value: str) -> Address | None:
    """The address a target names, or None for a network of more than one address."""
    network = ipaddress.ip_network(value, strict=False)
    return network.network_address if network.num_addresses == 1 else None


class PanosActuator:
    """`deny` of `ipv4_net` and `ipv6_net` targets by tagging them on one PAN-OS device."""

    def __init__(self, name: str, options: PanosOptions) -> None:
        self.name = name
        self.tag = options.tag
        self.client = PanosClient(name, options)

    async def aclose(self) -> None:
        await self.client.aclose()

    def handles(self, command: ContainmentCommand) -> bool:
        return command.action is ContainmentVerb.DENY and command.target.type in NETWORK_TARGETS

    async def apply(self, command: ContainmentCommand) -> ActuatorResult:
        """Register the tag on the address unless PAN-OS already has it registered."""
        value = command.target.value
        address = single_address(value)
        if address is None:
            return ActuatorResult(
                ok=False,
                detail=f"PAN-OS tags single addresses, and {value} is a network of "
                f"{ipaddress.ip_network(value, strict=False).num_addresses} addresses; "
                "block it with a security rule or another actuator",
            )
        timeout = command.args.duration_seconds
        if timeout is not None and timeout > MAX_TIMEOUT:
            return ActuatorResult(
                ok=False,
                detail=f"PAN-OS keeps a tag at most {MAX_TIMEOUT} s (30 days), not "
                f"{timeout} s; block for less, or without a duration and revert by hand",
            )
        data: dict[str, object] = {"address": str(address), "tag": self.tag}
        if timeout is not None:
            data["timeout_seconds"] = timeout
        if address in await self.client.registered(address):
            return ActuatorResult(
                ok=True,
                detail=f"{address} is already tagged {self.tag}",
                data={**data, "changed": False},
            )
        changed = await self.client.register(address, timeout)
        if not changed:
            detail = f"{address} was already tagged {self.tag}"
        elif timeout is None:
            detail = f"tagged {address} {self.tag} until reverted"
        else:
            detail = f"tagged {address} {self.tag} for {timeout} s"
        return ActuatorResult(ok=True, detail=detail, data={**data, "changed": changed})

    async def verify(self, command: ContainmentCommand) -> bool:
        """Whether PAN-OS lists the address as registered with the tag now."""
        address = single_address(command.target.value)
        return address is not None and address in await self.client.registered(address)

    async def revert(self, command: ContainmentCommand) -> ActuatorResult:
        """Unregister the tag from the address, if PAN-OS has it registered."""
        value = command.target.value
        address = single_address(value)
        if address is None:
            return ActuatorResult(
                ok=True, detail=f"PAN-OS never tags a network such as {value}; nothing to undo"
            )
        data = {"address": str(address), "tag": self.tag}
        if address not in await self.client.registered(address):
            return ActuatorResult(
                ok=True,
                detail=f"{address} is not tagged {self.tag}; nothing to undo",
                data={**data, "changed": False},
            )
        changed = await self.client.unregister(address)
        detail = f"untagged {address}" if changed else f"{address} was no longer tagged"
        return ActuatorResult(
            ok=True, detail=f"{detail} ({self.tag})", data={**data, "changed": changed}
        )
