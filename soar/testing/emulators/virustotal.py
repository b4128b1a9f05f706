"""VirusTotal's API v3 object reports on loopback, played the way VirusTotal documents
them.

- `GET /api/v3/{ip_addresses|domains|files|urls}/{id}` with the key in `x-apikey`; no
  key is 401 `AuthenticationRequiredError`, a wrong one 401 `WrongCredentialsError`.
- A seeded object is `{"data": {"id", "type", "attributes", "links"}}`; anything else
  is 404 `NotFoundError`. A file is found by its MD5, SHA-1 or SHA-256 (its id is the
  SHA-256); a URL by the base64url of the URL without padding or by the SHA-256 of the
  URL (its id).
- Quotas: `daily_quota` answers, then 429 `QuotaExceededError`;
  :meth:`VendorEmulator.throttle` sends the same 429. VirusTotal documents no wait
  header, so by default none is sent; `retry_after=True` plays a service that adds
  `Retry-After` (the docs leave it open).
- Errors are `{"error": {"code", "message"}}`; :meth:`VirusTotalEmulator.error_in_ok`
  answers the next lookup with that body under status 200.

Tests seed objects with :meth:`VirusTotalEmulator.add_ip`, `add_domain`, `add_file` and
`add_url`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import secrets
import time
from typing import Any

from aiohttp import web

from soar.testing.emulators.base import VendorEmulator

DAY = 24 * 3600
LAST_ANALYSIS = 1_764_000_000
"""The last analysis date of seeded objects (an epoch, as VirusTotal gives it)."""

TYPES = {
    "ip_addresses": "ip_address",
    "domains": "domain",
    "files": "file",
    "urls": "url",
}


def virustotal_error(status: int, code: str, message: str) -> web.Response:
    """VirusTotal's error answer."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def analysis(
    *, malicious: int = 0, suspicious: int = 0, harmless: int = 0, undetected: int = 0
) -> dict[str, int]:
    """A `last_analysis_stats` object."""
    return {
        "harmless": harmless,
        "malicious": malicious,
        "suspicious": suspicious,
        "undetected": undetected,
        "timeout": 0,
    }


class VirusTotalEmulator(VendorEmulator):
    """The emulated service; see the module docstring."""

    def __init__(self, *, daily_quota: int | None = None, retry_after: bool = False) -> None:
        super().__init__()
        self.key = secrets.token_hex(32)
        self.secrets: list[str] = [self.key]
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.aliases: dict[tuple[str, str], str] = {}
        self.daily_quota = daily_quota
        self.retry_after = retry_after
        self.answered = 0
        self._errors_in_ok: list[tuple[str, str]] = []

    @property
    def lookups(self) -> int:
        return len(self.calls)

    # Seeding

    def add_ip(self, address: str, **attributes: Any) -> dict[str, Any]:
        """Seed an IP address report (`malicious=`… for its stats, other attributes)."""
        return self._seed("ip_addresses", address, attributes)

    def add_domain(self, domain: str, **attributes: Any) -> dict[str, Any]:
        return self._seed("domains", domain, attributes)

    def add_file(
        self, sha256: str, *, md5: str | None = None, sha1: str | None = None, **attributes: Any
    ) -> dict[str, Any]:
        """Seed a file report, found by its SHA-256 and by the MD5 and SHA-1 given."""
        seeded = self._seed("files", sha256, {"sha256": sha256, **attributes})
        for alias in (md5, sha1):
            if alias:
                self.aliases[("files", alias)] = sha256
                seeded["attributes"][f"{'md5' if len(alias) == 32 else 'sha1'}"] = alias
        return seeded

    def add_url(self, url: str, **attributes: Any) -> dict[str, Any]:
        """Seed a URL report; its id is the SHA-256 of the URL."""
        digest = hashlib.sha256(url.encode()).hexdigest()
        return self._seed("urls", digest, {"url": url, **attributes})

    def error_in_ok(self, code: str, message: str) -> None:
        """Answer the next lookup with VirusTotal's error body and status 200."""
        self._errors_in_ok.append((code, message))

    def _seed(self, collection: str, key: str, attributes: dict[str, Any]) -> dict[str, Any]:
        counts = {
            name: attributes.pop(name)
            for name in ("malicious", "suspicious", "harmless", "undetected")
            if name in attributes
        }
        attributes.setdefault("last_analysis_stats", analysis(**counts))
        attributes.setdefault("last_analysis_date", LAST_ANALYSIS)
        attributes.setdefault("reputation", 0)
        attributes.setdefault("tags", [])
        seeded = {
            "id": key,
            "type": TYPES[collection],
            "attributes": attributes,
            "links": {"self": f"https://www.virustotal.com/api/v3/{collection}/{key}"},
        }
        self.objects[(collection, key)] = seeded
        return seeded

    # The vendor's ways

    def wait_headers(self, seconds: float) -> dict[str, str]:
        return {"Retry-After": str(math.ceil(seconds))} if self.retry_after else {}

    def rate_limited_body(self) -> Any:
        return {"error": {"code": "QuotaExceededError", "message": "Quota exceeded"}}

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/v3/{collection}/{id}", self._object)]

    async def _object(self, request: web.Request) -> web.Response:
        key = request.headers.get("x-apikey")
        if key is None:
            return virustotal_error(
                401, "AuthenticationRequiredError", "X-Apikey header is missing"
            )
        if key != self.key:
            return virustotal_error(401, "WrongCredentialsError", "Wrong API key")
        if self.daily_quota is not None and self.answered >= self.daily_quota:
            midnight = (time.time() // DAY + 1) * DAY
            return web.json_response(
                self.rate_limited_body(),
                status=429,
                headers=self.wait_headers(midnight - time.time()),
            )
        self.answered += 1
        if self._errors_in_ok:
            code, message = self._errors_in_ok.pop(0)
            return virustotal_error(200, code, message)
        collection, identifier = request.match_info["collection"], request.match_info["id"]
        if collection not in TYPES:
            return virustotal_error(404, "NotFoundError", f"Resource not found: {collection}")
        found = self._find(collection, identifier)
        if found is None:
            kind = TYPES[collection].replace("_", " ").capitalize()
            return virustotal_error(404, "NotFoundError", f'{kind} "{identifier}" not found')
        return web.json_response({"data": found})

    def _find(self, collection: str, identifier: str) -> dict[str, Any] | None:
        key = identifier.lower() if collection in ("files", "domains") else identifier
        key = self.aliases.get((collection, key), key)
        if collection == "urls" and (collection, key) not in self.objects:
            try:
                url = base64.urlsafe_b64decode(identifier + "=" * (-len(identifier) % 4))
            except (binascii.Error, ValueError):
                return None
            key = hashlib.sha256(url).hexdigest()
        return self.objects.get((collection, key))
