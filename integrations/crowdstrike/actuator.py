"""Network containment of a host through CrowdStrike Falcon.

Falcon containment is asynchronous: asking for it moves the host to
`containment_pending`, and the sensor reports `contained` once it has cut the host off
(`lift_containment` goes through `lift_containment_pending` back to `normal`). So:

- `apply` reads the status first and asks only when needed: `contained` and
  `containment_pending` are already done (Falcon does not document what a repeated
  request does, so none is sent);
- `revert` likewise treats `normal` and `lift_containment_pending` as done;
- a change that finds the opposite one in flight waits for it to settle (up to
  `settle_seconds`), and if it has not, fails transiently so the activity is retried;
- `verify` waits the same way for a pending status, and confirms only `contained`: a
  request still pending is applied but not verified yet.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from integrations.crowdstrike.client import FalconClient, FalconHost
from integrations.crowdstrike.options import CrowdStrikeOptions
from soar.containment.actuators import ActuatorResult
from soar.containment.models import ContainmentCommand, ContainmentVerb, TargetType
from soar.integrations.errors import RequestRejected, TargetNotFound, TransientError

CONTAINED = "contained"
NORMAL = "normal"
CONTAINMENT_PENDING = "containment_pending"
LIFT_PENDING = "lift_containment_pending"
PENDING = frozenset({CONTAINMENT_PENDING, LIFT_PENDING})
UNSAFE_IN_FILTER = ("'", "\\")
"""Characters that would end or escape the quoted hostname of an FQL filter."""


@dataclass(frozen=True)
class _Change:
    """One direction of containment: the action to ask for and the statuses that mean
    it is already done or is being undone."""

    action_name: str
    done: frozenset[str]
    opposite_pending: str
    requested: str
    """The status Falcon shows once the change is asked for."""
    noun: str


CONTAIN = _Change(
    "contain",
    frozenset({CONTAINED, CONTAINMENT_PENDING}),
    LIFT_PENDING,
    CONTAINMENT_PENDING,
    "containment",
)
LIFT = _Change(
    "lift_containment",
    frozenset({NORMAL, LIFT_PENDING}),
    CONTAINMENT_PENDING,
    LIFT_PENDING,
    "lifting of containment",
)


class FalconActuator:
    """Contains hosts (`contain` of a `hostname`) through the Falcon hosts API."""

    def __init__(self, name: str, options: CrowdStrikeOptions) -> None:
        self._name = name
        self.options = options
        self.client = FalconClient(name, options)

    @property
    def name(self) -> str:
        return self._name

    def handles(self, command: ContainmentCommand) -> bool:
        return (
            command.action is ContainmentVerb.CONTAIN and command.target.type is TargetType.HOSTNAME
        )

    async def apply(self, command: ContainmentCommand) -> ActuatorResult:
        return await self._change(command, CONTAIN)

    async def revert(self, command: ContainmentCommand) -> ActuatorResult:
        return await self._change(command, LIFT)

    async def verify(self, command: ContainmentCommand) -> bool:
        host = await self._settled(await self._find(command))
        return host.status == CONTAINED

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _change(self, command: ContainmentCommand, change: _Change) -> ActuatorResult:
        host = await self._find(command)
        if host.status == change.opposite_pending:
            host = await self._settled(host)
            if host.status == change.opposite_pending:
                raise TransientError(
                    self._name,
                    f"{host.hostname} is still {host.status.replace('_', ' ')}; "
                    f"retrying the {change.noun} later",
                )
        if host.status in change.done:
            return ActuatorResult(
                ok=True,
                detail=f"{host.hostname} is already {host.status.replace('_', ' ')}",
                data=_data(host, host.status),
            )
        await self.client.act(
            host.device_id, change.action_name, what=f"{change.action_name} {host.hostname}"
        )
        return ActuatorResult(
            ok=True,
            detail=f"{change.noun} of {host.hostname} requested",
            data=_data(host, change.requested),
        )

    async def _find(self, command: ContainmentCommand) -> FalconHost:
        hostname = command.target.value.strip()
        if any(c in hostname for c in UNSAFE_IN_FILTER) or not hostname.isprintable():
            raise RequestRejected(self._name, f"{hostname!r} cannot be searched for as a host name")
        host = await self.client.find(hostname)
        if host is None:
            raise TargetNotFound(self._name, f"no host named {hostname} in CrowdStrike")
        return host

    async def _settled(self, host: FalconHost) -> FalconHost:
        """The host once its status is no longer pending, or as it is after
        `settle_seconds` of polling."""
        deadline = time.monotonic() + self.options.settle_seconds
        while host.status in PENDING and time.monotonic() < deadline:
            await asyncio.sleep(self.options.poll_seconds)
            found = await self.client.hosts([host.device_id], what=f"read host {host.hostname}")
            if not found:
                raise TargetNotFound(self._name, f"host {host.hostname} left CrowdStrike")
            host = found[0]
        return host


def _data(host: FalconHost, status: str) -> dict[str, str]:
    return {"device_id": host.device_id, "hostname": host.hostname, "status": status}
