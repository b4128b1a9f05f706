"""Containment actions: idempotent records and the count behind the hourly ceiling."""

from __future__ import annotations

from datetime import timedelta, timezone

from soar.containment.models import ActionState
from soar.store.db import Store

from . import factories


async def test_upsert_action_twice_keeps_one_row_with_the_latest_values(store: Store) -> None:
    planned = factories.action()
    reverted = planned.model_copy(
        update={
            "state": ActionState.REVERTED,
            "actuator": "pfsense",
            "detail": "rule 42 removed",
            "approval_id": "appr-1",
            "applied_at": factories.at(4),
            "expires_at": factories.at(64),
            "reverted_at": factories.at(64),
        }
    )
    await store.upsert_action(planned)
    await store.upsert_action(planned)
    await store.upsert_action(reverted)
    await store.upsert_case(factories.case())
    detail = await store.get_case_detail("case-1")
    assert detail is not None
    assert detail.actions == [reverted]


async def test_count_containments_since_counts_applied_actions_only(store: Store) -> None:
    applied = [
        factories.action("early", applied_at=factories.at(0), state=ActionState.VERIFIED),
        factories.action("edge", applied_at=factories.at(60), state=ActionState.APPLIED),
        factories.action("late", applied_at=factories.at(90), state=ActionState.REVERTED),
    ]
    not_applied = [
        factories.action("dry", state=ActionState.DRY_RUN),
        factories.action("refused", state=ActionState.REFUSED),
        factories.action("none", state=ActionState.NO_ACTUATOR),
    ]
    for action in applied + not_applied:
        await store.upsert_action(action)
    since = factories.at(60)
    assert await store.count_containments_since(since) == 2
    assert await store.count_containments_since(since - timedelta(hours=2)) == 3
    assert await store.count_containments_since(factories.at(91)) == 0
    in_another_zone = since.astimezone(timezone(timedelta(hours=2)))
    assert await store.count_containments_since(in_another_zone) == 2
