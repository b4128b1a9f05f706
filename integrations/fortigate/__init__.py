"""FortiGate: block IPv4 and IPv6 addresses by banning them (the FortiOS REST API's
banned-IP list, with an expiry), and read the list back."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.fortigate.actuator import FortigateActuator
from integrations.fortigate.client import check
from integrations.fortigate.options import FortigateOptions

INTEGRATION = Integration(
    vendor="Fortinet FortiGate",
    handles="blocks IPv4/IPv6 addresses by banning them (FortiOS banned-IP list, with an expiry)",
    options=FortigateOptions,
    actuator=FortigateActuator,
    check=check,
)

__all__ = ["INTEGRATION", "FortigateActuator", "FortigateOptions"]
