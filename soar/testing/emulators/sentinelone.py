"""SentinelOne's management API (`/web/api/v2.1`) on loopback: agents found by
`computerName` or `ids`, and the `disconnect` / `connect` agent actions, whose effect
the agent reports over a few reads (`networkStatus` `disconnecting` → `disconnected`,
`connecting` → `connected`).

What the docs leave open is played one way and said here: `affected` counts the agents
whose state the action changed (a repeat affects 0), an agent pending uninstall takes
no action (affected 0), an action without a filter is a 400 (it would reach every
agent), and a 429 carries `Retry-After` in seconds. Errors are
`{"errors": [{code, detail, title}]}`.
"""

from __future__ import annotations

import random
import secrets as tokens
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from soar.containment.models import ContainmentCommand
from soar.testing.emulators.base import VendorEmulator

PREFIX = "/web/api/v2.1"
SETTLED = {"disconnecting": "disconnected", "connecting": "connected"}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Agent:
    computer_name: str
    id: str = field(default_factory=lambda: str(random.randrange(10**17, 10**18)))
    network_status: str = "connected"
    last_active: str = field(default_factory=_now)
    pending_uninstall: bool = False
    reads_left: int = 0
    effects: int = 0

    def resource(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "uuid": self.id,
            "computerName": self.computer_name,
            "networkStatus": self.network_status,
            "lastActiveDate": self.last_active,
            "isActive": True,
            "isDecommissioned": False,
            "isPendingUninstall": self.pending_uninstall,
            "osType": "windows",
            "siteName": "Default site",
        }

    def advance(self) -> None:
        """One read: a pending status shows for `reads_left` reads, then settles."""
        if self.network_status not in SETTLED:
            return
        if self.reads_left > 0:
            self.reads_left -= 1
        else:
            self.network_status = SETTLED[self.network_status]


def _errors(status: int, code: int, title: str, detail: str | None = None) -> web.Response:
    return web.json_response(
        {"errors": [{"code": code, "detail": detail, "title": title}]}, status=status
    )


class SentinelOneEmulator(VendorEmulator):
    """One SentinelOne console and its API token; see the module docstring.

    `pending_reads`: how many reads of an agent show `disconnecting` / `connecting`
    after an action (2: "a couple of reads").
    """

    def __init__(self, *, pending_reads: int = 2) -> None:
        super().__init__()
        self.api_token = tokens.token_urlsafe(48)
        self.pending_reads = pending_reads
        self.agents: list[Agent] = []
        self.secrets: list[str] = [self.api_token]

    @property
    def api_url(self) -> str:
        """The `base_url` option that points at this emulator."""
        return f"{self.base_url}{PREFIX}"

    # Seeding and inspecting

    def add_host(
        self,
        hostname: str,
        *,
        network_status: str = "connected",
        pending_uninstall: bool = False,
        active_ago: timedelta = timedelta(0),
    ) -> Agent:
        """An agent (the same name twice: a stale registration of a reinstall)."""
        agent = Agent(
            computer_name=hostname,
            network_status=network_status,
            last_active=(datetime.now(UTC) - active_ago).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            pending_uninstall=pending_uninstall,
            reads_left=self.pending_reads if network_status in SETTLED else 0,
        )
        self.agents.append(agent)
        return agent

    def agent(self, hostname: str) -> Agent:
        """The agent of that name active last."""
        found = [a for a in self.agents if a.computer_name.lower() == hostname.lower()]
        return max(found, key=lambda a: a.last_active)

    def settle(self, hostname: str) -> None:
        """The agent reports in: a pending status becomes final."""
        agent = self.agent(hostname)
        agent.network_status = SETTLED.get(agent.network_status, agent.network_status)
        agent.reads_left = 0

    # EmulatedProduct

    def effects(self, command: ContainmentCommand) -> int:
        name = command.target.value.lower()
        return sum(a.effects for a in self.agents if a.computer_name.lower() == name)

    def in_effect(self, command: ContainmentCommand) -> bool:
        return self.agent(command.target.value).network_status in ("disconnected", "disconnecting")

    def undo_out_of_band(self, command: ContainmentCommand) -> None:
        """A console user reconnects the endpoint, and the agent has done it."""
        agent = self.agent(command.target.value)
        agent.network_status, agent.reads_left = "connected", 0

    # VendorEmulator hooks

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"ApiToken {self.api_token}"

    def unauthorized(self) -> web.Response:
        return _errors(401, 4010010, "Authentication Failed")

    def rate_limited_body(self) -> Any:
        return {"errors": [{"code": 4290010, "detail": None, "title": "Too Many Requests"}]}

    # The API

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"{PREFIX}/agents", self._agents),
            web.post(f"{PREFIX}/agents/actions/{{action}}", self._action),
        ]

    async def _agents(self, request: web.Request) -> web.Response:
        found = self.agents
        if "computerName" in request.query:
            name = request.query["computerName"].lower()
            found = [a for a in found if a.computer_name.lower() == name]
        if "ids" in request.query:
            ids = request.query["ids"].split(",")
            found = [a for a in found if a.id in ids]
        limit = int(request.query.get("limit", "10"))
        for agent in found[:limit]:
            agent.advance()
        return web.json_response(
            {
                "data": [a.resource() for a in found[:limit]],
                "pagination": {"nextCursor": None, "totalItems": len(found)},
            }
        )

    async def _action(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action not in ("disconnect", "connect"):
            return _errors(404, 4040010, "Not Found")
        payload = await request.json()
        ids = (payload.get("filter") or {}).get("ids")
        if not ids:
            return _errors(
                400, 4000010, "Validation Error", "At least one filter is required: filter"
            )
        settled = "disconnected" if action == "disconnect" else "connected"
        pending = "disconnecting" if action == "disconnect" else "connecting"
        affected = 0
        for agent in (a for a in self.agents if a.id in ids):
            if agent.pending_uninstall or agent.network_status in (settled, pending):
                continue
            agent.network_status, agent.reads_left = pending, self.pending_reads
            agent.effects += 1
            affected += 1
        return web.json_response({"data": {"affected": affected}})
