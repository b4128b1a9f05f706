"""TheHive 5: a case's alert (unique by type, source and the case id as sourceRef, so a
retry never opens a second), its observables and markings, and a closing comment."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.thehive.options import TheHiveOptions
from integrations.thehive.ticket_system import TheHiveTicketSystem, check

INTEGRATION = Integration(
    vendor="StrangeBee TheHive 5",
    handles="opens an alert per case (unique by its sourceRef) with its observables and "
    "comments on it",
    options=TheHiveOptions,
    ticketing=TheHiveTicketSystem,
    check=check,
)

__all__ = ["INTEGRATION", "TheHiveOptions", "TheHiveTicketSystem"]
