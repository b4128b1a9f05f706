"""SentinelOne: network isolation of hosts (`type = "sentinelone"`)."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.sentinelone.actuator import SentinelOneActuator
from integrations.sentinelone.client import SentinelOneClient
from integrations.sentinelone.options import SentinelOneOptions


async def check(name: str, options: SentinelOneOptions) -> list[str]:
    """Use the token to count the agents it can see; changes nothing."""
    client = SentinelOneClient(name, options)
    try:
        total = await client.agent_count()
    finally:
        await client.aclose()
    return [f"{options.base_url}: token accepted", f"{total} agents visible"]


INTEGRATION = Integration(
    vendor="SentinelOne",
    handles="isolates hosts from the network (disconnects the agent's endpoint)",
    options=SentinelOneOptions,
    actuator=SentinelOneActuator,
    check=check,
)

__all__ = ["INTEGRATION", "SentinelOneActuator", "SentinelOneOptions", "check"]
