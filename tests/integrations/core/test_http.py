"""The shared HTTP client against a real server on loopback: retries of outages, the
vendor's own wait signal honoured (in place when short, as a timed retry when long),
permanent answers raised once, errors inside 200 bodies, credentials never in an error,
OAuth tokens fetched once and renewed when refused."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from pydantic import SecretStr

from integrations.core.http import VendorHttp
from integrations.core.oauth import ClientCredentials
from integrations.core.options import HttpOptions
from integrations.core.redaction import Redactor
from integrations.core.waits import seconds_until
from soar.integrations.errors import (
    AccessDenied,
    CredentialsRejected,
    IntegrationError,
    RateLimited,
    RequestRejected,
    TargetNotFound,
    TransientError,
)
from soar.testing.emulators.base import VendorEmulator

TOKEN = "s3cret-token-value"


class Options(HttpOptions):
    api_key: SecretStr


class Echo(VendorEmulator):
    """A tiny vendor: `/ok`, `/missing` (404), `/forbidden`, `/bad` (400), `/soft-error`
    (an error in a 200 body) and an OAuth token endpoint."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens_issued = 0
        self.valid_tokens: set[str] = set()

    def routes(self) -> list[web.RouteDef]:
        async def ok(request: web.Request) -> web.Response:
            return web.json_response({"ok": True})

        async def missing(request: web.Request) -> web.Response:
            return web.json_response({"error": "no such host"}, status=404)

        async def forbidden(request: web.Request) -> web.Response:
            return web.json_response({"error": "scope missing"}, status=403)

        async def bad(request: web.Request) -> web.Response:
            return web.json_response({"error": f"bad key {TOKEN}"}, status=400)

        async def soft(request: web.Request) -> web.Response:
            return web.json_response({"status": "error", "message": "object not present"})

        async def token(request: web.Request) -> web.Response:
            form = await request.post()
            if form.get("client_secret") != "right":
                return web.json_response({"error": "invalid_client"}, status=401)
            self.tokens_issued += 1
            issued = f"tok-{self.tokens_issued}-abcdef"
            self.valid_tokens.add(issued)
            return web.json_response({"access_token": issued, "expires_in": 1800})

        async def bearer(request: web.Request) -> web.Response:
            given = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if given not in self.valid_tokens:
                return web.json_response({"error": "expired"}, status=401)
            return web.json_response({"token": given})

        return [
            web.get("/ok", ok),
            web.get("/missing", missing),
            web.get("/forbidden", forbidden),
            web.get("/bad", bad),
            web.get("/soft-error", soft),
            web.post("/oauth2/token", token),
            web.get("/bearer", bearer),
        ]


@pytest.fixture
async def echo() -> AsyncIterator[Echo]:
    async with Echo() as vendor:
        yield vendor


def client(echo: Echo, **options: object) -> VendorHttp:
    settings = Options(base_url=echo.base_url, api_key=SecretStr(TOKEN), **options)  # type: ignore[arg-type]
    return VendorHttp("acme", settings)


async def test_an_outage_is_retried_and_the_call_lands(echo: Echo) -> None:
    echo.outage(2)
    http = client(echo)
    response = await http.request("GET", "/ok")
    assert response.json() == {"ok": True}
    assert [c.status for c in echo.calls] == [503, 503, 200]


async def test_a_short_rate_limit_is_waited_out_in_place(echo: Echo) -> None:
    echo.throttle(1, seconds=1)
    began = time.monotonic()
    await client(echo).request("GET", "/ok")
    assert time.monotonic() - began >= 1
    assert [c.status for c in echo.calls] == [429, 200]


async def test_a_long_rate_limit_becomes_a_timed_retry_of_the_activity(echo: Echo) -> None:
    echo.throttle(1, seconds=120)
    with pytest.raises(RateLimited) as limited:
        await client(echo, max_wait_seconds=5).request("GET", "/ok", what="find host")
    assert 119 <= limited.value.retry_after <= 120
    assert str(limited.value) == "acme: find host: rate limited"
    assert len(echo.calls) == 1


@pytest.mark.parametrize(
    ("path", "error", "words"),
    [
        ("/missing", TargetNotFound, "not found (404)"),
        ("/forbidden", AccessDenied, "may not do this (403)"),
        ("/bad", RequestRejected, "rejected (400)"),
    ],
)
async def test_permanent_answers_are_raised_once_without_the_secret(
    echo: Echo, path: str, error: type[IntegrationError], words: str
) -> None:
    with pytest.raises(error) as raised:
        await client(echo).request("GET", path)
    assert words in str(raised.value)
    assert TOKEN not in str(raised.value)
    assert len(echo.calls) == 1


async def test_a_missing_target_may_be_an_answer(echo: Echo) -> None:
    response = await client(echo).request("GET", "/missing", missing_ok=True)
    assert response.status_code == 404


async def test_an_error_inside_a_200_body_is_recognised(echo: Echo) -> None:
    def body_error(response: httpx.Response) -> IntegrationError | None:
        body = response.json()
        if body.get("status") == "error":
            return RequestRejected("acme", body["message"])
        return None

    http = VendorHttp(
        "acme", Options(base_url=echo.base_url, api_key=SecretStr(TOKEN)), body_error=body_error
    )
    with pytest.raises(RequestRejected, match="object not present"):
        await http.request("GET", "/soft-error")
    assert (await http.request("GET", "/ok")).status_code == 200


async def test_a_dead_endpoint_is_a_transient_error_without_the_secret() -> None:
    options = Options(
        base_url=f"http://127.0.0.1:9/?key={TOKEN}", api_key=SecretStr(TOKEN), max_retries=1
    )
    with pytest.raises(TransientError) as failed:
        await VendorHttp("acme", options).request("GET", "/ok")
    assert "could not connect" in str(failed.value)
    assert TOKEN not in str(failed.value)


async def test_a_rate_limiter_spaces_the_calls(echo: Echo) -> None:
    http = client(echo, requests_per_minute=120)
    began = time.monotonic()
    for _ in range(4):
        await http.request("GET", "/ok")
    assert len(echo.calls) == 4
    assert time.monotonic() - began >= 0.9


async def test_oauth_tokens_are_fetched_once_and_renewed_when_refused(echo: Echo) -> None:
    options = Options(base_url=echo.base_url, api_key=SecretStr(TOKEN))
    redactor = Redactor(options.secrets())
    auth = ClientCredentials(
        "acme", "/oauth2/token", {"client_id": "me", "client_secret": "right"}, redactor
    )
    http = VendorHttp("acme", options, auth=auth, redactor=redactor)
    first = (await http.request("GET", "/bearer")).json()["token"]
    assert (await http.request("GET", "/bearer")).json()["token"] == first
    assert echo.tokens_issued == 1
    echo.valid_tokens.clear()
    renewed = (await http.request("GET", "/bearer")).json()["token"]
    assert renewed != first and echo.tokens_issued == 2
    assert redactor(f"token {renewed}") == "token ***"


async def test_a_refused_client_secret_is_one_permanent_error(echo: Echo) -> None:
    options = Options(base_url=echo.base_url, api_key=SecretStr(TOKEN))
    redactor = Redactor(options.secrets())
    auth = ClientCredentials(
        "acme", "/oauth2/token", {"client_id": "me", "client_secret": "wrong"}, redactor
    )
    with pytest.raises(CredentialsRejected, match="client id or secret was refused"):
        await VendorHttp("acme", options, auth=auth).request("GET", "/bearer")
    assert echo.count("GET", "/bearer") == 0


def test_each_form_of_wait_signal_reads_as_seconds() -> None:
    now = 1_800_000_000.0
    assert seconds_until("7", now=now) == 7
    assert seconds_until(str(int(now) + 30), now=now) == 30
    assert seconds_until("2027-01-15T08:00:30Z", now=1_800_000_000.0) is not None
    assert seconds_until("Fri, 15 Jan 2027 08:00:30 GMT", now=now) is not None
    iso = seconds_until("2027-01-15T08:00:30+00:00", now=1_800_000_000.0)
    http_date = seconds_until("Fri, 15 Jan 2027 08:00:30 GMT", now=1_800_000_000.0)
    assert iso == http_date
    assert seconds_until("soon", now=now) is None
    assert seconds_until(str(int(now) - 30), now=now) == 0
