"""The durable spool: alerts accepted while the store or Temporal cannot take them wait
here, on disk.

SQLite in WAL mode with `synchronous=FULL`: once `put` returns, the alert survives a
crash of the process or the machine. The forwarder reads in insertion order and deletes
an entry only after its alert is recorded and its case signalled, so an entry is never
lost and, because the store records each alert id once and a case takes it once, never
counted twice.

Alerts whose delivery Temporal refuses (see `soar.ingest.start_errors`) are moved, in one
transaction, to the `parked` table of the same file, with the error: they no longer
block the alerts behind them, and `retry_parked` puts them back once the cause is fixed.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from soar.alerts.models import Alert

SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL,
    alert_json TEXT NOT NULL,
    queued_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS spool_alert_id ON spool (alert_id);
CREATE TABLE IF NOT EXISTS parked (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL,
    alert_json TEXT NOT NULL,
    queued_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    parked_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS parked_alert_id ON parked (alert_id);
"""

ERROR_MAX = 1000


@dataclass(frozen=True)
class SpooledAlert:
    seq: int
    alert: Alert
    attempts: int


@dataclass(frozen=True)
class ParkedAlert:
    """An alert whose delivery Temporal refused, with the refusal."""

    seq: int
    alert: Alert
    error: str
    parked_at: datetime
    attempts: int


class Spool:
    """A FIFO of alerts on disk. Thread-safe; async methods run SQLite in a thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)
        self._depth = self._count()

    @property
    def depth(self) -> int:
        """Entries waiting, as counted by this process (cheap; no disk read)."""
        return self._depth

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction, committed whole or rolled back; the caller holds the lock."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _count(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM spool").fetchone()
        return int(count)

    def _put_many(self, alerts: list[Alert]) -> None:
        rows = [(alert.id, alert.model_dump_json()) for alert in alerts]
        with self._lock:
            with self._transaction():
                self._db.executemany("INSERT INTO spool (alert_id, alert_json) VALUES (?, ?)", rows)
            self._depth += len(rows)

    async def put_many(self, alerts: list[Alert]) -> None:
        """Append alerts durably, all or none."""
        if alerts:
            await asyncio.to_thread(self._put_many, alerts)

    def _head(self, limit: int) -> list[SpooledAlert]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, alert_json, attempts FROM spool ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [
            SpooledAlert(seq=seq, alert=Alert.model_validate_json(body), attempts=attempts)
            for seq, body, attempts in rows
        ]

    async def head(self, limit: int = 100) -> list[SpooledAlert]:
        """The oldest entries, oldest first."""
        return await asyncio.to_thread(self._head, limit)

    def _remove_many(self, seqs: list[int]) -> None:
        with self._lock:
            with self._transaction():
                deleted = self._db.executemany(
                    "DELETE FROM spool WHERE seq = ?", [(seq,) for seq in seqs]
                ).rowcount
            self._depth -= deleted

    async def remove_many(self, seqs: list[int]) -> None:
        """Drop entries whose alerts are delivered, in one transaction."""
        if seqs:
            await asyncio.to_thread(self._remove_many, seqs)

    def _record_failure(self, seq: int, error: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE spool SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                (error[:ERROR_MAX], seq),
            )

    async def record_failure(self, seq: int, error: str) -> None:
        await asyncio.to_thread(self._record_failure, seq, error)

    def _park(self, seq: int, error: str) -> None:
        with self._lock:
            with self._transaction():
                moved = self._db.execute(
                    "INSERT INTO parked (alert_id, alert_json, queued_at, attempts, error) "
                    "SELECT alert_id, alert_json, queued_at, attempts + 1, ? "
                    "FROM spool WHERE seq = ?",
                    (error[:ERROR_MAX], seq),
                ).rowcount
                self._db.execute("DELETE FROM spool WHERE seq = ?", (seq,))
            self._depth -= moved

    async def park(self, seq: int, error: str) -> None:
        """Move a spooled entry Temporal refused to the parked table, in one transaction."""
        await asyncio.to_thread(self._park, seq, error)

    def _park_many(self, refused: list[tuple[Alert, str]]) -> None:
        rows = [(alert.id, alert.model_dump_json(), error[:ERROR_MAX]) for alert, error in refused]
        with self._lock, self._transaction():
            self._db.executemany(
                "INSERT INTO parked (alert_id, alert_json, attempts, error) VALUES (?, ?, 1, ?)",
                rows,
            )

    async def park_many(self, refused: list[tuple[Alert, str]]) -> None:
        """Park alerts whose start Temporal refused at submit time, durably, all or none."""
        if refused:
            await asyncio.to_thread(self._park_many, refused)

    def _parked(self, limit: int) -> list[ParkedAlert]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, alert_json, error, parked_at, attempts FROM parked "
                "ORDER BY seq DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            ParkedAlert(
                seq=seq,
                alert=Alert.model_validate_json(body),
                error=error,
                parked_at=datetime.fromisoformat(parked_at),
                attempts=attempts,
            )
            for seq, body, error, parked_at, attempts in rows
        ]

    async def parked(self, limit: int = 10) -> list[ParkedAlert]:
        """The most recently parked alerts, newest first."""
        return await asyncio.to_thread(self._parked, limit)

    def count_parked(self) -> int:
        """Parked alerts, read from disk (other processes may share the file)."""
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM parked").fetchone()
        return int(count)

    def _retry_parked(self) -> int:
        with self._lock:
            with self._transaction():
                moved = self._db.execute(
                    "INSERT INTO spool (alert_id, alert_json, queued_at, attempts, last_error) "
                    "SELECT alert_id, alert_json, queued_at, attempts, error "
                    "FROM parked ORDER BY seq"
                ).rowcount
                self._db.execute("DELETE FROM parked")
            self._depth += moved
        return moved

    async def retry_parked(self) -> int:
        """Move every parked alert to the end of the spool, in the order they were parked,
        so the forwarder tries them again; returns how many were moved."""
        return await asyncio.to_thread(self._retry_parked)

    def _find(self, alert_id: str) -> Alert | None:
        with self._lock:
            row = (
                self._db.execute(
                    "SELECT alert_json FROM spool WHERE alert_id = ? ORDER BY seq DESC LIMIT 1",
                    (alert_id,),
                ).fetchone()
                or self._db.execute(
                    "SELECT alert_json FROM parked WHERE alert_id = ? ORDER BY seq DESC LIMIT 1",
                    (alert_id,),
                ).fetchone()
            )
        return Alert.model_validate_json(row[0]) if row else None

    async def find(self, alert_id: str) -> Alert | None:
        """A queued or parked alert by id, so the operator API can show it before it is
        recorded."""
        return await asyncio.to_thread(self._find, alert_id)

    def refresh_depth(self) -> int:
        """Re-read the depth from disk (other processes may share the file)."""
        self._depth = self._count()
        return self._depth

    def close(self) -> None:
        with self._lock:
            self._db.close()
