"""Fixtures of the bot's tests: a fake Slack per test, and the real API app with the bot
mounted, configured against it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from bot.app import mount_slack
from soar.api.app import create_app
from soar.api.deps import Services
from soar.runtime.services import build_services
from soar.settings import Settings
from soar.store.db import Store
from soar.testing.fake_slack import FakeSlack
from tests.bot.support import BOB, LEADS, SignedSlack, bot_settings


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(usergroups={LEADS: [BOB]}) as fake:
        yield fake


@pytest.fixture
def slack_settings(tmp_path: Path, fake_slack: FakeSlack) -> Settings:
    return bot_settings(tmp_path, fake_slack)


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
