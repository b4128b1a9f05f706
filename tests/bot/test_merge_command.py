"""`/soar merge ID INTO [REASON]`: two real cases held by case workflows on the Temporal
dev server, merged from Slack through the case service, with the close permission; a
second ask says where the case went; a bad line is a usage answer."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.worker import Worker

from soar.alerts.models import Severity
from soar.cases.models import CaseState, TimelineKind
from soar.settings import Settings
from soar.store.db import Store
from soar.store.views import CaseDetail
from soar.testing.fake_slack import FakeSlack

from . import flows
from .support import MALLORY, SignedSlack, eventually, texts


async def test_soar_merge_merges_once_and_needs_the_close_permission(
    slack: SignedSlack,
    fake_slack: FakeSlack,
    store: Store,
    temporal_client: Client,
    slack_worker: Worker,
    slack_settings: Settings,
) -> None:
    queue = slack_settings.temporal.task_queue
    first, survivor = [
        await flows.open_case(temporal_client, store, queue, title, severity=Severity.LOW)
        for title in ("Odd DNS lookups from the build farm", "More odd DNS lookups")
    ]

    await slack.command(f"merge {first.id} {survivor.id}", user=MALLORY)
    assert "not allowed to close" in texts((await fake_slack.wait_for_response())["blocks"])

    await slack.command(f"merge {first.id} {survivor.id} one build farm <b>")
    answer = texts((await fake_slack.wait_for_response(count=2))["blocks"])
    assert f"Merging case `{first.id}` into `{survivor.id}`" in answer

    async def merged() -> CaseDetail | None:
        gone = await store.get_case_detail(first.id)
        after = await store.get_case_detail(survivor.id)
        if gone is None or after is None or after.alert_count != 2:
            return None
        # The survivor points the merged case at itself first; its own closing follows.
        closed = gone.merged_into == survivor.id and gone.state is CaseState.CLOSED
        return gone if closed else None

    gone = await eventually(merged, within=30)
    assert gone.state is CaseState.CLOSED
    [entry] = [e for e in gone.timeline if e.kind == TimelineKind.CASE_MERGED]
    assert (entry.actor, entry.reason) == ("alice", "one build farm <b>")

    await slack.command(f"merge {first.id} {survivor.id}")
    again = texts((await fake_slack.wait_for_response(count=3))["blocks"])
    assert f"Case `{first.id}` was merged into `{survivor.id}` already." in again

    await slack.command(f"merge {survivor.id} {survivor.id}")
    itself = texts((await fake_slack.wait_for_response(count=4))["blocks"])
    assert "cannot be merged into itself" in itself

    await slack.command(f"merge {first.id}")
    usage = texts((await fake_slack.wait_for_response(count=5))["blocks"])
    assert "give the case to merge and the case it goes into" in usage
