"""`soar integrations list` and `soar integrations check NAME`, given the installed
integrations of the test's own (a tiny fake one, and one whose package failed to load)
and a configuration file of its own.

The fake's check reaches a loopback HTTP server with its options (its base URL and its
token), as a vendor's check reaches its product, and says what it found; a token the
server refuses is the vendor's `CredentialsRejected`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

import httpx
import pytest
from aiohttp import web
from pydantic import SecretStr
from typer.testing import CliRunner, Result

from integrations.core.integration import Integration
from integrations.core.options import HttpOptions
from soar.cli.integrations import build
from soar.enrichment.providers import AddressEnricher
from soar.integrations.errors import CredentialsRejected
from soar.runtime.integrations import Installed
from soar.testing.actuators import RecordingActuator
from tests.conftest import free_port

TOKEN = "s3cret-fake-token-value"


class FakeOptions(HttpOptions):
    token: SecretStr
    region: Literal["eu", "us"] = "eu"


async def fake_check(name: str, options: FakeOptions) -> list[str]:
    """Ask the product who we are; changes nothing."""
    async with httpx.AsyncClient(base_url=options.base_url) as client:
        response = await client.get(
            "/whoami", headers={"Authorization": f"Bearer {options.token.get_secret_value()}"}
        )
    if response.status_code == 401:
        raise CredentialsRejected(name, "the token was refused (HTTP 401)")
    account = response.json()["account"]
    return [f"reached {options.base_url} ({options.region})", f"credentials accepted: {account}"]


FAKE = Integration(
    vendor="Fake Networks",
    handles="blocks addresses in a fake firewall",
    options=FakeOptions,
    actuator=lambda name, options: RecordingActuator(name),
    enricher=lambda name, options: AddressEnricher(),
    check=fake_check,
)
UNCHECKED = Integration(
    vendor="Quiet",
    handles="enriches nothing",
    options=FakeOptions,
    enricher=lambda n, o: AddressEnricher(),
)
INSTALLED = Installed(
    integrations={"fake": FAKE, "quiet": UNCHECKED},
    broken={"crashy": "ModuleNotFoundError: No module named 'crashy_soar'"},
)
cli = build(lambda: INSTALLED)


@pytest.fixture
async def product() -> AsyncIterator[str]:
    """The fake's product on loopback: `GET /whoami` answers the right bearer token."""

    async def whoami(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": "unauthorized"}, status=401)
        return web.json_response({"account": "soc-automation"})

    app = web.Application()
    app.router.add_get("/whoami", whoami)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def run(config: Path, *args: str) -> Result:
    """`soar integrations …` in a thread (the product serves on this loop), reading
    `config`."""
    env = {"SOAR_CONFIG": str(config), "COLUMNS": "250"}
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env)


def configure(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "soar.toml"
    path.write_text(body, encoding="utf-8")
    return path


async def test_list_shows_every_installed_type_and_why_a_broken_one_broke(tmp_path: Path) -> None:
    listed = await run(configure(tmp_path, ""), "list")
    assert listed.exit_code == 0, listed.output
    rows = [line for line in listed.output.splitlines() if "│" in line]
    assert any(
        "fake" in row
        and "Fake Networks" in row
        and "blocks addresses in a fake firewall" in row
        and "actuator, enricher" in row
        and "ok" in row
        for row in rows
    ), listed.output
    assert any("quiet" in row and "Quiet" in row and "enricher" in row for row in rows)
    assert any(
        "crashy" in row and "broken: ModuleNotFoundError: No module named 'crashy_soar'" in row
        for row in rows
    ), listed.output


async def test_check_validates_the_options_then_reaches_the_product(
    tmp_path: Path, product: str
) -> None:
    config = configure(
        tmp_path,
        f'[actuators.edge]\ntype = "fake"\noptions = {{ base_url = "{product}", '
        f'token = "{TOKEN}", region = "us" }}\n',
    )
    checked = await run(config, "check", "edge")
    assert checked.exit_code == 0, checked.output
    assert checked.output.splitlines() == [
        "configuration: actuators.edge (fake) is valid",
        f"reached {product} (us)",
        "credentials accepted: soc-automation",
    ]
    assert TOKEN not in checked.output


async def test_a_refused_token_is_one_line_and_exit_1(tmp_path: Path, product: str) -> None:
    config = configure(
        tmp_path,
        f'[enrichment.providers.intel]\ntype = "fake"\n'
        f'options = {{ base_url = "{product}", token = "not-the-token" }}\n',
    )
    checked = await run(config, "check", "intel")
    assert checked.exit_code == 1, checked.output
    assert checked.output.splitlines() == [
        "configuration: enrichment.providers.intel (fake) is valid",
        "error: intel: the token was refused (HTTP 401)",
    ]
    assert "not-the-token" not in checked.output


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (f'token = "{TOKEN}", region = "mars"', "actuators.edge.options.region: Input should be"),
        (f'token = "{TOKEN}", retries = 3', "actuators.edge.options.retries: Extra inputs"),
        ('base_url = "http://127.0.0.1:9", region = "eu"', "actuators.edge.options.token: Field"),
    ],
    ids=["bad-value", "unknown-option", "missing-secret"],
)
async def test_a_bad_option_names_the_setting_never_its_value_and_exits_2(
    tmp_path: Path, options: str, says: str
) -> None:
    if "base_url" not in options:
        options += ', base_url = "http://127.0.0.1:9"'
    config = configure(tmp_path, f'[actuators.edge]\ntype = "fake"\noptions = {{ {options} }}\n')
    checked = await run(config, "check", "edge")
    assert checked.exit_code == 2, checked.output
    assert checked.output.startswith(f"error: {says}")
    assert TOKEN not in checked.output and "mars" not in checked.output
    assert "reached" not in checked.output


@pytest.mark.parametrize(
    ("body", "says", "code"),
    [
        (
            "",
            "error: no actuator, enrichment provider, ticket system or pager is configured as "
            "'edge' (configured: none)",
            2,
        ),
        (
            '[actuators.edge]\ntype = "crashy"\n',
            "error: actuators.edge.type: the integration 'crashy' is installed but failed to "
            "load (ModuleNotFoundError: No module named 'crashy_soar')",
            2,
        ),
        (
            '[actuators.edge]\ntype = "acme"\n',
            "error: actuators.edge.type: 'acme' is not a type any installed integration "
            "provides (known types: fake, quiet)",
            2,
        ),
        (
            '[enrichment.providers.edge]\ntype = "quiet"\noptions = { base_url = "http://x", '
            'token = "t" }\n',
            "quiet offers no check of its own; nothing was reached",
            0,
        ),
    ],
    ids=["unknown-name", "broken-type", "unknown-type", "no-check"],
)
async def test_what_cannot_be_checked_says_why(
    tmp_path: Path, body: str, says: str, code: int
) -> None:
    checked = await run(configure(tmp_path, body), "check", "edge")
    assert checked.exit_code == code, checked.output
    assert says in " ".join(checked.output.split())
