"""The intake's pressure gauge: busy from BUSY_AT deliveries at once, quiet again only
after a pause, and driven by the submitter around the real workflow starts."""

from __future__ import annotations

import asyncio

from soar.api.deps import Services
from soar.ingest.pressure import BUSY_AT, IngestPressure
from tests.conftest import unique
from tests.store import factories


async def hold(pressure: IngestPressure, release: asyncio.Event) -> None:
    with pressure.delivery():
        await release.wait()


async def test_busy_from_the_threshold_and_quiet_after_a_pause() -> None:
    changes: list[bool] = []
    pressure = IngestPressure(changes.append, busy_at=3, quiet_seconds=0.05)
    release = asyncio.Event()
    held = [asyncio.create_task(hold(pressure, release)) for _ in range(2)]
    await asyncio.sleep(0)
    assert (changes, pressure.busy) == ([], False)
    held.append(asyncio.create_task(hold(pressure, release)))
    await asyncio.sleep(0)
    assert (changes, pressure.busy) == ([True], True)
    release.set()
    await asyncio.gather(*held)
    assert changes == [True], "still busy until the quiet pause has passed"
    await asyncio.sleep(0.15)
    assert (changes, pressure.busy) == ([True, False], False)


async def test_a_delivery_during_the_pause_keeps_it_busy() -> None:
    changes: list[bool] = []
    pressure = IngestPressure(changes.append, busy_at=1, quiet_seconds=0.1)
    with pressure.delivery():
        pass
    await asyncio.sleep(0.05)
    with pressure.delivery():
        pass
    await asyncio.sleep(0.07)
    assert changes == [True], "the second delivery restarted the pause"
    await asyncio.sleep(0.1)
    assert changes == [True, False]


async def test_a_failing_listener_does_not_fail_the_delivery() -> None:
    def broken(_busy: bool) -> None:
        raise ProcessLookupError("worker gone")

    pressure = IngestPressure(broken, busy_at=1, quiet_seconds=0.01)
    with pressure.delivery():
        assert pressure.busy
    await asyncio.sleep(0.05)
    assert not pressure.busy


def test_the_default_threshold_means_queueing() -> None:
    assert BUSY_AT > 1, "a single SIEM posting one delivery at a time never makes it yield"


async def test_the_submitter_counts_its_deliveries(services: Services) -> None:
    changes: list[bool] = []
    services.submitter.pressure = IngestPressure(changes.append, busy_at=1, quiet_seconds=0.05)
    accepted = await services.submitter.submit([factories.alert(unique())])
    assert accepted[0].queued is False
    assert changes == [True]
    await asyncio.sleep(0.15)
    assert changes == [True, False]
