"""Shodan's host lookup over :class:`VendorHttp`, with the key as a query parameter.

`GET /shodan/host/{ip}?key=` answers the host's services as Shodan last scanned them
(`{ip_str, ports, hostnames, org, isp, asn, os, tags, vulns, data: [banners]}`). A host
Shodan never saw is 404 `{"error": "No information available for that IP."}` — an
answer, not a failure. Errors are `{"error": "..."}`, also inside a 200 (Shodan's own
client reads them there), and a refused key may come as the web server's HTML 401 page.

The key is in every URL, so nothing here builds a message from a URL: messages name the
call ("look up 203.0.113.7"), and the vendor's words are redacted of the key (a server
that echoes the URL in an error would otherwise leak it). httpx's request log lines are
masked by the shared log redaction.
"""

from __future__ import annotations

from typing import Any

import httpx

from integrations.core.http import VendorHttp, default_explain
from integrations.core.waits import fixed_wait
from integrations.shodan.options import ShodanOptions
from soar.integrations.errors import (
    CredentialsRejected,
    IntegrationError,
    RateLimited,
    RequestRejected,
    TargetNotFound,
)

ONE_CALL_A_SECOND = 1.0
"""Shodan's wait when it says nothing: its rate is one call a second."""


def _error_words(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"])
    return None


def shodan_explain(response: httpx.Response) -> str:
    """Shodan's words for a failed answer: its `error`, or what its HTML page means."""
    words = _error_words(response)
    if words is not None:
        return words
    if response.status_code == 401 and response.text.lstrip().startswith("<"):
        return "the key was refused (Shodan's 401 page)"
    return default_explain(response)


class ShodanClient:
    """Host lookups and the key's plan, for one configured Shodan key."""

    def __init__(self, name: str, options: ShodanOptions) -> None:
        self.name = name
        self._key = {"key": options.api_key.get_secret_value()}
        self.http = VendorHttp(
            name,
            options,
            headers={"Accept": "application/json"},
            wait_signal=fixed_wait(ONE_CALL_A_SECOND),
            body_error=self._body_error,
            explain=shodan_explain,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def host(self, address: str) -> dict[str, Any] | None:
        """What Shodan holds about `address`, or None when it has no information. A 404
        that is not Shodan's answer means base_url does not lead to Shodan."""
        what = f"look up {address}"
        try:
            response = await self.http.request(
                "GET", f"/shodan/host/{address}", params=self._key, missing_ok=True, what=what
            )
        except TargetNotFound:
            return None
        if response.status_code == 404:
            if _error_words(response) is not None:
                return None
            raise RequestRejected(
                self.name,
                f"{what}: the server answered 404 without Shodan's error body; is base_url "
                "the Shodan API?",
                status=404,
            )
        return self._object(response, what, "ip_str")

    async def plan(self) -> dict[str, Any]:
        """The key's plan and credits (`/api-info`), spending none."""
        what = "read the key's plan"
        response = await self.http.request("GET", "/api-info", params=self._key, what=what)
        return self._object(response, what, "plan")

    def _object(self, response: httpx.Response, what: str, field: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or field not in body:
            raise RequestRejected(
                self.name,
                f"{what}: the answer is not Shodan's; is base_url the Shodan API?",
                status=response.status_code,
            )
        return body

    def _body_error(self, response: httpx.Response) -> IntegrationError | None:
        """Shodan's `error` inside an answer whose status says success, read by its
        words: no information (an answer), a refused key, the rate, or a rejection."""
        words = _error_words(response)
        if words is None:
            return None
        words = self.http.redact(words)
        lowered = words.lower()
        if "no information available" in lowered:
            return TargetNotFound(self.name, words, status=response.status_code)
        if "api key" in lowered or "access denied" in lowered:
            return CredentialsRejected(
                self.name, f"the key was refused: {words}", status=response.status_code
            )
        if "rate limit" in lowered:
            return RateLimited(self.name, words, retry_after=ONE_CALL_A_SECOND)
        return RequestRejected(self.name, words, status=response.status_code)


async def check(name: str, options: ShodanOptions) -> list[str]:
    """Have the key accepted and say its plan and credits, spending none."""
    client = ShodanClient(name, options)
    try:
        plan = await client.plan()
    finally:
        await client.aclose()
    return [
        f"reached {options.base_url}",
        f"key accepted: plan {plan.get('plan')}",
        f"{plan.get('query_credits')} query credits and {plan.get('scan_credits')} scan "
        "credits left (host lookups spend none)",
    ]
