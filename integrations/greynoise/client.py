"""The GreyNoise Community API over :class:`VendorHttp`.

`GET /v3/community/{ip}` (key, if any, in the `key` header) answers `{ip, noise, riot,
classification, name, link, last_seen, message}`. A 404 with the same shape means
"not observed scanning the internet, and not a known business service": an answer, not
a failure. Errors carry a `message`. The community plan allows a number of lookups a
day; the 429 that ends it says so in its `message` ("daily rate limit") and, as far as
GreyNoise documents, sends no wait: the wait is then to the next 00:00 UTC. Any other
429 is waited for as its `Retry-After` says, or with the shared backoff.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx

from integrations.core.http import VendorHttp, default_explain
from integrations.core.waits import standard_wait
from integrations.greynoise.options import GreyNoiseOptions
from soar.integrations.errors import IntegrationError, RateLimited, RequestRejected

API_ROOT = "/v3/community"
DAY = 24 * 3600
CHECK_ADDRESS = "8.8.8.8"
"""What `check` looks up: Google's public resolver, which reveals nothing about us."""


def _message(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    words = body.get("message") or body.get("error")
    return str(words) if words else None


def greynoise_explain(response: httpx.Response) -> str:
    """GreyNoise's words for a failed answer: its `message`."""
    return _message(response) or default_explain(response)


class GreyNoiseHttp(VendorHttp):
    """:class:`VendorHttp` that reads the end of the day's allowance from a 429's words."""

    def judge(
        self, response: httpx.Response, label: str, *, missing_ok: bool
    ) -> tuple[IntegrationError, float | None] | None:
        if response.status_code != 429 or standard_wait(response) is not None:
            return super().judge(response, label, missing_ok=missing_ok)
        words = self.redact(greynoise_explain(response))
        if "daily" not in words.lower() and "per day" not in words.lower():
            return super().judge(response, label, missing_ok=missing_ok)
        midnight = (time.time() // DAY + 1) * DAY
        wait = midnight - time.time()
        return RateLimited(
            self.name,
            f"{label}: the day's lookups are used up ({words}); waiting until "
            f"{datetime.fromtimestamp(midnight, UTC):%Y-%m-%d %H:%M} UTC",
            retry_after=wait,
        ), wait


class GreyNoiseClient:
    """Community lookups of IPv4 addresses, with or without a key."""

    def __init__(self, name: str, options: GreyNoiseOptions) -> None:
        self.name = name
        headers = {"Accept": "application/json"}
        if options.api_key is not None:
            headers["key"] = options.api_key.get_secret_value()
        self.http = GreyNoiseHttp(name, options, headers=headers, explain=greynoise_explain)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def community(self, address: str) -> dict[str, Any] | None:
        """What GreyNoise says of `address`, or None when it has not observed it. A 404
        that is not GreyNoise's answer means base_url does not lead to GreyNoise."""
        what = f"look up {address}"
        response = await self.http.request(
            "GET", f"{API_ROOT}/{address}", missing_ok=True, what=what
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "ip" not in body:
            raise RequestRejected(
                self.name,
                f"{what}: the answer ({response.status_code}) is not GreyNoise's; is base_url "
                "the GreyNoise API?",
                status=response.status_code,
            )
        return None if response.status_code == 404 else body


async def check(name: str, options: GreyNoiseOptions) -> list[str]:
    """One lookup of a public resolver's address (one of the day's), changing nothing."""
    client = GreyNoiseClient(name, options)
    try:
        found = await client.community(CHECK_ADDRESS)
    finally:
        await client.aclose()
    lines = [
        f"reached {options.base_url}",
        "key accepted" if options.api_key else "no key: the unauthenticated community plan",
    ]
    if found is not None and found.get("name"):
        lines.append(f"{CHECK_ADDRESS} is {found['name']}")
    return lines
