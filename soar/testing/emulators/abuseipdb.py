"""AbuseIPDB's APIv2 `check` endpoint on loopback, played the way AbuseIPDB documents it.

- `GET /api/v2/check?ipAddress=&maxAgeInDays=` with the key in the `Key` header; a
  missing or wrong key is 401 with AbuseIPDB's `errors` body.
- Any valid address is an answer `{"data": {...}}`: a seeded one with its reports, any
  other with none (`abuseConfidenceScore` 0, `totalReports` 0); a private address is
  `isPublic: false`. An invalid address or `maxAgeInDays` outside 1-365 is 422.
- A day's allowance of `daily_limit` checks: every answer carries `X-RateLimit-Limit`
  and `X-RateLimit-Remaining`; once it is spent, 429 with `Retry-After` (seconds until
  the reset), `X-RateLimit-Remaining: 0` and `X-RateLimit-Reset` (epoch seconds).
  :meth:`VendorEmulator.throttle` sends that same 429 with a reset `seconds` away.
- :meth:`AbuseIpdbEmulator.errors_in_ok` answers the next check with an `errors` body
  under status 200, a shape a proxy or an API change could produce.

Tests seed addresses with :meth:`AbuseIpdbEmulator.add_ip`.
"""

from __future__ import annotations

import ipaddress
import math
import secrets
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from soar.testing.emulators.base import VendorEmulator

DAY = 24 * 3600
BAD_KEY = "Authentication failed. Your API key is either missing, incorrect, or revoked."


def abuseipdb_errors(status: int, detail: str, **extra: Any) -> dict[str, Any]:
    """AbuseIPDB's error body."""
    return {"errors": [{"detail": detail, "status": status, **extra}]}


@dataclass
class AbuseRecord:
    """What the emulated AbuseIPDB knows about one address."""

    score: int = 0
    reports: int = 0
    users: int = 0
    country: str | None = "DE"
    usage_type: str | None = "Data Center/Web Hosting/Transit"
    isp: str | None = "Example Hosting GmbH"
    domain: str | None = "example-hosting.test"
    tor: bool = False
    whitelisted: bool = False
    last_reported_at: str | None = None


class AbuseIpdbEmulator(VendorEmulator):
    """The emulated service; see the module docstring."""

    def __init__(self, *, daily_limit: int = 1000) -> None:
        super().__init__()
        self.key = secrets.token_hex(40)
        self.secrets: list[str] = [self.key]
        self.addresses: dict[str, AbuseRecord] = {}
        self.daily_limit = daily_limit
        self.used_today = 0
        self.resets_at = math.ceil(time.time() / DAY) * DAY
        """When the day's allowance comes back (the next midnight UTC by default)."""
        self._errors_in_ok: list[str] = []

    @property
    def lookups(self) -> int:
        return len(self.calls)

    def add_ip(self, address: str, **record: Any) -> AbuseRecord:
        """Seed what AbuseIPDB knows about `address` (fields of :class:`AbuseRecord`)."""
        seeded = AbuseRecord(**record)
        self.addresses[str(ipaddress.ip_address(address))] = seeded
        return seeded

    def errors_in_ok(self, detail: str) -> None:
        """Answer the next check with an `errors` body and status 200."""
        self._errors_in_ok.append(detail)

    # The vendor's ways

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("Key") == self.key

    def unauthorized(self) -> web.Response:
        return web.json_response(abuseipdb_errors(401, BAD_KEY), status=401)

    def wait_headers(self, seconds: float) -> dict[str, str]:
        return {
            "Retry-After": str(math.ceil(seconds)),
            "X-RateLimit-Limit": str(self.daily_limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(math.ceil(time.time() + seconds)),
        }

    def rate_limited_body(self) -> Any:
        return abuseipdb_errors(
            429,
            f"Daily rate limit of {self.daily_limit} requests exceeded for this endpoint. "
            "See headers for additional details.",
        )

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/v2/check", self._check)]

    async def _check(self, request: web.Request) -> web.Response:
        if self.used_today >= self.daily_limit:
            return web.json_response(
                self.rate_limited_body(),
                status=429,
                headers=self.wait_headers(max(self.resets_at - time.time(), 1)),
            )
        self.used_today += 1
        allowance = {
            "X-RateLimit-Limit": str(self.daily_limit),
            "X-RateLimit-Remaining": str(self.daily_limit - self.used_today),
        }
        if self._errors_in_ok:
            body = abuseipdb_errors(500, self._errors_in_ok.pop(0))
            return web.json_response(body, headers=allowance)
        try:
            address = ipaddress.ip_address(request.query.get("ipAddress", ""))
        except ValueError:
            return web.json_response(
                abuseipdb_errors(
                    422,
                    "The ip address must be a valid IPv4 or IPv6 address (e.g. 8.8.8.8 or "
                    "2001:4860:4860::8888).",
                    source={"parameter": "ipAddress"},
                ),
                status=422,
                headers=allowance,
            )
        days = request.query.get("maxAgeInDays", "30")
        if not days.isdigit() or not 1 <= int(days) <= 365:
            return web.json_response(
                abuseipdb_errors(
                    422,
                    "The max age in days must be between 1 and 365.",
                    source={"parameter": "maxAgeInDays"},
                ),
                status=422,
                headers=allowance,
            )
        return web.json_response({"data": self._report(address)}, headers=allowance)

    def _report(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> dict[str, Any]:
        record = self.addresses.get(str(address)) or AbuseRecord()
        return {
            "ipAddress": str(address),
            "isPublic": address.is_global,
            "ipVersion": address.version,
            "isWhitelisted": record.whitelisted,
            "abuseConfidenceScore": record.score,
            "countryCode": record.country,
            "usageType": record.usage_type,
            "isp": record.isp,
            "domain": record.domain,
            "hostnames": [],
            "isTor": record.tor,
            "totalReports": record.reports,
            "numDistinctUsers": record.users,
            "lastReportedAt": record.last_reported_at,
        }
