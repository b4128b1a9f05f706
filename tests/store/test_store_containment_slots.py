"""Slots of the hourly containment ceiling: reserved atomically, kept by their action,
counted for an hour, given back on request, and taken by actions applied before the
migration that added them."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import insert
from sqlalchemy.engine import Connection

from soar.containment.models import ActionState, ContainmentAction
from soar.store import mapping
from soar.store.db import Store
from soar.store.migrate import alembic_config
from soar.store.repository import ACTIONS, SlotReservation

from . import factories

HOUR = timedelta(hours=1)


async def reserve(store: Store, action_id: str, at: datetime, ceiling: int = 3) -> SlotReservation:
    return await store.reserve_containment_slot(action_id, at=at, since=at - HOUR, ceiling=ceiling)


def _row_of_0002(action: ContainmentAction) -> dict[str, Any]:
    """The action as the schema of revision 0002 held it (no per-actuator outcomes)."""
    row = mapping.action_row(action)
    del row["outcomes"]
    return row


def _downgrade_to_0002(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "0002")


async def test_reservations_stop_at_the_ceiling(store: Store) -> None:
    granted = [await reserve(store, f"act-{n}", factories.at(n)) for n in range(3)]
    refused = await reserve(store, "act-3", factories.at(3))

    assert granted == [SlotReservation(granted=True, held=n) for n in range(3)]
    assert refused == SlotReservation(granted=False, held=3)
    assert await store.count_containment_slots_since(factories.at(0)) == 3


async def test_an_action_keeps_its_slot_when_its_activity_is_retried(store: Store) -> None:
    for n in range(3):
        await reserve(store, f"act-{n}", factories.at(n))

    again = await reserve(store, "act-1", factories.at(5))

    assert again == SlotReservation(granted=True, held=2)
    assert await store.count_containment_slots_since(factories.at(0)) == 3
    assert await store.count_containment_slots_since(factories.at(0), excluding="act-1") == 2


async def test_slots_older_than_the_window_no_longer_count(store: Store) -> None:
    for n in range(3):
        await reserve(store, f"act-{n}", factories.at(n))

    act_2_is_the_last_in_the_hour = await reserve(store, "act-3", factories.at(62))

    assert act_2_is_the_last_in_the_hour == SlotReservation(granted=True, held=1)
    assert await store.count_containment_slots_since(factories.at(0)) == 2


async def test_a_released_slot_can_be_taken_by_another_action(store: Store) -> None:
    for n in range(3):
        await reserve(store, f"act-{n}", factories.at(n))

    await store.release_containment_slot("act-0")
    await store.release_containment_slot("never-reserved")

    assert await reserve(store, "act-3", factories.at(3)) == SlotReservation(granted=True, held=2)


async def test_stores_reserving_at_once_never_overrun_the_ceiling(store: Store) -> None:
    """Separate stores on one database, like a worker in each of several processes."""
    others = [Store(store.engine.url, schema=store.schema) for _ in range(2)]
    stores = [store, *others]
    try:
        reservations = await asyncio.gather(
            *(reserve(stores[n % 3], f"act-{n}", factories.at(1), ceiling=20) for n in range(30))
        )
    finally:
        for other in others:
            await other.close()

    assert sum(reservation.granted for reservation in reservations) == 20
    assert await store.count_containment_slots_since(factories.at(0)) == 20


async def test_upgrading_gives_the_actions_applied_before_it_their_slots(store: Store) -> None:
    async with store.engine.begin() as connection:
        await connection.run_sync(_downgrade_to_0002)
        for action in (
            factories.action("applied", applied_at=factories.at(10), state=ActionState.VERIFIED),
            factories.action("dry", state=ActionState.DRY_RUN),
        ):
            await connection.execute(insert(ACTIONS).values(_row_of_0002(action)))

    await store.migrate()

    assert await store.count_containment_slots_since(factories.at(0)) == 1
    assert await reserve(store, "applied", factories.at(20)) == SlotReservation(
        granted=True, held=0
    )
