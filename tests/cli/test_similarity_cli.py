"""`soar cases show` lists similar open cases; `soar cases ignore-observable`,
`ignored-observables` and `unignore-observable` mark values, against a real uvicorn
server over the real store, each command run as a user runs it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import typer
from typer.testing import Result

from soar.alerts.models import Observable, ObservableType
from soar.api.app import create_app
from soar.api.deps import Services
from soar.cli import cases
from tests.conftest import unique
from tests.live_api import run_cli, serving
from tests.store import factories

HOSTILE = "[bold red]x[/]"

cli = typer.Typer()
cli.add_typer(cases.app, name="cases")


@pytest.fixture
async def server_url(services: Services) -> AsyncIterator[str]:
    async with serving(create_app(services)) as url:
        yield url


async def run(url: str, *args: str) -> Result:
    return await run_cli(cli, url, *args)


async def test_show_lists_similar_cases_until_the_shared_value_is_ignored(
    server_url: str, services: Services
) -> None:
    shared = Observable(type=ObservableType.DOMAIN, value=f"c2-{unique()}.example")
    mine, theirs = f"case-{unique()}", f"case-{unique()}"
    await services.store.upsert_case(factories.case(mine, observables=[shared]))
    await services.store.upsert_case(
        factories.case(theirs, title=f"Their case {HOSTILE}", observables=[shared])
    )

    shown = await run(server_url, "cases", "show", mine)

    assert shown.exit_code == 0, shown.output
    assert "Similar cases" in shown.output
    for expected in (theirs, f"domain {shared.value}", f"Their case {HOSTILE}"):
        assert expected in shown.output

    marked = await run(
        server_url, "cases", "ignore-observable", shared.value, "--as", "alice", "--reason", "ours"
    )
    listed = await run(server_url, "cases", "ignored-observables")
    quiet = await run(server_url, "cases", "show", mine)

    assert marked.exit_code == 0, marked.output
    assert f"ignored for similarity: {shared.value} (by alice)" in marked.output
    assert shared.value in listed.output and "ours" in listed.output
    assert "No similar open cases." in quiet.output and theirs not in quiet.output

    unmarked = await run(server_url, "cases", "unignore-observable", shared.value)
    again = await run(server_url, "cases", "unignore-observable", shared.value)

    assert unmarked.exit_code == 0, unmarked.output
    assert theirs in (await run(server_url, "cases", "show", mine)).output
    assert again.exit_code == 1 and "not marked" in again.output
