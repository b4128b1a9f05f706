"""The installed integrations, found through the `soar.integrations` entry points, and
the factories every place that builds registries uses (`soar up`, `soar worker`,
`soar playbooks test`, the `playbook_runner` fixture).

A package whose entry point fails to import does not stop the product: it is listed as
broken by `soar integrations list`, and configuring its type is an error that says why.
Options are validated into the integration's own model here, so a bad option is one
message naming `actuators.<name>.options.<field>`, never a traceback or a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError

from integrations.core.integration import Integration
from integrations.core.options import IntegrationOptions
from soar.containment.actuators import (
    Actuator,
    ActuatorFactory,
    ActuatorRegistry,
    build_actuator_registry,
)
from soar.enrichment.providers import (
    Enricher,
    EnricherFactory,
    EnricherRegistry,
    build_enricher_registry,
)
from soar.integrations.errors import IntegrationConfigError
from soar.paging.pagers import Pager, PagerFactory, PagerRegistry, build_pager_registry
from soar.settings import Settings, setting_problems
from soar.tickets.systems import (
    TicketSystem,
    TicketSystemFactory,
    TicketSystemRegistry,
    build_ticket_registry,
)

GROUP = "soar.integrations"


@dataclass(frozen=True)
class Installed:
    """What the entry points offer: each type's integration, and the ones that broke."""

    integrations: dict[str, Integration[Any]] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)

    def actuator_factories(self) -> dict[str, ActuatorFactory]:
        factories: dict[str, ActuatorFactory] = {
            kind: _actuator_factory(integration)
            for kind, integration in self.integrations.items()
            if integration.actuator is not None
        }
        factories.update(
            {kind: _broken("actuators", kind, why) for kind, why in self.broken.items()}
        )
        return factories

    def enricher_factories(self) -> dict[str, EnricherFactory]:
        factories: dict[str, EnricherFactory] = {
            kind: _enricher_factory(integration)
            for kind, integration in self.integrations.items()
            if integration.enricher is not None
        }
        factories.update(
            {kind: _broken("enrichment.providers", kind, why) for kind, why in self.broken.items()}
        )
        return factories

    def ticket_system_factories(self) -> dict[str, TicketSystemFactory]:
        factories: dict[str, TicketSystemFactory] = {
            kind: _ticket_system_factory(integration)
            for kind, integration in self.integrations.items()
            if integration.ticketing is not None
        }
        factories.update({kind: _broken("tickets", kind, why) for kind, why in self.broken.items()})
        return factories

    def pager_factories(self) -> dict[str, PagerFactory]:
        factories: dict[str, PagerFactory] = {
            kind: _pager_factory(integration)
            for kind, integration in self.integrations.items()
            if integration.pager is not None
        }
        factories.update({kind: _broken("paging", kind, why) for kind, why in self.broken.items()})
        return factories


@cache
def installed() -> Installed:
    """Every integration the entry points name (loaded once per process)."""
    found = Installed()
    for point in entry_points(group=GROUP):
        try:
            integration = point.load()
        except Exception as error:  # a broken plug-in is reported, not fatal
            found.broken[point.name] = f"{type(error).__name__}: {error}"
            continue
        if not isinstance(integration, Integration):
            found.broken[point.name] = f"{point.value} is not an Integration"
            continue
        found.integrations[point.name] = integration
    return found


def options_of(
    integration: Integration[Any], section: str, name: str, raw: Mapping[str, Any]
) -> IntegrationOptions:
    """`raw` validated into the integration's options, or one clear error."""
    try:
        options: IntegrationOptions = integration.options.model_validate(dict(raw))
    except ValidationError as error:
        raise IntegrationConfigError(
            setting_problems(error, f"{section}.{name}.options.")
        ) from None
    return options


def actuators_of(settings: Settings, found: Installed | None = None) -> ActuatorRegistry:
    """The configured actuators (`[actuators.<name>]`)."""
    return build_actuator_registry(settings.actuators, (found or installed()).actuator_factories())


def enrichers_of(settings: Settings, found: Installed | None = None) -> EnricherRegistry:
    """The configured enrichers (`[enrichment.providers.<name>]`)."""
    return build_enricher_registry(settings.enrichment, (found or installed()).enricher_factories())


def ticket_systems_of(settings: Settings, found: Installed | None = None) -> TicketSystemRegistry:
    """The configured ticket systems (`[tickets.<name>]`)."""
    return build_ticket_registry(settings.tickets, (found or installed()).ticket_system_factories())


def pagers_of(settings: Settings, found: Installed | None = None) -> PagerRegistry:
    """The configured pagers (`[paging.<name>]`)."""
    return build_pager_registry(settings.paging, (found or installed()).pager_factories())


def check_integrations(settings: Settings) -> None:
    """Build every configured integration once, so a bad one stops the start with one
    message (:class:`IntegrationConfigError`) before anything says it is running."""
    actuators_of(settings)
    enrichers_of(settings)
    ticket_systems_of(settings)
    pagers_of(settings)


def _actuator_factory(integration: Integration[Any]) -> ActuatorFactory:
    def make(name: str, raw: Mapping[str, Any]) -> Actuator:
        assert integration.actuator is not None
        return integration.actuator(name, options_of(integration, "actuators", name, raw))

    return make


def _enricher_factory(integration: Integration[Any]) -> EnricherFactory:
    def make(name: str, raw: Mapping[str, Any]) -> Enricher:
        assert integration.enricher is not None
        options = options_of(integration, "enrichment.providers", name, raw)
        return integration.enricher(name, options)

    return make


def _ticket_system_factory(integration: Integration[Any]) -> TicketSystemFactory:
    def make(name: str, raw: Mapping[str, Any]) -> TicketSystem:
        assert integration.ticketing is not None
        return integration.ticketing(name, options_of(integration, "tickets", name, raw))

    return make


def _pager_factory(integration: Integration[Any]) -> PagerFactory:
    def make(name: str, raw: Mapping[str, Any]) -> Pager:
        assert integration.pager is not None
        return integration.pager(name, options_of(integration, "paging", name, raw))

    return make


def _broken(section: str, kind: str, why: str) -> Any:
    def refuse(name: str, raw: Mapping[str, Any]) -> Any:
        raise IntegrationConfigError(
            f"{section}.{name}.type: the integration {kind!r} is installed but failed to "
            f"load ({why})"
        )

    return refuse
