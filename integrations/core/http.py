"""One shared HTTP client per configured integration.

:class:`VendorHttp` wraps one `httpx.AsyncClient` (connection limits, TLS as
configured) and gives every vendor client the same behaviour:

- a rate limiter per integration (aiolimiter) when `requests_per_minute` is set;
- retries with exponential backoff of timeouts, connection errors and 5xx answers,
  and of 429s after the vendor's own wait signal (:mod:`integrations.core.waits`);
  a wait longer than `max_wait_seconds` is not slept in place but raised as
  :class:`~soar.integrations.errors.RateLimited`, so the activity is retried after
  exactly that wait without holding a worker slot;
- permanent answers — 401, 403, 404, other 4xx, and errors a vendor reports inside a
  200 body (a `body_error` hook) — raised once, not retried, in plain words;
- a call that is not idempotent (`idempotent=False`: creating a ticket, adding a
  comment) is sent again only when it cannot have taken effect — it never reached the
  vendor, or the vendor refused it with a 429. A timeout or a 5xx after it was sent may
  hide a call that did take effect, so it is raised at once as a
  :class:`~soar.integrations.errors.TransientError`, and the caller's retry reads the
  vendor's state before calling again;
- every message redacted of the integration's secrets.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from aiolimiter import AsyncLimiter

from integrations.core.options import HttpOptions
from integrations.core.redaction import Redactor
from integrations.core.waits import WaitSignal, standard_wait
from soar.integrations.errors import (
    AccessDenied,
    CredentialsRejected,
    IntegrationError,
    RateLimited,
    RequestRejected,
    TargetNotFound,
    TransientError,
)

logger = logging.getLogger("integrations.http")

BodyError = Callable[[httpx.Response], IntegrationError | None]
"""Reads a vendor's error out of an answer whose status says success (or None)."""
Explain = Callable[[httpx.Response], str]
"""The vendor's own words for a failed answer (its error message field)."""

BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
MAX_DETAIL = 300


def _limiter(per_minute: float | None) -> AsyncLimiter | None:
    """A limiter that spreads `per_minute` calls over the minute: bursts of at most a
    second's share, so a storm never spends a minute's budget at once."""
    if per_minute is None:
        return None
    if per_minute >= 60:
        return AsyncLimiter(per_minute / 60, 1)
    return AsyncLimiter(1, 60 / per_minute)


def default_explain(response: httpx.Response) -> str:
    """The start of the answer's body, as the vendor's words."""
    text = response.text.strip().replace("\n", " ")
    return text[:MAX_DETAIL] or response.reason_phrase


class VendorHttp:
    """The HTTP side of one configured integration; see the module docstring."""

    def __init__(
        self,
        name: str,
        options: HttpOptions,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        wait_signal: WaitSignal = standard_wait,
        body_error: BodyError | None = None,
        explain: Explain = default_explain,
        redactor: Redactor | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.options = options
        self.redact = redactor or Redactor(options.secrets())
        self._wait_signal = wait_signal
        self._body_error = body_error
        self._explain = explain
        self._limiter = _limiter(options.requests_per_minute)
        self.client = httpx.AsyncClient(
            base_url=options.base_url.rstrip("/"),
            headers=dict(headers or {}),
            auth=auth,
            timeout=options.timeout_seconds,
            verify=options.tls(),
            limits=httpx.Limits(
                max_connections=options.max_connections,
                max_keepalive_connections=options.max_connections,
            ),
            transport=transport,
        )
        self.calls = 0
        """Requests sent (retries included), for `soar integrations check` and tests."""

    async def aclose(self) -> None:
        await self.client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        missing_ok: bool = False,
        what: str | None = None,
        idempotent: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one call with the module's retry rules and return the answer.

        `missing_ok`: a 404 is an answer (the target is not there), not an error.
        `what` names the call in messages ("find host WS-01"); by default the method and
        path. `idempotent=False`: see the module docstring. Other arguments go to
        `httpx.AsyncClient.request`.
        """
        label = what or f"{method} {path}"
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._send(method, path, **kwargs)
            except httpx.TimeoutException as error:
                failure: IntegrationError = TransientError(self.name, f"{label} timed out")
                delay: float | None = self._backoff(attempt)
                if not idempotent and not _never_sent(error):
                    raise failure from None
            except httpx.TransportError as error:
                failure = TransientError(
                    self.name, self.redact(f"{label} could not connect: {error}")
                )
                delay = self._backoff(attempt)
                if not idempotent and not _never_sent(error):
                    raise failure from None
            except TransientError as error:  # raised by an auth flow: its token endpoint busy
                failure = error
                delay = (
                    error.retry_after if isinstance(error, RateLimited) else self._backoff(attempt)
                )
            else:
                outcome = self.judge(response, label, missing_ok=missing_ok)
                if outcome is None:
                    return response
                failure, delay = outcome
                if not idempotent and not isinstance(failure, RateLimited):
                    delay = None
            if delay is None or attempt > self.options.max_retries:
                raise failure
            if waited + delay > self.options.max_wait_seconds:
                raise RateLimited(self.name, failure.reason, retry_after=delay)
            logger.info("%s: %s; retrying in %.1f s", self.name, failure.reason, delay)
            await asyncio.sleep(delay)
            waited += delay

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`request`, then the answer's JSON (empty for a 204)."""
        response = await self.request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise TransientError(
                self.name, f"{kwargs.get('what') or path}: the answer is not JSON"
            ) from None

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.calls += 1
        if self._limiter is None:
            return await self.client.request(method, path, **kwargs)
        async with self._limiter:
            return await self.client.request(method, path, **kwargs)

    def judge(
        self, response: httpx.Response, label: str, *, missing_ok: bool
    ) -> tuple[IntegrationError, float | None] | None:
        """None for an answer to return; else the error and the delay before a retry
        (None: not retried). A vendor whose statuses mean something of their own (PAN-OS
        answers a bad key 403 inside a 200, FortiOS a coded rejection with a 500) overrides
        this and falls back to it."""
        status = response.status_code
        if status < 400:
            error = self._body_error(response) if self._body_error else None
            if error is None:
                return None
            if isinstance(error, RateLimited):
                return error, error.retry_after
            return error, self._backoff(1) if isinstance(error, TransientError) else None
        if status == 404 and missing_ok:
            return None
        words = self.redact(self._explain(response))
        if status == 429:
            wait = self._wait_signal(response)
            delay = wait if wait is not None else self._backoff(2)
            return RateLimited(self.name, f"{label}: rate limited", retry_after=delay), delay
        if status >= 500:
            wait = self._wait_signal(response) if status == 503 else None
            return (
                TransientError(self.name, f"{label}: the service answered {status}: {words}"),
                wait if wait is not None else self._backoff(1),
            )
        if status == 401:
            return CredentialsRejected(
                self.name, f"{label}: the credentials were refused (401): {words}", status=401
            ), None
        if status == 403:
            return AccessDenied(
                self.name, f"{label}: the credentials may not do this (403): {words}", status=403
            ), None
        if status == 404:
            return TargetNotFound(self.name, f"{label}: not found (404): {words}", status=404), None
        return RequestRejected(
            self.name, f"{label}: rejected ({status}): {words}", status=status
        ), None

    @staticmethod
    def _backoff(attempt: int) -> float:
        """Exponential backoff with jitter: about 0.5, 1, 2, 4 s…"""
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def _never_sent(error: httpx.TransportError) -> bool:
    """Whether the request cannot have reached the vendor: no connection was made, or
    none was free in the pool."""
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
