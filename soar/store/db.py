"""The case store's connection: engine set-up, migrations and shutdown.

`Store("sqlite+aiosqlite:///.soar/soar.sqlite3")` for a single machine,
`Store("postgresql+asyncpg://user@host/db")` for production. A `Store` is a
:class:`~soar.store.repository.Repository`, so it has every read and write.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool
from sqlalchemy.schema import CreateSchema

from soar.store.migrate import upgrade_to_head
from soar.store.repository import Repository

SQLITE_PRAGMAS = {
    "journal_mode": "WAL",
    "synchronous": "NORMAL",
    "busy_timeout": "5000",
    "foreign_keys": "ON",
}
"""Applied to every SQLite connection: readers do not block the writer, a writer waits
for the lock for up to five seconds instead of failing, and foreign keys are enforced."""

MIGRATION_LOCK_KEY = 0x50A12C0DE
MIGRATE_ATTEMPTS = 5
"""PostgreSQL advisory lock held while migrating, so that several processes starting
at once (worker, API, bot) upgrade the schema one after the other."""


def _set_sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    for name, value in SQLITE_PRAGMAS.items():
        cursor.execute(f"PRAGMA {name}={value}")
    cursor.close()


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def create_store_engine(url: str | URL, *, schema: str | None = None) -> AsyncEngine:
    """An async engine for the store's database, configured for its dialect.

    SQLite: the parent directory of the file is created and the pragmas above are set
    on each connection. PostgreSQL: `schema`, when given, becomes the search path, so
    the store can live in a schema of a shared database.
    """
    url = make_url(url)
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.get_backend_name() == "sqlite":
        if schema is not None:
            raise ValueError("SQLite has no schemas; give PostgreSQL a schema, or SQLite a file")
        if _is_memory(url):
            options["poolclass"] = StaticPool
        else:
            Path(url.database or "").parent.mkdir(parents=True, exist_ok=True)
    elif schema is not None:
        options["connect_args"] = {"server_settings": {"search_path": schema}}
    engine = create_async_engine(url, **options)
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
    return engine


class Store(Repository):
    """The case store: a repository bound to its own engine, with migrations.

    Call :meth:`migrate` once at start-up and :meth:`close` at shutdown.
    """

    def __init__(self, url: str | URL, *, schema: str | None = None) -> None:
        self.engine = create_store_engine(url, schema=schema)
        self.schema = schema
        super().__init__(async_sessionmaker(self.engine, expire_on_commit=False))

    async def migrate(self) -> None:
        """Bring the schema up to the newest migration; a no-op when it is there already.

        PostgreSQL serialises concurrent migrations with an advisory lock. SQLite has no
        such lock: when two processes (`soar worker` and `soar api`) start on a new file
        at once, the loser fails on a table the winner just made, and simply tries again.
        """
        for attempt in range(MIGRATE_ATTEMPTS):
            try:
                await self._migrate_once()
                return
            except OperationalError:
                if self.engine.dialect.name != "sqlite" or attempt == MIGRATE_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.5)

    async def _migrate_once(self) -> None:
        async with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
                if self.schema is not None:
                    await connection.execute(CreateSchema(self.schema, if_not_exists=True))
            await connection.run_sync(upgrade_to_head)

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
