"""A Microsoft Entra ID tenant on loopback: the identity platform's token endpoint and
the Microsoft Graph user calls the Entra actuator makes, played the way Microsoft
documents them.

- `POST /{tenant}/oauth2/v2.0/token` (client credentials, scope
  `https://graph.microsoft.com/.default`) → `{token_type, expires_in, access_token}`;
  a wrong secret is 401 `invalid_client`, other mistakes 400 with their AADSTS code.
- Graph calls need `Authorization: Bearer <token>`; a token that is unknown or expired
  (:meth:`EntraEmulator.expire_tokens`) is 401 `InvalidAuthenticationToken`.
- `GET /v1.0/users/{id|upn}` honours `$select`; unknown is 404
  `Request_ResourceNotFound`. `GET /v1.0/users?$top=` lists users.
- `PATCH /v1.0/users/{id}` `{"accountEnabled": bool}` → 204, also when nothing
  changes; an account the app may not manage (an admin) is 403
  `Authorization_RequestDenied`.
- `POST /v1.0/users/{id}/revokeSignInSessions` → `{"value": true}`.
- Errors are `{"error": {code, message, innerError}}`; a rate limit is 429
  `TooManyRequests` with `Retry-After` seconds.

:meth:`EntraEmulator.throttle` and :meth:`EntraEmulator.outage` act on Graph only: the
token endpoint is another service (login.microsoftonline.com);
:meth:`EntraEmulator.sign_in_outage` and :meth:`EntraEmulator.sign_in_throttle` act on
that one. Directory replication is
played by :meth:`EntraEmulator.lag_reads`.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from soar.containment.models import ContainmentCommand, ContainmentVerb
from soar.testing.emulators.base import VendorEmulator

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
GRAPH_ROOT = "https://graph.microsoft.com/v1.0"
SELECTABLE = ("id", "accountEnabled", "userPrincipalName", "displayName", "mail")
TOKEN_PATH = "/{tenant}/oauth2/v2.0/token"  # noqa: S105 (a route, not a secret)

GraphHandler = Callable[[web.Request], Awaitable[web.Response]]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def graph_error(status: int, code: str, message: str) -> web.Response:
    """Graph's error body."""
    return web.json_response(
        {
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": _now(),
                    "request-id": str(uuid.uuid4()),
                    "client-request-id": str(uuid.uuid4()),
                },
            }
        },
        status=status,
    )


def sign_in_error(status: int, error: str, code: int, description: str) -> web.Response:
    """The identity platform's error body."""
    return web.json_response(
        {
            "error": error,
            "error_description": f"AADSTS{code}: {description}",
            "error_codes": [code],
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        },
        status=status,
    )


@dataclass
class EntraUserRecord:
    """One user of the emulated directory, and what was done to it."""

    id: str
    upn: str
    enabled: bool = True
    sessions: int = 1
    protected: bool = False
    """Holds an admin role: the app may not change it."""
    reported_enabled: bool = True
    """What a lagging replica still answers (see `EntraEmulator.lag_reads`)."""
    patch_calls: int = 0
    """`PATCH` calls Graph took for this user (whatever they changed)."""
    revoke_calls: int = 0

    def as_json(self, enabled: bool) -> dict[str, Any]:
        return {
            "id": self.id,
            "accountEnabled": enabled,
            "userPrincipalName": self.upn,
            "displayName": self.upn.split("@", 1)[0].replace(".", " ").title(),
            "mail": self.upn if "#EXT#" not in self.upn else None,
        }


@dataclass
class _GraphForced:
    status: int
    headers: dict[str, str]
    code: str
    message: str


class EntraEmulator(VendorEmulator):
    """The emulated tenant; see the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.tenant_id = str(uuid.uuid4())
        self.client_id = str(uuid.uuid4())
        self.client_secret = secrets.token_urlsafe(30)
        self.secrets: list[str] = [self.client_secret]
        """The client secret and every token issued (tests add the secrets they use)."""
        self.users: dict[str, EntraUserRecord] = {}
        self.token_lifetime = 3599
        self.tokens_issued = 0
        self.revoke_value = True
        """What `revokeSignInSessions` answers in `value`."""
        self._tokens: dict[str, float] = {}
        self._graph_forced: list[_GraphForced] = []
        self._sign_in_forced: list[web.Response] = []
        self._lagging_reads = 0

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/{{tenant}}/oauth2/v2.0/token"

    # Seeding and reading state

    def add_user(
        self, upn: str, *, enabled: bool = True, sessions: int = 1, protected: bool = False
    ) -> EntraUserRecord:
        """Seed a user of the directory."""
        user = EntraUserRecord(
            id=str(uuid.uuid4()),
            upn=upn,
            enabled=enabled,
            reported_enabled=enabled,
            sessions=sessions,
            protected=protected,
        )
        self.users[user.id] = user
        return user

    def user(self, key: str) -> EntraUserRecord | None:
        """The user whose object id or user principal name (any case) is `key`."""
        wanted = key.lower()
        return next(
            (u for u in self.users.values() if wanted in (u.id.lower(), u.upn.lower())), None
        )

    def sign_in(self, upn: str) -> None:
        """The user signs in again: a new session."""
        self._known(upn).sessions += 1

    def expire_tokens(self) -> None:
        """Every token issued so far expires now."""
        self._tokens = dict.fromkeys(self._tokens, 0.0)

    def lag_reads(self, times: int = 1) -> None:
        """The next `times` reads of a user come from a replica that has not seen its
        last change yet."""
        self._lagging_reads += times

    def sign_in_outage(self, times: int = 1) -> None:
        """The token endpoint answers the next `times` requests with 503."""
        for _ in range(times):
            self._sign_in_forced.append(
                sign_in_error(503, "temporarily_unavailable", 50196, "The server is busy.")
            )

    def sign_in_throttle(self, times: int = 1, *, seconds: float = 1) -> None:
        """The token endpoint answers the next `times` requests with 429 and
        `Retry-After`."""
        for _ in range(times):
            answer = sign_in_error(
                429, "temporarily_unavailable", 50196, "The request was throttled."
            )
            answer.headers.update(self.wait_headers(seconds))
            self._sign_in_forced.append(answer)

    def _known(self, upn: str) -> EntraUserRecord:
        user = self.user(upn)
        if user is None:
            raise KeyError(f"no seeded user {upn}")
        return user

    # EmulatedProduct

    def effects(self, command: ContainmentCommand) -> int:
        user = self.user(command.target.value)
        if user is None:
            return 0
        if command.action is ContainmentVerb.REVOKE:
            return user.revoke_calls
        return user.patch_calls

    def in_effect(self, command: ContainmentCommand) -> bool:
        user = self.user(command.target.value)
        if user is None:
            return False
        if command.action is ContainmentVerb.REVOKE:
            return user.sessions == 0
        return not user.enabled

    def undo_out_of_band(self, command: ContainmentCommand) -> None:
        if command.action is ContainmentVerb.REVOKE:
            self.sign_in(command.target.value)
        else:
            user = self._known(command.target.value)
            user.enabled = user.reported_enabled = True

    def throttle(self, times: int = 1, *, seconds: float = 1) -> None:
        """Graph answers the next `times` calls with 429 and `Retry-After`."""
        for _ in range(times):
            self._graph_forced.append(
                _GraphForced(
                    429,
                    self.wait_headers(seconds),
                    "TooManyRequests",
                    "Too many requests. Please try again later.",
                )
            )

    def outage(self, times: int = 1) -> None:
        """Graph answers the next `times` calls with 503."""
        for _ in range(times):
            self._graph_forced.append(
                _GraphForced(
                    503,
                    {},
                    "serviceNotAvailable",
                    "The service is temporarily unavailable. Please try again later.",
                )
            )

    # The vendor's ways

    def open_path(self, request: web.Request) -> bool:
        return request.path.endswith("/oauth2/v2.0/token")

    def authorized(self, request: web.Request) -> bool:
        given = request.headers.get("Authorization", "")
        if not given.startswith("Bearer "):
            return False
        expires = self._tokens.get(given.removeprefix("Bearer "))
        return expires is not None and time.time() < expires

    def unauthorized(self) -> web.Response:
        return graph_error(
            401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
        )

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(TOKEN_PATH, self._token),
            web.get("/v1.0/users", self._graph(self._list_users)),
            web.get("/v1.0/users/{key}", self._graph(self._get_user)),
            web.patch("/v1.0/users/{key}", self._graph(self._patch_user)),
            web.post("/v1.0/users/{key}/revokeSignInSessions", self._graph(self._revoke)),
        ]

    def _graph(self, handler: GraphHandler) -> GraphHandler:
        """A Graph route: the scripted answers first."""

        async def route(request: web.Request) -> web.Response:
            if self._graph_forced:
                forced = self._graph_forced.pop(0)
                answer = graph_error(forced.status, forced.code, forced.message)
                answer.headers.update(forced.headers)
                return answer
            return await handler(request)

        return route

    async def _token(self, request: web.Request) -> web.Response:
        if self._sign_in_forced:
            return self._sign_in_forced.pop(0)
        form = await request.post()
        if request.match_info["tenant"] != self.tenant_id:
            tenant = request.match_info["tenant"]
            return sign_in_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            return sign_in_error(
                400, "unsupported_grant_type", 70003, "The app requested an unsupported grant."
            )
        client_id = form.get("client_id")
        if client_id != self.client_id:
            return sign_in_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id!s}' was not found in the directory.",
            )
        if form.get("client_secret") != self.client_secret:
            return sign_in_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
        if form.get("scope") != GRAPH_SCOPE:
            return sign_in_error(
                400,
                "invalid_scope",
                1002012,
                "The provided value for scope is not valid. Client credential flows must "
                "have a scope value with /.default suffixed to the resource identifier.",
            )
        self.tokens_issued += 1
        token = f"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.{secrets.token_urlsafe(24)}"
        self._tokens[token] = time.time() + self.token_lifetime
        self.secrets.append(token)
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "ext_expires_in": self.token_lifetime,
                "access_token": token,
            }
        )

    def _lookup(self, request: web.Request) -> EntraUserRecord | web.Response:
        key = request.match_info["key"]
        user = self.user(key)
        if user is None:
            return graph_error(
                404,
                "Request_ResourceNotFound",
                f"Resource '{key}' does not exist or one of its queried reference-property "
                "objects are not present.",
            )
        return user

    def _selected(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        wanted = request.query.get("$select")
        if not wanted:
            return body
        fields = {name.strip() for name in wanted.split(",")}
        return {name: value for name, value in body.items() if name in fields}

    async def _list_users(self, request: web.Request) -> web.Response:
        top = int(request.query.get("$top", "100"))
        users = list(self.users.values())[:top]
        return web.json_response(
            {
                "@odata.context": f"{GRAPH_ROOT}/$metadata#users",
                "value": [self._selected(request, u.as_json(u.enabled)) for u in users],
            }
        )

    async def _get_user(self, request: web.Request) -> web.Response:
        user = self._lookup(request)
        if isinstance(user, web.Response):
            return user
        enabled = user.enabled
        if self._lagging_reads:
            self._lagging_reads -= 1
            enabled = user.reported_enabled
        body = {
            "@odata.context": f"{GRAPH_ROOT}/$metadata#users/$entity",
            **self._selected(request, user.as_json(enabled)),
        }
        return web.json_response(body)

    async def _patch_user(self, request: web.Request) -> web.Response:
        user = self._lookup(request)
        if isinstance(user, web.Response):
            return user
        try:
            changes = json.loads(await request.text())
        except ValueError:
            return graph_error(400, "BadRequest", "Unable to read JSON request payload.")
        if not isinstance(changes, dict) or set(changes) != {"accountEnabled"}:
            return graph_error(
                400, "Request_BadRequest", "This emulator changes accountEnabled only."
            )
        if not isinstance(changes["accountEnabled"], bool):
            return graph_error(
                400,
                "Request_BadRequest",
                "Invalid value specified for property 'accountEnabled' of resource 'User'.",
            )
        if user.protected:
            return graph_error(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )
        user.patch_calls += 1
        user.reported_enabled = user.enabled
        user.enabled = changes["accountEnabled"]
        return web.Response(status=204)

    async def _revoke(self, request: web.Request) -> web.Response:
        user = self._lookup(request)
        if isinstance(user, web.Response):
            return user
        if user.protected:
            return graph_error(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )
        user.revoke_calls += 1
        if self.revoke_value:
            user.sessions = 0
        return web.json_response(
            {"@odata.context": f"{GRAPH_ROOT}/$metadata#Edm.Boolean", "value": self.revoke_value}
        )
