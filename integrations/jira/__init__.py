"""Jira Cloud: a case's issue in a project (found again by its case label, so a retry
never opens a second), with its description in ADF and a closing comment."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.jira.options import JiraOptions
from integrations.jira.ticket_system import JiraTicketSystem, check

INTEGRATION = Integration(
    vendor="Atlassian Jira Cloud",
    handles="opens an issue per case (found again by its label) and comments on it",
    options=JiraOptions,
    ticketing=JiraTicketSystem,
    check=check,
)

__all__ = ["INTEGRATION", "JiraOptions", "JiraTicketSystem"]
