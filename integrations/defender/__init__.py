"""Microsoft Defender for Endpoint: host isolation (`type = "defender"`)."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.defender.actuator import DefenderActuator
from integrations.defender.client import DefenderClient
from integrations.defender.options import DefenderOptions


async def check(name: str, options: DefenderOptions) -> list[str]:
    """Get a token and count the machines it can see; changes nothing."""
    client = DefenderClient(name, options)
    try:
        count, more = await client.machine_count()
    finally:
        await client.aclose()
    seen = f"more than {count}" if more else str(count)
    return [f"{options.base_url}: token accepted", f"{seen} machines visible"]


INTEGRATION = Integration(
    vendor="Microsoft Defender for Endpoint",
    handles="isolates hosts from the network (Defender machine isolation)",
    options=DefenderOptions,
    actuator=DefenderActuator,
    check=check,
)

__all__ = ["INTEGRATION", "DefenderActuator", "DefenderOptions", "check"]
