"""Temporal answering but refusing an alert's start: the alert is parked with the error,
never lost, and never holds up the alerts behind it. Against real dev servers: the
session one (which refuses an over-long workflow id), and one without the product's
search attributes (which refuses every alert start until they are registered)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from soar import search_attributes
from soar.api.app import create_app
from soar.ingest.forwarder import Forwarder
from soar.ingest.spool import Spool
from soar.ingest.submit import AlertStarter
from soar.runtime.search_attribute_setup import (
    ensure_search_attributes,
    missing_search_attributes,
)
from soar.runtime.services import build_services
from soar.runtime.temporal_client import connect
from soar.settings import TemporalSettings
from soar.store.db import Store
from tests.bare_temporal import address, bare_temporal
from tests.conftest import bearer, free_port, make_settings, unique
from tests.store import factories

NO_MAPPING = "INVALID_ARGUMENT: Namespace default has no mapping defined for search attribute"


def starter(client: Client) -> AlertStarter:
    """Starts on a task queue no worker polls: the workflows only need to exist."""
    return AlertStarter(
        client,
        task_queue=f"refusals-{unique()}",
        resolve_window_seconds=60,
        rpc_timeout_seconds=5,
    )


async def assert_started(client: Client, workflow_ids: list[str]) -> None:
    for workflow_id in workflow_ids:
        await client.get_workflow_handle(workflow_id).describe()


def webhook_alert() -> dict[str, str]:
    return {"id": f"edr-{unique()}", "title": "Beacon to a known C2", "severity": "high"}


async def test_a_refused_entry_is_parked_and_the_ones_behind_it_are_forwarded(
    temporal_client: Client, tmp_path: Path
) -> None:
    run = unique()
    refused = factories.alert(run).model_copy(update={"id": f"{run}-{'x' * 1100}"})
    behind = [factories.alert(f"{run}-{n}") for n in range(3)]
    spool = Spool(tmp_path / "spool.sqlite3")
    await spool.put_many([refused, *behind])
    forwarder = Forwarder(spool, starter(temporal_client))

    assert await forwarder.drain_once() == 3
    assert (spool.depth, spool.count_parked(), forwarder.parked) == (0, 1, 1)
    (parked,) = await spool.parked()
    assert parked.alert == refused
    assert parked.error.startswith("INVALID_ARGUMENT: WorkflowId exceeds maximum allowed length")
    await assert_started(temporal_client, [a.workflow_id for a in behind])
    spool.close()


async def test_an_unreachable_temporal_is_waited_for_not_parked(tmp_path: Path) -> None:
    client = await connect(TemporalSettings(address=f"127.0.0.1:{free_port()}"), lazy=True)
    spool = Spool(tmp_path / "spool.sqlite3")
    await spool.put_many([factories.alert(unique()), factories.alert(unique())])
    forwarder = Forwarder(spool, starter(client))

    with pytest.raises(RuntimeError):
        await forwarder.drain_once()
    assert (spool.depth, spool.count_parked(), forwarder.parked) == (2, 0, 0)
    assert [entry.attempts for entry in await spool.head()] == [1, 0]
    spool.close()


async def test_a_cluster_without_our_search_attributes_parks_then_delivers_after_setup(
    tmp_path: Path, store: Store
) -> None:
    async with bare_temporal() as bare:
        settings = make_settings(
            tmp_path,
            temporal=TemporalSettings(
                address=address(bare), task_queue=f"bare-{unique()}", rpc_timeout_seconds=2.0
            ),
        )
        services = build_services(bare.client, settings, store)
        spool = services.spool
        transport = httpx.ASGITransport(app=create_app(services))
        api = httpx.AsyncClient(transport=transport, base_url="http://soar.test")
        try:
            spooled = [factories.alert(unique()), factories.alert(unique())]
            await spool.put_many(spooled)
            forwarder = Forwarder(spool, services.submitter.starter)
            assert await forwarder.drain_once() == 0
            assert (spool.depth, spool.count_parked()) == (0, 2)

            answer = await api.post("/webhooks/generic", json=webhook_alert(), headers=bearer())
            assert answer.status_code == 202
            accepted = answer.json()["accepted"][0]
            assert accepted["queued"] is True
            assert (spool.depth, spool.count_parked()) == (0, 3)
            assert all(p.error.startswith(NO_MAPPING) for p in await spool.parked())
            ready = await api.get("/readyz")
            assert ready.status_code == 200
            assert ready.json() == {"temporal": "reachable", "spool_depth": 0, "parked": 3}

            assert await missing_search_attributes(bare.client) == list(search_attributes.ALL)
            registration = await ensure_search_attributes(bare.client)
            assert registration.added == tuple(key.name for key in search_attributes.ALL)
            assert (registration.missing, registration.error) == ((), None)
            assert await missing_search_attributes(bare.client) == []
            assert (await ensure_search_attributes(bare.client)).added == ()

            assert await spool.retry_parked() == 3
            assert await forwarder.drain_once() == 3
            assert (spool.depth, spool.count_parked()) == (0, 0)
            await assert_started(
                bare.client, [a.workflow_id for a in spooled] + [accepted["workflow_id"]]
            )
            fresh = await api.post("/webhooks/generic", json=webhook_alert(), headers=bearer())
            assert fresh.json()["accepted"][0]["queued"] is False
        finally:
            await api.aclose()
            spool.close()
