"""An in-memory actuator that records every call, for tests that must prove an actuator
was — or was never — called.

It keeps the actuator contract: applying a command twice leaves one entry in
:attr:`RecordingActuator.in_effect`, and reverting what is not in effect succeeds.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from soar.containment.actuators import ActuatorResult
from soar.containment.models import ContainmentCommand, ContainmentVerb, TargetType

Method = Literal["apply", "verify", "revert"]
Key = tuple[ContainmentVerb, TargetType, str]


@dataclass(frozen=True)
class ActuatorCall:
    """One call made to the actuator."""

    method: Method
    command: ContainmentCommand


def command_key(command: ContainmentCommand) -> Key:
    """What makes two commands the same: the action and the normalised target."""
    target = command.target
    if target.type in (TargetType.IPV4_NET, TargetType.IPV6_NET):
        value = str(ipaddress.ip_network(target.value, strict=False))
    else:
        value = target.value.strip().lower()
    return (command.action, target.type, value)


class RecordingActuator:
    """Handles the given actions (all by default) and records each call in :attr:`calls`.

    `refuse=True` makes `apply` answer a definitive no; `confirm=False` makes `verify`
    report nothing in effect, like a product that applies asynchronously.
    """

    def __init__(
        self,
        name: str = "recording",
        *,
        actions: Iterable[ContainmentVerb] | None = None,
        refuse: bool = False,
        confirm: bool = True,
    ) -> None:
        self._name = name
        self.actions = frozenset(ContainmentVerb if actions is None else actions)
        self.refuse = refuse
        self.confirm = confirm
        self.calls: list[ActuatorCall] = []
        self.in_effect: dict[Key, ContainmentCommand] = {}

    @property
    def name(self) -> str:
        return self._name

    @property
    def called(self) -> bool:
        """Whether apply, verify or revert was ever called."""
        return bool(self.calls)

    def calls_to(self, method: Method) -> list[ContainmentCommand]:
        """The commands passed to one method, in call order."""
        return [call.command for call in self.calls if call.method == method]

    def handles(self, command: ContainmentCommand) -> bool:
        return command.action in self.actions

    async def apply(self, command: ContainmentCommand) -> ActuatorResult:
        self.calls.append(ActuatorCall("apply", command))
        if self.refuse:
            return ActuatorResult(ok=False, detail="refused by the test actuator")
        key = command_key(command)
        already = key in self.in_effect
        self.in_effect[key] = command
        return ActuatorResult(ok=True, detail="already in effect" if already else "applied")

    async def verify(self, command: ContainmentCommand) -> bool:
        self.calls.append(ActuatorCall("verify", command))
        return self.confirm and command_key(command) in self.in_effect

    async def revert(self, command: ContainmentCommand) -> ActuatorResult:
        self.calls.append(ActuatorCall("revert", command))
        removed = self.in_effect.pop(command_key(command), None)
        return ActuatorResult(ok=True, detail="reverted" if removed else "was not in effect")
