"""Ticket systems: the interface ticketing integrations implement, and the registry.

A :class:`TicketSystem` keeps tickets in one vendor's product (a Jira project, a
ServiceNow instance, a TheHive organisation). The contract every implementation keeps:

- `find` asks the vendor for the case's ticket by its correlation id (the case id) and
  answers None when there is none; `open` creates one (TheHive, which refuses a second
  alert of the same `sourceRef`, answers the existing one with `created=False`). The
  activity finds before it opens, so a retry never makes a second ticket.
- `comment` adds a comment unless the ticket already has one with the same text, so a
  retried closing comment is shown once.
- Vendor failures are :mod:`soar.integrations.errors`: a refused credential is
  :class:`~soar.integrations.errors.CredentialsRejected`, a rate limit
  :class:`~soar.integrations.errors.RateLimited` with the vendor's wait.
- Nothing secret in a :class:`~soar.tickets.models.TicketRef`: it reaches the timeline.

Ticket systems are configured by name under `[tickets.<name>]` with a `type` and
`options`; an installed integration supplies the factory for its type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from soar.integrations.registry import Factory, IntegrationSettings, Registry, build_members
from soar.tickets.models import TicketDraft, TicketRef

TicketSystemSettings = IntegrationSettings
"""`[tickets.<name>]`: the integration `type` and its `options`."""


@runtime_checkable
class TicketSystem(Protocol):
    """Opens and comments tickets in one product; see the module for the contract."""

    @property
    def name(self) -> str:
        """The configured name, recorded on each ticket reference."""
        ...

    @property
    def vendor(self) -> str:
        """The product, in words ("Jira Cloud")."""
        ...

    async def find(self, case_id: str) -> TicketRef | None:
        """The case's ticket, asked of the vendor by its correlation id; None if none."""
        ...

    async def open(self, draft: TicketDraft) -> TicketRef:
        """Create the case's ticket (`created=True`), or answer the one the vendor says
        exists already (`created=False`)."""
        ...

    async def comment(self, key: str, text: str) -> bool:
        """Add `text` to the ticket `key`; False when it has that comment already."""
        ...


TicketSystemFactory = Factory[TicketSystem]
"""Makes a ticket system from its configured name and its `options`."""


class TicketSystemRegistry(Registry[TicketSystem]):
    """The configured ticket systems, in configuration order."""


def build_ticket_registry(
    settings: Mapping[str, TicketSystemSettings],
    factories: Mapping[str, TicketSystemFactory] | None = None,
) -> TicketSystemRegistry:
    """The registry for the `tickets` settings. A type no factory makes is an error."""
    return TicketSystemRegistry(build_members("tickets", settings, factories or {}))
