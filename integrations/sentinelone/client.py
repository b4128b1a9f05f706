"""The SentinelOne management API calls network isolation needs: finding an agent by
`computerName`, reading its `networkStatus`, and the `disconnect` / `connect` agent
actions. Errors come as `{"errors": [{code, detail, title}]}`; :func:`explain` gives
their words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from integrations.core.http import VendorHttp, default_explain
from integrations.sentinelone.options import SentinelOneOptions


@dataclass(frozen=True)
class Agent:
    """One agent: its id, computer name, `network_status` and when it was last active."""

    id: str
    computer_name: str
    network_status: str
    last_active: str

    @classmethod
    def of(cls, item: dict[str, Any]) -> Agent:
        return cls(
            id=str(item["id"]),
            computer_name=str(item.get("computerName", "")),
            network_status=str(item.get("networkStatus", "")),
            last_active=str(item.get("lastActiveDate", "")),
        )


def explain(response: httpx.Response) -> str:
    """SentinelOne's words for a failed answer: `title: detail (code)` of its first error."""
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        errors = None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        words = ": ".join(str(w) for w in (first.get("title"), first.get("detail")) if w)
        return f"{words or 'no message'} (code {first.get('code')})"
    return default_explain(response)


class SentinelOneClient:
    """The agents API of one configured actuator."""

    def __init__(
        self,
        name: str,
        options: SentinelOneOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.http = VendorHttp(
            name,
            options,
            headers={
                "Accept": "application/json",
                "Authorization": f"ApiToken {options.api_token.get_secret_value()}",
            },
            explain=explain,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def find(self, hostname: str) -> Agent | None:
        """The agent of that computer name; of several (a reinstall registers anew), the
        one active last. None when the console knows none."""
        body = await self.http.json(
            "GET", "/agents", params={"computerName": hostname}, what=f"find agent {hostname}"
        )
        agents = [
            Agent.of(item)
            for item in body.get("data") or []
            if isinstance(item, dict)
            and "id" in item
            and str(item.get("computerName", "")).lower() == hostname.lower()
        ]
        return max(agents, key=lambda a: a.last_active) if agents else None

    async def agent(self, agent_id: str, *, what: str) -> Agent | None:
        """One agent as it is now (None once it is gone)."""
        body = await self.http.json("GET", "/agents", params={"ids": agent_id}, what=what)
        found = [Agent.of(i) for i in body.get("data") or [] if isinstance(i, dict) and "id" in i]
        return found[0] if found else None

    async def act(self, action: str, agent_id: str, *, what: str) -> int:
        """Run the `disconnect` or `connect` action on one agent; how many it affected."""
        body = await self.http.json(
            "POST",
            f"/agents/actions/{action}",
            json={"filter": {"ids": [agent_id]}},
            what=what,
        )
        return int((body.get("data") or {}).get("affected", 0))

    async def agent_count(self) -> int:
        """How many agents the token can see."""
        body = await self.http.json("GET", "/agents", params={"limit": 1}, what="count agents")
        total = (body.get("pagination") or {}).get("totalItems")
        return int(total) if total is not None else len(body.get("data") or [])
