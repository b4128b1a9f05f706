"""Okta: disable accounts (suspend, revertible) and revoke their sessions and OAuth
tokens, through the Okta Users API with an SSWS API token."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.okta.actuator import OktaActuator
from integrations.okta.client import check
from integrations.okta.options import OktaOptions

INTEGRATION = Integration(
    vendor="Okta",
    handles="suspends accounts (disable) and ends their sessions and OAuth tokens (revoke)",
    options=OktaOptions,
    actuator=OktaActuator,
    check=check,
)

__all__ = ["INTEGRATION", "OktaActuator", "OktaOptions"]
