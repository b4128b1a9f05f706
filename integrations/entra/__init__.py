"""Microsoft Entra ID: disable accounts (revertible) and revoke their sign-in sessions,
through Microsoft Graph with an app registration's client credentials."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.entra.actuator import EntraActuator
from integrations.entra.client import check
from integrations.entra.options import EntraOptions

INTEGRATION = Integration(
    vendor="Microsoft Entra ID",
    handles="disables accounts (disable) and revokes their sign-in sessions (revoke)",
    options=EntraOptions,
    actuator=EntraActuator,
    check=check,
)

__all__ = ["INTEGRATION", "EntraActuator", "EntraOptions"]
