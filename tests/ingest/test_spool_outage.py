"""Temporal down: alerts are spooled on disk, answered 202 queued, and forwarded exactly
once when Temporal is back. Uses the product's own embedded Temporal on a free port, with
a SQLite file, so it can be stopped and started again."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from soar.api.app import create_app
from soar.ingest.forwarder import Forwarder
from soar.ingest.spool import Spool
from soar.runtime.services import build_services
from soar.runtime.temporal_client import connect
from soar.runtime.temporal_server import EmbeddedTemporal
from soar.runtime.worker import build_worker
from soar.settings import TemporalSettings
from soar.store.db import Store
from tests.conftest import bearer, free_port, make_settings, unique


def alerts(count: int) -> list[dict[str, object]]:
    run = unique()
    return [
        {
            "id": f"outage-{run}-{n}",
            "title": f"Alert {n}",
            "severity": "high",
            "src_ip": "203.0.113.9",
        }
        for n in range(count)
    ]


async def test_alerts_survive_an_outage_and_reach_temporal_once(tmp_path: Path) -> None:
    port = free_port()
    server = EmbeddedTemporal(db_file=tmp_path / "temporal.sqlite3", port=port, ui_port=None)
    settings = make_settings(
        tmp_path,
        temporal=TemporalSettings(port=port, task_queue="outage", rpc_timeout_seconds=1.0),
    )
    store = Store(settings.resolved_database_url())
    await store.migrate()
    await server.start()
    client = await connect(settings.temporal, lazy=True)
    services = build_services(client, settings, store)
    transport = httpx.ASGITransport(app=create_app(services))
    api = httpx.AsyncClient(transport=transport, base_url="http://soar.test")
    payloads = alerts(25)
    try:
        worker = build_worker(await connect(settings.temporal), settings, store)
        async with worker:
            before = await api.post("/webhooks/generic", json=payloads[0], headers=bearer())
            assert before.json()["accepted"][0]["queued"] is False

            await server.stop()
            answers = [
                await api.post("/webhooks/generic", json=body, headers=bearer())
                for body in payloads[1:]
            ]
            assert {a.status_code for a in answers} == {202}
            queued = [a.json()["accepted"][0] for a in answers]
            assert all(a["queued"] for a in queued)
            assert services.spool.depth == len(payloads) - 1
            ready = await api.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["spool_depth"] == len(payloads) - 1
            assert (
                await api.get(
                    f"/api/alerts/{queued[3]['alert_id']}", headers=bearer("test-api-token")
                )
            ).json()["title"] == "Alert 4"

            await server.start()
            forwarder = Forwarder(services.spool, services.submitter.starter, idle_seconds=0.1)
            task = asyncio.create_task(forwarder.run())
            for _ in range(300):
                if services.spool.refresh_depth() == 0:
                    break
                await asyncio.sleep(0.1)
            task.cancel()
            assert services.spool.depth == 0
            assert forwarder.forwarded == len(payloads) - 1

            for accepted in queued:
                runs = [
                    w
                    async for w in client.list_workflows(
                        f"WorkflowId = '{accepted['workflow_id']}'"
                    )
                ]
                assert len(runs) == 1, accepted
            again = await api.post("/webhooks/generic", json=payloads[5], headers=bearer())
            assert again.json()["accepted"][0] == {
                "alert_id": queued[4]["alert_id"],
                "workflow_id": queued[4]["workflow_id"],
                "duplicate": True,
                "queued": False,
            }
    finally:
        await api.aclose()
        services.spool.close()
        await server.stop()
        await store.close()


async def test_spool_survives_a_restart_in_order(tmp_path: Path) -> None:
    from soar.ingest.parsers import get_parser
    from soar.ingest.parsers.base import ParseContext

    parser = get_parser("generic")
    assert parser is not None
    parsed = [parser(body, ParseContext(source="generic"))[0] for body in alerts(5)]
    spool = Spool(tmp_path / "spool.sqlite3")
    await spool.put_many(parsed)  # type: ignore[arg-type]
    spool.close()
    reopened = Spool(tmp_path / "spool.sqlite3")
    assert reopened.depth == 5
    head = await reopened.head(10)
    assert [entry.alert.id for entry in head] == [a.id for a in parsed]  # type: ignore[union-attr]
    await reopened.remove(head[0].seq)
    assert reopened.depth == 4
    assert json.loads((await reopened.head(1))[0].alert.model_dump_json())["title"] == "Alert 1"
    reopened.close()
