"""The part of the URLhaus API the enricher needs, over :class:`VendorHttp`.

- `POST /v1/url/` (form `url`), `POST /v1/host/` (form `host`: an IPv4 address or a
  host name) and `POST /v1/payload/` (form `md5_hash` or `sha256_hash`), with the
  abuse.ch `Auth-Key` header.
- Answers are HTTP 200 with a `query_status`: `ok` (the entry follows), `no_results`
  (nothing known: an answer, not an error); anything else is an error inside the 200 —
  `invalid_url`, `invalid_host`, `http_post_expected`, … a rejected request;
  `unknown_auth_key` a refused key (abuse.ch may also say so with a 401).
- `GET /v1/urls/recent/limit/1/` is the check's read-only call.
"""

from __future__ import annotations

from typing import Any

import httpx

from integrations.core.http import VendorHttp, default_explain
from integrations.urlhaus.options import UrlhausOptions
from soar.integrations.errors import CredentialsRejected, IntegrationError, RequestRejected

ANSWERS = frozenset({"ok", "no_results"})
UNKNOWN_KEY = "unknown_auth_key"


def query_status(response: httpx.Response) -> str | None:
    """The answer's `query_status`, or None when it has none (not URLhaus's JSON)."""
    try:
        status = response.json().get("query_status")
    except (ValueError, AttributeError):
        return None
    return str(status) if status is not None else None


def urlhaus_explain(response: httpx.Response) -> str:
    """URLhaus's words for a failed answer: its `query_status`."""
    return query_status(response) or default_explain(response)


class UrlhausClient:
    """URL, host and payload lookups, and the check's read, for one Auth-Key."""

    def __init__(self, name: str, options: UrlhausOptions) -> None:
        self.name = name
        self.http = VendorHttp(
            name,
            options,
            headers={
                "Auth-Key": options.api_key.get_secret_value(),
                "Accept": "application/json",
            },
            body_error=self._body_error,
            explain=urlhaus_explain,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    def _body_error(self, response: httpx.Response) -> IntegrationError | None:
        """The error a 200 carries in its `query_status`, if any."""
        status = query_status(response)
        if status is None or status in ANSWERS:
            return None
        if status == UNKNOWN_KEY:
            return CredentialsRejected(
                self.name, f"URLhaus refused the Auth-Key ({status})", status=response.status_code
            )
        return RequestRejected(
            self.name, f"URLhaus rejected the query: {status}", status=response.status_code
        )

    async def _query(self, path: str, form: dict[str, str], what: str) -> dict[str, Any]:
        body = await self.http.json("POST", path, data=form, what=what)
        if not isinstance(body, dict) or "query_status" not in body:
            raise RequestRejected(
                self.name, f"{what}: the answer is not URLhaus's; is base_url the URLhaus API?"
            )
        return body

    async def url(self, url: str) -> dict[str, Any]:
        """What URLhaus knows of one URL."""
        return await self._query("/v1/url/", {"url": url}, f"look {url} up in URLhaus")

    async def host(self, host: str) -> dict[str, Any]:
        """What URLhaus knows of a host (IPv4 address or name) and its malware URLs."""
        return await self._query("/v1/host/", {"host": host}, f"look {host} up in URLhaus")

    async def payload(self, field: str, digest: str) -> dict[str, Any]:
        """What URLhaus knows of a payload by `md5_hash` or `sha256_hash`."""
        return await self._query("/v1/payload/", {field: digest}, f"look {digest} up in URLhaus")

    async def latest(self) -> str | None:
        """When the most recent URL was added, or None when URLhaus lists none."""
        body = await self.http.json("GET", "/v1/urls/recent/limit/1/", what="read recent URLs")
        urls = body.get("urls") if isinstance(body, dict) else None
        if not isinstance(urls, list):
            raise RequestRejected(self.name, "read recent URLs: the answer is not URLhaus's")
        first = urls[0] if urls and isinstance(urls[0], dict) else {}
        added = first.get("date_added")
        return str(added) if added else None


async def check(name: str, options: UrlhausOptions) -> list[str]:
    """Reach URLhaus and have the Auth-Key accepted, changing nothing."""
    client = UrlhausClient(name, options)
    try:
        latest = await client.latest()
    finally:
        await client.aclose()
    return [
        f"reached {options.base_url}",
        f"Auth-Key accepted; the latest URL was added {latest}"
        if latest
        else "Auth-Key accepted; URLhaus lists no recent URL",
    ]
