"""CrowdStrike Falcon: network containment of hosts (`type = "crowdstrike"`)."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.crowdstrike.actuator import FalconActuator
from integrations.crowdstrike.client import FalconClient
from integrations.crowdstrike.options import CrowdStrikeOptions


async def check(name: str, options: CrowdStrikeOptions) -> list[str]:
    """Get a token and count the hosts it can see; changes nothing."""
    client = FalconClient(name, options)
    try:
        total = await client.host_count()
    finally:
        await client.aclose()
    return [f"{options.base_url}: token accepted", f"{total} hosts visible"]


INTEGRATION = Integration(
    vendor="CrowdStrike Falcon",
    handles="isolates hosts from the network (Falcon network containment)",
    options=CrowdStrikeOptions,
    actuator=FalconActuator,
    check=check,
)

__all__ = ["INTEGRATION", "CrowdStrikeOptions", "FalconActuator", "check"]
