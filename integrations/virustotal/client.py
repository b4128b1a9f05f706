"""The VirusTotal API v3 object reports over :class:`VendorHttp`.

`GET /api/v3/{ip_addresses|domains|files|urls}/{id}` with the key in `x-apikey` answers
`{"data": {"id", "type", "attributes", "links"}}`. Errors are `{"error": {"code",
"message"}}`: `NotFoundError` (404) means VirusTotal has no report — an answer, not a
failure — and `QuotaExceededError` (429) means one of the key's quotas (a minute's, a
day's, a month's) is spent, without saying which or sending a wait.

So a 429 is read this way: a wait the answer does carry (`Retry-After`) is honoured;
otherwise, once this client has had the key's `daily_quota` answers since 00:00 UTC
(when VirusTotal resets daily quotas), the day's quota is spent and the wait runs to the
next midnight UTC; otherwise it is the minute's quota, and the wait is a minute. A key
shared with other tools may spend its day elsewhere; then each retry a minute apart
costs one refused call until midnight.
"""

from __future__ import annotations

import time
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
    """:class:`VendorHttp` that counts the answers of the UTC day and reads a 429 as the
    module docstring says."""

    daily_quota: int | None = None
    _day = 0
    _answered = 0

    @property
    def answered_today(self) -> int:
        """Answers VirusTotal gave (and counted) since 00:00 UTC."""
        return self._answered if self._day == int(time.time() // DAY) else 0

    def judge(
        self, response: httpx.Response, label: str, *, missing_ok: bool
    ) -> tuple[IntegrationError, float | None] | None:
        status = response.status_code
        if status != 429:
            if status < 400 or status == 404:
                today = int(time.time() // DAY)
                self._answered = self._answered + 1 if self._day == today else 1
                self._day = today
            return super().judge(response, label, missing_ok=missing_ok)
        words = self.redact(virustotal_explain(response))
        told = standard_wait(response)
        if told is not None:
            return RateLimited(self.name, f"{label}: {words}", retry_after=told), told
        if self.daily_quota is not None and self.answered_today >= self.daily_quota:
            midnight = (time.time() // DAY + 1) * DAY
            wait = midnight - time.time()
            return RateLimited(
                self.name,
                f"{label}: the key's daily quota of {self.daily_quota} lookups is used up "
                f"({words}); VirusTotal resets it at "
                f"{datetime.fromtimestamp(midnight, UTC):%Y-%m-%d %H:%M} UTC",
                retry_after=wait,
            ), wait
        return RateLimited(
            self.name, f"{label}: {words}; waiting out the minute's quota", retry_after=MINUTE
        ), MINUTE


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
        self.http.daily_quota = options.daily_quota

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
