"""ServiceNow: a case's incident (found again by its correlation_id, so a retry never
opens a second), with urgency and impact from the severity and a closing work note."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.servicenow.options import ServiceNowOptions
from integrations.servicenow.ticket_system import ServiceNowTicketSystem, check

INTEGRATION = Integration(
    vendor="ServiceNow",
    handles="opens an incident per case (found again by its correlation_id) and adds a "
    "work note to it",
    options=ServiceNowOptions,
    ticketing=ServiceNowTicketSystem,
    check=check,
)

__all__ = ["INTEGRATION", "ServiceNowOptions", "ServiceNowTicketSystem"]
