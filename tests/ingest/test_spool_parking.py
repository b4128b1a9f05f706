"""The spool's parked table: refused alerts moved out of the way durably, listed with
their errors, and moved back in order by `retry_parked`, all surviving a reopen."""

from __future__ import annotations

from pathlib import Path

from soar.alerts.models import Alert
from soar.ingest.spool import Spool
from tests.conftest import unique
from tests.store import factories


def alerts(count: int) -> list[Alert]:
    run = unique()
    return [factories.alert(f"{run}-{n}") for n in range(count)]


async def test_a_parked_entry_leaves_the_spool_and_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    batch = alerts(3)
    spool = Spool(path)
    await spool.put_many(batch)
    head = await spool.head(3)
    await spool.record_failure(head[1].seq, "UNAVAILABLE: down")
    await spool.park(head[1].seq, "INVALID_ARGUMENT: no mapping for search attribute Source")
    assert (spool.depth, spool.count_parked()) == (2, 1)
    spool.close()

    reopened = Spool(path)
    assert (reopened.depth, reopened.count_parked()) == (2, 1)
    assert [e.alert.id for e in await reopened.head(5)] == [batch[0].id, batch[2].id]
    (parked,) = await reopened.parked()
    assert parked.alert == batch[1]
    assert parked.error == "INVALID_ARGUMENT: no mapping for search attribute Source"
    assert parked.attempts == 2
    assert parked.parked_at.tzinfo is not None
    assert await reopened.find(batch[1].id) == batch[1]
    reopened.close()


async def test_retry_puts_parked_alerts_back_behind_the_spool_in_order(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    refused, waiting = alerts(3), alerts(1)
    spool = Spool(path)
    await spool.park_many([(alert, f"PERMISSION_DENIED: {alert.id}") for alert in refused])
    await spool.put_many(waiting)
    latest = await spool.parked(2)
    assert [p.alert.id for p in latest] == [refused[2].id, refused[1].id]
    assert spool.count_parked() == 3
    spool.close()

    reopened = Spool(path)
    assert await reopened.retry_parked() == 3
    assert (reopened.depth, reopened.count_parked()) == (4, 0)
    assert await reopened.retry_parked() == 0
    reopened.close()

    again = Spool(path)
    head = await again.head(10)
    assert [e.alert.id for e in head] == [a.id for a in waiting + refused]
    assert [e.attempts for e in head] == [0, 1, 1, 1]
    again.close()
