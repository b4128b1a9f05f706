"""Alembic environment of the case store.

Two ways in: :meth:`soar.store.db.Store.migrate` hands over an open connection in
`config.attributes["connection"]` and owns the transaction; the developer command line
(`python -m soar.store.migrate`) gives a URL, and this module opens an async engine for
it with the same settings the product uses.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from soar.store.db import create_store_engine
from soar.store.schema import OWNED_ELSEWHERE, Base


def _render_item(kind: str, item: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render the store's column types as the plain SQLAlchemy types they are stored as,
    so migrations never import application code that may change after they are written."""
    if kind == "type" and isinstance(item, TypeDecorator):
        return f"sa.{item.impl_instance!r}"
    return False


def _include_name(name: str | None, kind: str, parents: Any) -> bool:
    """Compare only the tables the core declares (see `OWNED_ELSEWHERE`)."""
    return kind != "table" or name not in OWNED_ELSEWHERE


def _configure(**options: Any) -> None:
    context.configure(
        target_metadata=Base.metadata,
        compare_type=True,
        render_item=_render_item,
        include_name=_include_name,
        **options,
    )


def _run(connection: Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_store_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def _main() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        _configure(url=url, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    elif url is not None:
        asyncio.run(_run_with_own_engine(url))
    else:
        raise RuntimeError("no database: pass a connection in config.attributes or a URL")


_main()
