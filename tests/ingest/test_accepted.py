"""Read your writes: an alert the webhook accepted is readable by `GET /api/alerts/{id}`
as soon as the 202 is sent — `received` until it is triaged, then `triaged` with its
case — on the real Temporal dev server and a real store (SQLite, and PostgreSQL when
SOAR_TEST_DATABASE_URL is set).

Each test uses a task queue of its own that no worker polls until the test starts
one, so "accepted but not triaged yet" is a state the test holds, not a race it hopes
to win."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client

from soar.alerts.models import Severity, SeverityInfo, make_alert
from soar.api.app import create_app
from soar.api.deps import Services
from soar.ingest.forwarder import Forwarder
from soar.runtime.services import build_services
from soar.runtime.temporal_client import connect
from soar.runtime.worker import build_worker
from soar.settings import Settings, TemporalSettings
from soar.store.db import Store
from tests.conftest import API_TOKEN, bearer, free_port, make_settings, unique, wait_for
from tests.store import conftest as stores

empty_store = stores.empty_store
"""A fresh store per test: SQLite, and PostgreSQL when SOAR_TEST_DATABASE_URL is set."""
store = stores.store

OPERATOR = {"Authorization": f"Bearer {API_TOKEN}"}


def quiet_settings(data_dir: Path) -> Settings:
    """Settings on a task queue of the test's own, which no worker polls yet."""
    return make_settings(
        data_dir, temporal=TemporalSettings(task_queue=f"ryw-{unique()}", rpc_timeout_seconds=2.0)
    )


@asynccontextmanager
async def api_for(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://soar.test") as api:
            yield api
    finally:
        services.spool.close()


def payload(**extra: Any) -> dict[str, Any]:
    """An alert about a host of its own: case workflow ids are global to the Temporal
    server, so an entity another test used would join that test's case."""
    return {
        "id": f"ryw-{unique()}",
        "title": "Outbound connection to known C2",
        "severity": "high",
        "host": f"ws-{unique()}",
    } | extra


async def test_an_accepted_alert_is_received_at_once_then_triaged_on_its_case(
    temporal_client: Client, store: Store, tmp_path: Path
) -> None:
    settings = quiet_settings(tmp_path)
    async with api_for(build_services(temporal_client, settings, store)) as api:
        sent = payload()
        answer = await api.post("/webhooks/generic", json=sent, headers=bearer())
        assert answer.status_code == 202
        [accepted] = answer.json()["accepted"]
        assert accepted["queued"] is False and accepted["duplicate"] is False

        first = await api.get(f"/api/alerts/{accepted['alert_id']}", headers=OPERATOR)

        assert first.status_code == 200
        body = first.json()
        assert (body["id"], body["state"], body["case_id"], body["triage"]) == (
            accepted["alert_id"],
            "received",
            None,
            None,
        )
        assert body["title"] == sent["title"] and body["severity"]["level"] == "high"
        assert {"type": "hostname", "value": sent["host"], "role": "host"} in body["observables"]
        detail = await store.get_alert_detail(accepted["alert_id"])
        assert detail is not None and detail.case_id is None, "recorded before the 202, on no case"

        again = await api.post("/webhooks/generic", json=sent, headers=bearer())
        assert again.json()["accepted"][0]["duplicate"] is True, "exactly once, as before"

        async with build_worker(temporal_client, settings, store):

            async def triaged() -> dict[str, Any] | None:
                read = await api.get(f"/api/alerts/{accepted['alert_id']}", headers=OPERATOR)
                assert read.status_code == 200, read.text
                return read.json() if read.json()["state"] == "triaged" else None

            done = await wait_for(triaged)

        assert done["case_id"] and done["triage"]["verdict"]
        case = await store.get_case_detail(done["case_id"])
        assert case is not None and accepted["alert_id"] in case.alert_ids
        runs = [
            r
            async for r in temporal_client.list_workflows(
                f"WorkflowId = '{accepted['workflow_id']}'"
            )
        ]
        assert len(runs) == 1, "the answer names its case's workflow, started once"


async def test_another_api_process_reads_what_this_one_accepted(
    temporal_client: Client, store: Store, tmp_path: Path
) -> None:
    settings = quiet_settings(tmp_path / "a")
    other = settings.model_copy(update={"data_dir": tmp_path / "b"})
    taking = api_for(build_services(temporal_client, settings, store))
    reading = api_for(build_services(temporal_client, other, store))
    async with taking as api_a, reading as api_b:
        answer = await api_a.post("/webhooks/generic", json=payload(), headers=bearer())
        [accepted] = answer.json()["accepted"]

        read = await api_b.get(f"/api/alerts/{accepted['alert_id']}", headers=OPERATOR)

    assert read.status_code == 200 and read.json()["state"] == "received"


async def test_a_spooled_alert_reads_the_same_before_and_after_the_forwarder_prunes_it(
    temporal_client: Client, store: Store, tmp_path: Path
) -> None:
    services = build_services(temporal_client, quiet_settings(tmp_path), store)
    alert = make_alert(
        source="generic",
        native_key=f"spooled-{unique()}",
        title="Spooled while Temporal was away",
        severity=SeverityInfo(level=Severity.MEDIUM),
        time=None,
    )
    await services.spool.put_many([alert])
    async with api_for(services) as api:
        spooled = await api.get(f"/api/alerts/{alert.id}", headers=OPERATOR)

        forwarded = await Forwarder(services.spool, services.submitter.delivery).drain_once()
        assert forwarded == 1 and services.spool.refresh_depth() == 0
        assert await services.spool.find(alert.id) is None
        pruned = await api.get(f"/api/alerts/{alert.id}", headers=OPERATOR)

    for read in (spooled, pruned):
        assert read.status_code == 200
        assert (read.json()["title"], read.json()["state"]) == (alert.title, "received")


async def test_an_unknown_alert_is_404_even_while_temporal_is_away(
    temporal_client: Client, store: Store, tmp_path: Path
) -> None:
    async with api_for(build_services(temporal_client, quiet_settings(tmp_path), store)) as api:
        unknown = await api.get("/api/alerts/generic-0123456789abcdef01234567", headers=OPERATOR)
        too_long = await api.get(f"/api/alerts/generic-{'f' * 400}", headers=OPERATOR)
    assert unknown.status_code == 404 and "generic-0123456789abcdef01234567" in unknown.text
    assert too_long.status_code == 404

    away = await connect(TemporalSettings(port=free_port(), rpc_timeout_seconds=0.5), lazy=True)
    services = build_services(away, quiet_settings(tmp_path / "away"), store)
    queued = make_alert(
        source="generic",
        native_key=f"queued-{unique()}",
        title="Queued while Temporal is away",
        severity=SeverityInfo(level=Severity.LOW),
        time=None,
    )
    await services.spool.put_many([queued])
    async with api_for(services) as api:
        held = await api.get(f"/api/alerts/{queued.id}", headers=OPERATOR)
        unknown_then = await api.get(
            "/api/alerts/generic-0123456789abcdef01234567", headers=OPERATOR
        )

    assert held.status_code == 200 and held.json()["state"] == "received"
    assert unknown_then.status_code == 404, "the store and the spool say, not Temporal"
