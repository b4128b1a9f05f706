"""The digest activity with Slack as its poster, against the fake Slack Web API: the
message and its chart uploaded through Slack's upload flow, each once however the
activity is retried; a 429 a retry after Slack's wait; nothing posted without a
management channel while the files are still written."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from bot.digest_sender import SlackDigestSender
from soar.reports.digest_activities import DigestActivities
from soar.reports.digest_contract import DigestJob, DigestPeriod
from soar.reports.digest_window import scheduled_window
from soar.reports.settings import ReportSettings
from soar.settings import Settings
from soar.store.db import Store
from soar.testing.fake_slack import FakeSlack
from tests.conftest import make_settings
from tests.reports.digest_seed import AT, TIMEZONE, expected_period, scenario, seed

MANAGEMENT = "C0MGMT"
JOB = DigestJob(period=DigestPeriod.DAILY, at=AT)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def digest_store(tmp_path: Path) -> AsyncIterator[Store]:
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}")
    await store.migrate()
    await seed(store, scenario(scheduled_window(DigestPeriod.DAILY, AT, TIMEZONE)))
    yield store
    await store.close()


def _settings(tmp_path: Path, fake: FakeSlack, channel: str | None = MANAGEMENT) -> Settings:
    return make_settings(
        tmp_path,
        slack_bot_token=SecretStr("xoxb-digest-test"),
        slack_api_url=fake.api_url,
        reports=ReportSettings(management_channel=channel, timezone=TIMEZONE),
    )


def _text(path: str | Path) -> str:
    return Path(path).read_text(encoding="utf-8")


def _activities(settings: Settings, store: Store) -> DigestActivities:
    return DigestActivities(
        store.engine,
        settings.reports,
        settings.data_dir,
        SlackDigestSender.from_settings(settings, store),
    )


async def test_the_digest_is_posted_with_its_chart_and_written_to_files(
    tmp_path: Path, fake_slack: FakeSlack, digest_store: Store
) -> None:
    settings = _settings(tmp_path, fake_slack)
    activities = _activities(settings, digest_store)

    outcome = await ActivityEnvironment().run(activities.send_digest, JOB)

    assert outcome.posted == "posted"
    window = scheduled_window(DigestPeriod.DAILY, AT, TIMEZONE)
    html = tmp_path / "digests" / "digest-daily-2026-03-29.html"
    markdown = tmp_path / "digests" / "digest-daily-2026-03-29.md"
    assert (outcome.html_file, outcome.markdown_file) == (str(html), str(markdown))
    expected = expected_period(scenario(window), window.start, window.end)
    assert f"| Alerts | {expected['alerts']} |" in _text(markdown)
    assert "<svg" in _text(html)

    [message] = fake_slack.calls_to("chat.postMessage")
    assert message["channel"] == MANAGEMENT
    assert message["blocks"][0]["text"]["text"] == "Daily digest: Sunday 29 March 2026"
    assert f"Alerts: *{expected['alerts']}*" in json.dumps(message["blocks"])
    [chart] = fake_slack.files.values()
    assert chart.shared and chart.channel == MANAGEMENT
    assert chart.filename == "digest-daily-2026-03-29.png"
    assert chart.content is not None and chart.content.startswith(PNG_SIGNATURE)
    assert len(chart.content) == chart.length > 10_000
    posted_at = next(c.at for c in fake_slack.calls if c.method == "chat.postMessage")
    shared_at = next(c.at for c in fake_slack.calls if c.method == "files.completeUploadExternal")
    assert posted_at <= shared_at

    again = await ActivityEnvironment().run(activities.send_digest, JOB)

    assert again.posted == "already posted"
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert len(fake_slack.calls_to("files.completeUploadExternal")) == 1


async def test_a_failed_upload_is_retried_without_posting_the_message_again(
    tmp_path: Path, fake_slack: FakeSlack, digest_store: Store
) -> None:
    activities = _activities(_settings(tmp_path, fake_slack), digest_store)
    fake_slack.fail("files.completeUploadExternal", "internal_error")

    with pytest.raises(ApplicationError, match="internal_error") as failed:
        await ActivityEnvironment().run(activities.send_digest, JOB)
    assert not failed.value.non_retryable
    retried = await ActivityEnvironment().run(activities.send_digest, JOB)

    assert retried.posted == "posted"
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    shared = [file for file in fake_slack.files.values() if file.shared]
    assert len(shared) == 1 and shared[0].channel == MANAGEMENT


async def test_a_rate_limit_is_a_retry_after_slacks_wait(
    tmp_path: Path, fake_slack: FakeSlack, digest_store: Store
) -> None:
    activities = _activities(_settings(tmp_path, fake_slack), digest_store)
    fake_slack.rate_limit("chat.postMessage", retry_after=7)

    with pytest.raises(ApplicationError) as limited:
        await ActivityEnvironment().run(activities.send_digest, JOB)

    assert limited.value.next_retry_delay == timedelta(seconds=7)
    assert fake_slack.calls_to("chat.postMessage") == [] and fake_slack.files == {}


async def test_without_a_management_channel_nothing_is_posted_and_the_files_are_written(
    tmp_path: Path, fake_slack: FakeSlack, digest_store: Store
) -> None:
    activities = _activities(_settings(tmp_path, fake_slack, channel=None), digest_store)

    outcome = await ActivityEnvironment().run(activities.send_digest, JOB)

    assert outcome.posted == "not posted: no [reports] management_channel is set"
    assert _text(outcome.html_file).startswith("<!DOCTYPE html>")
    assert _text(outcome.markdown_file).startswith("# Daily digest")
    assert fake_slack.calls == []


async def test_a_broken_template_is_a_failure_not_retried(
    tmp_path: Path, fake_slack: FakeSlack, digest_store: Store
) -> None:
    overrides = tmp_path / "templates"
    overrides.mkdir()
    (overrides / "digest.html.j2").write_text("{{ digest.nothing_here }}")
    settings = _settings(tmp_path, fake_slack)
    settings.reports.templates_dir = overrides
    activities = _activities(settings, digest_store)

    with pytest.raises(
        ApplicationError, match=r"digest\.html\.j2 from reports\.templates_dir"
    ) as bad:
        await ActivityEnvironment().run(activities.send_digest, JOB)

    assert bad.value.non_retryable and bad.value.type == "ReportConfigError"
    assert fake_slack.calls == []
    assert not (tmp_path / "digests").exists() or not any((tmp_path / "digests").iterdir())


def test_the_job_covers_the_day_before_its_moment() -> None:
    window = scheduled_window(JOB.period, JOB.at, TIMEZONE)

    assert window.last_day.isoformat() == "2026-03-29"
    assert window.end.astimezone(window.zone) == datetime.fromisoformat("2026-03-30T00:00+02:00")
