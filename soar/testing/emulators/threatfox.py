"""ThreatFox (abuse.ch) on loopback: the IOC search the ThreatFox enricher calls, played
the way ThreatFox answers it.

- `Auth-Key: <key>` on every call; a wrong or missing key is `{"query_status":
  "unknown_auth_key"}` with **401**, or with 200 when `key_refused_with_200` (which of
  the two abuse.ch sends is (U), so both are played).
- `POST /api/v1/` with a JSON query, always answered 200 with a `query_status`:
  `search_ioc` finds the seeded IOCs whose value contains `search_term`
  (case-insensitively; only equal ones with `exact_match: true`) → `ok` with `data`
  or `no_result` with `data: "Your search did not yield any results"`; a term shorter
  than 3 characters is `illegal_search_term`; `types` lists IOC types; any other
  query is `unknown_query`, a body that is not JSON `illegal_query`.
- A 429 (:meth:`VendorEmulator.throttle`) carries `Retry-After`.

Tests seed IOCs with :meth:`ThreatfoxEmulator.add_ioc`.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from soar.testing.emulators.base import VendorEmulator

THREAT_TYPES = {
    "botnet_cc": "Indicator that identifies a botnet command&control server (C&C)",
    "payload_delivery": "Indicator that identifies a malware distribution server",
    "payload": "Indicator that identifies a malware sample (payload)",
}
IOC_TYPES = {
    "1": {"ioc_type": "url", "fk_threat_type": "payload_delivery"},
    "2": {"ioc_type": "domain", "fk_threat_type": "payload_delivery"},
    "3": {"ioc_type": "ip:port", "fk_threat_type": "botnet_cc"},
    "4": {"ioc_type": "md5_hash", "fk_threat_type": "payload"},
    "5": {"ioc_type": "sha256_hash", "fk_threat_type": "payload"},
    "6": {"ioc_type": "sha1_hash", "fk_threat_type": "payload"},
}


@dataclass
class ThreatfoxIoc:
    """One seeded IOC."""

    id: int
    ioc: str
    ioc_type: str
    threat_type: str = "botnet_cc"
    malware_printable: str = "Cobalt Strike"
    confidence_level: int = 100
    tags: list[str] = field(default_factory=list)
    first_seen: str = "2024-05-01 10:00:00 UTC"
    last_seen: str | None = None

    def as_json(self) -> dict[str, Any]:
        malware = self.malware_printable.lower().replace(" ", "_")
        return {
            "id": str(self.id),
            "ioc": self.ioc,
            "threat_type": self.threat_type,
            "threat_type_desc": THREAT_TYPES.get(self.threat_type, ""),
            "ioc_type": self.ioc_type,
            "ioc_type_desc": "",
            "malware": f"win.{malware}",
            "malware_printable": self.malware_printable,
            "malware_alias": None,
            "malware_malpedia": f"https://malpedia.caad.fkie.fraunhofer.de/details/win.{malware}",
            "confidence_level": self.confidence_level,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "reference": None,
            "reporter": "abuse_ch",
            "tags": list(self.tags) or None,
        }


class ThreatfoxEmulator(VendorEmulator):
    """The emulated ThreatFox; see the module docstring."""

    def __init__(self, *, key_refused_with_200: bool = False) -> None:
        super().__init__()
        self.key = secrets.token_hex(24)
        self.secrets: list[str] = [self.key]
        self.key_refused_with_200 = key_refused_with_200
        self.iocs: list[ThreatfoxIoc] = []
        self.queries: list[dict[str, Any]] = []
        """The JSON body of every query ThreatFox answered."""

    def add_ioc(
        self,
        ioc: str,
        ioc_type: str,
        *,
        threat_type: str = "botnet_cc",
        malware: str = "Cobalt Strike",
        confidence: int = 100,
        tags: list[str] | None = None,
        last_seen: str | None = None,
    ) -> ThreatfoxIoc:
        """Seed an IOC (`ip:port`, `domain`, `url`, `md5_hash`, `sha256_hash`, …)."""
        entry = ThreatfoxIoc(
            id=len(self.iocs) + 1_200_000,
            ioc=ioc,
            ioc_type=ioc_type,
            threat_type=threat_type,
            malware_printable=malware,
            confidence_level=confidence,
            tags=list(tags or []),
            last_seen=last_seen,
        )
        self.iocs.append(entry)
        return entry

    @property
    def lookups(self) -> int:
        """Requests that reached ThreatFox, answered or not."""
        return len(self.calls)

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("Auth-Key") == self.key

    def unauthorized(self) -> web.Response:
        status = 200 if self.key_refused_with_200 else 401
        return web.json_response({"query_status": "unknown_auth_key"}, status=status)

    def rate_limited_body(self) -> Any:
        return {"query_status": "rate_limited"}

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/api/v1/", self._query)]

    @staticmethod
    def _status(status: str, data: Any = None) -> web.Response:
        body: dict[str, Any] = {"query_status": status}
        if data is not None:
            body["data"] = data
        return web.json_response(body)

    async def _query(self, request: web.Request) -> web.Response:
        try:
            query = json.loads(await request.text())
        except ValueError:
            return self._status("illegal_query")
        if not isinstance(query, dict):
            return self._status("illegal_query")
        self.queries.append(query)
        kind = query.get("query")
        if kind == "types":
            return self._status("ok", IOC_TYPES)
        if kind != "search_ioc":
            return self._status("unknown_query")
        term = str(query.get("search_term") or "").strip().casefold()
        if len(term) < 3:
            return self._status("illegal_search_term", "Search term is too short")
        exact = query.get("exact_match") is True
        found = [
            ioc.as_json()
            for ioc in self.iocs
            if (ioc.ioc.casefold() == term) or (not exact and term in ioc.ioc.casefold())
        ]
        if not found:
            return self._status("no_result", "Your search did not yield any results")
        return self._status("ok", found)
