"""deploy/postgres/init-databases.sh on a real PostgreSQL server (SOAR_TEST_DATABASE_URL):
the store's role migrates the product's store in its own database, Temporal's role can
make tables in its two, neither can connect to the other's, and running the script again
changes nothing. Without a password it stops before touching the server, naming it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from soar.store.db import Store
from tests.deploy.conftest import INIT_SCRIPT, Databases, run_init_script


async def connect(
    databases: Databases, user: str, password: str, database: str
) -> asyncpg.Connection:
    admin = databases.admin
    return await asyncpg.connect(
        host=admin.host, port=admin.port or 5432, user=user, password=password, database=database
    )


@pytest.mark.postgres
async def test_the_store_role_migrates_the_products_store(databases: Databases) -> None:
    store = Store(databases.store_url())
    try:
        await store.migrate()
        async with store.engine.connect() as connection:
            version = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar()
            owner = (
                await connection.execute(
                    text("SELECT tableowner FROM pg_tables WHERE tablename = 'alembic_version'")
                )
            ).scalar()
    finally:
        await store.close()
    assert version
    assert owner == databases.store_user


@pytest.mark.postgres
async def test_temporals_role_makes_tables_in_both_of_its_databases(databases: Databases) -> None:
    for database in (databases.temporal_db, databases.visibility_db):
        connection = await connect(
            databases, databases.temporal_user, databases.temporal_password, database
        )
        try:
            await connection.execute("CREATE TABLE schema_probe (id int)")
            await connection.execute("DROP TABLE schema_probe")
        finally:
            await connection.close()


@pytest.mark.postgres
async def test_neither_role_reaches_the_others_databases(databases: Databases) -> None:
    forbidden = [
        (databases.store_user, databases.store_password, databases.temporal_db),
        (databases.store_user, databases.store_password, databases.visibility_db),
        (databases.temporal_user, databases.temporal_password, databases.store_db),
    ]
    for user, password, database in forbidden:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="CONNECT"):
            await connect(databases, user, password, database)


@pytest.mark.postgres
async def test_running_it_again_changes_nothing(databases: Databases, tmp_path: Path) -> None:
    store = Store(databases.store_url())
    try:
        await store.migrate()
    finally:
        await store.close()
    log = tmp_path / "again.log"
    assert run_init_script(databases, log) == 0, log.read_text()
    assert "CREATE" not in log.read_text()
    store = Store(databases.store_url())
    try:
        async with store.engine.connect() as connection:
            version = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar()
    finally:
        await store.close()
    assert version


@pytest.mark.parametrize("missing", ["TEMPORAL_DB_PASSWORD", "STORE_DB_PASSWORD"])
def test_a_missing_password_stops_it_naming_the_variable(missing: str, tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "PGHOST": str(tmp_path / "no-server-here"),
        "TEMPORAL_DB_PASSWORD": "x",
        "STORE_DB_PASSWORD": "y",
    }
    del env[missing]
    log = tmp_path / "init.log"
    with log.open("wb") as out:
        code = subprocess.run(
            ["sh", str(INIT_SCRIPT)], env=env, stdout=out, stderr=subprocess.STDOUT
        ).returncode
    assert code != 0
    assert f"{missing} is not set" in log.read_text()
