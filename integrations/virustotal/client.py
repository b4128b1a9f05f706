"""The VirusTotal API v3 object reports over :class:`VendorHttp`.

`GET /api/v3/{ip_addresses|domains|files|urls}/{id}` with the key in `x-apikey` answers
`{"data": {"id", "type", "attributes", "links"}}`. Errors are `{"error": {"code",
"message"}}`: `NotFoundError` (404) means VirusTotal has no report — an answer, not a
failure — and `QuotaExceededError` (429) means one of the key's quotas (a minute's, a
day's, a month's) is spent, without saying which or sending a wait.

So a 429 is read this way: a wait the answer does carry (`Retry-After`) is honoured;
otherwise the first refusal is taken for the minute's quota, and the wait is a minute.
A refusal again when a minute has passed since the first one, with no answer between,
cannot be the minute's quota: the day's (or the month's) is spent, and the wait runs
to the next 00:00 UTC, when VirusTotal resets daily quotas. So a key whose day was
spent elsewhere (another tool, another worker) costs two refused calls, not one a
minute until midnight. The engine counts the day's lookups against `daily_quota`
before asking; this reading is for what it cannot count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from integrations.core.http import VendorHttp, default_explain
from integrations.core.waits import standard_wait
from integrations.virustotal.options import API_ROOT, VirusTotalOptions
from soar.integrations.errors import IntegrationError, RateLimited, RequestRejected

DAY = 24 * 3600
MINUTE = 60.0
NOT_FOUND = "NotFoundError"
CHECK_ADDRESS = "8.8.8.8"
"""What `check` looks up: Google's public resolver, which reveals nothing about us."""


def _error(response: httpx.Response) -> tuple[str, str] | None:
    """VirusTotal's error code and message, when the body is its error shape."""
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error.get("message") or "")
    except (ValueError, KeyError, TypeError):
        return None


def virustotal_explain(response: httpx.Response) -> str:
    """VirusTotal's words for a failed answer: its message and its error code."""
    error = _error(response)
    if error is None:
        return default_explain(response)
    code, message = error
    return f"{message} [{code}]" if message else code


class VirusTotalHttp(VendorHttp):
    """:class:`VendorHttp` reading a 429 as the module docstring says."""

    clock: Callable[[], float] = time.time
    """The time now (tests move it)."""
    _refused_since: float | None = None
    """When the first of the refusals since the last answer came."""

    def judge(
        self, response: httpx.Response, label: str, *, missing_ok: bool
    ) -> tuple[IntegrationError, float | None] | None:
        if response.status_code != 429:
            if response.status_code < 400 or response.status_code == 404:
                self._refused_since = None
            return super().judge(response, label, missing_ok=missing_ok)
        words = self.redact(virustotal_explain(response))
        told = standard_wait(response)
        if told is not None:
            return RateLimited(self.name, f"{label}: {words}", retry_after=told), told
        now = self.clock()
        if self._refused_since is None:
            self._refused_since = now
        if now - self._refused_since < MINUTE:
            return RateLimited(
                self.name, f"{label}: {words}; waiting out the minute's quota", retry_after=MINUTE
            ), MINUTE
        midnight = (now // DAY + 1) * DAY
        return RateLimited(
            self.name,
            f"{label}: {words} a minute after the first refusal, so the key's daily quota is "
            f"used up; VirusTotal resets it at {datetime.fromtimestamp(midnight, UTC):%Y-%m-%d} "
            "00:00 UTC",
            retry_after=midnight - now,
        ), midnight - now


class VirusTotalClient:
    """Reports on IP addresses, domains, files and URLs for one configured key."""

    def __init__(self, name: str, options: VirusTotalOptions) -> None:
        self.name = name
        self.http = VirusTotalHttp(
            name,
            options,
            headers={"x-apikey": options.api_key.get_secret_value(), "Accept": "application/json"},
            explain=virustotal_explain,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def report(self, collection: str, identifier: str, what: str) -> dict[str, Any] | None:
        """The `data` object VirusTotal holds under `collection`/`identifier`, or None
        when it has none (`NotFoundError`). A 404 without VirusTotal's error body means
        base_url does not lead to VirusTotal, a configuration error."""
        response = await self.http.request(
            "GET", f"{API_ROOT}/{collection}/{identifier}", missing_ok=True, what=what
        )
        error = _error(response)
        if response.status_code == 404:
            if error is not None and error[0] == NOT_FOUND:
                return None
            raise RequestRejected(
                self.name,
                f"{what}: the server answered 404 without VirusTotal's error body; is "
                "base_url VirusTotal's?",
                status=404,
            )
        if error is not None:
            raise RequestRejected(
                self.name, f"{what}: {virustotal_explain(response)}", status=response.status_code
            )
        try:
            data = response.json()["data"]
        except (ValueError, KeyError, TypeError):
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("attributes"), dict):
            raise RequestRejected(
                self.name,
                f"{what}: the answer is not a VirusTotal object; is base_url VirusTotal's?",
                status=response.status_code,
            )
        return data


async def check(name: str, options: VirusTotalOptions) -> list[str]:
    """Have the key accepted with one lookup of a public resolver's address (one of the
    day's lookups), changing nothing."""
    client = VirusTotalClient(name, options)
    try:
        found = await client.report("ip_addresses", CHECK_ADDRESS, f"look up {CHECK_ADDRESS}")
    finally:
        await client.aclose()
    lines = [f"reached {options.base_url}", "key accepted"]
    if found is not None:
        owner = found["attributes"].get("as_owner")
        lines.append(f"{CHECK_ADDRESS} is known" + (f" ({owner})" if owner else ""))
    return lines
