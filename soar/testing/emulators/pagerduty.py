"""PagerDuty's Events API v2 on loopback, played the way PagerDuty documents it.

- `POST /v2/enqueue` `{routing_key, event_action, dedup_key, payload: {summary, source,
  severity, custom_details}, links, client, client_url}` → 202 `{status: "success",
  message: "Event processed", dedup_key}`.
- Alerts are de-duplicated by (routing key, dedup key): a trigger while an alert with
  that key is open adds a trigger to it; after it is resolved, a trigger opens a new one.
  An acknowledge or resolve for a key with no open alert is dropped (still 202).
- A malformed event is 400 `{status: "invalid event", message: "Event object is
  invalid", errors: [...]}`; a routing key PagerDuty does not know is the same 400 with
  "Invalid routing key" (third-party clients report it so; the Events API has no 401).
- About 120 events a minute per routing key (`events_per_window` in `window_seconds`):
  more is 429 with no wait header.

Tests read the alerts (:meth:`PagerDutyEmulator.alert`, :attr:`alerts_opened`) and
every request (:attr:`calls`).
"""

from __future__ import annotations

import json
import secrets
import string
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from soar.testing.emulators.base import VendorEmulator

SEVERITIES = frozenset({"critical", "error", "warning", "info"})
ACTIONS = frozenset({"trigger", "acknowledge", "resolve"})
MAX_BODY = 512 * 1024
MAX_SUMMARY = 1024
MAX_DEDUP_KEY = 255


def routing_key() -> str:
    """A fresh 32-character integration key."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


@dataclass
class PagerDutyAlert:
    """One alert on the emulated service."""

    routing_key: str
    dedup_key: str
    summary: str
    severity: str
    source: str
    custom_details: dict[str, Any] = field(default_factory=dict)
    links: list[dict[str, Any]] = field(default_factory=list)
    status: str = "triggered"
    """triggered, acknowledged or resolved."""
    triggers: int = 1
    """Trigger events it took (the first and those de-duplicated into it)."""


def invalid(*errors: str) -> web.Response:
    return web.json_response(
        {"status": "invalid event", "message": "Event object is invalid", "errors": list(errors)},
        status=400,
    )


class PagerDutyEmulator(VendorEmulator):
    """The emulated Events API; see the module docstring."""

    def __init__(self, *, events_per_window: int = 120, window_seconds: float = 60.0) -> None:
        super().__init__()
        self.key = routing_key()
        self.routing_keys = {self.key}
        self.secrets: list[str] = [self.key]
        self.alerts: list[PagerDutyAlert] = []
        self.events_per_window = events_per_window
        self.window_seconds = window_seconds
        self._recent: dict[str, deque[float]] = {}

    # Reading state

    @property
    def alerts_opened(self) -> int:
        """Alerts the service opened (a de-duplicated trigger opens none)."""
        return len(self.alerts)

    @property
    def requests(self) -> int:
        """Requests that reached the Events API (any answer)."""
        return len(self.calls)

    def alert(self, dedup_key: str) -> PagerDutyAlert | None:
        """The latest alert with this dedup key (open or not)."""
        return next((a for a in reversed(self.alerts) if a.dedup_key == dedup_key), None)

    def status_of(self, dedup_key: str) -> str | None:
        alert = self.alert(dedup_key)
        return alert.status if alert is not None else None

    # The vendor's ways

    def wait_headers(self, seconds: float) -> dict[str, str]:
        return {}

    def rate_limited_body(self) -> Any:
        return {
            "status": "throttle event",
            "message": "Requests for this service are arriving too quickly. Please retry later.",
        }

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/v2/enqueue", self._enqueue), web.get("/", self._root)]

    async def _root(self, request: web.Request) -> web.Response:
        return web.Response(status=404, text="Not Found")

    async def _enqueue(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if len(raw) > MAX_BODY:
            return invalid("Event object is too large (over 512 KB)")
        try:
            event = json.loads(raw)
        except ValueError:
            return invalid("Event object is not valid JSON")
        if not isinstance(event, dict):
            return invalid("Event object is not a JSON object")
        key = event.get("routing_key")
        if not isinstance(key, str) or key not in self.routing_keys:
            return invalid("Invalid routing key")
        if self._over_the_limit(key):
            return web.json_response(self.rate_limited_body(), status=429)
        action = event.get("event_action")
        if action not in ACTIONS:
            return invalid("'event_action' is missing or invalid")
        dedup_key = event.get("dedup_key")
        if dedup_key is not None and (
            not isinstance(dedup_key, str) or not dedup_key or len(dedup_key) > MAX_DEDUP_KEY
        ):
            return invalid("'dedup_key' must be a string of at most 255 characters")
        if action == "trigger":
            return self._trigger(key, dedup_key or uuid.uuid4().hex, event)
        if dedup_key is None:
            return invalid("'dedup_key' is required for acknowledge and resolve events")
        open_alert = self._open(key, dedup_key)
        if open_alert is not None:
            open_alert.status = "acknowledged" if action == "acknowledge" else "resolved"
        return accepted(dedup_key)

    def _trigger(self, key: str, dedup_key: str, event: dict[str, Any]) -> web.Response:
        payload = event.get("payload")
        if not isinstance(payload, dict):
            return invalid("'payload' is missing")
        summary, source, severity = (payload.get(f) for f in ("summary", "source", "severity"))
        problems = []
        if not isinstance(summary, str) or not summary or len(summary) > MAX_SUMMARY:
            problems.append("'payload.summary' is missing or longer than 1024 characters")
        if not isinstance(source, str) or not source:
            problems.append("'payload.source' is missing")
        if severity not in SEVERITIES:
            problems.append("'payload.severity' must be critical, error, warning or info")
        links = event.get("links") or []
        if not isinstance(links, list) or any(
            not isinstance(link, dict) or not link.get("href") for link in links
        ):
            problems.append("'links' must be objects with an href")
        if problems:
            return invalid(*problems)
        assert isinstance(summary, str) and isinstance(source, str) and isinstance(severity, str)
        open_alert = self._open(key, dedup_key)
        if open_alert is not None:
            open_alert.triggers += 1
            return accepted(dedup_key)
        details = payload.get("custom_details")
        self.alerts.append(
            PagerDutyAlert(
                routing_key=key,
                dedup_key=dedup_key,
                summary=summary,
                severity=severity,
                source=source,
                custom_details=details if isinstance(details, dict) else {},
                links=list(links),
            )
        )
        return accepted(dedup_key)

    def _open(self, key: str, dedup_key: str) -> PagerDutyAlert | None:
        return next(
            (
                a
                for a in self.alerts
                if a.routing_key == key and a.dedup_key == dedup_key and a.status != "resolved"
            ),
            None,
        )

    def _over_the_limit(self, key: str) -> bool:
        now = time.monotonic()
        recent = self._recent.setdefault(key, deque())
        while recent and now - recent[0] >= self.window_seconds:
            recent.popleft()
        if len(recent) >= self.events_per_window:
            return True
        recent.append(now)
        return False


def accepted(dedup_key: str) -> web.Response:
    return web.json_response(
        {"status": "success", "message": "Event processed", "dedup_key": dedup_key}, status=202
    )
