"""The ticket activities: open a case's ticket once, and comment on it once.

`tickets.open` asks the vendor for the case's ticket first (by the case id, its
correlation id there) and opens one only when there is none. A retried step therefore
finds the ticket its first attempt opened — even when that attempt died between the
vendor creating the ticket and the answer coming back — instead of opening another.
`tickets.comment` adds a comment unless the ticket already has it. The case workflow
runs a case's ticket steps one at a time, so two first attempts never race.

Failures reach Temporal as :mod:`soar.integrations.failures` says: a refused credential
or another permanent error fails the step once, with the system's name and why; a rate
limit is retried after the vendor's wait.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from soar.integrations.failures import reported_to_temporal
from soar.tickets.models import (
    COMMENT_TICKET,
    OPEN_TICKET,
    OpenTicket,
    TicketComment,
    TicketCommented,
    TicketRef,
)
from soar.tickets.systems import TicketSystem, TicketSystemRegistry


class TicketActivities:
    """The ticket activities over the configured ticket systems."""

    def __init__(self, systems: TicketSystemRegistry) -> None:
        self.systems = systems

    def all(self) -> list[Callable[..., Any]]:
        """Every activity of this class, for a worker."""
        return [self.open_ticket, self.comment_ticket]

    @activity.defn(name=OPEN_TICKET)
    async def open_ticket(self, request: OpenTicket) -> TicketRef:
        """The case's ticket in `request.system`: the one there is, or a new one."""
        system = self._system(request.system)
        async with reported_to_temporal():
            found = await system.find(request.case_id)
            if found is not None:
                return found
            return await system.open(request.draft())

    @activity.defn(name=COMMENT_TICKET)
    async def comment_ticket(self, request: TicketComment) -> TicketCommented:
        """Add the comment to the case's ticket (found by the case id when no key is
        given), unless the ticket has it already."""
        system = self._system(request.system)
        async with reported_to_temporal():
            key = request.key
            if key is None:
                found = await system.find(request.case_id)
                if found is None:
                    raise ApplicationError(
                        f"{system.name}: case {request.case_id} has no ticket to comment on",
                        type="NoTicket",
                        non_retryable=True,
                    )
                key = found.key
            added = await system.comment(key, request.text)
        return TicketCommented(system=system.name, key=key, added=added)

    def _system(self, name: str) -> TicketSystem:
        system = self.systems.get(name)
        if system is None:
            configured = ", ".join(s.name for s in self.systems) or "none"
            raise ApplicationError(
                f"no ticket system is configured as {name!r} (configured: {configured})",
                type="UnknownTicketSystem",
                non_retryable=True,
            )
        return system
