"""An RDAP bootstrap server and the registry behind it on loopback, played the way
RFC 9082/9083 and rdap.org behave.

- `GET /ip/{address}` and `GET /domain/{name}` answer, like rdap.org, with a 302 to
  the registry (`/registry/...` here) that holds the record; `redirect=False` serves
  the records at the root directly, like a registry asked without a bootstrap.
- The registry answers `application/rdap+json`: an `ip network` (`handle,
  startAddress, endAddress, name, country, entities[{roles, vcardArray}], events,
  links`) holding the address (the most specific seeded one), or a `domain` (`ldhName`,
  the registrar's and registrant's entities, events, links). A record it does not hold
  is 404 with `{errorCode, title, description}`; an address that is none is 400.
  Records' `self` links are the registry's own https addresses, as real ones give.
- `/restricted/...` plays a server that wants an authentication: 401; `/portal/...` a
  web page answering 200 where an RDAP server was expected (a wrong base_url).
- :meth:`VendorEmulator.throttle` answers 429 with `Retry-After`.

Tests seed records with :meth:`RdapEmulator.add_network` and `add_domain`; the
`Accept` header of each call is kept in :attr:`RdapEmulator.accepts`.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from aiohttp import web

from soar.testing.emulators.base import VendorEmulator

RDAP_JSON = "application/rdap+json"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
REGISTRY = "https://rdap.registry.example"
"""The https root the records' `self` links name."""


def rdap_error(status: int, title: str, *description: str) -> web.Response:
    return web.json_response(
        {"errorCode": status, "title": title, "description": list(description)},
        status=status,
        content_type=RDAP_JSON,
    )


def entity(
    roles: list[str],
    *,
    fn: str,
    org: str | None = None,
    email: str | None = None,
    nested: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An RDAP entity with a jCard."""
    card: list[list[Any]] = [["version", {}, "text", "4.0"], ["fn", {}, "text", fn]]
    if org:
        card.append(["org", {}, "text", org])
    if email:
        card.append(["email", {}, "text", email])
    found: dict[str, Any] = {
        "objectClassName": "entity",
        "roles": roles,
        "vcardArray": ["vcard", card],
    }
    if nested:
        found["entities"] = nested
    return found


def _event(action: str, when: datetime) -> dict[str, str]:
    return {"eventAction": action, "eventDate": when.strftime("%Y-%m-%dT%H:%M:%SZ")}


class RdapEmulator(VendorEmulator):
    """The emulated bootstrap server and registry; see the module docstring."""

    def __init__(self, *, redirect: bool = True) -> None:
        super().__init__()
        self.redirect = redirect
        self.secrets: list[str] = []
        self.networks: list[tuple[Network, dict[str, Any]]] = []
        self.domains: dict[str, dict[str, Any]] = {}
        self.accepts: list[str] = []

    @property
    def lookups(self) -> int:
        return len(self.calls)

    def add_network(
        self,
        cidr: str,
        *,
        name: str,
        holder: str,
        country: str = "US",
        registered: datetime | None = None,
        abuse_email: str | None = None,
    ) -> dict[str, Any]:
        """Seed an IP network record."""
        network = ipaddress.ip_network(cidr)
        handle = f"NET-{str(network.network_address).replace(':', '-').replace('.', '-')}-1"
        contacts = [entity(["registrant"], fn=holder, org=holder)]
        if abuse_email:
            contacts.append(entity(["abuse"], fn="Abuse", email=abuse_email))
        record: dict[str, Any] = {
            "objectClassName": "ip network",
            "rdapConformance": ["rdap_level_0"],
            "handle": handle,
            "startAddress": str(network.network_address),
            "endAddress": str(network.broadcast_address),
            "ipVersion": f"v{network.version}",
            "name": name,
            "type": "DIRECT ALLOCATION",
            "country": country,
            "entities": contacts,
            "events": [_event("registration", registered)] if registered else [],
            "links": [{"rel": "self", "href": f"{REGISTRY}/ip/{network}", "value": ""}],
        }
        self.networks.append((network, record))
        return record

    def add_domain(
        self,
        name: str,
        *,
        registrar: str,
        registered: datetime | None,
        registrant: str | None = None,
        expires: datetime | None = None,
    ) -> dict[str, Any]:
        """Seed a domain record (`registrant=None`: redacted, as is common)."""
        contacts = [
            entity(
                ["registrar"],
                fn=registrar,
                nested=[entity(["abuse"], fn="Abuse", email="abuse@registrar.example")],
            )
        ]
        if registrant:
            contacts.append(entity(["registrant"], fn=registrant, org=registrant))
        events = [_event("registration", registered)] if registered else []
        if expires:
            events.append(_event("expiration", expires))
        record: dict[str, Any] = {
            "objectClassName": "domain",
            "rdapConformance": ["rdap_level_0"],
            "handle": f"{name.upper().replace('.', '_')}-EXAMPLE",
            "ldhName": name,
            "status": ["client transfer prohibited"],
            "entities": contacts,
            "events": events,
            "links": [{"rel": "self", "href": f"{REGISTRY}/domain/{name}", "value": ""}],
        }
        self.domains[name.lower()] = record
        return record

    # The vendor's ways

    def wait_headers(self, seconds: float) -> dict[str, str]:
        return {"Retry-After": str(int(seconds))}

    def rate_limited_body(self) -> Any:
        return {"errorCode": 429, "title": "Too Many Requests", "description": ["Slow down."]}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/restricted/{path:.*}", self._restricted),
            web.get("/portal/{path:.*}", self._portal),
            web.get("/registry/{kind:(ip|domain)}/{value:.+}", self._record),
            web.get("/{kind:(ip|domain)}/{value:.+}", self._bootstrap),
        ]

    async def _restricted(self, request: web.Request) -> web.Response:
        return rdap_error(401, "Unauthorized", "This service requires authentication.")

    async def _portal(self, request: web.Request) -> web.Response:
        return web.Response(text="<html><body>Welcome</body></html>", content_type="text/html")

    async def _bootstrap(self, request: web.Request) -> web.Response:
        if not self.redirect:
            return await self._record(request)
        kind, value = request.match_info["kind"], request.match_info["value"]
        return web.Response(
            status=302, headers={"Location": f"{self.base_url}/registry/{kind}/{value}"}
        )

    async def _record(self, request: web.Request) -> web.Response:
        self.accepts.append(request.headers.get("Accept", ""))
        kind, value = request.match_info["kind"], request.match_info["value"]
        if kind == "domain":
            record = self.domains.get(value.lower().rstrip("."))
            if record is None:
                return rdap_error(404, "Not Found", f"The domain {value} is not registered.")
            return web.json_response(record, content_type=RDAP_JSON)
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return rdap_error(400, "Bad Request", f"{value} is not an IP address.")
        holding = [
            (network, record)
            for network, record in self.networks
            if network.version == address.version and address in network
        ]
        if not holding:
            return rdap_error(404, "Not Found", f"No network holds {value}.")
        _, record = max(holding, key=lambda pair: pair[0].prefixlen)
        return web.json_response(record, content_type=RDAP_JSON)
