"""Migrations build the schema from nothing, are safe to run again, and match the models."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from soar.store.db import Store
from soar.store.migrate import alembic_config
from soar.store.schema import OWNED_ELSEWHERE, Base

from . import factories

TABLES = {
    "alerts",
    "alert_observables",
    "cases",
    "case_observables",
    "timeline_events",
    "approvals",
    "approval_decisions",
    "containment_actions",
    "containment_slots",
    "enrichment_answers",
    "enrichment_quotas",
    "similarity_ignored",
    "slack_messages",
}


def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _model_diff(connection: Connection) -> list[Any]:
    """What the migrated schema lacks or has beyond the core's models; the tables other
    packages declare (the bot's) are compared where they are declared."""
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_name": lambda name, kind, parent: (
                kind != "table" or name not in OWNED_ELSEWHERE
            ),
        },
    )
    return compare_metadata(context, Base.metadata)


def _downgrade_to_base(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "base")


async def test_migrate_builds_the_schema_from_empty(empty_store: Store) -> None:
    async with empty_store.engine.connect() as connection:
        assert await connection.run_sync(_tables) == set()
    await empty_store.migrate()
    async with empty_store.engine.connect() as connection:
        assert await connection.run_sync(_tables) == TABLES | {"alembic_version"}
        assert await connection.run_sync(_revision) == _head()


async def test_migrate_is_rerunnable(store: Store) -> None:
    await store.upsert_case(factories.case())
    await store.migrate()
    await store.migrate()
    assert len(await store.list_cases()) == 1


async def test_migrations_match_the_models(store: Store) -> None:
    async with store.engine.connect() as connection:
        assert await connection.run_sync(_model_diff) == []


async def test_downgrade_then_upgrade_again(store: Store) -> None:
    async with store.engine.begin() as connection:
        await connection.run_sync(_downgrade_to_base)
        assert await connection.run_sync(_tables) <= {"alembic_version"}
    await store.migrate()
    async with store.engine.connect() as connection:
        assert await connection.run_sync(_tables) == TABLES | {"alembic_version"}


async def test_two_processes_migrating_a_new_sqlite_file_both_succeed(tmp_path: Path) -> None:
    """`soar worker` and `soar api` may start at once on a fresh data directory."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
    script = (
        "import asyncio, sys\n"
        "from soar.store.db import Store\n"
        "async def main():\n"
        "    store = Store(sys.argv[1])\n"
        "    await store.migrate()\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
    )
    processes = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", script, url) for _ in range(4)
    ]
    codes = [await process.wait() for process in processes]
    assert codes == [0, 0, 0, 0]
