"""`soar integrations list` and `soar integrations check NAME` with the installed ticket
systems and pager: the four are listed with what they can be configured as, and a
configured `[tickets.<name>]` or `[paging.<name>]` is checked against its emulator —
credentials accepted and nothing changed, a refused credential one line and exit 1, a
bad option naming the setting and exit 2."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from soar.cli.integrations import app
from soar.testing.emulators.jira import JiraEmulator
from soar.testing.emulators.pagerduty import PagerDutyEmulator
from soar.testing.emulators.servicenow import ServiceNowEmulator
from soar.testing.emulators.thehive import TheHiveEmulator


class Vendors:
    def __init__(self) -> None:
        self.jira = JiraEmulator()
        self.servicenow = ServiceNowEmulator()
        self.thehive = TheHiveEmulator()
        self.pagerduty = PagerDutyEmulator()

    def config(self, *, jira_token: str | None = None) -> str:
        return (
            '[tickets.jira]\ntype = "jira"\n'
            f'options = {{ base_url = "{self.jira.base_url}", email = "{self.jira.email}", '
            f'api_token = "{jira_token or self.jira.token}", project = "SEC" }}\n'
            '[tickets.snow]\ntype = "servicenow"\n'
            f'options = {{ base_url = "{self.servicenow.base_url}", '
            f'username = "{self.servicenow.username}", password = "{self.servicenow.password}" }}\n'
            '[tickets.hive]\ntype = "thehive"\n'
            f'options = {{ base_url = "{self.thehive.base_url}", '
            f'api_key = "{self.thehive.key}" }}\n'
            '[paging.oncall]\ntype = "pagerduty"\n'
            f'options = {{ base_url = "{self.pagerduty.base_url}", '
            f'routing_key = "{self.pagerduty.key}" }}\n'
        )


@pytest.fixture
async def vendors() -> AsyncIterator[Vendors]:
    running = Vendors()
    async with running.jira, running.servicenow, running.thehive, running.pagerduty:
        yield running


async def run(tmp_path: Path, body: str, *args: str) -> Result:
    config = tmp_path / "soar.toml"
    config.write_text(body, encoding="utf-8")
    env = {"SOAR_CONFIG": str(config), "COLUMNS": "250"}
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


async def test_list_shows_the_ticket_systems_and_the_pager(tmp_path: Path) -> None:
    listed = await run(tmp_path, "", "list")
    assert listed.exit_code == 0, listed.output
    rows = {line.split("│")[1].strip(): line for line in listed.output.splitlines() if "│" in line}
    for kind, vendor, kinds in [
        ("jira", "Atlassian Jira Cloud", "ticketing"),
        ("servicenow", "ServiceNow", "ticketing"),
        ("thehive", "StrangeBee TheHive 5", "ticketing"),
        ("pagerduty", "PagerDuty", "pager"),
    ]:
        assert kind in rows, listed.output
        assert vendor in rows[kind] and f" {kinds} " in rows[kind] and "ok" in rows[kind]


@pytest.mark.parametrize(
    ("name", "section", "says"),
    [
        ("jira", "tickets.jira (jira)", "token accepted: it acts as SOAR"),
        ("snow", "tickets.snow (servicenow)", "credentials of soar.integration accepted"),
        ("hive", "tickets.hive (thehive)", "key accepted: it acts as soar@example.org"),
        ("oncall", "paging.oncall (pagerduty)", "routing key accepted"),
    ],
)
async def test_check_reaches_each_configured_one_and_changes_nothing(
    tmp_path: Path, vendors: Vendors, name: str, section: str, says: str
) -> None:
    checked = await run(tmp_path, vendors.config(), "check", name)
    assert checked.exit_code == 0, checked.output
    assert f"configuration: {section} is valid" in checked.output
    assert says in checked.output
    assert vendors.jira.tickets_created == vendors.servicenow.tickets_created == 0
    assert vendors.thehive.tickets_created == vendors.pagerduty.alerts_opened == 0


async def test_a_refused_credential_is_one_line_and_exit_1(
    tmp_path: Path, vendors: Vendors
) -> None:
    checked = await run(tmp_path, vendors.config(jira_token="ATATT-wrong-one"), "check", "jira")
    assert checked.exit_code == 1, checked.output
    assert checked.output.splitlines()[-1] == (
        "error: jira: read the account: the credentials were refused (401): Client must be "
        "authenticated to access this resource."
    )
    assert "ATATT-wrong-one" not in checked.output


async def test_a_bad_option_names_the_setting_and_exit_2(tmp_path: Path) -> None:
    body = '[paging.oncall]\ntype = "pagerduty"\noptions = { routing_key = "s3cret-short" }\n'
    checked = await run(tmp_path, body, "check", "oncall")
    assert checked.exit_code == 2, checked.output
    assert checked.output.startswith("error: paging.oncall.options.routing_key:")
    assert "s3cret-short" not in checked.output
