"""Microsoft Defender for Endpoint's machines API on loopback, with the Microsoft
identity platform's token endpoint (`/{tenant}/oauth2/v2.0/token`) served beside it.

Machines are found by `$filter=computerDnsName eq '...'`; `isolate` and `unisolate`
create machine actions that stay `Pending`, then `InProgress`, for `pending_reads`
reads and then end `Succeeded` (or `Failed`, see :meth:`DefenderEmulator.fail_next`).
A request while an isolation action of the machine is pending is answered the way
`repeat` says — both are plausible and the docs do not settle it:

- `"conflict"` (default): 400 `{"error": {"code": "ActiveRequestAlreadyExists",
  "message": "Action is already in progress"}}`;
- `"pending_action"`: the pending action itself (201) when it is of the same type, the
  400 otherwise.

A 429 carries `Retry-After` in seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import secrets as tokens
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiohttp import web

from soar.containment.models import ContainmentCommand
from soar.testing.emulators.base import VendorEmulator

SCOPE = "https://api.securitycenter.microsoft.com/.default"
DNS_FILTER = re.compile(r"^computerDnsName eq '((?:[^']|'')*)'$")
MACHINE_FILTER = re.compile(r"^machineId eq '([^']*)'$")
PENDING = ("Pending", "InProgress")
BARRIER_TIMEOUT = 5.0


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Machine:
    computer_dns_name: str
    id: str = field(default_factory=lambda: hashlib.sha1(uuid.uuid4().bytes).hexdigest())  # noqa: S324
    last_seen: str = field(default_factory=_now)
    last_ip: str = "10.0.0.21"
    fail_next: bool = False

    def resource(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "computerDnsName": self.computer_dns_name,
            "firstSeen": self.last_seen,
            "lastSeen": self.last_seen,
            "osPlatform": "Windows11",
            "lastIpAddress": self.last_ip,
            "healthStatus": "Active",
            "riskScore": "None",
            "exposureLevel": "Low",
            "machineTags": [],
        }


@dataclass
class MachineAction:
    type: str
    machine: Machine
    comment: str
    requestor: str
    isolation_type: str | None = None
    status: str = "Pending"
    outcome: str = "Succeeded"
    reads_left: int = 0
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)

    def advance(self) -> None:
        """One read: pending for `reads_left` reads (InProgress on the last), then over."""
        if self.status not in PENDING:
            return
        if self.reads_left > 0:
            self.reads_left -= 1
            self.status = "InProgress" if self.reads_left == 0 else "Pending"
        else:
            self.status = self.outcome
        self.updated = _now()

    def resource(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "title": None,
            "requestor": self.requestor,
            "requestorComment": self.comment,
            "status": self.status,
            "machineId": self.machine.id,
            "computerDnsName": self.machine.computer_dns_name,
            "creationDateTimeUtc": self.created,
            "lastUpdateDateTimeUtc": self.updated,
            "relatedFileInfo": None,
        }


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message, "target": str(uuid.uuid4())}},
        status=status,
    )


class DefenderEmulator(VendorEmulator):
    """Defender for one tenant and app registration; see the module docstring."""

    def __init__(
        self,
        *,
        pending_reads: int = 2,
        repeat: Literal["conflict", "pending_action"] = "conflict",
        token_lifetime: int = 3599,
    ) -> None:
        super().__init__()
        self.tenant_id = str(uuid.uuid4())
        self.client_id = str(uuid.uuid4())
        self.client_secret = tokens.token_urlsafe(24)
        self.pending_reads = pending_reads
        self.repeat = repeat
        self.token_lifetime = token_lifetime
        self.machines: list[Machine] = []
        self.actions: list[MachineAction] = []
        self.valid_tokens: set[str] = set()
        self.tokens_issued = 0
        self.secrets: list[str] = [self.client_secret]
        self._barrier: asyncio.Barrier | None = None
        self._held = 0

    @property
    def token_url(self) -> str:
        """The `token_url` option that points at this emulator."""
        return f"{self.base_url}/{{tenant}}/oauth2/v2.0/token"

    # Seeding, scripting and inspecting

    def add_host(self, hostname: str, *, seen_ago: timedelta = timedelta(0)) -> Machine:
        """An onboarded machine (the same name twice: a stale record of a reinstall)."""
        seen = (datetime.now(UTC) - seen_ago).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        machine = Machine(computer_dns_name=hostname, last_seen=seen)
        self.machines.append(machine)
        return machine

    def machine(self, hostname: str) -> Machine:
        """The most recently seen machine of that name."""
        found = [m for m in self.machines if m.computer_dns_name.lower() == hostname.lower()]
        return max(found, key=lambda m: m.last_seen)

    def actions_of(self, hostname: str) -> list[MachineAction]:
        return [a for a in self.actions if a.machine is self.machine(hostname)]

    def expire_tokens(self) -> None:
        """Every token issued so far stops working, as after its hour."""
        self.valid_tokens.clear()

    def fail_next(self, hostname: str) -> None:
        """The next action on that machine ends `Failed` (the sensor could not act)."""
        self.machine(hostname).fail_next = True

    def settle(self, hostname: str) -> None:
        """Every pending action on that machine ends now."""
        for action in self.actions_of(hostname):
            if action.status in PENDING:
                action.status = action.outcome

    def hold_action_lists(self, parties: int = 2) -> None:
        """The next `parties` reads of the action list wait for one another, as when
        several workers read the machine's state at once before any of them acts."""
        self._barrier = asyncio.Barrier(parties)
        self._held = parties

    def isolated(self, hostname: str) -> bool:
        """Whether the latest isolation action that did not fail is an Isolate."""
        live = [a for a in self.actions_of(hostname) if a.status in (*PENDING, "Succeeded")]
        return bool(live) and live[-1].type == "Isolate"

    # EmulatedProduct

    def effects(self, command: ContainmentCommand) -> int:
        """Machine actions the API created for the host (every one changes the machine)."""
        name = command.target.value.lower()
        return sum(
            1
            for a in self.actions
            if a.machine.computer_dns_name.lower() == name and a.requestor != "console"
        )

    def in_effect(self, command: ContainmentCommand) -> bool:
        return self.isolated(command.target.value)

    def undo_out_of_band(self, command: ContainmentCommand) -> None:
        """The pending actions end, then a console user releases the machine and the
        sensor has done it (the portal, too, waits for a pending action)."""
        self.settle(command.target.value)
        self.actions.append(
            MachineAction(
                type="Unisolate",
                machine=self.machine(command.target.value),
                comment="released from the portal",
                requestor="console",
                status="Succeeded",
            )
        )

    # VendorEmulator hooks

    def open_path(self, request: web.Request) -> bool:
        return request.path.endswith("/oauth2/v2.0/token")

    def authorized(self, request: web.Request) -> bool:
        given = request.headers.get("Authorization", "")
        return given.startswith("Bearer ") and given.removeprefix("Bearer ") in self.valid_tokens

    def unauthorized(self) -> web.Response:
        return _error(401, "Unauthorized", "Authorization token is missing, invalid or expired")

    def rate_limited_body(self) -> Any:
        return {
            "error": {
                "code": "TooManyRequests",
                "message": "Rate limit is exceeded. Try again later.",
                "target": str(uuid.uuid4()),
            }
        }

    # The API

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/{tenant}/oauth2/v2.0/token", self._token),
            web.get("/api/machines", self._machines),
            web.post("/api/machines/{id}/isolate", self._isolate),
            web.post("/api/machines/{id}/unisolate", self._unisolate),
            web.get("/api/machineactions", self._actions),
            web.get("/api/machineactions/{id}", self._action),
        ]

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if request.match_info["tenant"] != self.tenant_id:
            return web.json_response(
                {"error": "invalid_request", "error_description": "AADSTS90002: Tenant not found."},
                status=400,
            )
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if form.get("scope") != SCOPE:
            return web.json_response({"error": "invalid_scope"}, status=400)
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return web.json_response(
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                },
                status=401,
            )
        token = tokens.token_urlsafe(32)
        self.valid_tokens.add(token)
        self.tokens_issued += 1
        self.secrets.append(token)
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "ext_expires_in": self.token_lifetime,
                "access_token": token,
            }
        )

    async def _machines(self, request: web.Request) -> web.Response:
        odata = request.query.get("$filter")
        if odata is None:
            found = self.machines
        else:
            parsed = DNS_FILTER.match(odata)
            if parsed is None:
                return _error(400, "InvalidRequestBody", f"Invalid filter: {odata}")
            name = parsed.group(1).replace("''", "'").lower()
            found = [m for m in self.machines if m.computer_dns_name.lower() == name]
        top = int(request.query.get("$top", "10000"))
        body: dict[str, Any] = {
            "@odata.context": f"{self.base_url}/api/$metadata#Machines",
            "value": [m.resource() for m in found[:top]],
        }
        if len(found) > top:
            body["@odata.nextLink"] = f"{self.base_url}/api/machines?$skip={top}"
        return web.json_response(body)

    async def _actions(self, request: web.Request) -> web.Response:
        if self._barrier is not None and self._held > 0:
            self._held -= 1
            barrier = self._barrier
            if self._held == 0:
                self._barrier = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(barrier.wait(), BARRIER_TIMEOUT)
        parsed = MACHINE_FILTER.match(request.query.get("$filter", ""))
        if parsed is None:
            return _error(400, "InvalidRequestBody", "Invalid filter")
        found = [a for a in self.actions if a.machine.id == parsed.group(1)]
        for action in found:
            action.advance()
        return web.json_response(
            {
                "@odata.context": f"{self.base_url}/api/$metadata#MachineActions",
                "value": [a.resource() for a in found],
            }
        )

    async def _action(self, request: web.Request) -> web.Response:
        for action in self.actions:
            if action.id == request.match_info["id"]:
                action.advance()
                return web.json_response(action.resource())
        return _error(404, "ResourceNotFound", "Machine action was not found")

    async def _isolate(self, request: web.Request) -> web.Response:
        payload = await request.json()
        kind = payload.get("IsolationType", "Full")
        if kind not in ("Full", "Selective"):
            return _error(400, "InvalidRequestBody", f"Invalid isolation type {kind}")
        return self._act(request, "Isolate", payload, kind)

    async def _unisolate(self, request: web.Request) -> web.Response:
        return self._act(request, "Unisolate", await request.json(), None)

    def _act(
        self, request: web.Request, kind: str, payload: dict[str, Any], isolation: str | None
    ) -> web.Response:
        machine = next((m for m in self.machines if m.id == request.match_info["id"]), None)
        if machine is None:
            return _error(404, "ResourceNotFound", f"Machine {request.match_info['id']} not found")
        if not payload.get("Comment"):
            return _error(400, "InvalidRequestBody", "Comment is required")
        pending = [a for a in self.actions if a.machine is machine and a.status in PENDING]
        if pending:
            if self.repeat == "pending_action" and pending[-1].type == kind:
                return web.json_response(pending[-1].resource(), status=201)
            return _error(400, "ActiveRequestAlreadyExists", "Action is already in progress")
        action = MachineAction(
            type=kind,
            machine=machine,
            comment=str(payload["Comment"]),
            requestor=self.client_id,
            isolation_type=isolation,
            outcome="Failed" if machine.fail_next else "Succeeded",
            reads_left=self.pending_reads,
        )
        machine.fail_next = False
        self.actions.append(action)
        return web.json_response(action.resource(), status=201)
