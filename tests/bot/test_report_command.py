"""`/soar report ID [kind]`: a case's summary answered privately as Block Kit, through the
real app with the bot mounted, from the real store — the same report the CLI and the API
render; hostile alert content stays text; an unknown case or kind says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.command_parser import UsageError, Verb, parse
from soar.reports.kinds import ReportKind
from soar.reports.slack_blocks import MESSAGE_BLOCKS
from soar.settings import Settings, TemporalSettings
from soar.store.db import Store
from soar.testing.fake_slack import FakeSlack
from tests.bot.support import MALLORY, SignedSlack, bot_settings, texts
from tests.conftest import unique
from tests.reports.seed import ATTACKER, HUGE, LAPTOP, inventory_file, seed_case


@pytest.fixture
def slack_settings(tmp_path: Path, fake_slack: FakeSlack) -> Settings:
    """The bot's settings, with the inventory the seeded case's hosts and users are in."""
    queue = TemporalSettings(task_queue=f"soar-slack-{unique()}", rpc_timeout_seconds=2.0)
    return bot_settings(
        tmp_path, fake_slack, temporal=queue, inventory_file=inventory_file(tmp_path)
    )


def test_report_parses_with_an_optional_kind() -> None:
    plain = parse("report case-1")
    assert (plain.verb, plain.case_id, plain.report) == (
        Verb.REPORT,
        "case-1",
        ReportKind.ESCALATION,
    )
    assert parse("report case-1 Executive").report is ReportKind.EXECUTIVE
    assert parse("report case-1 tactical").report is ReportKind.TACTICAL


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("report", "give a case id and, optionally, a kind of report"),
        ("report case-1 tactical now", "give a case id and, optionally, a kind of report"),
        ("report case-1 weekly", "unknown kind of report 'weekly': escalation, tactical"),
    ],
)
def test_a_malformed_report_line_explains_itself(line: str, says: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse(line)
    assert says in str(raised.value)
    assert "Usage: `/soar report ID [escalation|tactical|executive]`" in str(raised.value)


async def test_the_report_is_answered_privately_as_blocks(
    slack: SignedSlack, fake_slack: FakeSlack, store: Store
) -> None:
    seeded = await seed_case(store)

    await slack.command(f"report {seeded.case_id}", user=MALLORY)  # reading is enough
    summary = await fake_slack.wait_for_response()
    await slack.command(f"report {seeded.case_id} executive")
    executive = await fake_slack.wait_for_response(count=2)

    assert summary["response_type"] == "ephemeral"
    assert summary["text"] == f"Escalation summary of case {seeded.case_id}: {seeded.title}"
    blocks = summary["blocks"]
    assert 0 < len(blocks) <= MESSAGE_BLOCKS
    assert blocks[0]["text"]["text"] == f"Escalation summary: {seeded.title}"
    shown = texts(blocks)
    for figure in (ATTACKER, LAPTOP, "criticality critical", "stopped: acknowledged by bob"):
        assert figure in shown
    assert f"<{seeded.ticket_url}|{seeded.ticket_key}>" in shown
    assert executive["blocks"][0]["text"]["text"] == f"Executive report: {seeded.title}"


async def test_a_hostile_case_stays_text_in_slack(
    slack: SignedSlack, fake_slack: FakeSlack, store: Store
) -> None:
    seeded = await seed_case(store, hostile=HUGE)

    await slack.command(f"report {seeded.case_id} tactical")
    answer = await fake_slack.wait_for_response()

    assert len(answer["blocks"]) <= MESSAGE_BLOCKS
    shown = texts(answer["blocks"])
    for raw in ("<!channel>", "<@U123>", "<https://evil.example", "<script>"):
        assert raw not in shown
    assert "&lt;!channel&gt;" in shown and "{{ 7*7 }}" in shown


async def test_an_unknown_case_or_kind_says_so(slack: SignedSlack, fake_slack: FakeSlack) -> None:
    await slack.command("report case-nope")
    unknown = texts((await fake_slack.wait_for_response())["blocks"])
    await slack.command("report case-nope weekly")
    usage = texts((await fake_slack.wait_for_response(count=2))["blocks"])

    assert ":warning: no case with id 'case-nope'" in unknown
    assert "unknown kind of report 'weekly'" in usage and "/soar report ID" in usage
