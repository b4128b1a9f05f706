"""Portable idempotent writes: `INSERT ... ON CONFLICT` for SQLite and PostgreSQL.

Every store write is keyed by the row's primary key — a deterministic id chosen by the
workflow — so a Temporal activity that runs twice writes the same row twice, never two
rows. The dialect's own `insert` construct is picked at runtime, here and only here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import ReadOnlyColumnCollection

Row = Mapping[str, Any]
Excluded = ReadOnlyColumnCollection[str, Any]
"""The would-be-inserted row (`excluded.<column>` in SQL), for update conditions."""

_DIALECT_INSERTS: dict[str, Callable[[Table], sqlite.Insert | postgresql.Insert]] = {
    "sqlite": sqlite.insert,
    "postgresql": postgresql.insert,
}


def _insert_for(session: AsyncSession, table: Table) -> sqlite.Insert | postgresql.Insert:
    dialect = session.get_bind().dialect.name
    try:
        return _DIALECT_INSERTS[dialect](table)
    except KeyError:
        raise NotImplementedError(
            f"the case store runs on SQLite or PostgreSQL, not {dialect}"
        ) from None


def _primary_key(table: Table) -> list[str]:
    return [column.name for column in table.primary_key.columns]


async def upsert(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Row],
    *,
    insert_only: Collection[str] = (),
    keep_if_null: Collection[str] = (),
    only_if: Callable[[Excluded], ColumnElement[bool]] | None = None,
) -> None:
    """Insert `rows`; where the primary key exists already, overwrite it with the new values.

    `insert_only` columns are written when the row is created and never updated (first
    seen times). A `keep_if_null` column keeps its stored value when the new row has
    NULL there (a redelivered alert does not detach it from its case). `only_if` is a
    condition the update must meet, so a stale snapshot cannot overwrite a newer one.
    """
    if not rows:
        return
    statement = _insert_for(session, table)
    excluded = statement.excluded
    key = _primary_key(table)
    updates = {
        column.name: (
            func.coalesce(excluded[column.name], column)
            if column.name in keep_if_null
            else excluded[column.name]
        )
        for column in table.columns
        if column.name not in key and column.name not in insert_only
    }
    statement = statement.on_conflict_do_update(
        index_elements=key,
        set_=updates,
        where=only_if(excluded) if only_if is not None else None,
    )
    await session.execute(statement, list(rows))


async def insert_missing(session: AsyncSession, table: Table, rows: Sequence[Row]) -> None:
    """Insert the `rows` whose primary key is not there yet; leave existing rows alone."""
    if not rows:
        return
    statement = _insert_for(session, table).on_conflict_do_nothing(
        index_elements=_primary_key(table)
    )
    await session.execute(statement, list(rows))


async def insert_new(session: AsyncSession, table: Table, rows: Sequence[Row]) -> set[Any]:
    """Insert the `rows` whose primary key is not there yet, and return the keys this
    statement inserted: a row another writer inserted first is not among them."""
    if not rows:
        return set()
    [key] = _primary_key(table)
    statement = (
        _insert_for(session, table)
        .on_conflict_do_nothing(index_elements=[key])
        .returning(table.c[key])
    )
    result = await session.execute(statement, list(rows))
    return set(result.scalars())
