"""Delivering alerts to their cases (`soar.ingest.delivery`) on the real Temporal dev
server and a real store: one signal per case per batch, alerts in the order they came,
bounded signals, and what a crash between recording and signalling leaves behind
delivered again."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client

from soar.alerts.models import Alert, Observable, ObservableRole, ObservableType
from soar.cases.contract import MAX_ALERTS_PER_SIGNAL, PAYLOAD_BYTES, alert_chunks
from soar.ingest.forwarder import Forwarder
from soar.ingest.spool import Spool
from soar.runtime.services import build_delivery
from soar.runtime.worker import build_worker
from soar.settings import Settings, TemporalSettings
from soar.store.db import Store
from tests.conftest import make_settings, unique, unique_address, wait_for
from tests.ingest.support import attached_signals
from tests.store import factories


def quiet(tmp_path: Path) -> Settings:
    """A task queue of the test's own: no worker runs the cases unless the test starts one."""
    return make_settings(
        tmp_path, temporal=TemporalSettings(task_queue=f"deliver-{unique()}", rpc_timeout_seconds=5)
    )


def about(attacker: str, n: int, **fields: object) -> Alert:
    source = Observable(type=ObservableType.IP, value=attacker, role=ObservableRole.SOURCE)
    return factories.alert(f"{attacker}-{n}-{unique()}", observables=[source], **fields)


async def test_a_batch_signals_each_case_once_with_its_alerts_in_order(
    temporal_client: Client, store: Store, tmp_path: Path
) -> None:
    delivery = build_delivery(temporal_client, quiet(tmp_path), store)
    one, two = unique_address(), unique_address()
    batch = [about(one if n % 2 else two, n) for n in range(8)]

    delivered = await delivery.deliver(batch + batch[:2])

    assert (delivered.duplicates, delivered.failed) == ({batch[0].id, batch[1].id}, [])
    for attacker in (one, two):
        case = delivery.workflow_of(about(attacker, 0))
        sent = [a.id for a in batch if a.observables[0].value == attacker]
        assert await attached_signals(temporal_client, case) == [sent]
    again = await delivery.deliver(batch)
    assert again.duplicates == {a.id for a in batch}
    case = delivery.workflow_of(batch[0])
    assert len(await attached_signals(temporal_client, case)) == 2, (
        "on no case yet (no worker runs): delivered again, for the case to take once"
    )


async def test_a_big_batch_for_one_case_goes_in_bounded_signals_in_order(
    temporal_client: Client, store: Store, tmp_path: Path
) -> None:
    delivery = build_delivery(temporal_client, quiet(tmp_path), store)
    attacker = unique_address()
    batch = [about(attacker, n) for n in range(MAX_ALERTS_PER_SIGNAL * 2 + 5)]

    assert (await delivery.deliver(batch)).failed == []

    signals = await attached_signals(temporal_client, delivery.workflow_of(batch[0]))
    assert [len(s) for s in signals] == [MAX_ALERTS_PER_SIGNAL, MAX_ALERTS_PER_SIGNAL, 5]
    assert [alert_id for s in signals for alert_id in s] == [a.id for a in batch]


def test_payloads_are_cut_by_count_and_by_size() -> None:
    attacker = unique_address()
    small = [about(attacker, n) for n in range(3)]
    big = about(attacker, 9, description="x" * PAYLOAD_BYTES)
    half = about(attacker, 8, description="y" * (PAYLOAD_BYTES // 4))

    assert alert_chunks(small) == [small]
    assert alert_chunks([*small, big, *small]) == [small, [big], small]
    assert alert_chunks([half, half, half]) == [[half], [half], [half]]
    many = [about(attacker, n) for n in range(MAX_ALERTS_PER_SIGNAL + 1)]
    assert [len(c) for c in alert_chunks(many)] == [MAX_ALERTS_PER_SIGNAL, 1]
    assert alert_chunks([]) == []
    assert [len(c) for c in alert_chunks(many, most=50)] == [50, 50, 50, 50, 1]


async def test_an_alert_a_crash_left_on_no_case_is_delivered_again_and_taken_once(
    temporal_client: Client, store: Store, tmp_path: Path
) -> None:
    """The API recorded the alert and died before signalling its case: the forwarder's
    sweep delivers it (again and again while it is on no case: the case takes it once);
    a sender's retry afterwards is a duplicate."""
    settings = quiet(tmp_path)
    delivery = build_delivery(temporal_client, settings, store)
    left = about(unique_address(), 0)
    await store.receive_alerts([left])  # recorded; the signal never went
    spool = Spool(tmp_path / "spool.sqlite3")
    forwarder = Forwarder(
        spool, delivery, idle_seconds=0.05, redeliver_every=0.1, redeliver_after=timedelta(0)
    )
    async with build_worker(temporal_client, settings, store):
        sweeping = asyncio.create_task(forwarder.run())
        try:
            case_id = await wait_for(lambda: case_of(store, left.id))
            assert forwarder.redelivered >= 1
            assert (await delivery.deliver([left])).duplicates == {left.id}
        finally:
            sweeping.cancel()
            spool.close()
    timeline = await store.get_timeline(case_id)
    attached = [e for e in timeline if e.kind == "alert_attached"]
    assert [e.data["alert_id"] for e in attached] == [left.id]


async def case_of(store: Store, alert_id: str) -> str | None:
    return (await store.cases_of_alerts([alert_id])).get(alert_id)
