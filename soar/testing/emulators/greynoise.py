"""The GreyNoise Community API on loopback, played the way GreyNoise documents it.

- `GET /v3/community/{ip}`, the key (optional: the unauthenticated plan answers too) in
  the `key` header; a wrong key is 401 with a `message`.
- A seeded address is `{ip, noise, riot, classification, name, link, last_seen,
  message: "Success"}`; any other valid IPv4 address is 404 with the same shape,
  `noise` and `riot` false and "IP not observed scanning the internet or contained in
  RIOT data set."; anything else is 400 "Request is not a valid routable IPv4 address".
- A day's allowance (`daily_limit` with a key, `unauthenticated_limit` without), then
  429 with the plan's words ("You have hit your daily rate limit…"). GreyNoise
  documents no wait header; `retry_after=True` plays a service that sends
  `Retry-After` anyway. :meth:`VendorEmulator.throttle` sends a short-term 429 ("Too
  many requests"), with `Retry-After` only in that mode.

Tests seed addresses with :meth:`GreyNoiseEmulator.add_ip`.
"""

from __future__ import annotations

import ipaddress
import math
import secrets
import time
from typing import Any

from aiohttp import web

from soar.testing.emulators.base import VendorEmulator

DAY = 24 * 3600
NOT_OBSERVED = "IP not observed scanning the internet or contained in RIOT data set."


class GreyNoiseEmulator(VendorEmulator):
    """The emulated service; see the module docstring."""

    def __init__(
        self,
        *,
        daily_limit: int = 50,
        unauthenticated_limit: int = 10,
        retry_after: bool = False,
    ) -> None:
        super().__init__()
        self.key = secrets.token_urlsafe(40)
        self.secrets: list[str] = [self.key]
        self.addresses: dict[str, dict[str, Any]] = {}
        self.daily_limit = daily_limit
        self.unauthenticated_limit = unauthenticated_limit
        self.retry_after = retry_after
        self.used: dict[bool, int] = {True: 0, False: 0}
        """Lookups answered today, with a key (True) and without (False)."""

    @property
    def lookups(self) -> int:
        return len(self.calls)

    def add_ip(
        self,
        address: str,
        *,
        noise: bool = True,
        riot: bool = False,
        classification: str = "malicious",
        name: str = "unknown",
        last_seen: str = "2026-11-30",
    ) -> None:
        """Seed what GreyNoise says of an IPv4 address."""
        self.addresses[address] = {
            "ip": address,
            "noise": noise,
            "riot": riot,
            "classification": classification,
            "name": name,
            "link": f"https://viz.greynoise.io/ip/{address}",
            "last_seen": last_seen,
            "message": "Success",
        }

    # The vendor's ways

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("key") in (None, self.key)

    def unauthorized(self) -> web.Response:
        return web.json_response({"message": "Authentication failed: invalid API key"}, status=401)

    def wait_headers(self, seconds: float) -> dict[str, str]:
        return {"Retry-After": str(math.ceil(seconds))} if self.retry_after else {}

    def rate_limited_body(self) -> Any:
        return {"message": "Too many requests, please slow down."}

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/v3/community/{ip}", self._community)]

    async def _community(self, request: web.Request) -> web.Response:
        keyed = "key" in request.headers
        limit = self.daily_limit if keyed else self.unauthenticated_limit
        if self.used[keyed] >= limit:
            midnight = (time.time() // DAY + 1) * DAY
            return web.json_response(
                {
                    "plan": "community" if keyed else "unauthenticated",
                    "rate-limit": f"{limit}-lookups/day",
                    "plan_url": "https://greynoise.io/pricing",
                    "message": f"You have hit your daily rate limit of {limit} requests per "
                    "day. Please create a free account or upgrade your plan at "
                    "https://greynoise.io/pricing.",
                },
                status=429,
                headers=self.wait_headers(midnight - time.time()),
            )
        self.used[keyed] += 1
        address = request.match_info["ip"]
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            parsed = None
        if parsed is None or parsed.version != 4 or not parsed.is_global:
            return web.json_response(
                {"message": "Request is not a valid routable IPv4 address"}, status=400
            )
        found = self.addresses.get(address)
        if found is None:
            return web.json_response(
                {"ip": address, "noise": False, "riot": False, "message": NOT_OBSERVED},
                status=404,
            )
        return web.json_response(found)
