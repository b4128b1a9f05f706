"""Fixtures of the deployment tests: a copy of deploy/ with its secret files written by
make-secrets.sh (as a user would before `docker compose up`), the Compose project read
from it, an environment free of the developer's own SOAR_* variables, and the
databases deploy/postgres/init-databases.sh makes, on the test PostgreSQL server."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import URL, make_url

from tests.conftest import unique
from tests.deploy.manifests import DEPLOY, Compose, deploy_copy, run_make_secrets

POSTGRES_URL_VARIABLE = "SOAR_TEST_DATABASE_URL"
INIT_SCRIPT = DEPLOY / "postgres" / "init-databases.sh"


@pytest.fixture(scope="module")
def deploy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """deploy/ copied, with .env, soar.env, slack-socket.env and k8s/secrets.env written."""
    directory = deploy_copy(tmp_path_factory.mktemp("deploy") / "deploy")
    log = directory.parent / "make-secrets.log"
    assert run_make_secrets(directory, log) == 0, log.read_text()
    return directory


@pytest.fixture(scope="module")
def compose(deploy_dir: Path) -> Compose:
    return Compose.load(deploy_dir)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No SOAR_*, SLACK_* or TEMPORAL_* variable of the machine's own, and no soar.toml
    read unless a test names one."""
    for name in list(os.environ):
        if name.startswith(("SOAR_", "SLACK_", "TEMPORAL_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SOAR_CONFIG", str(tmp_path / "absent.toml"))
    return monkeypatch


@dataclass(frozen=True)
class Databases:
    """What the init script made: names, roles and passwords, and how to reach them."""

    admin: URL
    temporal_user: str
    temporal_password: str
    temporal_db: str
    visibility_db: str
    store_user: str
    store_password: str
    store_db: str

    def url(self, user: str, password: str, database: str, driver: str) -> str:
        return self.admin.set(
            drivername=driver, username=user, password=password, database=database
        ).render_as_string(hide_password=False)

    def store_url(self) -> str:
        """The product's SOAR_DATABASE_URL for the store role."""
        return self.url(self.store_user, self.store_password, self.store_db, "postgresql+asyncpg")

    def init_environment(self) -> dict[str, str]:
        """The variables compose gives the postgres service, with this test's names."""
        return {
            "TEMPORAL_DB_USER": self.temporal_user,
            "TEMPORAL_DB_PASSWORD": self.temporal_password,
            "TEMPORAL_DB_NAME": self.temporal_db,
            "TEMPORAL_VISIBILITY_DB_NAME": self.visibility_db,
            "STORE_DB_USER": self.store_user,
            "STORE_DB_PASSWORD": self.store_password,
            "STORE_DB_NAME": self.store_db,
        }


def run_init_script(databases: Databases, log: Path) -> int:
    """init-databases.sh as the postgres image runs it (psql as the superuser), against
    the test server; its output appended to `log`."""
    admin = databases.admin
    env = {
        "PATH": os.environ["PATH"],
        "PGHOST": admin.host or "127.0.0.1",
        "PGPORT": str(admin.port or 5432),
        "POSTGRES_USER": admin.username or "postgres",
        "POSTGRES_DB": admin.database or "postgres",
    } | databases.init_environment()
    if admin.password:
        env["PGPASSWORD"] = admin.password
    with log.open("ab") as out:
        return subprocess.run(
            ["sh", str(INIT_SCRIPT)], env=env, stdout=out, stderr=subprocess.STDOUT
        ).returncode


def assert_init_script_runs(databases: Databases, log: Path) -> None:
    assert run_init_script(databases, log) == 0, log.read_text()


async def admin_connection(admin: URL) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=admin.host,
        port=admin.port or 5432,
        user=admin.username,
        password=admin.password,
        database=admin.database,
    )


@asynccontextmanager
async def init_databases(log: Path) -> AsyncIterator[Databases]:
    """The init script's databases and roles under names of their own (so runs and other
    tests on the same server never meet), dropped afterwards; the test is skipped when no
    PostgreSQL server is configured."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is unset: no PostgreSQL to test against")
    tag = unique()
    made = Databases(
        admin=make_url(url),
        temporal_user=f"deploy_temporal_{tag}",
        temporal_password=secrets.token_hex(16),
        temporal_db=f"deploy_temporal_{tag}",
        visibility_db=f"deploy_visibility_{tag}",
        store_user=f"deploy_soar_{tag}",
        store_password=secrets.token_hex(16),
        store_db=f"deploy_soar_{tag}",
    )
    assert_init_script_runs(made, log)
    try:
        yield made
    finally:
        connection = await admin_connection(made.admin)
        try:
            # The names are this test's own (a fixed prefix and hex), not input.
            for database in (made.temporal_db, made.visibility_db, made.store_db):
                await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            for role in (made.temporal_user, made.store_user):
                await connection.execute(f'DROP ROLE IF EXISTS "{role}"')
        finally:
            await connection.close()


@pytest.fixture
async def databases(tmp_path: Path) -> AsyncIterator[Databases]:
    async with init_databases(tmp_path / "init-databases.log") as made:
        yield made
