"""Containment actions: idempotent records and the count behind the hourly ceiling."""

from __future__ import annotations

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
