"""Cloudflare's API v4, as far as one zone's IP Access rules.

Under `/client/v4`:

- `GET /zones/{zone}` — the zone;
- `GET /zones/{zone}/firewall/access_rules/rules` — filtered by `configuration.target`,
  `configuration.value` and `mode`, paged by `page` / `per_page`, with
  `result_info`;
- `POST …/rules` `{mode, configuration: {target, value}, notes}` — targets `ip` (IPv4),
  `ip6`, `ip_range` (IPv4 /16 and /24, IPv6 /32, /48, /64), `asn`, `country`; a second
  rule for the same configuration is refused with 10009, an invalid one with 10014;
- `DELETE …/rules/{id}` — 404 with 10001 for a rule that is not there.

Every answer is `{success, errors, messages, result}`. The token is `Authorization:
Bearer …`: a header of another form is 400 with 6003/6111, a wrong token 10000
"Authentication error" in a 401 or a 403 (`bad_token_status`: both are seen). A zone
id other than the emulator's is 7003 "Could not route". A 429 carries `Retry-After`.
:meth:`CloudflareEmulator.fail_next` answers `success: false` inside a 200, and
:meth:`CloudflareEmulator.concurrent_writer` plays another client creating a rule
right after the next list call (the race between a read and a create).
"""

from __future__ import annotations

import ipaddress
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from soar.containment.models import ContainmentCommand
from soar.testing.emulators.base import VendorEmulator

ROOT = "/client/v4"
MODES = ("block", "challenge", "whitelist", "js_challenge", "managed_challenge")
RANGES = {4: (16, 24), 6: (32, 48, 64)}


@dataclass
class _Scripted:
    status: int
    body: dict[str, Any]


def _target_key(command: ContainmentCommand) -> str:
    network = ipaddress.ip_network(command.target.value, strict=False)
    return str(network.network_address if network.num_addresses == 1 else network)


def _envelope(result: Any, *, info: dict[str, int] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if info is not None:
        body["result_info"] = info
    return body


def _errors(code: int, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "success": False,
        "errors": [{"code": code, "message": message, **extra}],
        "messages": [],
        "result": None,
    }


def _valid(target: str, value: str) -> bool:
    """Whether Cloudflare takes this configuration."""
    try:
        if target == "ip":
            return ipaddress.ip_address(value).version == 4
        if target == "ip6":
            return ipaddress.ip_address(value).version == 6
        if target == "ip_range":
            network = ipaddress.ip_network(value, strict=True)
            return network.prefixlen in RANGES[network.version]
    except ValueError:
        return False
    return target in ("asn", "country") and bool(value)


class CloudflareEmulator(VendorEmulator):
    """One Cloudflare zone's IP Access rules; see the module docstring."""

    def __init__(
        self,
        *,
        token: str | None = None,
        zone_id: str | None = None,
        bad_token_status: int = 403,
    ) -> None:
        super().__init__()
        self.token = token or secrets.token_urlsafe(30)
        self.zone_id = zone_id or secrets.token_hex(16)
        self.zone_name = "example.com"
        self.bad_token_status = bad_token_status
        self.secrets: list[str] = [self.token]
        self.rules: dict[str, dict[str, Any]] = {}
        """Rule id → the rule, as Cloudflare answers it."""
        self.changes: Counter[str] = Counter()
        """Create and delete calls received per configuration value."""
        self._scripted: list[_Scripted] = []
        self._writer: tuple[str, str] | None = None
        self._malformed = False

    # The contract's view of the product

    def effects(self, command: ContainmentCommand) -> int:
        return self.changes[_target_key(command)]

    def in_effect(self, command: ContainmentCommand) -> bool:
        return bool(self.blocking(command))

    def undo_out_of_band(self, command: ContainmentCommand) -> None:
        for rule in self.blocking(command):
            del self.rules[rule["id"]]

    def blocking(self, command: ContainmentCommand) -> list[dict[str, Any]]:
        """The block rules for the command's target."""
        key = _target_key(command)
        return [
            rule
            for rule in self.rules.values()
            if rule["mode"] == "block" and rule["configuration"]["value"] == key
        ]

    # Scripting

    def add_rule(self, target: str, value: str, mode: str, notes: str = "") -> dict[str, Any]:
        """A rule made at Cloudflare by someone else (the dashboard)."""
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        rule: dict[str, Any] = {
            "id": secrets.token_hex(16),
            "paused": False,
            "mode": mode,
            "notes": notes,
            "allowed_modes": list(MODES),
            "configuration": {"target": target, "value": value},
            "scope": {"id": self.zone_id, "name": self.zone_name, "type": "zone"},
            "created_on": now,
            "modified_on": now,
        }
        self.rules[rule["id"]] = rule
        return rule

    def fail_next(self, code: int, message: str, *, status: int = 200) -> None:
        """Answer the next authenticated call `success: false` with this error."""
        self._scripted.append(_Scripted(status, _errors(code, message)))

    def concurrent_writer(self, mode: str, notes: str = "someone else") -> None:
        """Right after answering the next list call, create a rule of `mode` for the
        value it listed, as another client would between our read and our create."""
        self._writer = (mode, notes)

    # The API

    def routes(self) -> list[web.RouteDef]:
        rules = ROOT + "/zones/{zone}/firewall/access_rules/rules"
        return [
            web.get(ROOT + "/zones/{zone}", self._zone),
            web.get(rules, self._list),
            web.post(rules, self._create),
            web.delete(rules + "/{rule}", self._delete),
        ]

    def rate_limited_body(self) -> Any:
        return _errors(971, "Please wait and consider throttling your request speed")

    def authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        self._malformed = not header.startswith("Bearer ")
        return header == f"Bearer {self.token}"

    def unauthorized(self) -> web.Response:
        if self._malformed:
            body = _errors(
                6003,
                "Invalid request headers",
                error_chain=[{"code": 6111, "message": "Invalid format for Authorization header"}],
            )
            return web.json_response(body, status=400)
        return web.json_response(
            _errors(10000, "Authentication error"), status=self.bad_token_status
        )

    def _refusal(self, request: web.Request) -> web.Response | None:
        """A scripted answer, or the answer to a zone that is not the emulator's."""
        if self._scripted:
            scripted = self._scripted.pop(0)
            return web.json_response(scripted.body, status=scripted.status)
        if request.match_info["zone"] != self.zone_id:
            zone = request.match_info["zone"]
            message = (
                f"Could not route to /zones/{zone}, perhaps your object identifier is invalid?"
            )
            return web.json_response(_errors(7003, message), status=400)
        return None

    async def _zone(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        return web.json_response(
            _envelope({"id": self.zone_id, "name": self.zone_name, "status": "active"})
        )

    async def _list(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        query = request.query
        wanted: dict[str, Callable[[dict[str, Any]], Any]] = {
            "configuration.target": lambda r: r["configuration"]["target"],
            "configuration.value": lambda r: r["configuration"]["value"],
            "mode": lambda r: r["mode"],
        }
        rows = [
            rule
            for rule in self.rules.values()
            if all(read(rule) == query[name] for name, read in wanted.items() if name in query)
        ]
        page = max(int(query.get("page", 1)), 1)
        per_page = min(max(int(query.get("per_page", 20)), 1), 1000)
        shown = rows[(page - 1) * per_page : page * per_page]
        info = {
            "page": page,
            "per_page": per_page,
            "count": len(shown),
            "total_count": len(rows),
            "total_pages": max((len(rows) + per_page - 1) // per_page, 1),
        }
        answer = web.json_response(_envelope(shown, info=info))
        if self._writer is not None and "configuration.value" in query:
            mode, notes = self._writer
            self._writer = None
            self.add_rule(query["configuration.target"], query["configuration.value"], mode, notes)
        return answer

    async def _create(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        try:
            body = await request.json()
            mode = str(body["mode"])
            target = str(body["configuration"]["target"])
            value = str(body["configuration"]["value"])
        except (ValueError, KeyError, TypeError):
            return web.json_response(_errors(10014, "firewallaccessrules.api.invalid"), status=400)
        self.changes[value] += 1
        if mode not in MODES or not _valid(target, value):
            message = "firewallaccessrules.api.validation_error:invalid_configuration"
            return web.json_response(_errors(10014, message), status=400)
        if any(
            rule["configuration"] == {"target": target, "value": value}
            for rule in self.rules.values()
        ):
            duplicate = _errors(10009, "firewallaccessrules.api.duplicate_of_existing")
            return web.json_response(duplicate, status=400)
        rule = self.add_rule(target, value, mode, str(body.get("notes") or ""))
        return web.json_response(_envelope(rule))

    async def _delete(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        rule = self.rules.pop(request.match_info["rule"], None)
        if rule is None:
            return web.json_response(
                _errors(10001, "firewallaccessrules.api.not_found"), status=404
            )
        self.changes[rule["configuration"]["value"]] += 1
        return web.json_response(_envelope({"id": rule["id"]}))
