"""Reading containment actions across cases: one by id, every one newest first, the ones
in force soonest expiry first (never-expiring ones last), and a timeline recorded under a
case id the store holds no case for."""

from __future__ import annotations

from soar.containment.models import ActionState
from soar.store.db import Store

from . import factories


async def test_actions_are_read_by_id_and_listed_across_cases(store: Store) -> None:
    applied = {"state": ActionState.APPLIED, "applied_at": factories.at(4)}
    late = factories.action(
        "late", "case-1", created_at=factories.at(10), expires_at=factories.at(90), **applied
    )
    soon = factories.action(
        "soon",
        "case-2",
        created_at=factories.at(5),
        expires_at=factories.at(30),
        state=ActionState.VERIFIED,
    )
    forever = factories.action("forever", "case-2", created_at=factories.at(7), **applied)
    undone = factories.action(
        "undone",
        "case-3",
        created_at=factories.at(8),
        state=ActionState.REVERTED,
        reverted_at=factories.at(9),
    )
    dry = factories.action("dry", "case-3", created_at=factories.at(6), state=ActionState.DRY_RUN)
    for action in (late, soon, forever, undone, dry):
        await store.upsert_action(action)

    assert await store.get_action("soon") == soon
    assert await store.get_action("nope") is None
    every = await store.list_actions()
    assert [a.id for a in every] == ["late", "undone", "forever", "dry", "soon"]
    in_force = await store.list_actions(active=True)
    assert [a.id for a in in_force] == ["soon", "late", "forever"]
    assert [a.id for a in await store.list_actions(active=True, limit=1, offset=1)] == ["late"]


async def test_a_timeline_is_read_without_its_case(store: Store) -> None:
    for event in (
        factories.event("e2", "lone", minutes=2),
        factories.event("e1", "lone", minutes=1),
    ):
        await store.add_timeline_event(event)
    await store.add_timeline_event(factories.event("other", "case-9"))
    assert [e.id for e in await store.get_timeline("lone")] == ["e1", "e2"]
    assert await store.get_case_detail("lone") is None
