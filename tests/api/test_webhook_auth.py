"""Webhook authentication, case by case, through the real API app (in-process) with the
real Temporal dev server behind it: a per-source bearer token, HMAC signatures with and
without a timestamp, basic auth, the shared `SOAR_WEBHOOK_TOKEN` in the query string,
`auth = "none"`, and the secure default for a source nobody configured.

Every refusal is a 401 whose message says what is wrong, and neither the answer nor the
logs ever carry a configured secret or the credential the sender presented.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.worker import Worker

from soar.api.app import create_app
from soar.ingest import auth
from soar.runtime.services import build_services
from soar.settings import SourceAuth, SourceSettings
from soar.store.db import Store
from tests.conftest import SAMPLES, make_settings, unique

SHARED = "shared-webhook-secret-0"
BEARER = "edr-bearer-secret-1"
HMAC_SECRET = "grafana-hmac-secret-2"
STAMPED_SECRET = "grafana-stamped-secret-3"
PASSWORD = "graylog-password-4"
WRONG = "presented-wrong-value-5"
SECRETS = (SHARED, BEARER, HMAC_SECRET, STAMPED_SECRET, PASSWORD)
SIGNATURE = "X-Grafana-Alerting-Signature"
TIMESTAMP = "X-Grafana-Alerting-Signature-Timestamp"
JSON = {"Content-Type": "application/json"}

ApiFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def sources() -> dict[str, SourceSettings]:
    """One source per scheme under test, plus one configured without any auth."""
    return {
        "edr": SourceSettings(
            parser="generic", auth=SourceAuth(type="bearer", token=SecretStr(BEARER))
        ),
        "grafana": SourceSettings(auth=SourceAuth(type="hmac", secret=SecretStr(HMAC_SECRET))),
        "grafana-stamped": SourceSettings(
            parser="grafana",
            auth=SourceAuth(
                type="hmac", secret=SecretStr(STAMPED_SECRET), timestamp_header=TIMESTAMP
            ),
        ),
        "graylog": SourceSettings(
            auth=SourceAuth(type="basic", username="graylog", password=SecretStr(PASSWORD))
        ),
        "open": SourceSettings(parser="generic", auth="none"),
        "unguarded": SourceSettings(parser="generic"),
    }


@pytest.fixture
def make_api(temporal_client: Client, store: Store, worker: Worker, tmp_path: Path) -> ApiFactory:
    """The API app with the sources above, with or without a shared webhook token."""

    @asynccontextmanager
    async def build(shared: str | None = SHARED) -> AsyncIterator[httpx.AsyncClient]:
        settings = make_settings(
            tmp_path / unique(),
            webhook_token=SecretStr(shared) if shared else None,
            sources=sources(),
        )
        services = build_services(temporal_client, settings, store)
        transport = httpx.ASGITransport(app=create_app(services))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://soar.test") as api:
                yield api
        finally:
            services.spool.close()

    return build


def generic() -> bytes:
    return json.dumps({"id": f"auth-{unique()}", "title": "EDR hit", "severity": "high"}).encode()


def grafana() -> bytes:
    payload = json.loads((SAMPLES / "grafana.json").read_text())
    payload["alerts"][0]["fingerprint"] = unique()
    return json.dumps(payload).encode()


def sign(secret: str, body: bytes, stamp: str | None = None) -> str:
    signed = body if stamp is None else stamp.encode() + b":" + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def accepted(answer: httpx.Response) -> None:
    assert answer.status_code == 202, answer.text
    assert len(answer.json()["accepted"]) == 1, answer.text


def refused(answer: httpx.Response, *phrases: str) -> None:
    """A 401 that says what is wrong and gives away no secret and no presented value."""
    assert answer.status_code == 401, answer.text
    body = answer.json()
    assert body["error"] == "unauthorized"
    for phrase in phrases:
        assert phrase in body["message"], body
    for secret in (*SECRETS, WRONG):
        assert secret not in answer.text


@pytest.fixture(autouse=True)
def no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Whatever a test sends, no secret may show up in a log line."""
    caplog.set_level(logging.DEBUG)
    yield
    for secret in (*SECRETS, WRONG):
        assert secret not in caplog.text


async def test_per_source_bearer_token(make_api: ApiFactory) -> None:
    async with make_api() as api:
        post = api.post
        accepted(await post("/webhooks/edr", content=generic(), headers=JSON | _bearer(BEARER)))
        refused(
            await post("/webhooks/edr", content=generic(), headers=JSON | _bearer(WRONG)),
            "wrong token",
            "Authorization: Bearer",
        )
        refused(
            await post("/webhooks/edr", content=generic(), headers=JSON),
            "missing token",
            "Authorization: Bearer",
        )
        refused(
            await post(
                "/webhooks/edr", content=generic(), headers=JSON | {"Authorization": BEARER}
            ),
            "missing token",
        )
        refused(
            await post(f"/webhooks/edr?token={BEARER}", content=generic(), headers=JSON),
            "missing token",
        )
        accepted(await post("/webhooks/edr", content=generic(), headers=JSON | _bearer(SHARED)))


async def test_hmac_signature(make_api: ApiFactory) -> None:
    async with make_api(shared=None) as api:

        async def send(headers: dict[str, str], body: bytes | None = None) -> httpx.Response:
            return await api.post(
                "/webhooks/grafana", content=body or grafana(), headers=JSON | headers
            )

        refused(await send({}), f"missing signature header {SIGNATURE}")
        body = grafana()
        accepted(await send({SIGNATURE: sign(HMAC_SECRET, body)}, body))
        body = grafana()
        accepted(await send({SIGNATURE: "sha256=" + sign(HMAC_SECRET, body)}, body))
        body = grafana()
        accepted(await send({SIGNATURE: sign(HMAC_SECRET, body).upper()}, body))
        refused(await send({SIGNATURE: sign(WRONG, body)}, body), "signature does not match")
        refused(await send({SIGNATURE: "sha256=" + "0" * 64}, body), "signature does not match")
        refused(
            await send({SIGNATURE: sign(HMAC_SECRET, body)}, grafana()), "signature does not match"
        )
        refused(await send({SIGNATURE: ""}, body), "missing signature header")


async def test_hmac_with_timestamp(make_api: ApiFactory) -> None:
    async with make_api(shared=None) as api:

        async def send(stamp: str | None, signed_stamp: str | None = None) -> httpx.Response:
            body = grafana()
            headers = JSON | {SIGNATURE: sign(STAMPED_SECRET, body, signed_stamp or stamp)}
            if stamp is not None:
                headers[TIMESTAMP] = stamp
            return await api.post("/webhooks/grafana-stamped", content=body, headers=headers)

        now = int(time.time())
        accepted(await send(str(now)))
        accepted(await send(str(now - 240)))
        accepted(await send(str(now * 1000)))
        refused(await send(None), f"missing timestamp header {TIMESTAMP}")
        refused(await send(str(now - 400)), "outside the allowed window")
        refused(await send(str(now + 400)), "outside the allowed window")
        refused(await send(str((now - 3600) * 1000)), "outside the allowed window")
        refused(await send("yesterday"), "not a number")
        refused(await send(str(now), signed_stamp=str(now - 1)), "signature does not match")

        body = grafana()
        unstamped = JSON | {SIGNATURE: sign(STAMPED_SECRET, body), TIMESTAMP: str(now)}
        refused(
            await api.post("/webhooks/grafana-stamped", content=body, headers=unstamped),
            "signature does not match",
        )


@pytest.mark.parametrize(
    ("offset", "fresh"), [(0, True), (-300, True), (300, True), (-301, False), (301, False)]
)
def test_timestamp_window_edges(offset: int, fresh: bool) -> None:
    """The window is 5 minutes either way, inclusive (checked with a fixed clock)."""
    now = 1_800_000_000.0
    stamp = str(int(now) + offset)
    body = b'{"alerts": []}'
    if fresh:
        verify_stamped(body, stamp, now)
    else:
        with pytest.raises(auth.AuthError, match="outside the allowed window"):
            verify_stamped(body, stamp, now)


@pytest.mark.parametrize("stamp", ["nan", "NaN", "inf", "-inf"])
def test_a_timestamp_that_is_no_time_is_refused(stamp: str) -> None:
    """Even correctly signed, `nan` and `inf` are no point in time and must be refused:
    NaN compares false to everything, so `abs(now - nan) > skew` alone let it through."""
    body = b'{"alerts": []}'
    with pytest.raises(auth.AuthError, match=f"{TIMESTAMP} is not a number"):
        verify_stamped(body, stamp, 1_800_000_000.0)


def verify_stamped(body: bytes, stamp: str, now: float) -> None:
    """Verify a delivery to the timestamped Grafana source, correctly signed for `stamp`."""
    auth.verify(
        source="grafana-stamped",
        auth=sources()["grafana-stamped"].auth_config(),
        shared_token=None,
        headers={
            SIGNATURE.lower(): sign(STAMPED_SECRET, body, stamp),
            TIMESTAMP.lower(): stamp,
        },
        query={},
        body=body,
        now=now,
    )


async def test_basic_auth(make_api: ApiFactory) -> None:
    graylog = (SAMPLES / "graylog.json").read_bytes()
    async with make_api(shared=None) as api:

        async def send(authorization: str | None) -> httpx.Response:
            headers = JSON | ({"Authorization": authorization} if authorization else {})
            return await api.post("/webhooks/graylog", content=graylog, headers=headers)

        accepted(await send(basic("graylog", PASSWORD)))
        refused(await send(basic("graylog", WRONG)), "wrong username or password")
        refused(await send(basic(WRONG, PASSWORD)), "wrong username or password")
        refused(await send(None), "expected HTTP basic authentication")
        refused(await send(f"Bearer {PASSWORD}"), "expected HTTP basic authentication")
        refused(await send("Basic %%%not-base64"), "malformed basic authentication")


async def test_shared_token_in_the_query_string(make_api: ApiFactory) -> None:
    wazuh = (SAMPLES / "wazuh.json").read_bytes()
    async with make_api() as api:
        accepted(await api.post(f"/webhooks/wazuh?token={SHARED}", content=wazuh, headers=JSON))
        refused(
            await api.post(f"/webhooks/wazuh?token={WRONG}", content=wazuh, headers=JSON),
            "missing or wrong token",
            "?token=",
        )
        refused(await api.post("/webhooks/wazuh", content=wazuh, headers=JSON), "missing or wrong")
        accepted(await api.post(f"/webhooks/edr?token={SHARED}", content=generic(), headers=JSON))
        accepted(
            await api.post(
                f"/webhooks/graylog?token={SHARED}",
                content=(SAMPLES / "graylog.json").read_bytes(),
                headers=JSON,
            )
        )


async def test_auth_none_accepts_without_credentials(make_api: ApiFactory) -> None:
    for shared in (None, SHARED):
        async with make_api(shared=shared) as api:
            accepted(await api.post("/webhooks/open", content=generic(), headers=JSON))
            accepted(
                await api.post("/webhooks/open", content=generic(), headers=JSON | _bearer(WRONG))
            )


async def test_unconfigured_source_without_shared_token_is_refused(make_api: ApiFactory) -> None:
    """Secure by default: neither a built-in source nor a configured one without `auth`
    takes anything, whatever is presented, and the answer says how to fix it."""
    wazuh = (SAMPLES / "wazuh.json").read_bytes()
    async with make_api(shared=None) as api:
        for path, body in (("/webhooks/wazuh", wazuh), ("/webhooks/unguarded", generic())):
            source = path.rsplit("/", 1)[1]
            for headers in ({}, _bearer(WRONG), _bearer(SHARED)):
                refused(
                    await api.post(path, content=body, headers=JSON | headers),
                    f"source {source!r} has no authentication configured",
                    'auth = "none"',
                )
            refused(await api.post(f"{path}?token={SHARED}", content=body, headers=JSON))


def _bearer(token: str) -> dict[str, Any]:
    return {"Authorization": f"Bearer {token}"}
