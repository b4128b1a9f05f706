"""Temporal answering but refusing an alert's delivery: the alert is parked with the
error, never lost, and never holds up the alerts behind it. Against real dev servers:
the session one (which refuses a signal over its payload limit), and one without the
product's search attributes (which takes alerts at once: the intake sets none)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from soar import search_attributes
from soar.alerts.models import Observable, ObservableRole, ObservableType
from soar.api.app import create_app
from soar.ingest.delivery import AlertDelivery
from soar.ingest.forwarder import Forwarder
from soar.ingest.spool import Spool
from soar.runtime.search_attribute_setup import (
    ensure_search_attributes,
    missing_search_attributes,
)
from soar.runtime.services import build_delivery, build_services
from soar.runtime.temporal_client import connect
from soar.runtime.worker import build_worker
from soar.settings import TemporalSettings
from soar.store.db import Store
from tests.bare_temporal import address, bare_temporal
from tests.conftest import bearer, free_port, make_settings, unique, unique_address, wait_for
from tests.ingest.support import attached_signals
from tests.store import factories


def delivery(client: Client, store: Store, tmp_path: Path) -> AlertDelivery:
    """Delivers on a task queue no worker polls: the case workflows only need to exist."""
    settings = make_settings(
        tmp_path,
        temporal=TemporalSettings(task_queue=f"refusals-{unique()}", rpc_timeout_seconds=5),
    )
    return build_delivery(client, settings, store)


async def assert_started(client: Client, workflow_ids: list[str]) -> None:
    for workflow_id in workflow_ids:
        await client.get_workflow_handle(workflow_id).describe()


def webhook_alert() -> dict[str, str]:
    return {"id": f"edr-{unique()}", "title": "Beacon to a known C2", "severity": "high"}


async def test_a_refused_entry_is_parked_and_the_ones_behind_it_are_forwarded(
    temporal_client: Client, store: Store, tmp_path: Path
) -> None:
    """An alert over Temporal's payload limit on its own (3 MB of description) is
    refused; the alerts of the same case behind it still reach the case, in order."""
    run = unique()
    source = unique_address()
    observables = [Observable(type=ObservableType.IP, value=source, role=ObservableRole.SOURCE)]
    refused = factories.alert(run, observables=observables, description="x" * 3_000_000)
    behind = [factories.alert(f"{run}-{n}", observables=observables) for n in range(3)]
    spool = Spool(tmp_path / "spool.sqlite3")
    await spool.put_many([refused, *behind])
    deliveries = delivery(temporal_client, store, tmp_path)
    forwarder = Forwarder(spool, deliveries)

    assert await forwarder.drain_once() == 3
    assert (spool.depth, spool.count_parked(), forwarder.parked) == (0, 1, 1)
    (parked,) = await spool.parked()
    assert parked.alert == refused
    assert parked.error.startswith("INVALID_ARGUMENT"), parked.error
    case = deliveries.workflow_of(behind[0])
    assert deliveries.workflow_of(refused) == case
    assert await attached_signals(temporal_client, case) == [[a.id for a in behind]]
    spool.close()


async def test_an_unreachable_temporal_is_waited_for_not_parked(
    tmp_path: Path, store: Store
) -> None:
    client = await connect(TemporalSettings(address=f"127.0.0.1:{free_port()}"), lazy=True)
    spool = Spool(tmp_path / "spool.sqlite3")
    await spool.put_many([factories.alert(unique()), factories.alert(unique())])
    forwarder = Forwarder(spool, delivery(client, store, tmp_path))

    with pytest.raises(RuntimeError):
        await forwarder.drain_once()
    assert (spool.depth, spool.count_parked(), forwarder.parked) == (2, 0, 0)
    assert [entry.attempts for entry in await spool.head()] == [1, 0]
    spool.close()


async def test_a_cluster_without_our_search_attributes_takes_alerts_and_cases_catch_up(
    tmp_path: Path, store: Store
) -> None:
    """The intake sets no search attribute, so a fresh cluster takes alerts at once
    (nothing parked, no `soar spool retry`); the case workflow, which tags its case,
    fails its task until the attributes are registered, then carries on."""
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
            forwarder = Forwarder(spool, services.submitter.delivery)
            assert await forwarder.drain_once() == 2
            answer = await api.post("/webhooks/generic", json=webhook_alert(), headers=bearer())
            assert answer.status_code == 202
            accepted = answer.json()["accepted"][0]
            assert accepted["queued"] is False
            ready = await api.get("/readyz")
            assert ready.json() == {"temporal": "reachable", "spool_depth": 0, "parked": 0}
            cases = {services.submitter.delivery.workflow_of(a) for a in spooled}
            cases.add(accepted["workflow_id"])

            async with build_worker(bare.client, settings, store):
                for case in cases:
                    failure = await wait_for(lambda c=case: task_failure(bare.client, c))
                    assert "search attribute" in failure.lower(), failure
                assert await missing_search_attributes(bare.client) == list(search_attributes.ALL)
                registration = await ensure_search_attributes(bare.client)
                assert registration.added == tuple(key.name for key in search_attributes.ALL)
                assert (registration.missing, registration.error) == ((), None)
                assert (await ensure_search_attributes(bare.client)).added == ()

                ids = [a.id for a in spooled] + [accepted["alert_id"]]
                await wait_for(lambda: all_on_cases(store, ids), within=60)
        finally:
            await api.aclose()
            spool.close()


async def task_failure(client: Client, workflow_id: str) -> str | None:
    """The message of the workflow's first failed workflow task, if any yet."""
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.HasField("workflow_task_failed_event_attributes"):
            return str(event.workflow_task_failed_event_attributes.failure.message)
    return None


async def all_on_cases(store: Store, alert_ids: list[str]) -> bool:
    return all(case_id for case_id in (await store.cases_of_alerts(alert_ids)).values())
