"""AlienVault OTX on loopback: the indicator API the OTX enricher calls, played the way
OTX answers it.

- `X-OTX-API-KEY: <key>`; a wrong or missing key is **403** `{"detail": "Invalid API
  key"}`.
- `GET /api/v1/indicators/{IPv4|IPv6|domain|hostname|url|file}/{value}/general`: a
  seeded indicator's pulses, related malware families, validation and false-positive
  reports; any other well-formed value is a 200 with `pulse_info.count` 0 (OTX answers
  so for what nobody reported). A value that is not of its section is **400**
  `{"detail": ...}`; an unknown section or path **404** `{"detail": "Not found."}`.
- An hourly allowance (:meth:`OtxEmulator.limit_per_hour`): past it, 429 with
  `Retry-After` (seconds until the hour is over) and Django REST framework's "Request
  was throttled. Expected available in N seconds.".
- `GET /api/v1/users/me` for the check.

Tests seed indicators with :meth:`OtxEmulator.add_indicator`.
"""

from __future__ import annotations

import ipaddress
import math
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from soar.testing.emulators.base import VendorEmulator

SECTIONS = frozenset({"IPv4", "IPv6", "domain", "hostname", "url", "file"})
HOUR = 3600


def _valid(section: str, value: str) -> bool:
    if section in ("IPv4", "IPv6"):
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return False
        return address.version == (4 if section == "IPv4" else 6)
    if section == "file":
        return len(value) in (32, 40, 64) and all(c in "0123456789abcdefABCDEF" for c in value)
    if section == "url":
        return "://" in value
    return "." in value and " " not in value and "/" not in value


@dataclass
class OtxIndicator:
    """One seeded indicator."""

    section: str
    value: str
    pulses: list[str] = field(default_factory=list)
    malware_families: list[str] = field(default_factory=list)
    validation: list[dict[str, str]] = field(default_factory=list)
    false_positive: list[dict[str, str]] = field(default_factory=list)
    pulse_count: int | None = None
    """The count OTX reports when it lists fewer pulses than it counts."""


def _pulse(name: str, families: list[str]) -> dict[str, Any]:
    return {
        "id": uuid.uuid5(uuid.NAMESPACE_URL, f"otx-pulse-{name}").hex[:24],
        "name": name,
        "description": "",
        "modified": "2024-05-01T10:00:00.000000",
        "created": "2024-05-01T09:00:00.000000",
        "tags": ["c2"],
        "references": [],
        "public": 1,
        "adversary": "",
        "targeted_countries": [],
        "malware_families": [
            {"id": family, "display_name": family, "target": None} for family in families
        ],
        "attack_ids": [],
        "industries": [],
        "TLP": "white",
        "author": {"username": "AlienVault", "is_subscribed": False},
        "indicator_count": 12,
    }


class OtxEmulator(VendorEmulator):
    """The emulated OTX; see the module docstring."""

    def __init__(self, *, username: str = "soar-bot") -> None:
        super().__init__()
        self.key = secrets.token_hex(32)
        self.secrets: list[str] = [self.key]
        self.username = username
        self.indicators: dict[tuple[str, str], OtxIndicator] = {}
        self._hourly: int | None = None
        self._hour: tuple[float, int] | None = None

    def add_indicator(
        self,
        section: str,
        value: str,
        *,
        pulses: list[str] | None = None,
        malware_families: list[str] | None = None,
        validation: list[dict[str, str]] | None = None,
        false_positive: list[dict[str, str]] | None = None,
        pulse_count: int | None = None,
    ) -> OtxIndicator:
        """Seed an indicator of `section` with the pulses (names) that list it."""
        if section not in SECTIONS:
            raise ValueError(f"{section} is not an OTX indicator section")
        indicator = OtxIndicator(
            section=section,
            value=value,
            pulses=list(pulses or []),
            malware_families=list(malware_families or []),
            validation=list(validation or []),
            false_positive=list(false_positive or []),
            pulse_count=pulse_count,
        )
        self.indicators[(section, value.lower())] = indicator
        return indicator

    def limit_per_hour(self, count: int) -> None:
        """The key may make `count` requests an hour."""
        self._hourly = count
        self._hour = None

    @property
    def lookups(self) -> int:
        """Requests that reached OTX, answered or not."""
        return len(self.calls)

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("X-OTX-API-KEY") == self.key

    def unauthorized(self) -> web.Response:
        return web.json_response({"detail": "Invalid API key"}, status=403)

    def wait_headers(self, seconds: float) -> dict[str, str]:
        return {"Retry-After": str(math.ceil(seconds))}

    def rate_limited_body(self) -> Any:
        return {"detail": "Request was throttled."}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v1/indicators/{section}/{value:.+}/general", self._general),
            web.get("/api/v1/users/me", self._me),
        ]

    def _throttled(self) -> web.Response | None:
        if self._hourly is None:
            return None
        now = time.monotonic()
        if self._hour is None or now - self._hour[0] >= HOUR:
            self._hour = (now, 0)
        started, used = self._hour
        if used >= self._hourly:
            wait = math.ceil(HOUR - (now - started))
            return web.json_response(
                {"detail": f"Request was throttled. Expected available in {wait} seconds."},
                status=429,
                headers=self.wait_headers(wait),
            )
        self._hour = (started, used + 1)
        return None

    async def _general(self, request: web.Request) -> web.Response:
        throttled = self._throttled()
        if throttled is not None:
            return throttled
        section = request.match_info["section"]
        value = request.match_info["value"]
        if section not in SECTIONS:
            return web.json_response({"detail": "Not found."}, status=404)
        if not _valid(section, value):
            return web.json_response({"detail": f"Invalid {section} indicator"}, status=400)
        indicator = self.indicators.get((section, value.lower()))
        return web.json_response(self._answer(section, value, indicator))

    def _answer(self, section: str, value: str, indicator: OtxIndicator | None) -> dict[str, Any]:
        found = indicator or OtxIndicator(section=section, value=value)
        pulses = [_pulse(name, found.malware_families) for name in found.pulses]
        count = found.pulse_count if found.pulse_count is not None else len(pulses)
        return {
            "sections": ["general", "reputation", "geo", "malware", "url_list", "passive_dns"],
            "indicator": value,
            "type": section,
            "type_title": section,
            "base_indicator": {"id": 1, "indicator": value, "type": section},
            "pulse_info": {
                "count": count,
                "pulses": pulses,
                "references": [],
                "related": {
                    "alienvault": {
                        "adversary": [],
                        "malware_families": list(found.malware_families),
                        "industries": [],
                    },
                    "other": {"adversary": [], "malware_families": [], "industries": []},
                },
            },
            "false_positive": found.false_positive,
            "validation": found.validation,
            "reputation": 0,
            "whois": "",
        }

    async def _me(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"username": self.username, "member_since": "2021-03-04", "pulse_count": 0}
        )
