"""Actuators: the interface containment integrations implement, and the registry.

An :class:`Actuator` carries out vendor-neutral commands on one product (a firewall,
an EDR, an identity provider). The contract every implementation keeps:

- `apply`, `verify` and `revert` are idempotent: applying what is already in effect
  and reverting what is already gone both succeed, so a retried activity is harmless.
- A definitive "no" from the product is an :class:`ActuatorResult` with `ok=False`;
  a transient failure (timeout, rate limit, 5xx) is an exception, which Temporal
  retries.
- Nothing secret goes into a result's `detail` or `data`: they reach the timeline.

Actuators are configured by name under `[actuators.<name>]` with a `type` and
`options`; an integration registers an :data:`ActuatorFactory` for its type. When
several actuators handle a command, the first in configuration order is used. When
none does, :meth:`ActuatorRegistry.for_command` returns `None` and the caller records
`no_actuator` and hands the case to a person.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from soar.containment.models import ContainmentCommand


class ActuatorResult(BaseModel):
    """What an actuator did: `ok` and a readable `detail`, plus vendor references in `data`."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    detail: str
    data: dict[str, Any] = Field(default_factory=dict)


class ActuatorSettings(BaseModel):
    """One configured actuator: the integration `type` and its `options`.

    The integration validates `options` into its own typed model, secrets as
    `SecretStr`; they are left out of this model's repr so they never print.
    """

    type: str = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict, repr=False)


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


ActuatorFactory = Callable[[str, Mapping[str, Any]], Actuator]
"""Makes an actuator from its configured name and its `options`."""


class ActuatorRegistry:
    """The configured actuators, in configuration order."""

    def __init__(self, actuators: Sequence[Actuator] = ()) -> None:
        names = [actuator.name for actuator in actuators]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"actuator names must be unique: {', '.join(duplicates)}")
        self.actuators: tuple[Actuator, ...] = tuple(actuators)

    def for_command(self, command: ContainmentCommand) -> Actuator | None:
        """The first actuator that handles the command, or `None` when none is configured."""
        return next((a for a in self.actuators if a.handles(command)), None)

    def get(self, name: str) -> Actuator | None:
        """The actuator with this name (the one that applied an action, to revert it)."""
        return next((a for a in self.actuators if a.name == name), None)


def build_actuator_registry(
    settings: Mapping[str, ActuatorSettings],
    factories: Mapping[str, ActuatorFactory] | None = None,
) -> ActuatorRegistry:
    """The registry for the `actuators` settings. A type no factory makes is an error."""
    factories = factories or {}
    actuators: list[Actuator] = []
    for name, configured in settings.items():
        factory = factories.get(configured.type)
        if factory is None:
            known = ", ".join(sorted(factories)) or "none"
            raise ValueError(
                f"actuator {name!r} has type {configured.type!r}, which no installed "
                f"integration provides (known types: {known})"
            )
        actuators.append(factory(name, configured.options))
    return ActuatorRegistry(actuators)
