"""The part of the AlienVault OTX DirectConnect API the enricher needs, over
:class:`VendorHttp`.

- `GET /api/v1/indicators/{IPv4|IPv6|domain|hostname|url|file}/{value}/general` with
  `X-OTX-API-KEY` answers `{indicator, type, pulse_info: {count, pulses[], related},
  validation[], false_positive[], reputation, ...}`; an indicator nobody reported is a
  200 with `pulse_info.count` 0, not a 404.
- A refused key is **403** (`{"detail": ...}`), read here as a refused credential: OTX
  has no per-key permissions on indicator reads, so a 403 can mean nothing else.
- 400 and 404 mean OTX does not take the value as an indicator of that section: a
  rejected request, since asking again cannot help.
- Throttling is 429 with `Retry-After` and "Request was throttled. Expected available
  in N seconds."; a wait longer than `max_wait_seconds` is raised as RateLimited.
- `GET /api/v1/users/me` is the check's read-only call.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from integrations.core.http import VendorHttp, default_explain
from integrations.otx.options import OtxOptions
from soar.integrations.errors import (
    CredentialsRejected,
    IntegrationError,
    RequestRejected,
)

API = "/api/v1"


def otx_explain(response: httpx.Response) -> str:
    """OTX's words for a failed answer: the `detail` of its error body."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return default_explain(response)
    return str(detail) if detail else default_explain(response)


class OtxHttp(VendorHttp):
    """:class:`VendorHttp` with OTX's statuses: 403 a refused key, 400 and 404 a value
    OTX does not take."""

    def judge(
        self, response: httpx.Response, label: str, *, missing_ok: bool
    ) -> tuple[IntegrationError, float | None] | None:
        status = response.status_code
        if status in (400, 403, 404):
            words = self.redact(otx_explain(response))
            if status == 403:
                return CredentialsRejected(
                    self.name, f"{label}: OTX refused the API key (403): {words}", status=403
                ), None
            return RequestRejected(
                self.name, f"{label}: OTX does not take it ({status}): {words}", status=status
            ), None
        return super().judge(response, label, missing_ok=missing_ok)


class OtxClient:
    """Indicator reads and the check's read, for one configured OTX key."""

    def __init__(self, name: str, options: OtxOptions) -> None:
        self.name = name
        self.http = OtxHttp(
            name,
            options,
            headers={
                "X-OTX-API-KEY": options.api_key.get_secret_value(),
                "Accept": "application/json",
            },
            explain=otx_explain,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def general(self, section: str, value: str) -> dict[str, Any]:
        """The `general` section of an indicator (`section` is OTX's type name)."""
        what = f"look {value} up in OTX"
        body = await self.http.json(
            "GET", f"{API}/indicators/{section}/{quote(value, safe=':/@')}/general", what=what
        )
        if not isinstance(body, dict) or not isinstance(body.get("pulse_info"), dict):
            raise RequestRejected(
                self.name,
                f"{what}: the answer is not an OTX indicator; is base_url the OTX API?",
                status=200,
            )
        return body

    async def username(self) -> str:
        """The OTX user the key belongs to."""
        body = await self.http.json("GET", f"{API}/users/me", what="read the key's user")
        name = body.get("username") if isinstance(body, dict) else None
        if not name:
            raise RequestRejected(
                self.name, "read the key's user: the answer is not OTX's", status=200
            )
        return str(name)


async def check(name: str, options: OtxOptions) -> list[str]:
    """Reach OTX and have the key accepted, changing nothing."""
    client = OtxClient(name, options)
    try:
        user = await client.username()
    finally:
        await client.aclose()
    return [f"reached {options.base_url}", f"key accepted: it belongs to the OTX user {user}"]
