"""`slack_messages`: created by the store's migration as the bot declares it, and written
idempotently."""

from __future__ import annotations

import uuid
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from bot.message_store import SLACK_MESSAGES, SlackMessageStore
from soar.store.db import Store


def _diff(connection: Connection) -> list[Any]:
    metadata = MetaData()
    SLACK_MESSAGES.to_metadata(metadata)
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [
        change for change in compare_metadata(context, metadata) if "slack_messages" in repr(change)
    ]


async def test_migration_matches_the_table_the_bot_uses(store: Store) -> None:
    async with store.engine.connect() as connection:
        assert await connection.run_sync(_diff) == []


async def test_messages_are_remembered_and_rewritten(store: Store) -> None:
    messages = SlackMessageStore(store.engine)
    key = f"case:{uuid.uuid4().hex}"
    assert await messages.get(key) is None
    await messages.save(key, channel="C1", ts="1.1", version="a", context={"rule": "x"})
    first = await messages.get(key)
    await messages.save(key, channel="C1", ts="1.1", version="b")
    second = await messages.get(key)
    assert first is not None and second is not None
    assert (first.version, second.version, second.context) == ("a", "b", None)
    assert second.posted and second.updated_at >= first.updated_at
