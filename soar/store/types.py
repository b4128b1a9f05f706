"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, Text
from sqlalchemy.types import TypeDecorator

NUL = "\x00"
REPLACEMENT = "\ufffd"


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored in UTC and read back aware.

    PostgreSQL keeps it as `timestamptz`. SQLite has no time zones, so the value is
    stored as naive UTC text — which also makes lexical order equal time order — and
    the zone is put back on read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store takes aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SafeText(TypeDecorator[str]):
    """Text that never makes a write fail.

    PostgreSQL text cannot hold U+0000, and alert content is attacker-controlled, so a
    NUL would turn a projection write into an endless activity retry. On PostgreSQL it
    becomes U+FFFD; SQLite stores it as is. The alert's `raw` JSON keeps the original.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is not None and dialect.name == "postgresql" and NUL in value:
            return value.replace(NUL, REPLACEMENT)
        return value
