"""An Okta org on loopback: the Users API the Okta actuator calls, played the way Okta
documents it.

- `Authorization: SSWS <token>`; anything else is 401 `E0000011`.
- `GET /api/v1/users/{id|login}` (and `/users/me`, the token's admin); unknown is 404
  `E0000007`.
- `POST /api/v1/users/{id}/lifecycle/suspend` only for ACTIVE users and `.../unsuspend`
  only for SUSPENDED ones, else 400 `E0000001`; a user the token's admin may not manage
  (a super admin) is 403 `E0000006`.
- `DELETE /api/v1/users/{id}/sessions?oauthTokens=true` → 204, ending the sessions (and,
  with `oauthTokens=true`, the OAuth tokens).
- Errors are `{errorCode, errorSummary, errorLink, errorId, errorCauses}`; a rate limit
  is 429 `E0000047` with `X-Rate-Limit-Reset` (epoch seconds).

Tests seed users with :meth:`OktaEmulator.add_user`, read their state and the calls
each one took, and change them behind the actuator's back.
"""

from __future__ import annotations

import math
import secrets
import string
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from soar.containment.models import ContainmentCommand, ContainmentVerb
from soar.testing.emulators.base import VendorEmulator

ACTIVE = "ACTIVE"
SUSPENDED = "SUSPENDED"
STATUSES = frozenset(
    {
        "STAGED",
        "PROVISIONED",
        ACTIVE,
        "RECOVERY",
        "LOCKED_OUT",
        "PASSWORD_EXPIRED",
        SUSPENDED,
        "DEPROVISIONED",
    }
)


NO_PERMISSION = "You do not have permission to perform the requested action"


def _okta_id(prefix: str) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(17))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class OktaUserRecord:
    """One user of the emulated org, and what was done to it."""

    id: str
    login: str
    status: str = ACTIVE
    sessions: int = 1
    oauth_tokens: int = 1
    protected: bool = False
    """A super admin: the token's admin may not change its lifecycle or sessions."""
    status_changed: str = ""
    lifecycle_calls: int = 0
    """Suspend and unsuspend calls Okta took for this user (whatever it answered)."""
    session_calls: int = 0
    """Calls that cleared its sessions."""

    def as_json(self, base_url: str) -> dict[str, Any]:
        local = self.login.split("@", 1)[0]
        return {
            "id": self.id,
            "status": self.status,
            "created": "2024-01-02T09:00:00.000Z",
            "activated": "2024-01-02T09:00:00.000Z",
            "statusChanged": self.status_changed or None,
            "lastLogin": None,
            "lastUpdated": self.status_changed or "2024-01-02T09:00:00.000Z",
            "type": {"id": "oty1a2b3c4d5e6f7g8h9"},
            "profile": {
                "firstName": local.title(),
                "lastName": "Example",
                "email": self.login,
                "login": self.login,
            },
            "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
            "_links": {"self": {"href": f"{base_url}/api/v1/users/{self.id}"}},
        }


def okta_error(status: int, code: str, summary: str, causes: tuple[str, ...] = ()) -> web.Response:
    """Okta's error body."""
    return web.json_response(
        {
            "errorCode": code,
            "errorSummary": summary,
            "errorLink": code,
            "errorId": _okta_id("oae"),
            "errorCauses": [{"errorSummary": cause} for cause in causes],
        },
        status=status,
    )


class OktaEmulator(VendorEmulator):
    """The emulated org; see the module docstring."""

    def __init__(self, *, admin_login: str = "soar-admin@example.com") -> None:
        super().__init__()
        self.token = "00" + secrets.token_urlsafe(30)
        self.secrets: list[str] = [self.token]
        self.users: dict[str, OktaUserRecord] = {}
        self.admin = self.add_user(admin_login, protected=True)
        self.last_reset: int | None = None
        """The `X-Rate-Limit-Reset` of the last 429 this emulator was told to send."""
        self._races: dict[str, str] = {}

    # Seeding and reading state

    def add_user(
        self,
        login: str,
        *,
        status: str = ACTIVE,
        sessions: int = 1,
        oauth_tokens: int = 1,
        protected: bool = False,
    ) -> OktaUserRecord:
        """Seed a user of the org."""
        if status not in STATUSES:
            raise ValueError(f"{status} is not an Okta user status")
        user = OktaUserRecord(
            id=_okta_id("00u"),
            login=login,
            status=status,
            sessions=sessions,
            oauth_tokens=oauth_tokens,
            protected=protected,
        )
        self.users[user.id] = user
        return user

    def user(self, key: str) -> OktaUserRecord | None:
        """The user whose id or login (any case) is `key`."""
        if key in self.users:
            return self.users[key]
        wanted = key.lower()
        return next((u for u in self.users.values() if u.login.lower() == wanted), None)

    def race(self, login: str, status: str) -> None:
        """Someone in the admin console moves the user to `status` just before Okta takes
        the next lifecycle call for it (after the actuator read the user)."""
        user = self._known(login)
        self._races[user.id] = status

    def sign_in(self, login: str) -> None:
        """The user signs in again: a new session and a new OAuth token."""
        user = self._known(login)
        user.sessions += 1
        user.oauth_tokens += 1

    def _known(self, login: str) -> OktaUserRecord:
        user = self.user(login)
        if user is None:
            raise KeyError(f"no seeded user {login}")
        return user

    # EmulatedProduct

    def effects(self, command: ContainmentCommand) -> int:
        user = self.user(command.target.value)
        if user is None:
            return 0
        if command.action is ContainmentVerb.REVOKE:
            return user.session_calls
        return user.lifecycle_calls

    def in_effect(self, command: ContainmentCommand) -> bool:
        user = self.user(command.target.value)
        if user is None:
            return False
        if command.action is ContainmentVerb.REVOKE:
            return user.sessions == 0 and user.oauth_tokens == 0
        return user.status == SUSPENDED

    def undo_out_of_band(self, command: ContainmentCommand) -> None:
        if command.action is ContainmentVerb.REVOKE:
            self.sign_in(command.target.value)
        else:
            self._known(command.target.value).status = ACTIVE

    # The vendor's ways

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"SSWS {self.token}"

    def unauthorized(self) -> web.Response:
        return okta_error(401, "E0000011", "Invalid token provided")

    def wait_headers(self, seconds: float) -> dict[str, str]:
        self.last_reset = math.ceil(time.time() + seconds)
        return {
            "X-Rate-Limit-Limit": "600",
            "X-Rate-Limit-Remaining": "0",
            "X-Rate-Limit-Reset": str(self.last_reset),
        }

    def rate_limited_body(self) -> Any:
        return {
            "errorCode": "E0000047",
            "errorSummary": "API call exceeded rate limit due to too many requests.",
            "errorLink": "E0000047",
            "errorId": _okta_id("oae"),
            "errorCauses": [],
        }

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v1/users/{key}", self._get_user),
            web.post(
                "/api/v1/users/{key}/lifecycle/{operation:(suspend|unsuspend)}", self._lifecycle
            ),
            web.delete("/api/v1/users/{key}/sessions", self._clear_sessions),
        ]

    def _lookup(self, request: web.Request) -> OktaUserRecord | web.Response:
        key = request.match_info["key"]
        user = self.admin if key == "me" else self.user(key)
        if user is None:
            return okta_error(404, "E0000007", f"Not found: Resource not found: {key} (User)")
        return user

    async def _get_user(self, request: web.Request) -> web.Response:
        user = self._lookup(request)
        if isinstance(user, web.Response):
            return user
        return web.json_response(user.as_json(self.base_url))

    async def _lifecycle(self, request: web.Request) -> web.Response:
        operation = request.match_info["operation"]
        user = self._lookup(request)
        if isinstance(user, web.Response):
            return user
        if user.protected:
            return okta_error(403, "E0000006", NO_PERMISSION)
        user.lifecycle_calls += 1
        if user.id in self._races:
            user.status = self._races.pop(user.id)
        before, after = (ACTIVE, SUSPENDED) if operation == "suspend" else (SUSPENDED, ACTIVE)
        if user.status != before:
            wanted = "active" if operation == "suspend" else "suspended"
            return okta_error(
                400,
                "E0000001",
                f"Api validation failed: {operation}",
                (f"Cannot {operation} a user that is not {wanted}",),
            )
        user.status = after
        user.status_changed = _now()
        return web.json_response({})

    async def _clear_sessions(self, request: web.Request) -> web.Response:
        user = self._lookup(request)
        if isinstance(user, web.Response):
            return user
        if user.protected:
            return okta_error(403, "E0000006", NO_PERMISSION)
        user.session_calls += 1
        user.sessions = 0
        if request.query.get("oauthTokens") == "true":
            user.oauth_tokens = 0
        return web.Response(status=204)
