"""Engine set-up: SQLite pragmas, in-memory databases, and concurrent writers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from soar.alerts.models import Observable, ObservableRole, ObservableType
from soar.store.db import Store

from . import factories


async def test_sqlite_connections_use_wal_a_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'dir' / 'store.sqlite3'}")
    try:
        async with store.engine.connect() as connection:
            pragmas = {
                name: (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys")
            }
        assert pragmas == {"journal_mode": "wal", "busy_timeout": 5000, "foreign_keys": 1}
    finally:
        await store.close()


async def test_an_in_memory_sqlite_store_keeps_its_data_between_sessions() -> None:
    store = Store("sqlite+aiosqlite:///:memory:")
    try:
        await store.migrate()
        await store.upsert_case(factories.case())
        assert [c.id for c in await store.list_cases()] == ["case-1"]
    finally:
        await store.close()


def test_sqlite_has_no_schemas(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no schemas"):
        Store(f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}", schema="soar")


async def test_concurrent_writers_of_the_same_rows_neither_fail_nor_duplicate(
    store: Store,
) -> None:
    observables = [
        Observable(type=ObservableType.IP, value=f"203.0.113.{n}", role=ObservableRole.SOURCE)
        for n in range(8)
    ]
    writes = []
    for n in range(24):
        ordered = observables[n % 8 :] + observables[: n % 8]
        writes.append(store.upsert_case(factories.case(observables=ordered)))
        writes.append(store.upsert_alert(factories.alert(f"a{n % 6}"), case_id="case-1"))
        writes.append(store.add_timeline_event(factories.event(f"e{n % 4}")))
    await asyncio.gather(*writes)

    detail = await store.get_case_detail("case-1")
    assert detail is not None
    assert len(detail.observables) == 8
    assert len(detail.alerts) == 6
    assert [e.id for e in detail.timeline] == ["e0", "e1", "e2", "e3"]
