"""The descriptor an integration registers under the `soar.integrations` entry points.

A package adds a vendor by exposing an :class:`Integration` and naming it in its
`pyproject.toml`::

    [project.entry-points."soar.integrations"]
    acme = "acme_soar:INTEGRATION"

The entry point's name is the type configured as `type = "acme"`. The built-ins
register exactly the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from integrations.core.options import IntegrationOptions
from soar.containment.actuators import Actuator
from soar.enrichment.providers import Enricher
from soar.paging.pagers import Pager
from soar.tickets.systems import TicketSystem

OptionsT = TypeVar("OptionsT", bound=IntegrationOptions)

Check = Callable[[str, OptionsT], Awaitable[list[str]]]
"""Reach the product with these options and say, line by line, what was found —
changing nothing. Raises an `IntegrationError` for what does not work."""


@dataclass(frozen=True)
class Integration(Generic[OptionsT]):
    """One installed integration type (its type name is its entry point's name)."""

    vendor: str
    handles: str
    """What it does, in words ("blocks IPs and isolates hosts over SSH")."""
    options: type[OptionsT]
    actuator: Callable[[str, OptionsT], Actuator] | None = None
    enricher: Callable[[str, OptionsT], Enricher] | None = None
    ticketing: Callable[[str, OptionsT], TicketSystem] | None = None
    pager: Callable[[str, OptionsT], Pager] | None = None
    check: Check[OptionsT] | None = None

    @property
    def kinds(self) -> list[str]:
        """What it can be configured as."""
        factories: tuple[tuple[str, object], ...] = (
            ("actuator", self.actuator),
            ("enricher", self.enricher),
            ("ticketing", self.ticketing),
            ("pager", self.pager),
        )
        return [kind for kind, factory in factories if factory is not None]
