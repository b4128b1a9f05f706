"""Actuators: the interface containment integrations implement, and the registry.

An :class:`Actuator` carries out vendor-neutral commands on one product (a firewall,
an EDR, an identity provider). The contract every implementation keeps:

- `apply`, `verify` and `revert` are idempotent: applying what is already in effect
  and reverting what is already gone both succeed, so a retried activity is harmless.
- A definitive "no" from the product is an :class:`ActuatorResult` with `ok=False`;
  a transient failure (timeout, rate limit, 5xx) is an exception, which Temporal
  retries.
- Nothing secret goes into a result's `detail` or `data`: they reach the timeline.

- A permanent failure (credentials refused, target unknown) is a
  :class:`soar.integrations.errors.PermanentError`, which is not retried; a rate limit
  is :class:`soar.integrations.errors.RateLimited`, retried after the vendor's wait.

Actuators are configured by name under `[actuators.<name>]` with a `type` and
`options`; an installed integration supplies the factory for its type. Every actuator
that handles a command carries it out (block at the edge firewall *and* at Cloudflare),
in configuration order. When none does, the caller records `no_actuator` and hands the
case to a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from soar.containment.models import ContainmentCommand
from soar.integrations.registry import Factory, IntegrationSettings, Registry, build_members


class ActuatorResult(BaseModel):
    """What an actuator did: `ok` and a readable `detail`, plus vendor references in `data`."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    detail: str
    data: dict[str, Any] = Field(default_factory=dict)


ActuatorSettings = IntegrationSettings
"""`[actuators.<name>]`: the integration `type` and its `options`."""


@runtime_checkable
class Actuator(Protocol):
    """Carries out containment commands on one product; see the module for the contract."""

    @property
    def name(self) -> str:
        """The configured name, recorded on each action it runs."""
        ...

    def handles(self, command: ContainmentCommand) -> bool:
        """Whether this actuator can carry out the command (action and target type)."""
        ...

    async def apply(self, command: ContainmentCommand) -> ActuatorResult:
        """Put the command into effect; succeed if it already is."""
        ...

    async def verify(self, command: ContainmentCommand) -> bool:
        """Whether the command is in effect now, read from the product itself."""
        ...

    async def revert(self, command: ContainmentCommand) -> ActuatorResult:
        """Undo the command; succeed if it is not in effect."""
        ...


ActuatorFactory = Factory[Actuator]
"""Makes an actuator from its configured name and its `options`."""


class ActuatorRegistry(Registry[Actuator]):
    """The configured actuators, in configuration order."""

    def for_command(self, command: ContainmentCommand) -> list[Actuator]:
        """Every actuator that handles the command (none: a person must act)."""
        return [actuator for actuator in self.members if actuator.handles(command)]


def build_actuator_registry(
    settings: Mapping[str, ActuatorSettings],
    factories: Mapping[str, ActuatorFactory] | None = None,
) -> ActuatorRegistry:
    """The registry for the `actuators` settings. A type no factory makes is an error."""
    return ActuatorRegistry(build_members("actuators", settings, factories or {}))
