"""`soar doctor`'s Slack checks, against the fake Slack Web API: which parts run, whether
the bot token works, and whether there is a channel to post in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.settings import SlackSettings
from soar.cli.doctor import FAIL, OK, WARN, check_slack
from soar.testing.fake_slack import FakeSlack
from tests.conftest import make_settings


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        yield slack


def verdicts(checks: list) -> dict[str, tuple[str, str]]:
    return {check.name: (check.verdict, check.detail) for check in checks}


async def test_without_a_bot_token_slack_is_off_and_that_is_fine(tmp_path: Path) -> None:
    assert verdicts(await check_slack(make_settings(tmp_path))) == {
        "slack": (OK, "off: SLACK_BOT_TOKEN not set (everything else runs without Slack)")
    }
    half = make_settings(tmp_path, slack_signing_secret=SecretStr("s"))
    [(verdict, detail)] = verdicts(await check_slack(half)).values()
    assert verdict == WARN and "ignored" in detail


async def test_both_transports_and_a_working_token(tmp_path: Path, fake: FakeSlack) -> None:
    settings = make_settings(
        tmp_path,
        slack_bot_token=SecretStr("xoxb-doctor"),
        slack_signing_secret=SecretStr("signing"),
        slack_app_token=SecretStr("xapp-doctor"),
        slack_api_url=fake.api_url,
        slack=SlackSettings(default_channel="CSOC0001").model_dump(),
    )
    found = verdicts(await check_slack(settings))
    assert found["slack"] == (
        OK,
        "on: posting, and taking clicks by HTTP at /slack/events and Socket Mode",
    )
    assert found["slack token"] == (OK, "works: soar in SOAR Test")
    assert "slack channels" not in found
    assert [call.token for call in fake.calls] == ["xoxb-doctor"]


async def test_a_refused_token_fails_and_posting_only_is_a_warning(
    tmp_path: Path, fake: FakeSlack
) -> None:
    fake.fail("auth.test", "invalid_auth")
    settings = make_settings(
        tmp_path, slack_bot_token=SecretStr("xoxb-revoked"), slack_api_url=fake.api_url
    )
    found = verdicts(await check_slack(settings))
    assert found["slack"][0] == WARN and "SLACK_SIGNING_SECRET" in found["slack"][1]
    assert found["slack token"] == (FAIL, "refused by Slack: invalid_auth")
    assert found["slack channels"][0] == WARN
    assert "xoxb-revoked" not in str(found)
