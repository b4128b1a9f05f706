"""Which Slack message shows what: `slack_messages`, in the case store's database.

Every message the bot posts has a deterministic key (`case:<id>`, `approval:<id>`,
`reply:<case id>:<digest>`, `escalation:<id>`), and the row remembers its channel and
timestamp — so the next change becomes a `chat.update` of that message, and a retried
activity finds the post it already made instead of posting again. `version` is the
revision shown, so an older snapshot never overwrites a newer one. A row with an empty
channel records that nothing was posted because no channel is configured.

The bot owns the table: it is declared here alone, and created by the store's migration
`0002_slack_messages` (the core's schema lists it in `OWNED_ELSEWHERE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from soar.store.schema import NAMING_CONVENTION
from soar.store.types import UtcDateTime
from soar.store.upsert import upsert

SLACK_MESSAGES = Table(
    "slack_messages",
    MetaData(naming_convention=NAMING_CONVENTION),
    Column("key", String, primary_key=True),
    Column("channel", String, nullable=False),
    Column("ts", String, nullable=False),
    Column("version", String, nullable=False),
    Column("context", JSON, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)


@dataclass(frozen=True)
class SlackMessage:
    """One remembered message (or the decision not to post one)."""

    key: str
    channel: str
    ts: str
    version: str
    context: dict[str, Any] | None
    updated_at: datetime

    @property
    def posted(self) -> bool:
        return bool(self.channel and self.ts)


class SlackMessageStore:
    """Reads and idempotent writes of `slack_messages`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def get(self, key: str) -> SlackMessage | None:
        async with self._sessions() as session:
            row = (
                await session.execute(select(SLACK_MESSAGES).where(SLACK_MESSAGES.c.key == key))
            ).first()
        if row is None:
            return None
        return SlackMessage(
            key=row.key,
            channel=row.channel,
            ts=row.ts,
            version=row.version,
            context=row.context,
            updated_at=row.updated_at,
        )

    async def save(
        self,
        key: str,
        *,
        channel: str,
        ts: str,
        version: str,
        context: dict[str, Any] | None = None,
    ) -> None:
        """Remember where `key` is shown and which version it shows (one statement, so
        SQLite takes the write lock at once)."""
        now = datetime.now(UTC)
        row = {
            "key": key,
            "channel": channel,
            "ts": ts,
            "version": version,
            "context": context,
            "created_at": now,
            "updated_at": now,
        }
        async with self._sessions.begin() as session:
            await upsert(session, SLACK_MESSAGES, [row], insert_only={"created_at"})
