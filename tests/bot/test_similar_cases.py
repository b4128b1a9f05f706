"""The case message's line of similar open cases: rendered short and escaped, and looked
up from the store by the Slack channel each time it shows a case (against the fake
Slack, over the real store), leaving out the values configured as ignored."""

from __future__ import annotations

from pathlib import Path

from bot.links import Links
from bot.messages import MAX_SIMILAR_SHOWN, case_message
from bot.people import People
from bot.settings import SlackSettings
from soar.alerts.models import Observable, ObservableRole, ObservableType
from soar.cases.correlation import CorrelationSettings
from soar.notifications.models import CaseContext, CaseMessageRequest, SimilarCaseNote
from soar.store.db import Store
from soar.testing.fake_slack import FakeSlack
from tests.conftest import unique

from .support import bot_settings, case, slack_channel, texts

HOSTILE = "<!channel> `x` *bold* <https://evil.example|click>"
LINKS = Links(api_base="https://soar.test", web_ui="http://temporal.test:8233", namespace="default")
PEOPLE = People(SlackSettings())


def shown_with(similar: list[SimilarCaseNote]) -> str:
    return texts(case_message(case(), CaseContext(similar=similar), LINKS, PEOPLE).blocks)


def test_the_line_names_a_few_similar_cases_and_counts_the_rest() -> None:
    similar = [
        SimilarCaseNote(case_id=f"case-{n}", values=[f"10.0.0.{n}"], shared=1 + n % 2)
        for n in range(MAX_SIMILAR_SHOWN + 2)
    ]

    shown = shown_with(similar)

    assert (
        "*Similar open cases:* `case-0` shares `10.0.0.0`; "
        "`case-1` shares `10.0.0.1` and 1 more; `case-2` shares `10.0.0.2`; 2 other cases"
    ) in shown
    assert "`case-3`" not in shown and "`case-4`" not in shown


def test_a_hostile_shared_value_is_shown_as_text() -> None:
    similar = [SimilarCaseNote(case_id="case-h", values=[HOSTILE], shared=1)]

    shown = shown_with(similar)

    line = next(t for t in shown.split("\n") if "Similar open cases" in t)
    assert "<!channel>" not in line and "<https://" not in line
    assert "&lt;!channel&gt;" in line


def test_without_similar_cases_there_is_no_line() -> None:
    assert "Similar open cases" not in shown_with([])


async def test_the_channel_shows_the_similar_cases_the_store_holds_now(
    tmp_path: Path, fake_slack: FakeSlack, store: Store
) -> None:
    attacker = Observable(
        type=ObservableType.IP,
        value=f"2001:db8::{int(unique()[:4], 16):x}",
        role=ObservableRole.SOURCE,
    )
    proxy = Observable(type=ObservableType.HOSTNAME, value=f"proxy-{unique()}.corp.example")
    mine = case(observables=[attacker, proxy])
    theirs = case(observables=[attacker])
    by_proxy = case(observables=[proxy])
    for stored in (mine, theirs, by_proxy):
        await store.upsert_case(stored)
    settings = bot_settings(
        tmp_path,
        fake_slack,
        correlation=CorrelationSettings(ignore_for_similarity=[proxy.value.upper()]),
    )

    posted = await slack_channel(settings, store).case_message(CaseMessageRequest(case=mine))

    message = fake_slack.messages[(posted.channel or "", posted.ts or "")]
    shown = texts(message.blocks)
    assert f"*Similar open cases:* `{theirs.id}` shares `{attacker.value}`" in shown
    assert by_proxy.id not in shown, "the proxy is ignored by configuration"
