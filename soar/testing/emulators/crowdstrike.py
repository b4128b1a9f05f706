"""CrowdStrike Falcon's hosts API on loopback: OAuth2 tokens that can be expired on
demand, hosts found by FQL `hostname:'X'`, and network containment that passes through
`containment_pending` / `lift_containment_pending` for a few reads of the host.

What Falcon does not document is played one way and said here: a repeated `contain` of
a contained host is accepted and changes nothing (no effect is counted); a host in
reduced functionality mode cannot be contained and says so in `errors[]` of an HTTP 200
answer; an unknown agent id is an HTTP 404 with `errors[]`. The wait header of a 429 is
`X-Ratelimit-Retryafter`, an epoch second.
"""

from __future__ import annotations

import re
import secrets as tokens
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from soar.containment.models import ContainmentCommand
from soar.testing.emulators.base import VendorEmulator

HOSTNAME_FILTER = re.compile(r"^hostname:'([^']*)'$")
SETTLED = {"containment_pending": "contained", "lift_containment_pending": "normal"}


@dataclass
class FalconHost:
    """One host record as Falcon keeps it."""

    hostname: str
    device_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    status: str = "normal"
    last_seen: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    reduced_functionality: bool = False
    pending_reads: int = 0
    """Reads of the host still to show a pending status before it settles."""
    effects: int = 0
    """Containment changes the API made to this host."""

    def resource(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "hostname": self.hostname,
            "status": self.status,
            "last_seen": self.last_seen,
            "platform_name": "Windows",
            "reduced_functionality_mode": "yes" if self.reduced_functionality else "no",
        }


def _body(resources: list[Any], errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "meta": {"query_time": 0.01, "powered_by": "device-api", "trace_id": str(uuid.uuid4())},
        "resources": resources,
        "errors": errors or [],
    }


def _error(status: int, message: str) -> web.Response:
    return web.json_response(_body([], [{"code": status, "message": message}]), status=status)


class FalconEmulator(VendorEmulator):
    """Falcon for one API client; see the module docstring.

    The client secret is random unless given. `pending_reads`: how many reads of a host
    show a pending status after a change (1 by default: seen pending once, then settled).
    """

    def __init__(
        self,
        *,
        client_id: str = "soar-falcon-client",
        client_secret: str | None = None,
        pending_reads: int = 1,
        token_lifetime: int = 1799,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret or tokens.token_urlsafe(18)
        self.pending_reads = pending_reads
        self.token_lifetime = token_lifetime
        self.hosts: list[FalconHost] = []
        self.valid_tokens: set[str] = set()
        self.tokens_issued = 0
        self.secrets: list[str] = [self.client_secret]

    # Seeding and inspecting

    def add_host(
        self,
        hostname: str,
        *,
        status: str = "normal",
        reduced_functionality: bool = False,
        seen_ago: timedelta = timedelta(0),
    ) -> FalconHost:
        """A host record (add the same name twice for a stale record of a reinstall)."""
        host = FalconHost(
            hostname=hostname,
            status=status,
            last_seen=(datetime.now(UTC) - seen_ago).isoformat(),
            reduced_functionality=reduced_functionality,
            pending_reads=self.pending_reads if status in SETTLED else 0,
        )
        self.hosts.append(host)
        return host

    def host(self, hostname: str) -> FalconHost:
        """The most recently seen record of that name."""
        found = [h for h in self.hosts if h.hostname.lower() == hostname.lower()]
        return max(found, key=lambda h: h.last_seen)

    def expire_tokens(self) -> None:
        """Every token issued so far stops working, as after Falcon's ~30 minutes."""
        self.valid_tokens.clear()

    def settle(self, hostname: str) -> None:
        """The sensor reports in: a pending status becomes final."""
        host = self.host(hostname)
        host.status = SETTLED.get(host.status, host.status)
        host.pending_reads = 0

    # EmulatedProduct

    def effects(self, command: ContainmentCommand) -> int:
        return sum(
            h.effects for h in self.hosts if h.hostname.lower() == command.target.value.lower()
        )

    def in_effect(self, command: ContainmentCommand) -> bool:
        return self.host(command.target.value).status in ("contained", "containment_pending")

    def undo_out_of_band(self, command: ContainmentCommand) -> None:
        """A console user lifts the containment (and the sensor has reported it)."""
        host = self.host(command.target.value)
        host.status, host.pending_reads = "normal", 0

    # VendorEmulator hooks

    def open_path(self, request: web.Request) -> bool:
        return request.path == "/oauth2/token"

    def authorized(self, request: web.Request) -> bool:
        given = request.headers.get("Authorization", "")
        return given.startswith("Bearer ") and given.removeprefix("Bearer ") in self.valid_tokens

    def unauthorized(self) -> web.Response:
        return _error(401, "access denied, invalid bearer token")

    def wait_headers(self, seconds: float) -> dict[str, str]:
        return {
            "X-Ratelimit-Limit": "6000",
            "X-Ratelimit-Remaining": "0",
            "X-Ratelimit-Retryafter": str(round(time.time() + seconds)),
        }

    def rate_limited_body(self) -> Any:
        return _body([], [{"code": 429, "message": "API rate limit exceeded."}])

    # The API

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/oauth2/token", self._token),
            web.get("/devices/queries/devices/v1", self._query),
            web.get("/devices/entities/devices/v2", self._entities),
            web.post("/devices/entities/devices-actions/v2", self._action),
        ]

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return _error(401, "access denied, invalid client")
        token = tokens.token_urlsafe(24)
        self.valid_tokens.add(token)
        self.tokens_issued += 1
        self.secrets.append(token)
        return web.json_response(
            {"access_token": token, "token_type": "bearer", "expires_in": self.token_lifetime},
            status=201,
        )

    async def _query(self, request: web.Request) -> web.Response:
        fql = request.query.get("filter")
        if fql is None:
            matched = self.hosts
        else:
            parsed = HOSTNAME_FILTER.match(fql)
            if parsed is None:
                return _error(400, f"invalid filter: {fql}")
            name = parsed.group(1).lower()
            matched = [h for h in self.hosts if h.hostname.lower() == name]
        limit = int(request.query.get("limit", "100"))
        body = _body([h.device_id for h in matched[:limit]])
        body["meta"]["pagination"] = {"offset": 0, "limit": limit, "total": len(matched)}
        return web.json_response(body)

    async def _entities(self, request: web.Request) -> web.Response:
        ids = request.query.getall("ids", [])
        found = [h for h in self.hosts if h.device_id in ids]
        if not found:
            return _error(404, "no device with these ids")
        for host in found:
            self._advance(host)
        return web.json_response(_body([h.resource() for h in found]))

    async def _action(self, request: web.Request) -> web.Response:
        action = request.query.get("action_name")
        if action not in ("contain", "lift_containment"):
            return _error(400, f"unknown action_name {action}")
        payload = await request.json()
        ids = payload.get("ids") or []
        hosts = [h for h in self.hosts if h.device_id in ids]
        if not hosts:
            return _error(404, "no device with these ids")
        errors: list[dict[str, Any]] = []
        done: list[dict[str, str]] = []
        for host in hosts:
            if action == "contain" and host.reduced_functionality:
                errors.append(
                    {
                        "code": 409,
                        "message": f"device {host.device_id} is in reduced functionality "
                        "mode and cannot be contained",
                    }
                )
                continue
            self._change(host, action)
            done.append({"id": host.device_id, "path": ""})
        return web.json_response(_body(done, errors), status=200 if errors else 202)

    def _change(self, host: FalconHost, action: str) -> None:
        settled = "contained" if action == "contain" else "normal"
        pending = "containment_pending" if action == "contain" else "lift_containment_pending"
        if host.status in (settled, pending):
            return
        host.status, host.pending_reads = pending, self.pending_reads
        host.effects += 1

    @staticmethod
    def _advance(host: FalconHost) -> None:
        """One read of a pending host: it stays pending for `pending_reads` reads."""
        if host.status not in SETTLED:
            return
        if host.pending_reads > 0:
            host.pending_reads -= 1
        else:
            host.status = SETTLED[host.status]
