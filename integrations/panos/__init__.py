"""Palo Alto Networks PAN-OS: block IPv4 and IPv6 addresses by registering a tag that a
dynamic address group matches (the User-ID API: no commit), and read it back."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.panos.actuator import PanosActuator
from integrations.panos.client import check
from integrations.panos.options import PanosOptions

INTEGRATION = Integration(
    vendor="Palo Alto Networks PAN-OS",
    handles="blocks IPv4/IPv6 addresses by tagging them for a dynamic address group "
    "(User-ID API, no commit)",
    options=PanosOptions,
    actuator=PanosActuator,
    check=check,
)

__all__ = ["INTEGRATION", "PanosActuator", "PanosOptions"]
