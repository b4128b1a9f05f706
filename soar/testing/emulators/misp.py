"""A MISP instance on loopback: the attribute search the MISP enricher calls, played the
way MISP answers it.

- `Authorization: <key>` (no scheme; several comma-separated keys are tried in turn);
  anything else is **403** `{"name": "Authentication failed. Please make sure you pass
  the API key of an API enabled user along in the Authorization header.", ...}`.
- `POST /attributes/restSearch` (`returnFormat` json): `value` matches an attribute's
  value or either half of a composite one (`ip-dst|port`, `filename|md5`),
  case-insensitively, with `%` as a wildcard; `type` (a string or a list) filters;
  `limit`/`page` page. The answer is `{"response": {"Attribute": [...]}}` with each
  attribute's `Event` `{id, info, org_id, orgc_id, uuid}` and its `Tag` list; with
  `includeEventTags` the event's tags are added to the attribute's (`inherited: 1`).
  With `includeContext` the `Event` carries the event's `threat_level_id`, `date`,
  `published`, `analysis` and `Tag` — unless `context_threat_level` is off: whether
  the attribute search carries the threat level is (U), so both are played.
  Nothing found is `{"response": {"Attribute": []}}`, or `{"response": []}` as older
  instances answer (`empty_as_list`). IP addresses are saved compressed, as MISP does.
- A role's search limit (:meth:`MispEmulator.limit_searches`): past it, 429 `{"name":
  "Rate limit exceeded.", ...}` with `X-Rate-Limit-Limit`, `X-Rate-Limit-Remaining`
  and `X-Rate-Limit-Reset` — the seconds until the 15-minute window resets; a role that
  may not search at all (:meth:`MispEmulator.forbid_searches`) is 405.
- `GET /servers/getVersion` and `GET /users/view/me` for the check.

Tests seed events with :meth:`MispEmulator.add_event`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import secrets
import string
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from soar.testing.emulators.base import VendorEmulator

AUTH_FAILED = (
    "Authentication failed. Please make sure you pass the API key of an API enabled user "
    "along in the Authorization header."
)
THREAT_LEVELS = {"high": "1", "medium": "2", "low": "3", "undefined": "4"}
WINDOW_SECONDS = 900
"""MISP counts a role's searches over 15 minutes."""


def misp_key() -> str:
    """A key shaped like MISP's: 40 letters and digits."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(40))


def misp_error(status: int, message: str, url: str) -> web.Response:
    """MISP's error body."""
    return web.json_response({"name": message, "message": message, "url": url}, status=status)


@dataclass
class MispAttribute:
    """One attribute of a seeded event."""

    id: str
    type: str
    value: str
    to_ids: bool = True
    category: str = "Network activity"
    tags: list[str] = field(default_factory=list)


@dataclass
class MispEvent:
    """One seeded event and its attributes."""

    id: str
    info: str
    threat_level: str = "high"
    tags: list[str] = field(default_factory=list)
    published: bool = True
    attributes: list[MispAttribute] = field(default_factory=list)
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))


def _tags(names: list[str], *, inherited: bool = False) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for number, name in enumerate(names, start=1):
        tag: dict[str, Any] = {
            "id": str(number),
            "name": name,
            "colour": "#ffc000",
            "numerical_value": None,
            "is_galaxy": False,
            "local": 0,
        }
        if inherited:
            tag["inherited"] = 1
        found.append(tag)
    return found


def _like(pattern: str, value: str) -> bool:
    """MySQL's LIKE as MISP uses it: case-insensitive, `%` any run of characters."""
    pieces = pattern.casefold().split("%")
    text = value.casefold()
    if len(pieces) == 1:
        return text == pieces[0]
    if not text.startswith(pieces[0]) or not text.endswith(pieces[-1]):
        return False
    position = len(pieces[0])
    for piece in pieces[1:-1]:
        found = text.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    return position <= len(text) - len(pieces[-1])


def _values(attribute: MispAttribute) -> list[str]:
    if "|" in attribute.type or attribute.type == "malware-sample":
        return attribute.value.split("|", 1)
    return [attribute.value]


def _stored(kind: str, value: str) -> str:
    """The value as MISP saves it: IP addresses compressed and lower-case."""
    parts = value.split("|", 1) if "|" in kind else [value]
    halves = kind.split("|", 1) if "|" in kind else [kind]
    saved = []
    for half, part in zip(halves, parts, strict=False):
        if half.startswith("ip-") or half == "ip":
            with contextlib.suppress(ValueError):
                part = str(ipaddress.ip_address(part.strip()))
        saved.append(part)
    return "|".join(saved)


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item) for item in value]
    return [str(value)]


class MispEmulator(VendorEmulator):
    """The emulated instance; see the module docstring."""

    def __init__(
        self,
        *,
        context_threat_level: bool = True,
        empty_as_list: bool = False,
        version: str = "2.4.190",
    ) -> None:
        super().__init__()
        self.key = misp_key()
        self.secrets: list[str] = [self.key]
        self.context_threat_level = context_threat_level
        self.empty_as_list = empty_as_list
        self.version = version
        self.events: dict[str, MispEvent] = {}
        self.searches: list[dict[str, Any]] = []
        """The JSON bodies of the searches MISP answered."""
        self._search_limit: int | None = None
        self._window: tuple[float, int] | None = None
        self._next_attribute = 1

    # Seeding

    def add_event(
        self,
        info: str,
        attributes: Sequence[tuple[str, str] | tuple[str, str, bool]],
        *,
        threat_level: str = "high",
        tags: list[str] | None = None,
        attribute_tags: list[str] | None = None,
        published: bool = True,
    ) -> MispEvent:
        """Seed an event with `(type, value)` or `(type, value, to_ids)` attributes."""
        if threat_level not in THREAT_LEVELS:
            raise ValueError(f"{threat_level} is not a MISP threat level")
        event = MispEvent(
            id=str(len(self.events) + 1),
            info=info,
            threat_level=threat_level,
            tags=list(tags or []),
            published=published,
        )
        for item in attributes:
            kind, value, *flag = item
            to_ids = bool(flag[0]) if flag else True
            event.attributes.append(
                MispAttribute(
                    id=str(self._next_attribute),
                    type=kind,
                    value=_stored(kind, value),
                    to_ids=to_ids,
                    tags=list(attribute_tags or []),
                )
            )
            self._next_attribute += 1
        self.events[event.id] = event
        return event

    def forbid_searches(self) -> None:
        """The key's role may not search at all (`rate_limit_count` 0): 405."""
        self._search_limit = 0

    def limit_searches(self, count: int) -> None:
        """The key's role may search `count` times per 15 minutes (MISP's
        `rate_limit_count` with `enforce_rate_limit`)."""
        self._search_limit = count
        self._window = None

    @property
    def lookups(self) -> int:
        """Requests that reached the instance, answered or not."""
        return len(self.calls)

    # The vendor's ways

    def authorized(self, request: web.Request) -> bool:
        given = request.headers.get("Authorization", "")
        return any(part.strip() == self.key for part in given.split(","))

    def unauthorized(self) -> web.Response:
        return misp_error(403, AUTH_FAILED, "/attributes/restSearch")

    def wait_headers(self, seconds: float) -> dict[str, str]:
        return {
            "X-Rate-Limit-Limit": str(self._search_limit or 0),
            "X-Rate-Limit-Remaining": "0",
            "X-Rate-Limit-Reset": str(int(seconds)),
        }

    def rate_limited_body(self) -> Any:
        return {
            "name": "Rate limit exceeded.",
            "message": "Rate limit exceeded.",
            "url": "/attributes/restSearch",
        }

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/attributes/restSearch", self._rest_search),
            web.get("/servers/getVersion", self._version),
            web.get("/users/view/me", self._me),
        ]

    def _over_limit(self) -> web.Response | None:
        if self._search_limit is None:
            return None
        if self._search_limit == 0:
            return misp_error(
                405, "API searches are not allowed for this user role.", "/attributes/restSearch"
            )
        now = time.monotonic()
        if self._window is None or now - self._window[0] >= WINDOW_SECONDS:
            self._window = (now, 0)
        started, count = self._window
        reset = max(int(WINDOW_SECONDS - (now - started)), 1)
        if count >= self._search_limit:
            return web.json_response(
                self.rate_limited_body(), status=429, headers=self.wait_headers(reset)
            )
        self._window = (started, count + 1)
        return None

    async def _rest_search(self, request: web.Request) -> web.Response:
        limited = self._over_limit()
        if limited is not None:
            return limited
        try:
            body = json.loads(await request.text() or "{}")
        except ValueError:
            return misp_error(
                400,
                "Either specify the search terms in the url, or POST a json with the filter "
                "parameters.",
                request.path,
            )
        if not isinstance(body, dict) or body.get("returnFormat", "json") != "json":
            return misp_error(400, "Invalid return format.", request.path)
        self.searches.append(body)
        patterns = _as_list(body.get("value"))
        types = set(_as_list(body.get("type")))
        found = [
            (event, attribute)
            for event in self.events.values()
            for attribute in event.attributes
            if (not types or attribute.type in types)
            and (not patterns or any(_like(p, v) for p in patterns for v in _values(attribute)))
        ]
        limit = int(body.get("limit") or 0)
        page = max(int(body.get("page") or 1), 1)
        if limit:
            found = found[(page - 1) * limit : page * limit]
        if not found and self.empty_as_list:
            return web.json_response({"response": []})
        answer = [self._attribute_json(event, attribute, body) for event, attribute in found]
        return web.json_response({"response": {"Attribute": answer}})

    def _attribute_json(
        self, event: MispEvent, attribute: MispAttribute, body: dict[str, Any]
    ) -> dict[str, Any]:
        tags = _tags(attribute.tags)
        if body.get("includeEventTags"):
            tags += _tags(event.tags, inherited=True)
        event_json: dict[str, Any] = {
            "org_id": "1",
            "distribution": "1",
            "id": event.id,
            "info": event.info,
            "orgc_id": "1",
            "uuid": event.uuid,
        }
        if body.get("includeContext"):
            event_json.update(
                {
                    "date": "2024-05-01",
                    "published": event.published,
                    "analysis": "2",
                    "Tag": _tags(event.tags),
                }
            )
            if self.context_threat_level:
                event_json["threat_level_id"] = THREAT_LEVELS[event.threat_level]
        return {
            "id": attribute.id,
            "event_id": event.id,
            "object_id": "0",
            "object_relation": None,
            "category": attribute.category,
            "type": attribute.type,
            "to_ids": attribute.to_ids,
            "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"misp-attribute-{attribute.id}")),
            "timestamp": "1714560000",
            "distribution": "5",
            "sharing_group_id": "0",
            "comment": "",
            "deleted": False,
            "disable_correlation": False,
            "first_seen": None,
            "last_seen": None,
            "value": attribute.value,
            "Event": event_json,
            "Tag": tags,
        }

    async def _version(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "version": self.version,
                "pymisp_recommended_version": self.version,
                "perm_sync": False,
                "perm_sighting": True,
                "perm_galaxy_editor": False,
                "request_encoding": ["gzip", "br"],
                "filter_sightings": True,
            }
        )

    async def _me(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "User": {"id": "3", "email": "soar@example.org", "org_id": "1"},
                "Role": {"id": "3", "name": "User", "perm_auth": True},
                "Organisation": {"id": "1", "name": "ACME CERT"},
            }
        )
