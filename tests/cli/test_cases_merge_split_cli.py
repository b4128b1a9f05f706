"""`soar cases merge A B --as U` and `soar cases split ID ALERT… --as U` against a real
uvicorn server over the real app, store and Temporal dev server (the session's worker
makes the cases from alerts sent through the webhook)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import typer
from typer.testing import Result

from soar.api.app import create_app
from soar.api.deps import Services
from soar.cli import cases
from tests.api.test_case_merge_split_api import case_with, detail, eventually
from tests.live_api import run_cli, serving

cli = typer.Typer()
cli.add_typer(cases.app, name="cases")


@pytest.fixture
async def server_url(services: Services) -> AsyncIterator[str]:
    async with serving(create_app(services)) as url:
        yield url


@pytest.fixture
async def api(server_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server_url) as client:
        yield client


async def run(url: str, *args: str) -> Result:
    return await run_cli(cli, url, *args)


async def test_merge_then_merge_again_then_elsewhere(
    server_url: str, api: httpx.AsyncClient
) -> None:
    first, survivor, other = [await case_with(api, n) for n in (2, 1, 1)]

    merged = await run(server_url, "cases", "merge", first["id"], survivor["id"], "--as", "alice")
    assert merged.exit_code == 0, merged.output
    assert f"case {first['id']} is being merged into {survivor['id']}" in merged.output

    async def moved() -> dict[str, Any] | None:
        gone = await detail(api, first["id"])
        return gone if gone["merged_into"] == survivor["id"] else None

    await eventually(moved)
    again = await run(server_url, "cases", "merge", first["id"], survivor["id"], "--as", "alice")
    assert again.exit_code == 0, again.output
    assert f"case {first['id']} was merged into {survivor['id']}" in again.output
    elsewhere = await run(server_url, "cases", "merge", first["id"], other["id"], "--as", "alice")
    assert elsewhere.exit_code == 1
    assert f"case {first['id']} was merged into {survivor['id']}" in elsewhere.output
    shown = await run(server_url, "cases", "show", first["id"])
    assert f"merged into {survivor['id']}" in shown.output


async def test_split_then_split_again(server_url: str, api: httpx.AsyncClient) -> None:
    case = await case_with(api, 3)
    leaving = [alert["id"] for alert in case["alerts"][:2]]

    split = await run(server_url, "cases", "split", case["id"], *leaving, "--as", "bob")
    assert split.exit_code == 0, split.output
    assert f"2 alert(s) of {case['id']} are being split into a new case" in split.output

    async def counted_out() -> dict[str, Any] | None:
        kept = await detail(api, case["id"])
        return kept if kept["alert_count"] == len(kept["alerts"]) == 1 else None

    await eventually(counted_out)

    async def split_again() -> Result | None:
        answer = await run(server_url, "cases", "split", case["id"], *leaving, "--as", "bob")
        return answer if "were split into case" in answer.output else None

    again = await eventually(split_again)
    new_id = again.output.rsplit("into case ", 1)[1].strip().rstrip(".")
    new = await detail(api, new_id)
    assert sorted(a["id"] for a in new["alerts"]) == sorted(leaving)
    left = await run(
        server_url, "cases", "split", case["id"], case["alerts"][2]["id"], "--as", "bob"
    )
    assert left.exit_code == 1 and "leaves at least one alert" in left.output
