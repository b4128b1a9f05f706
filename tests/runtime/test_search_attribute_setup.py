"""Start-up against an existing cluster ensures the product's search attributes: added
when allowed, and when refused a warning names the missing ones and how to add them.
Real dev servers started without the attributes stand in for such a cluster."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

import pytest
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.common import SearchAttributeIndexedValueType

from soar import search_attributes
from soar.runtime import stack
from soar.runtime.search_attribute_setup import (
    ensure_search_attributes,
    missing_search_attributes,
)
from soar.settings import TemporalSettings
from tests.bare_temporal import address, bare_temporal
from tests.conftest import free_port, make_settings, unique

NAMES = tuple(key.name for key in search_attributes.ALL)
KEYWORD_LIMIT = 10


async def test_a_refused_registration_is_a_warning_naming_the_fix(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with bare_temporal() as bare:
        room_for_two = {
            f"Filler{n}": int(SearchAttributeIndexedValueType.KEYWORD)
            for n in range(KEYWORD_LIMIT - 2)
        }
        await bare.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace="default", search_attributes=room_for_two)
        )
        with caplog.at_level(logging.WARNING, logger="soar.runtime.search_attribute_setup"):
            registration = await ensure_search_attributes(bare.client)

        assert registration.added == NAMES[:2]
        assert registration.missing == NAMES[2:]
        assert registration.error is not None
        assert registration.error.startswith("INVALID_ARGUMENT: Unable to create search")
        assert [key.name for key in await missing_search_attributes(bare.client)] == list(NAMES[2:])
        warning = next(r.getMessage() for r in caplog.records if "could not be added" in r.message)
        assert ", ".join(NAMES[2:]) in warning
        assert (
            "temporal operator search-attribute create --namespace default --type Keyword "
            "--name Rule --name AlertStatus" in warning
        )
        assert "--search-attribute CorrelationKey=Keyword" in warning


@pytest.mark.parametrize(
    "parts",
    [
        stack.Parts(temporal=False, worker=False, api=True),
        stack.Parts(temporal=False, worker=True, api=False),
    ],
    ids=["soar api", "soar worker"],
)
async def test_start_up_against_a_cluster_registers_the_search_attributes(
    tmp_path: Path, parts: stack.Parts
) -> None:
    async with bare_temporal() as bare:
        settings = make_settings(
            tmp_path,
            api_port=free_port(),
            temporal=TemporalSettings(address=address(bare), task_queue=f"setup-{unique()}"),
        )
        stop = asyncio.Event()
        running = asyncio.create_task(stack.run(settings, parts, stop=stop))
        loop = asyncio.get_running_loop()
        try:
            for _ in range(100):
                if not await missing_search_attributes(bare.client) or running.done():
                    break
                await asyncio.sleep(0.1)
            assert await missing_search_attributes(bare.client) == []
        finally:
            stop.set()
            await running
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
