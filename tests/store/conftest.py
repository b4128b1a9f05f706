"""A fresh, migrated store per test: on SQLite always, on PostgreSQL when
`SOAR_TEST_DATABASE_URL` is set (each test gets its own schema, dropped afterwards, so
reruns and concurrent runs against the same database never see each other's rows)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.schema import DropSchema

from soar.store.db import Store

POSTGRES_URL_VARIABLE = "SOAR_TEST_DATABASE_URL"


async def _drop_schema(store: Store, schema: str) -> None:
    async with store.engine.begin() as connection:
        await connection.execute(DropSchema(schema, cascade=True, if_exists=True))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A store on an empty database, not migrated yet."""
    if request.param == "sqlite":
        store = Store(f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}")
        yield store
        await store.close()
        return
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is unset: no PostgreSQL to test against")
    schema = f"soar_test_{uuid.uuid4().hex[:16]}"
    store = Store(url, schema=schema)
    try:
        yield store
    finally:
        await _drop_schema(store, schema)
        await store.close()


@pytest.fixture
async def store(empty_store: Store) -> Store:
    """A migrated store."""
    await empty_store.migrate()
    return empty_store
