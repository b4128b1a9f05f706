"""Temporal down: alerts are spooled on disk, answered 202 queued, and delivered to their
case exactly once, in order, when Temporal is back. Uses the product's own embedded
Temporal on a free port, with a SQLite file, so it can be stopped and started again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from soar.api.app import create_app
from soar.ingest.forwarder import Forwarder
from soar.ingest.spool import Spool
from soar.runtime.services import build_services
from soar.runtime.temporal_client import connect
from soar.runtime.temporal_server import EmbeddedTemporal
from soar.runtime.worker import build_worker
from soar.settings import Settings, TemporalSettings
from soar.store.db import Store
from tests.conftest import bearer, free_port, make_settings, unique, wait_for
from tests.ingest.support import attached_signals


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


async def test_alerts_survive_an_outage_and_reach_their_case_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Temporal goes down while the worker records the first alert's batch, so that
    activity's completion is lost: the case still takes every alert, once, in order."""
    port = free_port()
    server = EmbeddedTemporal(db_file=tmp_path / "temporal.sqlite3", port=port, ui_port=None)
    settings = make_settings(
        tmp_path,
        temporal=TemporalSettings(port=port, task_queue="outage", rpc_timeout_seconds=1.0),
    )
    store = Store(settings.resolved_database_url())
    await store.migrate()
    held, release = asyncio.Event(), asyncio.Event()
    record = store.record_case_changes

    async def held_once(*args: Any, **kw: Any) -> Any:
        if not held.is_set():
            held.set()
            await release.wait()
        return await record(*args, **kw)

    monkeypatch.setattr(store, "record_case_changes", held_once)
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

            await asyncio.wait_for(held.wait(), 30)
            await server.stop()
            release.set()
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
            forwarder = Forwarder(services.spool, services.submitter.delivery, idle_seconds=0.1)
            task = asyncio.create_task(forwarder.run())
            # Counted once its entry is removed: wait for the count, not the empty spool,
            # or the last removal can be seen before the forwarder has counted it.
            for _ in range(300):
                if forwarder.forwarded >= len(payloads) - 1:
                    break
                await asyncio.sleep(0.1)
            task.cancel()
            assert forwarder.forwarded == len(payloads) - 1
            assert services.spool.refresh_depth() == 0

            ids = [a["alert_id"] for a in queued]
            on_cases = await wait_for(lambda: attached_everywhere(store, ids))
            assert len(set(on_cases.values())) == 1, "one attacker, one case"
            [case_id] = set(on_cases.values())
            attached = [
                e.data["alert_id"]
                for e in await store.get_timeline(case_id)
                if e.kind == "alert_attached"
            ]
            assert sorted(attached) == sorted([before.json()["accepted"][0]["alert_id"], *ids])
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
    await reopened.remove_many([head[0].seq])
    assert reopened.depth == 4
    assert json.loads((await reopened.head(1))[0].alert.model_dump_json())["title"] == "Alert 1"
    reopened.close()


async def attached_everywhere(store: Store, alert_ids: list[str]) -> dict[str, str] | None:
    """Each alert's case, once every one of them is on a case."""
    cases = await store.cases_of_alerts(alert_ids)
    if len(cases) < len(alert_ids) or not all(cases.values()):
        return None
    return {alert_id: str(case_id) for alert_id, case_id in cases.items()}


class ApiProcess:
    """What one `soar api` process holds, built the way `soar.runtime.stack` builds it: a
    lazy Temporal client, the services on the spool file, the app, and the forwarder
    running as a task. `close` drops all of it, as a process exit would."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store

    async def open(self) -> ApiProcess:
        self.client = await connect(self.settings.temporal, lazy=True)
        self.services = build_services(self.client, self.settings, self.store)
        transport = httpx.ASGITransport(app=create_app(self.services))
        self.http = httpx.AsyncClient(transport=transport, base_url="http://soar.test")
        self.forwarder = Forwarder(
            self.services.spool, self.services.submitter.delivery, idle_seconds=0.1, max_backoff=1
        )
        self.task = asyncio.create_task(self.forwarder.run())
        return self

    async def post(self, body: dict[str, object]) -> dict[str, object]:
        """POST one alert to the generic webhook; its `accepted` entry."""
        answer = await self.http.post("/webhooks/generic", json=body, headers=bearer())
        assert answer.status_code == 202, answer.text
        (accepted,) = answer.json()["accepted"]
        return accepted

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.http.aclose()
        self.services.spool.close()


async def until(predicate: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    """Poll `predicate` until it holds; fail naming `what` after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def test_outage_and_restart_with_a_full_spool_deliver_each_alert_once_in_order(
    tmp_path: Path,
) -> None:
    """The forwarder runs before Temporal goes down and keeps trying the oldest entry
    while it is down, losing and reordering nothing; the API process is then closed and
    built again on the same spool with Temporal still down, and alerts posted after the
    restart queue behind the old ones. When Temporal is back, their case workflow is
    signalled with each alert once, in spool order (no worker runs: the history shows
    what the intake sent)."""
    port = free_port()
    server = EmbeddedTemporal(db_file=tmp_path / "temporal.sqlite3", port=port, ui_port=None)
    queue = f"outage-order-{unique()}"
    settings = make_settings(
        tmp_path, temporal=TemporalSettings(port=port, task_queue=queue, rpc_timeout_seconds=1.0)
    )
    store = Store(settings.resolved_database_url())
    await store.migrate()
    await server.start()
    payloads = alerts(12)
    first: ApiProcess | None = None
    second: ApiProcess | None = None
    try:
        first = await ApiProcess(settings, store).open()
        before = await first.post(payloads[0])
        assert (before["queued"], before["duplicate"]) == (False, False)

        await server.stop()
        queued = [await first.post(body) for body in payloads[1:8]]
        assert all(a["queued"] for a in queued), queued
        spool = first.services.spool

        async def head_tried(times: int) -> bool:
            head = await spool.head(1)
            return bool(head) and head[0].attempts >= times

        await until(lambda: head_tried(1), 30, "the forwarder to try the oldest entry")
        assert [e.alert.id for e in await spool.head(100)] == [a["alert_id"] for a in queued]
        assert first.forwarder.forwarded == first.forwarder.parked == 0
        assert not first.task.done()
        await first.close()

        second = await ApiProcess(settings, store).open()
        spool = second.services.spool
        assert spool.depth == len(queued)
        after_restart = [await second.post(body) for body in payloads[8:]]
        assert all(a["queued"] for a in after_restart), after_restart
        queued += after_restart
        await until(lambda: head_tried(2), 30, "the restarted forwarder to try again")
        assert [e.alert.id for e in await spool.head(100)] == [a["alert_id"] for a in queued]
        assert spool.count_parked() == 0

        await server.start()

        async def drained() -> bool:
            # The forwarder counts an entry right after removing it from the spool.
            return spool.refresh_depth() == 0 and second.forwarder.forwarded >= len(queued)

        await until(drained, 30, "the spool to drain")
        assert second.forwarder.forwarded == len(queued)
        assert second.forwarder.parked == spool.count_parked() == 0

        [case] = {a["workflow_id"] for a in [before, *queued]}
        signals = await attached_signals(second.client, case)
        sent = [alert_id for signal in signals for alert_id in signal]
        assert sent == [a["alert_id"] for a in [before, *queued]], "each once, in spool order"

        again = await second.post(payloads[3])
        assert (again["workflow_id"], again["duplicate"], again["queued"]) == (
            queued[2]["workflow_id"],
            True,
            False,
        )
    finally:
        for process in (first, second):
            if process is not None and not process.task.done():
                await process.close()
        await server.stop()
        await store.close()
