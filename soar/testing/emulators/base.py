"""The frame every vendor emulator is built on: a real HTTP server on loopback.

An emulator plays one vendor's documented API — authentication, state that persists
between calls, the vendor's answers to repeats, its error bodies and its own rate-limit
header — so the real clients run against it over real HTTP. This frame gives each one:

- serving on a free 127.0.0.1 port (`async with Emulator() as vendor`, `base_url`);
- every call recorded (:attr:`VendorEmulator.calls`, :meth:`VendorEmulator.count`);
- forced answers for the next calls (:meth:`VendorEmulator.throttle` answers 429 with
  the vendor's own wait header, :meth:`VendorEmulator.outage` answers 503);
- the credentials check of :meth:`VendorEmulator.authorized`, answered with the vendor's
  own 401 body;
- :meth:`VendorEmulator.hold`: the next matching call is carried out but its answer is
  held back until :meth:`VendorEmulator.release` — the moment a client may die not
  knowing whether its call took effect (crash-safety tests).

A vendor's emulator subclasses it, adds its routes in :meth:`VendorEmulator.routes`,
and says how it signals a wait (:meth:`VendorEmulator.wait_headers`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from soar.testing.loopback import serve_on_loopback

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class EmulatorCall:
    """One request as the emulator received it, and the status it answered."""

    method: str
    path: str
    query: dict[str, str]
    body: str
    status: int = 0
    at: float = field(default_factory=time.time)


@dataclass
class _Forced:
    status: int
    headers: dict[str, str]
    body: Any


class VendorEmulator:
    """A vendor API on loopback; see the module docstring."""

    def __init__(self) -> None:
        self.calls: list[EmulatorCall] = []
        self._forced: list[_Forced] = []
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._hold: tuple[str, str] | None = None
        self.holding = asyncio.Event()
        """Set once a held call has been carried out and its answer is waiting."""
        self._released = asyncio.Event()

    def routes(self) -> list[web.RouteDef]:
        """The vendor's endpoints."""
        raise NotImplementedError

    def authorized(self, request: web.Request) -> bool:
        """Whether the request carries valid credentials (every call, unless open)."""
        return True

    def open_path(self, request: web.Request) -> bool:
        """Paths that need no credentials (a token endpoint checks its own)."""
        return False

    def unauthorized(self) -> web.Response:
        """The vendor's answer to bad credentials."""
        return web.json_response({"error": "unauthorized"}, status=401)

    def wait_headers(self, seconds: float) -> dict[str, str]:
        """The vendor's own rate-limit header for a wait of `seconds` (`Retry-After` by
        default; epoch and ISO vendors override)."""
        return {"Retry-After": str(int(seconds))}

    def rate_limited_body(self) -> Any:
        return {"error": "rate limited"}

    # Scripting the next answers

    def throttle(self, times: int = 1, *, seconds: float = 1) -> None:
        """Answer the next `times` calls with 429 and the vendor's wait header."""
        for _ in range(times):
            self._forced.append(_Forced(429, self.wait_headers(seconds), self.rate_limited_body()))

    def outage(self, times: int = 1) -> None:
        """Answer the next `times` calls with 503."""
        for _ in range(times):
            self._forced.append(_Forced(503, {}, {"error": "service unavailable"}))

    def hold(self, method: str, path_contains: str) -> None:
        """Carry out the next `method` call whose path contains `path_contains`, then hold
        its answer until :meth:`release` (see the module docstring)."""
        self._hold = (method, path_contains)
        self.holding.clear()
        self._released.clear()

    def release(self) -> None:
        """Let a held answer go (to a client that may be gone)."""
        self._hold = None
        self._released.set()

    def count(self, method: str, path_contains: str = "", *, status: int | None = None) -> int:
        """Calls of `method` whose path contains `path_contains` (and answered `status`)."""
        return sum(
            1
            for call in self.calls
            if call.method == method
            and path_contains in call.path
            and (status is None or call.status == status)
        )

    # Life cycle

    async def start(self) -> None:
        """Serve on a free loopback port."""
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(self.routes())
        self._runner, self.port = await serve_on_loopback(app)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> VendorEmulator:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        call = EmulatorCall(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            body=await request.text() if request.can_read_body else "",
        )
        self.calls.append(call)
        response: web.StreamResponse
        if self._forced:
            forced = self._forced.pop(0)
            response = web.Response(
                status=forced.status,
                headers=forced.headers,
                text=forced.body if isinstance(forced.body, str) else json.dumps(forced.body),
                content_type="application/json",
            )
        elif not self.open_path(request) and not self.authorized(request):
            response = self.unauthorized()
        else:
            response = await handler(request)
            held = self._hold
            if held is not None and request.method == held[0] and held[1] in request.path:
                self._hold = None
                self.holding.set()
                await self._released.wait()
        call.status = response.status
        return response
