"""The digest end to end: `soar worker` (the runtime's worker part) started against a
real Temporal dev server of the test's own creates both digest schedules; triggering
the daily one runs DigestWorkflow on that worker, which writes the HTML and Markdown
files to the data directory and posts the digest with its PNG chart to the management
channel of the fake Slack; a second run of the same day posts nothing more."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow, ScheduleHandle
from temporalio.service import RPCError

from soar.reports.digest_contract import DigestOutcome, DigestPeriod, schedule_id
from soar.reports.digest_window import scheduled_window
from soar.reports.settings import ReportSettings
from soar.runtime import stack
from soar.settings import Settings, TemporalSettings
from soar.store.db import Store
from soar.testing.fake_slack import FakeSlack
from tests.bare_temporal import address, bare_temporal
from tests.conftest import free_port, make_settings, unique
from tests.reports.digest_seed import expected_period, scenario, seed

MANAGEMENT = "C0MGMT"
WAIT = 60.0


@contextlib.asynccontextmanager
async def running_worker(settings: Settings) -> AsyncIterator[None]:
    """The runtime with only its worker part (what `soar worker` runs), until the block ends."""
    stop = asyncio.Event()
    task = asyncio.create_task(stack.run(settings, stack.Parts(False, True, False), stop=stop))
    loop = asyncio.get_running_loop()
    try:
        yield
    finally:
        stop.set()
        await task
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)


async def _until_scheduled(client: Client, name: str) -> ScheduleHandle:
    """The schedule once the worker has made it (Temporal has no event to wait on, so it
    is asked every tenth of a second)."""
    handle = client.get_schedule_handle(name)
    for _ in range(int(WAIT * 10)):
        with contextlib.suppress(RPCError):
            await handle.describe()
            return handle
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no schedule {name} within {WAIT} s")


async def _run_once(client: Client, handle: ScheduleHandle, runs_before: int) -> DigestOutcome:
    """Trigger the schedule and wait for the run it starts to finish."""
    await handle.trigger()
    for _ in range(int(WAIT * 10)):
        actions = (await handle.describe()).info.recent_actions
        if len(actions) > runs_before:
            break
        await asyncio.sleep(0.1)
    else:
        raise TimeoutError(f"the schedule started no run within {WAIT} s")
    started = actions[-1].action
    assert isinstance(started, ScheduleActionExecutionStartWorkflow)
    result = await client.get_workflow_handle(
        started.workflow_id, result_type=DigestOutcome
    ).result()
    assert isinstance(result, DigestOutcome)
    return result


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


async def test_a_scheduled_digest_is_written_and_posted_with_its_chart(tmp_path: Path) -> None:
    today = datetime.now(UTC)
    drawn = scenario(scheduled_window(DigestPeriod.DAILY, today, "UTC"))
    async with FakeSlack() as fake, bare_temporal() as env:
        settings = make_settings(
            tmp_path,
            api_port=free_port(),
            temporal=TemporalSettings(address=address(env), task_queue=f"digest-{unique()}"),
            slack_bot_token=SecretStr("xoxb-digest-test"),
            slack_api_url=fake.api_url,
            reports=ReportSettings(management_channel=MANAGEMENT, timezone="UTC"),
        )
        store = Store(settings.resolved_database_url())
        await store.migrate()
        await seed(store, drawn)
        await store.close()

        async with running_worker(settings):
            daily = await _until_scheduled(env.client, schedule_id(DigestPeriod.DAILY))
            await _until_scheduled(env.client, schedule_id(DigestPeriod.WEEKLY))
            outcome = await _run_once(env.client, daily, runs_before=0)

            assert outcome.posted == "posted"
            html, markdown = Path(outcome.html_file), Path(outcome.markdown_file)
            assert html.parent == markdown.parent == tmp_path / "digests"
            day = html.name.removeprefix("digest-daily-").removesuffix(".html")
            assert markdown.name == f"digest-daily-{day}.md"
            covered = datetime.fromisoformat(day).replace(tzinfo=UTC)
            assert today - timedelta(days=2) < covered <= today - timedelta(days=1)
            window = scheduled_window(DigestPeriod.DAILY, covered + timedelta(days=1), "UTC")
            expected = expected_period(drawn, window.start, window.end)
            assert f"| Alerts | {expected['alerts']} |" in _text(markdown)
            assert f"| Cases opened | {expected['cases_opened']} |" in _text(markdown)
            assert 'id="alerts-' in _text(html)

            [message] = fake.calls_to("chat.postMessage")
            assert message["channel"] == MANAGEMENT
            assert f"Alerts: *{expected['alerts']}*" in json.dumps(message["blocks"])
            [chart] = fake.files.values()
            assert chart.shared and chart.channel == MANAGEMENT
            assert chart.content is not None and chart.content.startswith(b"\x89PNG")
            assert chart.filename == f"digest-daily-{day}.png"

            again = await _run_once(env.client, daily, runs_before=1)

            assert again.posted == "already posted"
            assert again.html_file == outcome.html_file
            assert len(fake.calls_to("chat.postMessage")) == 1
            assert len(fake.calls_to("files.completeUploadExternal")) == 1
