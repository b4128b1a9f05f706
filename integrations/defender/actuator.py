"""Host isolation through Microsoft Defender for Endpoint.

Isolating is a machine action (`POST /api/machines/{id}/isolate`) that goes `Pending` →
`InProgress` → `Succeeded` (or `Failed`, `TimeOut`, `Cancelled`) once the sensor has
acted. Defender's machine entity says nothing about isolation, so the state is read
from the machine's own isolation actions: the latest Isolate or Unisolate action that
has not failed decides (none: not isolated). Hence:

- `apply` asks only when that action is not an Isolate; a pending Isolate is already
  done (applied, not verified yet);
- `revert` likewise asks only when it is an Isolate;
- a repeat that crosses a pending action — Defender answers 400 "Action is already in
  progress" — reads the actions again: a pending action of the same kind is in effect,
  one of the other kind a transient failure retried later;
- a change that finds the opposite action pending first polls it (up to
  `settle_seconds`);
- `verify` polls a pending action the same way (`GET /api/machineactions/{id}`) and
  confirms only an Isolate that `Succeeded`.

The case id (the command's reference) is written in each action's comment.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import TypeGuard

from integrations.defender.client import (
    ISOLATE,
    UNISOLATE,
    DefenderClient,
    Machine,
    MachineAction,
)
from integrations.defender.options import DefenderOptions
from soar.containment.actuators import ActuatorResult
from soar.containment.models import ContainmentCommand, ContainmentVerb, TargetType
from soar.integrations.errors import RequestRejected, TargetNotFound, TransientError

PENDING = frozenset({"Pending", "InProgress"})
SUCCEEDED = "Succeeded"
WITHOUT_EFFECT = frozenset({"Failed", "TimeOut", "Cancelled"})
IN_PROGRESS = re.compile(r"already in progress|ActiveRequestAlreadyExists", re.IGNORECASE)


@dataclass(frozen=True)
class _Change:
    """One direction: the machine action that makes it, and how it is said."""

    kind: str
    opposite: str
    verb: str
    state: str


ISOLATION = _Change(ISOLATE, UNISOLATE, "isolate", "isolated")
RELEASE = _Change(UNISOLATE, ISOLATE, "release", "not isolated")


def standing(actions: list[MachineAction]) -> MachineAction | None:
    """The action that decides whether the machine is isolated: the latest Isolate or
    Unisolate that did not end without effect."""
    live = [a for a in actions if a.status not in WITHOUT_EFFECT]
    return max(live, key=lambda a: a.created) if live else None


def _holds(current: MachineAction | None, change: _Change) -> bool:
    """Whether the machine is in (or on its way to) the state `change` makes."""
    kind = current.type if current is not None else UNISOLATE
    return kind == change.kind


def _pending(current: MachineAction | None, kind: str) -> TypeGuard[MachineAction]:
    return current is not None and current.type == kind and current.status in PENDING


class DefenderActuator:
    """Isolates machines (`contain` of a `hostname`) through Defender for Endpoint."""

    def __init__(self, name: str, options: DefenderOptions) -> None:
        self._name = name
        self.options = options
        self.client = DefenderClient(name, options)

    @property
    def name(self) -> str:
        return self._name

    def handles(self, command: ContainmentCommand) -> bool:
        return (
            command.action is ContainmentVerb.CONTAIN and command.target.type is TargetType.HOSTNAME
        )

    async def apply(self, command: ContainmentCommand) -> ActuatorResult:
        return await self._change(command, ISOLATION)

    async def revert(self, command: ContainmentCommand) -> ActuatorResult:
        return await self._change(command, RELEASE)

    async def verify(self, command: ContainmentCommand) -> bool:
        machine = await self._find(command)
        current = standing(await self.client.isolation_actions(machine))
        if current is not None and current.status in PENDING:
            settled = await self._settled(current)
            if settled.status in WITHOUT_EFFECT:
                current = standing(await self.client.isolation_actions(machine))
            else:
                current = settled
        return current is not None and current.type == ISOLATE and current.status == SUCCEEDED

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _change(self, command: ContainmentCommand, change: _Change) -> ActuatorResult:
        machine = await self._find(command)
        current = standing(await self.client.isolation_actions(machine))
        if _pending(current, change.opposite):
            await self._settled(current)
            current = standing(await self.client.isolation_actions(machine))
            if _pending(current, change.opposite):
                raise TransientError(
                    self._name,
                    f"a {change.opposite} action on {machine.computer_dns_name} is still "
                    f"pending; retrying to {change.verb} it later",
                )
        if _holds(current, change):
            return self._already(machine, current, change)
        comment = _comment(command, change)
        try:
            if change is ISOLATION:
                action = await self.client.isolate(machine, comment, self.options.isolation_type)
            else:
                action = await self.client.unisolate(machine, comment)
        except RequestRejected as rejected:
            if rejected.status != 400 or not IN_PROGRESS.search(rejected.reason):
                raise
            current = standing(await self.client.isolation_actions(machine))
            if _holds(current, change):
                return self._already(machine, current, change)
            raise TransientError(
                self._name,
                f"another isolation action is in progress on {machine.computer_dns_name}; "
                f"retrying to {change.verb} it later",
            ) from None
        return ActuatorResult(
            ok=True,
            detail=f"asked Defender to {change.verb} {machine.computer_dns_name} "
            f"(action {action.id}, {action.status})",
            data=_data(machine, action),
        )

    def _already(
        self, machine: Machine, current: MachineAction | None, change: _Change
    ) -> ActuatorResult:
        if current is not None and current.status in PENDING:
            detail = (
                f"{machine.computer_dns_name}: a {current.type} action is already "
                f"{current.status} (action {current.id})"
            )
        else:
            detail = f"{machine.computer_dns_name} is already {change.state}"
        return ActuatorResult(ok=True, detail=detail, data=_data(machine, current))

    async def _find(self, command: ContainmentCommand) -> Machine:
        hostname = command.target.value.strip()
        machine = await self.client.find(hostname)
        if machine is None:
            raise TargetNotFound(self._name, f"no host named {hostname} in Defender")
        return machine

    async def _settled(self, action: MachineAction) -> MachineAction:
        """The action once it is no longer pending, or as it is after `settle_seconds`."""
        deadline = time.monotonic() + self.options.settle_seconds
        while action.status in PENDING and time.monotonic() < deadline:
            await asyncio.sleep(self.options.poll_seconds)
            action = await self.client.action(action.id)
        return action


def _comment(command: ContainmentCommand, change: _Change) -> str:
    """The action's comment, naming the case when the command carries it."""
    case = f" for case {command.args.reference}" if command.args.reference else ""
    return f"SOAR: {change.verb} {command.target.value.strip()}{case}"


def _data(machine: Machine, action: MachineAction | None) -> dict[str, str]:
    data = {"machine_id": machine.id, "computer_dns_name": machine.computer_dns_name}
    if action is not None:
        data |= {"action_id": action.id, "action": action.type, "status": action.status}
    return data
