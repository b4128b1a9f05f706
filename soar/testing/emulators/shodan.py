"""Shodan's host lookup and `/api-info` on loopback, played the way Shodan documents
them.

- The key is the `key` query parameter of every call; a missing or wrong one is 401 —
  `{"error": ...}` by default, or the web server's HTML 401 page with `html_401=True`
  (Shodan's own client expects both).
- `GET /shodan/host/{ip}`: a seeded host is `{ip_str, ports, hostnames, org, isp, asn,
  os, tags, vulns, data: [banners], ...}`; any other address is 404 `{"error": "No
  information available for that IP."}`, or that error under status 200 with
  `not_found_in_ok=True`; a value that is no address is 400 "Invalid IP".
- `GET /api-info`: the key's plan and credits.
- :meth:`VendorEmulator.throttle` answers 429 with Shodan's rate words and no wait
  header (`retry_after=True` adds `Retry-After`); :meth:`ShodanEmulator.error_next`
  answers the next lookup with an `error` under any status (200 included).
- `echo_url=True` makes every error body repeat the request's URL, key included — what
  a careless proxy does, for testing that the key never leaks from an error.

Tests seed hosts with :meth:`ShodanEmulator.add_host`.
"""

from __future__ import annotations

import ipaddress
import math
import secrets
from typing import Any

from aiohttp import web

from soar.testing.emulators.base import VendorEmulator

NO_INFORMATION = "No information available for that IP."
RATE_WORDS = (
    "Request rate limit reached (1/second). Please wait a second before trying again and "
    "slow down your API calls."
)
HTML_401 = (
    "<html><head><title>401 Authorization Required</title></head><body><center><h1>401 "
    "Authorization Required</h1></center><hr><center>nginx</center></body></html>"
)


class ShodanEmulator(VendorEmulator):
    """The emulated service; see the module docstring."""

    def __init__(
        self,
        *,
        html_401: bool = False,
        not_found_in_ok: bool = False,
        retry_after: bool = False,
        echo_url: bool = False,
    ) -> None:
        super().__init__()
        self.key = secrets.token_hex(16)
        self.secrets: list[str] = [self.key]
        self.hosts: dict[str, dict[str, Any]] = {}
        self.html_401 = html_401
        self.not_found_in_ok = not_found_in_ok
        self.retry_after = retry_after
        self.echo_url = echo_url
        self._errors_next: list[tuple[int, str]] = []
        self._url = ""

    @property
    def lookups(self) -> int:
        return len(self.calls)

    def add_host(
        self,
        address: str,
        *,
        ports: tuple[int, ...] = (22, 443),
        tags: tuple[str, ...] = (),
        vulns: tuple[str, ...] = (),
        org: str = "Example Hosting",
        hostnames: tuple[str, ...] = (),
        os: str | None = None,
    ) -> dict[str, Any]:
        """Seed a host Shodan scanned: one banner per port."""
        host = {
            "ip_str": address,
            "ip": int(ipaddress.ip_address(address)),
            "ports": list(ports),
            "hostnames": list(hostnames),
            "domains": [],
            "org": org,
            "isp": org,
            "asn": "AS51167",
            "os": os,
            "country_code": "DE",
            "country_name": "Germany",
            "city": "Nuremberg",
            "tags": list(tags),
            "vulns": list(vulns),
            "last_update": "2026-11-29T04:12:51.123456",
            "data": [
                {
                    "port": port,
                    "transport": "tcp",
                    "product": "OpenSSH" if port == 22 else "nginx",
                    "version": "8.2p1" if port == 22 else "1.18.0",
                    "data": "x" * 2000,
                }
                for port in ports
            ],
        }
        self.hosts[address] = host
        return host

    def error_next(self, words: str, *, status: int = 200) -> None:
        """Answer the next lookup with `{"error": words}` and `status`."""
        self._errors_next.append((status, words))

    # The vendor's ways

    def authorized(self, request: web.Request) -> bool:
        self._url = str(request.rel_url)
        return request.query.get("key") == self.key

    def unauthorized(self) -> web.Response:
        if self.html_401:
            return web.Response(status=401, text=HTML_401, content_type="text/html")
        return self._error(401, "Please provide a valid API key.")

    def wait_headers(self, seconds: float) -> dict[str, str]:
        return {"Retry-After": str(math.ceil(seconds))} if self.retry_after else {}

    def rate_limited_body(self) -> Any:
        return {"error": RATE_WORDS}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/shodan/host/{ip}", self._host),
            web.get("/api-info", self._api_info),
        ]

    def _error(self, status: int, words: str) -> web.Response:
        if self.echo_url:
            words = f"{words} (while serving {self._url})"
        return web.json_response({"error": words}, status=status)

    async def _host(self, request: web.Request) -> web.Response:
        if self._errors_next:
            return self._error(*self._errors_next.pop(0))
        address = request.match_info["ip"]
        try:
            ipaddress.ip_address(address)
        except ValueError:
            return self._error(400, "Invalid IP")
        host = self.hosts.get(address)
        if host is None:
            return self._error(200 if self.not_found_in_ok else 404, NO_INFORMATION)
        return web.json_response(host)

    async def _api_info(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "scan_credits": 100,
                "usage_limits": {"scan_credits": 100, "query_credits": 100, "monitored_ips": 16},
                "plan": "dev",
                "https": False,
                "unlocked": True,
                "query_credits": 97,
                "monitored_ips": 0,
                "unlocked_left": 97,
                "telnet": False,
            }
        )
