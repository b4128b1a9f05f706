"""A FortiGate's REST API, as far as its banned-IP list.

- `GET /api/v2/monitor/user/banned` — `results: [{ip_address, ipv6, created, expires,
  source}]` (`expires` only on a ban that ends);
- `POST /api/v2/monitor/user/banned/add_users` `{"ip_addresses", "expiry"}` (0: no
  end) and `POST …/clear_users` `{"ip_addresses"}`;
- `GET /api/v2/monitor/system/status`.

Every answer is FortiOS's envelope `{http_method, status, http_status, vdom, path, name,
action, serial, version, build}`, with `error: <negative code>` on an error. The token
is `Authorization: Bearer …` (or `access_token=` in the query); a bad one is a 401.
`?vdom=` must name a VDOM the emulator has (else a 404).

Where FortiOS versions differ the emulator plays either way: a ban of an address
already banned refreshes its expiry or answers duplicate `-5` (`duplicate`); a clear of
one not banned succeeds or answers `-3` (`clear_missing`); errors come in the HTTP
status they name or inside a 200 (`errors_in_200`). Bans lapse on the emulator's clock,
which a test moves with :meth:`FortigateEmulator.advance`.
"""

from __future__ import annotations

import ipaddress
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from soar.containment.models import ContainmentCommand
from soar.testing.emulators.base import VendorEmulator

SERIAL = "FGVMEVEMULATOR01"
VERSION = "v7.4.3"
BUILD = 2573
INVALID_VALUE = -651


@dataclass
class _Ban:
    created: float
    expires: float | None


def _target_key(command: ContainmentCommand) -> str:
    network = ipaddress.ip_network(command.target.value, strict=False)
    return str(network.network_address if network.num_addresses == 1 else network)


class FortigateEmulator(VendorEmulator):
    """A FortiGate's banned list over its REST API; see the module docstring."""

    def __init__(
        self,
        *,
        token: str | None = None,
        duplicate: Literal["refresh", "error"] = "refresh",
        clear_missing: Literal["success", "error"] = "success",
        errors_in_200: bool = False,
        vdoms: tuple[str, ...] = ("root",),
    ) -> None:
        super().__init__()
        self.token = token or secrets.token_hex(15)
        self.secrets: list[str] = [self.token]
        self.duplicate = duplicate
        self.clear_missing = clear_missing
        self.errors_in_200 = errors_in_200
        self.vdoms = vdoms
        self.bans: dict[str, dict[str, _Ban]] = {vdom: {} for vdom in vdoms}
        """VDOM → address → its ban."""
        self.changes: Counter[str] = Counter()
        """add_users and clear_users calls received per address."""
        self.offset = 0.0

    # The contract's view of the product (the first VDOM)

    def effects(self, command: ContainmentCommand) -> int:
        return self.changes[_target_key(command)]

    def in_effect(self, command: ContainmentCommand) -> bool:
        return _target_key(command) in self._live(self.vdoms[0])

    def undo_out_of_band(self, command: ContainmentCommand) -> None:
        self._live(self.vdoms[0]).pop(_target_key(command), None)

    def remaining(self, command: ContainmentCommand) -> float | None:
        """Seconds until the ban on the command's address lapses (None: no end)."""
        ban = self._live(self.vdoms[0])[_target_key(command)]
        return None if ban.expires is None else ban.expires - self.now()

    # Scripting

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward (bans lapse)."""
        self.offset += seconds

    # The API

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v2/monitor/user/banned", self._list),
            web.post("/api/v2/monitor/user/banned/add_users", self._add),
            web.post("/api/v2/monitor/user/banned/clear_users", self._clear),
            web.get("/api/v2/monitor/system/status", self._status),
        ]

    def authorized(self, request: web.Request) -> bool:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return (given or request.query.get("access_token")) == self.token

    def unauthorized(self) -> web.Response:
        return self._error("GET", 401, None)

    def _envelope(self, method: str, action: str, vdom: str, status: int) -> dict[str, Any]:
        return {
            "http_method": method,
            "status": "success" if status < 400 else "error",
            "http_status": status,
            "vdom": vdom,
            "path": "user",
            "name": "banned",
            "action": action,
            "serial": SERIAL,
            "version": VERSION,
            "build": BUILD,
        }

    def _error(self, method: str, status: int, code: int | None, vdom: str = "") -> web.Response:
        body = self._envelope(method, "", vdom, status)
        if code is not None:
            body["error"] = code
        return web.json_response(body, status=200 if self.errors_in_200 else status)

    def _vdom(self, request: web.Request) -> str | None:
        vdom = request.query.get("vdom", self.vdoms[0])
        return vdom if vdom in self.vdoms else None

    def _live(self, vdom: str) -> dict[str, _Ban]:
        """The VDOM's bans, those that lapsed dropped."""
        bans = self.bans[vdom]
        now = self.now()
        for address in [a for a, ban in bans.items() if ban.expires and ban.expires <= now]:
            del bans[address]
        return bans

    async def _addresses(self, request: web.Request) -> list[str] | None:
        """The request's `ip_addresses`, each in its canonical form (None: invalid)."""
        try:
            body = await request.json()
            return [str(ipaddress.ip_address(ip)) for ip in body["ip_addresses"]]
        except (ValueError, KeyError, TypeError):
            return None

    async def _list(self, request: web.Request) -> web.Response:
        vdom = self._vdom(request)
        if vdom is None:
            return self._error("GET", 404, None)
        results = []
        for address, ban in sorted(self._live(vdom).items()):
            row: dict[str, Any] = {
                "ip_address": address,
                "ipv6": ":" in address,
                "created": int(ban.created),
                "source": "rest_api",
            }
            if ban.expires is not None:
                row["expires"] = int(ban.expires)
            results.append(row)
        body = self._envelope("GET", "select", vdom, 200)
        body["results"] = results
        return web.json_response(body)

    async def _add(self, request: web.Request) -> web.Response:
        vdom = self._vdom(request)
        if vdom is None:
            return self._error("POST", 404, None)
        addresses = await self._addresses(request)
        body = await request.json()
        expiry = body.get("expiry", 0)
        if addresses is None or not isinstance(expiry, int) or expiry < 0:
            return self._error("POST", 500, INVALID_VALUE, vdom)
        bans = self._live(vdom)
        for address in addresses:
            self.changes[address] += 1
        if self.duplicate == "error" and any(address in bans for address in addresses):
            return self._error("POST", 500, -5, vdom)
        now = self.now()
        for address in addresses:
            bans[address] = _Ban(created=now, expires=now + expiry if expiry else None)
        return web.json_response(self._envelope("POST", "add_users", vdom, 200))

    async def _clear(self, request: web.Request) -> web.Response:
        vdom = self._vdom(request)
        if vdom is None:
            return self._error("POST", 404, None)
        addresses = await self._addresses(request)
        if addresses is None:
            return self._error("POST", 500, INVALID_VALUE, vdom)
        bans = self._live(vdom)
        for address in addresses:
            self.changes[address] += 1
        if self.clear_missing == "error" and any(a not in bans for a in addresses):
            return self._error("POST", 404, -3, vdom)
        for address in addresses:
            bans.pop(address, None)
        return web.json_response(self._envelope("POST", "clear_users", vdom, 200))

    async def _status(self, request: web.Request) -> web.Response:
        vdom = self._vdom(request)
        if vdom is None:
            return self._error("GET", 404, None)
        body = self._envelope("GET", "", vdom, 200)
        body.update(path="system", name="status")
        body["results"] = {
            "model_name": "FortiGate",
            "model_number": "VM64",
            "model": "FGVM64",
            "hostname": "fgt-emulator",
        }
        return web.json_response(body)
