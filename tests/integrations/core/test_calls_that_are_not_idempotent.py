"""`VendorHttp` with `idempotent=False` against a real server on loopback: a call that
may have taken effect — it timed out waiting for the answer, or the vendor answered a
5xx — is raised at once instead of sent again (so a ticket is never created twice by
the client's own retry), while one that cannot have — a 429, a refused connection — is
retried as any call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from integrations.core.http import VendorHttp
from integrations.core.options import HttpOptions
from soar.integrations.errors import TransientError
from soar.testing.emulators.base import VendorEmulator
from tests.conftest import free_port


class Creator(VendorEmulator):
    """`POST /things` creates a thing each time it is carried out."""

    def __init__(self) -> None:
        super().__init__()
        self.created = 0

    def routes(self) -> list[web.RouteDef]:
        async def create(request: web.Request) -> web.Response:
            self.created += 1
            return web.json_response({"id": self.created}, status=201)

        return [web.post("/things", create)]


@pytest.fixture
async def vendor() -> AsyncIterator[Creator]:
    async with Creator() as creator:
        yield creator


def http(base_url: str) -> VendorHttp:
    options = HttpOptions(base_url=base_url, timeout_seconds=0.3, max_wait_seconds=5)
    return VendorHttp("vendor", options)


async def answer_late(vendor: Creator) -> None:
    """Hold the next create's answer past the client's timeout, then let it go."""
    vendor.hold("POST", "/things")
    await asyncio.wait_for(vendor.holding.wait(), 10)
    await asyncio.sleep(0.5)
    vendor.release()


@pytest.mark.parametrize(("idempotent", "created"), [(False, 1), (True, 2)])
async def test_a_timeout_after_sending_is_not_sent_again_unless_idempotent(
    vendor: Creator, idempotent: bool, created: int
) -> None:
    client = http(vendor.base_url)
    late = asyncio.create_task(answer_late(vendor))
    try:
        if idempotent:
            response = await client.request("POST", "/things", idempotent=True)
            assert response.status_code == 201
        else:
            with pytest.raises(TransientError, match="vendor: POST /things timed out"):
                await client.request("POST", "/things", idempotent=False)
        await late
    finally:
        await client.aclose()
    assert vendor.created == created


async def test_a_5xx_is_raised_at_once(vendor: Creator) -> None:
    client = http(vendor.base_url)
    vendor.outage(1)
    try:
        with pytest.raises(TransientError, match="503"):
            await client.request("POST", "/things", idempotent=False)
        assert (await client.request("POST", "/things", idempotent=False)).status_code == 201
    finally:
        await client.aclose()
    assert [c.status for c in vendor.calls] == [503, 201]


async def test_a_429_is_waited_out_and_sent_again(vendor: Creator) -> None:
    client = http(vendor.base_url)
    vendor.throttle(1, seconds=0)
    try:
        response = await client.request("POST", "/things", idempotent=False)
    finally:
        await client.aclose()
    assert response.status_code == 201
    assert [c.status for c in vendor.calls] == [429, 201]
    assert vendor.created == 1


async def test_a_refused_connection_is_retried_since_nothing_was_sent() -> None:
    client = http(f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(TransientError, match="could not connect"):
            await client.request("POST", "/things", idempotent=False)
    finally:
        await client.aclose()
    assert client.calls == client.options.max_retries + 1
