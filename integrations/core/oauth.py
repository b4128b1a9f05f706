"""OAuth 2.0 client credentials as an `httpx.Auth`: fetch a token, send it, fetch a new
one before it expires or when the API says it has (401), and never log it.

CrowdStrike (`POST /oauth2/token`), Microsoft Defender and Entra (the Microsoft
identity platform) use it; the token request itself goes through the same client, so
its TLS settings and limits apply.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Mapping

import httpx

from integrations.core.redaction import Redactor
from integrations.core.waits import standard_wait
from soar.integrations.errors import CredentialsRejected, RateLimited, TransientError

EARLY_REFRESH = 60.0
"""Seconds before its expiry a token is replaced."""
TOKEN_RETRY_SECONDS = 1.0
"""The wait after a rate-limited token request that gave no wait signal."""


class ClientCredentials(httpx.Auth):
    """Bearer tokens from a client-credentials grant at `token_url` (an absolute URL, or
    a path on the client's base URL). Concurrent first calls may each fetch a token;
    later calls share it until it is about to expire."""

    def __init__(
        self,
        integration: str,
        token_url: str,
        form: Mapping[str, str],
        redactor: Redactor,
    ) -> None:
        self.integration = integration
        self.token_url = token_url
        self.form = dict(form)
        self.redact = redactor
        self._token: str | None = None
        self._expires = 0.0
        self.tokens_issued = 0

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._token is None or time.monotonic() >= self._expires - EARLY_REFRESH:
            answer = yield self._token_request(request)
            await answer.aread()
            self._accept(answer)
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401:
            answer = yield self._token_request(request)
            await answer.aread()
            self._accept(answer)
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request

    def _token_request(self, request: httpx.Request) -> httpx.Request:
        url = request.url.join(self.token_url)
        return httpx.Request("POST", url, data=self.form)

    def _accept(self, response: httpx.Response) -> None:
        """Keep the token of a token answer; a refusal is a permanent error."""
        if response.status_code in (400, 401, 403):
            raise CredentialsRejected(
                self.integration,
                f"the client id or secret was refused ({response.status_code})",
                status=response.status_code,
            )
        if response.status_code == 429:
            wait = standard_wait(response)
            raise RateLimited(
                self.integration,
                "the token request was rate limited",
                retry_after=wait if wait is not None else TOKEN_RETRY_SECONDS,
            )
        if response.status_code >= 300:
            raise TransientError(
                self.integration, f"the token request answered {response.status_code}"
            )
        try:
            body = response.json()
            token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 1800))
        except (ValueError, KeyError, TypeError):
            raise TransientError(self.integration, "the token answer held no token") from None
        self.redact.add(token)
        self._token = token
        self._expires = time.monotonic() + lifetime
        self.tokens_issued += 1
