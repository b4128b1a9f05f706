"""A TheHive 5 organisation on loopback: the API v1 calls the TheHive ticket system
makes, played the way TheHive answers them.

- `Authorization: Bearer <API key>`; anything else is 401 `AuthenticationError`.
- `POST /api/v1/alert` `{type, source, sourceRef, title, description, severity 1-4,
  tlp, pap, tags, observables: [{dataType, data}]}` → 201, the alert with its `_id`.
  (type, source, sourceRef) is unique: a second is 400 with a message saying it already
  exists — in TheHive 5's words (`duplicate="create"`, `CreateError`) or TheHive 3/4's
  (`duplicate="conflict"`, `ConflictError` "document already exists"); the vendor has
  said both. Two observables of the same type and value in one alert are refused too.
- `POST /api/v1/query` with `listAlert` → `filter` (`_and` of `_eq`) → `page`, or
  `getAlert` → `comments` → `page`; other queries are 400.
- `POST /api/v1/alert/{id}/comment` `{message}` → 201; an unknown alert is 404.
- `GET /api/v1/user/current`.
- TheHive documents no rate limit; :meth:`throttle` answers 429 with `Retry-After`.

Tests read the alerts (:attr:`TheHiveEmulator.alerts`), the comments as people read
them (:meth:`comments_on`, Markdown escapes undone), and count the alerts created.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from soar.testing.emulators.base import VendorEmulator

API = "/api/v1"
DATA_TYPES = frozenset(
    {
        "autonomous-system",
        "domain",
        "file",
        "filename",
        "fqdn",
        "hash",
        "hostname",
        "ip",
        "mail",
        "mail-subject",
        "other",
        "regexp",
        "registry",
        "uri_path",
        "url",
        "user-agent",
    }
)
REQUIRED = ("type", "source", "sourceRef", "title", "description")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def hive_error(status: int, kind: str, message: str) -> web.Response:
    return web.json_response({"type": kind, "message": message}, status=status)


def as_read(markdown: str) -> str:
    """Markdown the way a person reads it: backslash escapes and hard breaks undone."""
    return _ESCAPE.sub(r"\1", markdown.replace("  \n", "\n"))


@dataclass
class TheHiveAlert:
    """One alert of the emulated organisation."""

    id: str
    body: dict[str, Any]
    comments: list[str] = field(default_factory=list)
    """The comments' Markdown as posted."""

    def as_json(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "_type": "Alert",
            "_createdBy": "soar@example.org",
            "_createdAt": int(time.time() * 1000),
            "status": "New",
            **self.body,
        }


class TheHiveEmulator(VendorEmulator):
    """The emulated organisation; see the module docstring."""

    create_call = ("POST", f"{API}/alert")

    def __init__(
        self,
        *,
        organisation: str = "SOC",
        duplicate: Literal["create", "conflict"] = "create",
    ) -> None:
        super().__init__()
        self.key = secrets.token_urlsafe(24)
        self.secrets: list[str] = [self.key]
        self.organisation = organisation
        self.duplicate = duplicate
        self.alerts: dict[str, TheHiveAlert] = {}
        self.refused_duplicates = 0
        """Creates refused because the alert already existed."""

    # Reading state

    @property
    def tickets_created(self) -> int:
        return len(self.alerts)

    @property
    def requests(self) -> int:
        return len(self.calls)

    def comments_on(self, key: str) -> list[str]:
        alert = self.alerts.get(key)
        return [as_read(comment) for comment in alert.comments] if alert else []

    def by_source_ref(self, source_ref: str) -> TheHiveAlert | None:
        return next((a for a in self.alerts.values() if a.body["sourceRef"] == source_ref), None)

    # The vendor's ways

    def authorized(self, request: web.Request) -> bool:
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return False
        wanted = request.headers.get("X-Organisation")
        return wanted is None or wanted == self.organisation

    def unauthorized(self) -> web.Response:
        return hive_error(401, "AuthenticationError", "Authentication failure")

    def rate_limited_body(self) -> Any:
        return {"type": "RateLimited", "message": "Too many requests"}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(f"{API}/alert", self._create),
            web.post(f"{API}/query", self._query),
            web.post(f"{API}/alert/{{id}}/comment", self._comment),
            web.get(f"{API}/user/current", self._current_user),
        ]

    async def _create(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return hive_error(400, "BadRequest", "Invalid JSON")
        problem = _alert_problem(body)
        if problem:
            return hive_error(400, "AttributeCheckingError", problem)
        keys = (body["type"], body["source"], body["sourceRef"])
        if any(
            (a.body["type"], a.body["source"], a.body["sourceRef"]) == keys
            for a in self.alerts.values()
        ):
            self.refused_duplicates += 1
            if self.duplicate == "conflict":
                return hive_error(
                    400,
                    "ConflictError",
                    f"[alert][{secrets.token_hex(16)}]: version conflict, document already exists",
                )
            return hive_error(
                400,
                "CreateError",
                f"Alert with type={keys[0]}, source={keys[1]}, sourceRef={keys[2]} already exists",
            )
        seen: set[tuple[str, str]] = set()
        for observable in body.get("observables") or []:
            pair = (observable["dataType"], observable["data"])
            if pair in seen:
                return hive_error(400, "CreateError", "Observable already exists")
            seen.add(pair)
        alert = TheHiveAlert(id=f"~{40960 + len(self.alerts) * 8}", body=body)
        self.alerts[alert.id] = alert
        return web.json_response(alert.as_json(), status=201)

    async def _query(self, request: web.Request) -> web.Response:
        try:
            steps = (await request.json())["query"]
            first = steps[0]["_name"]
        except (ValueError, KeyError, TypeError, IndexError):
            return hive_error(400, "BadRequest", "Invalid query")
        page = next((s for s in steps if s.get("_name") == "page"), {"from": 0, "to": 100})
        window = slice(int(page.get("from", 0)), int(page.get("to", 100)))
        if first == "listAlert":
            found = [a for a in self.alerts.values() if _passes(a, steps)]
            return web.json_response([a.as_json() for a in found][window])
        if first == "getAlert" and any(s.get("_name") == "comments" for s in steps):
            alert = self.alerts.get(str(steps[0].get("idOrName")))
            if alert is None:
                return hive_error(
                    404, "NotFoundError", f"Alert {steps[0].get('idOrName')} not found"
                )
            comments = [
                {"_id": f"~c{i}", "_type": "Comment", "message": m, "createdBy": "soar@example.org"}
                for i, m in enumerate(alert.comments)
            ]
            return web.json_response(comments[window])
        return hive_error(400, "BadRequest", f"Invalid query: {first}")

    async def _comment(self, request: web.Request) -> web.Response:
        alert = self.alerts.get(request.match_info["id"])
        if alert is None:
            return hive_error(404, "NotFoundError", f"Alert {request.match_info['id']} not found")
        try:
            message = (await request.json())["message"]
        except (ValueError, KeyError, TypeError):
            return hive_error(400, "AttributeCheckingError", "message is missing")
        if not isinstance(message, str) or not message.strip():
            return hive_error(400, "AttributeCheckingError", "message must not be empty")
        alert.comments.append(message)
        return web.json_response(
            {"_id": f"~c{len(alert.comments)}", "_type": "Comment", "message": message}, status=201
        )

    async def _current_user(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "_id": "~8",
                "login": "soar@example.org",
                "name": "SOAR integration",
                "organisation": self.organisation,
            }
        )


def _alert_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "the alert must be an object"
    missing = [name for name in REQUIRED if not isinstance(body.get(name), str) or not body[name]]
    if missing:
        return f"missing or empty attributes: {', '.join(missing)}"
    if body.get("severity") not in (1, 2, 3, 4):
        return "severity must be 1 (low) to 4 (critical)"
    if body.get("tlp", 2) not in (0, 1, 2, 3, 4) or body.get("pap", 2) not in (0, 1, 2, 3):
        return "tlp must be 0 to 4 and pap 0 to 3"
    for observable in body.get("observables") or []:
        if not isinstance(observable, dict) or observable.get("dataType") not in DATA_TYPES:
            return f"unknown observable data type {observable!r}"
        if not isinstance(observable.get("data"), str) or not observable["data"]:
            return "an observable needs data"
    return None


def _passes(alert: TheHiveAlert, steps: list[dict[str, Any]]) -> bool:
    for step in steps:
        if step.get("_name") != "filter":
            continue
        conditions = step.get("_and") or [step]
        for condition in conditions:
            equal = condition.get("_eq") or {}
            if equal and alert.body.get(str(equal.get("_field"))) != equal.get("_value"):
                return False
    return True
