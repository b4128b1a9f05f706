"""The real API app on a real loopback socket, and `soar` commands run against it as a
user runs them (for the CLI tests, which make blocking HTTP calls)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import typer
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner, Result

from tests.conftest import API_TOKEN, free_port


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve `app` from the tests' event loop; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    serving_task = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving_task.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving_task


async def run_cli(cli: typer.Typer, url: str, *args: str) -> Result:
    """Run a `soar` command in a thread, so the server keeps serving, with the operator
    token from the environment and no config file."""
    env = {"SOAR_API_TOKEN": API_TOKEN, "SOAR_CONFIG": "/nonexistent/soar.toml", "COLUMNS": "250"}
    return await asyncio.to_thread(
        CliRunner().invoke, cli, [*args, "--url", url], env=env, catch_exceptions=False
    )
