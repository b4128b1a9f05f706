"""The part of the ThreatFox API the enricher needs, over :class:`VendorHttp`.

- `POST /api/v1/` with a JSON query and the abuse.ch `Auth-Key` header:
  `{"query": "search_ioc", "search_term": ...}` answers `{"query_status": "ok",
  "data": [{id, ioc, threat_type, threat_type_desc, ioc_type, malware_printable,
  confidence_level, first_seen, last_seen, tags, ...}]}`. The search also returns IOCs
  that merely contain the term (an IP's `ip:port` IOCs, which is why it is not asked
  for exact matches).
- Answers are HTTP 200 with a `query_status`: `ok`, `no_result` (nothing known — note
  the spelling, URLhaus says `no_results`); anything else (`illegal_search_term`,
  `unknown_query`, …) is an error inside the 200, a rejected request;
  `unknown_auth_key` a refused key (abuse.ch may also say so with a 401).
- `{"query": "types"}` is the check's read-only call.
"""

from __future__ import annotations

from typing import Any

import httpx

from integrations.core.http import VendorHttp, default_explain
from integrations.threatfox.options import ThreatfoxOptions
from soar.integrations.errors import CredentialsRejected, IntegrationError, RequestRejected

API = "/api/v1/"
ANSWERS = frozenset({"ok", "no_result"})
UNKNOWN_KEY = "unknown_auth_key"


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def threatfox_explain(response: httpx.Response) -> str:
    """ThreatFox's words for a failed answer: its `query_status` (and message)."""
    body = _body(response)
    status = body.get("query_status")
    if not status:
        return default_explain(response)
    data = body.get("data")
    return f"{status}: {data}" if isinstance(data, str) and data else str(status)


class ThreatfoxClient:
    """IOC searches and the check's read, for one Auth-Key."""

    def __init__(self, name: str, options: ThreatfoxOptions) -> None:
        self.name = name
        self.http = VendorHttp(
            name,
            options,
            headers={
                "Auth-Key": options.api_key.get_secret_value(),
                "Accept": "application/json",
            },
            body_error=self._body_error,
            explain=threatfox_explain,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    def _body_error(self, response: httpx.Response) -> IntegrationError | None:
        """The error a 200 carries in its `query_status`, if any."""
        status = _body(response).get("query_status")
        if status is None or status in ANSWERS:
            return None
        words = self.http.redact(threatfox_explain(response))
        if status == UNKNOWN_KEY:
            return CredentialsRejected(
                self.name, f"ThreatFox refused the Auth-Key ({words})", status=response.status_code
            )
        return RequestRejected(
            self.name, f"ThreatFox rejected the query: {words}", status=response.status_code
        )

    async def _query(self, query: dict[str, Any], what: str) -> dict[str, Any]:
        body = await self.http.json("POST", API, json=query, what=what)
        if not isinstance(body, dict) or "query_status" not in body:
            raise RequestRejected(
                self.name, f"{what}: the answer is not ThreatFox's; is base_url the ThreatFox API?"
            )
        return body

    async def search_ioc(self, term: str) -> dict[str, Any]:
        """The IOCs whose value contains `term`."""
        return await self._query(
            {"query": "search_ioc", "search_term": term}, f"search ThreatFox for {term}"
        )

    async def ioc_types(self) -> int:
        """How many IOC types ThreatFox knows."""
        body = await self._query({"query": "types"}, "read ThreatFox's IOC types")
        data = body.get("data")
        return len(data) if isinstance(data, dict | list) else 0


async def check(name: str, options: ThreatfoxOptions) -> list[str]:
    """Reach ThreatFox and have the Auth-Key accepted, changing nothing."""
    client = ThreatfoxClient(name, options)
    try:
        types = await client.ioc_types()
    finally:
        await client.aclose()
    return [f"reached {options.base_url}", f"Auth-Key accepted; ThreatFox knows {types} IOC types"]
