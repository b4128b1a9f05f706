"""Fixtures of the bot's tests: a fake Slack per test, the real API app with the bot
mounted, configured against it, and a product worker posting to it on a task queue of
the test's own (so the session's worker, which has no Slack, never takes its work)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from bot.app import mount_slack
from soar.api.app import create_app
from soar.api.deps import Services
from soar.containment.actuators import ActuatorRegistry
from soar.runtime.services import build_services
from soar.runtime.worker import build_worker
from soar.settings import Settings, TemporalSettings
from soar.store.db import Store
from soar.testing.actuators import RecordingActuator
from soar.testing.fake_slack import FakeSlack
from tests.bot.support import BOB, LEADS, SignedSlack, bot_settings
from tests.conftest import unique


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(usergroups={LEADS: [BOB]}) as fake:
        yield fake


@pytest.fixture
def slack_settings(tmp_path: Path, fake_slack: FakeSlack) -> Settings:
    queue = TemporalSettings(task_queue=f"soar-slack-{unique()}", rpc_timeout_seconds=2.0)
    return bot_settings(tmp_path, fake_slack, temporal=queue)


@pytest.fixture
def actuator() -> RecordingActuator:
    return RecordingActuator()


@pytest.fixture
async def slack_worker(
    temporal_client: Client, slack_settings: Settings, store: Store, actuator: RecordingActuator
) -> AsyncIterator[Worker]:
    """The product's worker, every built-in playbook, Slack on against the fake, and a
    recording actuator that carries out every containment."""
    worker = build_worker(
        temporal_client, slack_settings, store, actuators=ActuatorRegistry([actuator])
    )
    async with worker:
        yield worker


@pytest.fixture
def bot_services(
    temporal_client: Client, slack_settings: Settings, store: Store
) -> Iterator[Services]:
    services = build_services(temporal_client, slack_settings, store)
    yield services
    services.spool.close()


@pytest.fixture
async def slack(bot_services: Services, fake_slack: FakeSlack) -> AsyncIterator[SignedSlack]:
    """Signed requests to the real API app with the bot mounted at /slack/events."""
    app = create_app(bot_services)
    mount_slack(app, bot_services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://soar.test") as http:
        yield SignedSlack(http, fake_slack)
