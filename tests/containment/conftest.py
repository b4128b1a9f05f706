"""The store tests' fixtures, so containment runs against a real, migrated store: SQLite
always, PostgreSQL when `SOAR_TEST_DATABASE_URL` is set."""

from __future__ import annotations

from tests.store.conftest import empty_store, store

__all__ = ["empty_store", "store"]
