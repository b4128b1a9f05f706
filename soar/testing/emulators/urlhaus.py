"""URLhaus (abuse.ch) on loopback: the lookups the URLhaus enricher calls, played the
way URLhaus answers them.

- `Auth-Key: <key>` on every call; a wrong or missing key is `{"query_status":
  "unknown_auth_key"}` with **401**, or with 200 when `key_refused_with_200` — which
  of the two abuse.ch sends is (U), so both are played.
- `POST /v1/url/` (form `url`), `POST /v1/host/` (form `host`), `POST /v1/payload/`
  (form `md5_hash` or `sha256_hash`): `{"query_status": "ok", ...}` for a seeded
  entry, `{"query_status": "no_results"}` for anything else well formed, and errors
  inside a 200: `invalid_url`, `invalid_host`, `invalid_md5_hash`,
  `invalid_sha256_hash`, `missing_hash` and — for a GET — `http_post_expected`.
- `GET /v1/urls/recent/limit/{n}/` for the check.
- A 429 (:meth:`VendorEmulator.throttle`) carries `Retry-After`.

Tests seed with :meth:`UrlhausEmulator.add_url`, :meth:`UrlhausEmulator.add_payload`
and mark hosts with :meth:`UrlhausEmulator.blacklist`.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from soar.testing.emulators.base import VendorEmulator

HOST_WEB = "https://urlhaus.abuse.ch"
NOT_LISTED = {"spamhaus_dbl": "not listed", "surbl": "not listed"}


@dataclass
class UrlhausUrl:
    """One seeded malware URL."""

    id: int
    url: str
    status: str = "online"
    threat: str = "malware_download"
    tags: list[str] = field(default_factory=list)
    date_added: str = "2024-05-01 10:00:00 UTC"

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    def summary(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "urlhaus_reference": f"{HOST_WEB}/url/{self.id}/",
            "url": self.url,
            "url_status": self.status,
            "date_added": self.date_added,
            "threat": self.threat,
            "reporter": "abuse_ch",
            "larted": "true",
            "takedown_time_seconds": None,
            "tags": list(self.tags),
        }


@dataclass
class UrlhausPayload:
    """One seeded payload and the URLs that served it."""

    md5: str
    sha256: str
    signature: str | None = None
    file_type: str = "exe"
    urls: list[str] = field(default_factory=list)


def _hex(value: str, length: int) -> bool:
    return len(value) == length and all(c in "0123456789abcdefABCDEF" for c in value)


class UrlhausEmulator(VendorEmulator):
    """The emulated URLhaus; see the module docstring."""

    def __init__(self, *, key_refused_with_200: bool = False) -> None:
        super().__init__()
        self.key = secrets.token_hex(24)
        self.secrets: list[str] = [self.key]
        self.key_refused_with_200 = key_refused_with_200
        self.urls: dict[str, UrlhausUrl] = {}
        self.payloads: list[UrlhausPayload] = []
        self.blacklists: dict[str, dict[str, str]] = {}
        self.forms: list[dict[str, str]] = []
        """The form of every lookup URLhaus answered."""

    def add_url(
        self,
        url: str,
        *,
        status: str = "online",
        threat: str = "malware_download",
        tags: list[str] | None = None,
    ) -> UrlhausUrl:
        """Seed a malware URL (`online`, `offline` or `unknown`)."""
        entry = UrlhausUrl(
            id=len(self.urls) + 1000, url=url, status=status, threat=threat, tags=list(tags or [])
        )
        self.urls[url] = entry
        return entry

    def add_payload(
        self,
        md5: str,
        sha256: str,
        *,
        signature: str | None = None,
        file_type: str = "exe",
        urls: list[str] | None = None,
    ) -> UrlhausPayload:
        """Seed a payload served from `urls`."""
        payload = UrlhausPayload(
            md5=md5.lower(),
            sha256=sha256.lower(),
            signature=signature,
            file_type=file_type,
            urls=list(urls or []),
        )
        self.payloads.append(payload)
        return payload

    def blacklist(self, host: str, *, spamhaus_dbl: str) -> None:
        """What Spamhaus DBL says of a host (e.g. `abused_legit_malware`)."""
        self.blacklists[host.lower()] = {"spamhaus_dbl": spamhaus_dbl, "surbl": "not listed"}

    @property
    def lookups(self) -> int:
        """Requests that reached URLhaus, answered or not."""
        return len(self.calls)

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("Auth-Key") == self.key

    def unauthorized(self) -> web.Response:
        status = 200 if self.key_refused_with_200 else 401
        return web.json_response({"query_status": "unknown_auth_key"}, status=status)

    def rate_limited_body(self) -> Any:
        return {"query_status": "rate_limited"}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/url/", self._url),
            web.post("/v1/host/", self._host),
            web.post("/v1/payload/", self._payload),
            web.get("/v1/{endpoint:(url|host|payload)}/", self._post_expected),
            web.get("/v1/urls/recent/limit/{limit:[0-9]+}/", self._recent),
        ]

    @staticmethod
    def _status(status: str) -> web.Response:
        return web.json_response({"query_status": status})

    async def _form(self, request: web.Request) -> dict[str, str]:
        form = {key: str(value) for key, value in (await request.post()).items()}
        self.forms.append(form)
        return form

    async def _post_expected(self, request: web.Request) -> web.Response:
        return self._status("http_post_expected")

    async def _url(self, request: web.Request) -> web.Response:
        url = (await self._form(request)).get("url", "")
        if not urlsplit(url).scheme or not urlsplit(url).netloc:
            return self._status("invalid_url")
        entry = self.urls.get(url)
        if entry is None:
            return self._status("no_results")
        payloads = [p for p in self.payloads if url in p.urls]
        return web.json_response(
            {
                "query_status": "ok",
                **entry.summary(),
                "host": entry.host,
                "last_online": None,
                "blacklists": self.blacklists.get(entry.host, NOT_LISTED),
                "payloads": [
                    {
                        "firstseen": "2024-05-01",
                        "filename": None,
                        "file_type": p.file_type,
                        "response_size": "1024",
                        "response_md5": p.md5,
                        "response_sha256": p.sha256,
                        "urlhaus_download": f"{HOST_WEB}/api/download/{p.sha256}/",
                        "signature": p.signature,
                        "virustotal": None,
                        "imphash": None,
                        "ssdeep": None,
                        "tlsh": None,
                    }
                    for p in payloads
                ],
            }
        )

    async def _host(self, request: web.Request) -> web.Response:
        host = (await self._form(request)).get("host", "").lower()
        if not self._valid_host(host):
            return self._status("invalid_host")
        urls = [entry for entry in self.urls.values() if entry.host == host]
        if not urls:
            return self._status("no_results")
        return web.json_response(
            {
                "query_status": "ok",
                "urlhaus_reference": f"{HOST_WEB}/host/{host}/",
                "host": host,
                "firstseen": "2024-05-01 10:00:00 UTC",
                "url_count": str(len(urls)),
                "blacklists": self.blacklists.get(host, NOT_LISTED),
                "urls": [entry.summary() for entry in urls],
            }
        )

    @staticmethod
    def _valid_host(host: str) -> bool:
        try:
            return ipaddress.ip_address(host).version == 4
        except ValueError:
            return "." in host and " " not in host and "/" not in host

    async def _payload(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        if "md5_hash" in form:
            digest, length, key = form["md5_hash"].lower(), 32, "md5"
        elif "sha256_hash" in form:
            digest, length, key = form["sha256_hash"].lower(), 64, "sha256"
        else:
            return self._status("missing_hash")
        if not _hex(digest, length):
            return self._status(f"invalid_{key}_hash")
        found = next((p for p in self.payloads if getattr(p, key) == digest), None)
        if found is None:
            return self._status("no_results")
        return web.json_response(
            {
                "query_status": "ok",
                "md5_hash": found.md5,
                "sha256_hash": found.sha256,
                "file_type": found.file_type,
                "file_size": "1024",
                "signature": found.signature,
                "firstseen": "2024-05-01 10:00:00",
                "lastseen": None,
                "url_count": str(len(found.urls)),
                "urlhaus_download": f"{HOST_WEB}/api/download/{found.sha256}/",
                "virustotal": None,
                "imphash": None,
                "ssdeep": None,
                "tlsh": None,
                "urls": [
                    {
                        "url_id": str(self.urls[url].id) if url in self.urls else "0",
                        "url": url,
                        "url_status": self.urls[url].status if url in self.urls else "offline",
                        "urlhaus_reference": f"{HOST_WEB}/url/{self.urls[url].id}/"
                        if url in self.urls
                        else None,
                        "filename": None,
                        "firstseen": "2024-05-01",
                        "lastseen": None,
                    }
                    for url in found.urls
                ],
            }
        )

    async def _recent(self, request: web.Request) -> web.Response:
        limit = int(request.match_info["limit"])
        recent = sorted(self.urls.values(), key=lambda entry: entry.id, reverse=True)[:limit]
        return web.json_response(
            {
                "query_status": "ok" if recent else "no_results",
                "urls": [u.summary() for u in recent],
            }
        )
