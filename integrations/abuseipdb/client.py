"""The AbuseIPDB APIv2 `check` endpoint over :class:`VendorHttp`.

`GET /api/v2/check?ipAddress=&maxAgeInDays=` with the key in the `Key` header answers
`{"data": {...}}` for any valid address — an address nobody reported is an answer with
no reports, not a 404. Errors are `{"errors": [{"detail", "status"}]}`; the details are
the vendor's words in every message. AbuseIPDB limits checks per day, not per second:
every answer carries `X-RateLimit-Limit` and `X-RateLimit-Remaining`, and the 429 that
ends a day's allowance carries `Retry-After` (seconds until the reset) and
`X-RateLimit-Reset` (its epoch time). :attr:`AbuseIpdbClient.quota` keeps what the
last answer said, for the engine to plan with.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from integrations.abuseipdb.options import API_ROOT, AbuseIpdbOptions
from integrations.core.http import VendorHttp, default_explain
from integrations.core.waits import standard_wait
from soar.integrations.errors import IntegrationError, RateLimited, RequestRejected

CHECK_ADDRESS = "127.0.0.1"
"""What `check` looks up: an address that reveals nothing about us."""


@dataclass(frozen=True)
class DailyQuota:
    """The day's allowance of checks as AbuseIPDB last reported it."""

    limit: int | None
    remaining: int
    resets_at: datetime | None
    """When the allowance comes back (known once AbuseIPDB has refused a check)."""


def _error_details(body: Any) -> str | None:
    """The `detail` of each entry of an `errors` body, joined; None for another body."""
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return None
    details = [
        str(error.get("detail"))
        for error in body["errors"]
        if isinstance(error, dict) and error.get("detail")
    ]
    return "; ".join(details) or None


def abuseipdb_explain(response: httpx.Response) -> str:
    """AbuseIPDB's words for a failed answer."""
    try:
        words = _error_details(response.json())
    except ValueError:
        words = None
    return words or default_explain(response)


def _int_header(response: httpx.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None


class AbuseIpdbHttp(VendorHttp):
    """:class:`VendorHttp` reading AbuseIPDB's allowance headers off every answer, and
    its 429 as what it always is: the end of the day's allowance."""

    quota: DailyQuota | None = None

    def judge(
        self, response: httpx.Response, label: str, *, missing_ok: bool
    ) -> tuple[IntegrationError, float | None] | None:
        remaining = _int_header(response, "X-RateLimit-Remaining")
        limit = _int_header(response, "X-RateLimit-Limit")
        if response.status_code != 429:
            if remaining is not None:
                self.quota = DailyQuota(limit=limit, remaining=remaining, resets_at=None)
            return super().judge(response, label, missing_ok=missing_ok)
        wait = standard_wait(response)
        if wait is None:
            return super().judge(response, label, missing_ok=missing_ok)
        resets_at = datetime.fromtimestamp(time.time() + wait, UTC)
        if limit is None and self.quota is not None:
            limit = self.quota.limit
        self.quota = DailyQuota(limit=limit, remaining=0, resets_at=resets_at)
        return RateLimited(
            self.name,
            f"{label}: the key's daily allowance of checks is used up; it comes back at "
            f"{resets_at:%Y-%m-%d %H:%M:%S} UTC",
            retry_after=wait,
        ), wait


class AbuseIpdbClient:
    """Checks of single addresses for one configured AbuseIPDB key."""

    def __init__(self, name: str, options: AbuseIpdbOptions) -> None:
        self.name = name
        self.options = options
        self.http = AbuseIpdbHttp(
            name,
            options,
            headers={"Key": options.api_key.get_secret_value(), "Accept": "application/json"},
            explain=abuseipdb_explain,
            body_error=self._body_error,
        )

    @property
    def quota(self) -> DailyQuota | None:
        """The day's allowance as the last answer reported it."""
        return self.http.quota

    async def aclose(self) -> None:
        await self.http.aclose()

    async def check_address(self, address: str) -> dict[str, Any]:
        """AbuseIPDB's `data` about `address` over the configured number of days."""
        what = f"check {address}"
        response = await self.http.request(
            "GET",
            f"{API_ROOT}/check",
            params={"ipAddress": address, "maxAgeInDays": str(self.options.max_age_days)},
            what=what,
        )
        try:
            data = response.json()["data"]
        except (ValueError, KeyError, TypeError):
            data = None
        if not isinstance(data, dict):
            raise RequestRejected(
                self.name,
                f"{what}: the answer is not an AbuseIPDB report; is base_url AbuseIPDB's API?",
                status=response.status_code,
            )
        return data

    def _body_error(self, response: httpx.Response) -> IntegrationError | None:
        """An `errors` body in an answer whose status says success."""
        try:
            words = _error_details(response.json())
        except ValueError:
            return None
        if words is None:
            return None
        return RequestRejected(
            self.name, f"AbuseIPDB answered with errors: {words}", status=response.status_code
        )


async def check(name: str, options: AbuseIpdbOptions) -> list[str]:
    """Have the key accepted with one check of the loopback address (one of the day's
    checks), and say what is left of the day's allowance."""
    client = AbuseIpdbClient(name, options)
    try:
        await client.check_address(CHECK_ADDRESS)
    finally:
        await client.aclose()
    lines = [f"reached {options.base_url}", "key accepted"]
    quota = client.quota
    if quota is not None:
        limit = f" of {quota.limit}" if quota.limit is not None else ""
        lines.append(f"{quota.remaining}{limit} checks left today")
    return lines
