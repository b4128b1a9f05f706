"""Network isolation of a host through SentinelOne ("disconnect from network").

The agent actions are asynchronous: after `disconnect` the agent's `networkStatus`
goes `disconnecting` → `disconnected` once the agent has acted (`connect`: `connecting`
→ `connected`). So:

- `apply` reads `networkStatus` first and disconnects only when needed: `disconnected`
  and `disconnecting` are already done; `revert` likewise treats `connected` and
  `connecting` as done;
- a change that finds the opposite one in flight waits for it to settle (up to
  `settle_seconds`), and if it has not, fails transiently so the activity is retried;
- an action that affects no agent is read again: already done is a success, anything
  else a definitive no (the agent would not take the action);
- `verify` waits for a pending status the same way and confirms only `disconnected`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from integrations.sentinelone.client import Agent, SentinelOneClient
from integrations.sentinelone.options import SentinelOneOptions
from soar.containment.actuators import ActuatorResult
from soar.containment.models import ContainmentCommand, ContainmentVerb, TargetType
from soar.integrations.errors import TargetNotFound, TransientError

DISCONNECTED = "disconnected"
PENDING = frozenset({"connecting", "disconnecting"})


@dataclass(frozen=True)
class _Change:
    """One direction: the agent action and the statuses that mean it is done or being
    undone."""

    action: str
    done: frozenset[str]
    opposite_pending: str
    requested: str


DISCONNECT = _Change(
    "disconnect", frozenset({"disconnected", "disconnecting"}), "connecting", "disconnecting"
)
CONNECT = _Change("connect", frozenset({"connected", "connecting"}), "disconnecting", "connecting")


class SentinelOneActuator:
    """Isolates hosts (`contain` of a `hostname`) by disconnecting their agent."""

    def __init__(self, name: str, options: SentinelOneOptions) -> None:
        self._name = name
        self.options = options
        self.client = SentinelOneClient(name, options)

    @property
    def name(self) -> str:
        return self._name

    def handles(self, command: ContainmentCommand) -> bool:
        return (
            command.action is ContainmentVerb.CONTAIN and command.target.type is TargetType.HOSTNAME
        )

    async def apply(self, command: ContainmentCommand) -> ActuatorResult:
        return await self._change(command, DISCONNECT)

    async def revert(self, command: ContainmentCommand) -> ActuatorResult:
        return await self._change(command, CONNECT)

    async def verify(self, command: ContainmentCommand) -> bool:
        agent = await self._settled(await self._find(command))
        return agent.network_status == DISCONNECTED

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _change(self, command: ContainmentCommand, change: _Change) -> ActuatorResult:
        agent = await self._find(command)
        if agent.network_status == change.opposite_pending:
            agent = await self._settled(agent)
            if agent.network_status == change.opposite_pending:
                raise TransientError(
                    self._name,
                    f"{agent.computer_name} is still {agent.network_status}; "
                    f"retrying to {change.action} it later",
                )
        if agent.network_status in change.done:
            return _already(agent)
        what = f"{change.action} {agent.computer_name}"
        if await self.client.act(change.action, agent.id, what=what) == 0:
            now = await self.client.agent(agent.id, what=f"read agent {agent.computer_name}")
            if now is not None and now.network_status in change.done:
                return _already(now)
            return ActuatorResult(
                ok=False,
                detail=f"SentinelOne did not {what}: the action affected no agent",
                data=_data(now or agent, (now or agent).network_status),
            )
        return ActuatorResult(
            ok=True,
            detail=f"asked SentinelOne to {what}",
            data=_data(agent, change.requested),
        )

    async def _find(self, command: ContainmentCommand) -> Agent:
        hostname = command.target.value.strip()
        agent = await self.client.find(hostname)
        if agent is None:
            raise TargetNotFound(self._name, f"no host named {hostname} in SentinelOne")
        return agent

    async def _settled(self, agent: Agent) -> Agent:
        """The agent once its status is no longer pending, or as it is after
        `settle_seconds` of polling."""
        deadline = time.monotonic() + self.options.settle_seconds
        while agent.network_status in PENDING and time.monotonic() < deadline:
            await asyncio.sleep(self.options.poll_seconds)
            now = await self.client.agent(agent.id, what=f"read agent {agent.computer_name}")
            if now is None:
                raise TargetNotFound(self._name, f"agent {agent.computer_name} left SentinelOne")
            agent = now
        return agent


def _already(agent: Agent) -> ActuatorResult:
    return ActuatorResult(
        ok=True,
        detail=f"{agent.computer_name} is already {agent.network_status}",
        data=_data(agent, agent.network_status),
    )


def _data(agent: Agent, status: str) -> dict[str, str]:
    return {"agent_id": agent.id, "computer_name": agent.computer_name, "network_status": status}
