"""The digest's figures from a seeded store equal the same figures worked out in Python
from the seeded objects — on SQLite, and on PostgreSQL when SOAR_TEST_DATABASE_URL is
set (a schema of the test's own, dropped afterwards)."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.schema import DropSchema

from soar.reports.digest_contract import DigestPeriod
from soar.reports.digest_window import recent_window, scheduled_window
from soar.reports.figures import Durations, PeriodFigures, digest_figures
from soar.store.db import Store
from tests.reports.digest_seed import (
    expected_days,
    expected_period,
    expected_rules,
    scenario,
    seed,
)

POSTGRES_URL_VARIABLE = "SOAR_TEST_DATABASE_URL"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def digest_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A migrated, empty store on SQLite, or in a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        store = Store(f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}")
        await store.migrate()
        yield store
        await store.close()
        return
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is unset: no PostgreSQL to test against")
    schema = f"soar_digest_{uuid.uuid4().hex[:16]}"
    store = Store(url, schema=schema)
    try:
        await store.migrate()
        yield store
    finally:
        async with store.engine.begin() as connection:
            await connection.execute(DropSchema(schema, cascade=True, if_exists=True))
        await store.close()


def _as_expected(figures: PeriodFigures) -> dict[str, object]:
    answer = dataclasses.asdict(figures)
    for name in ("start", "end"):
        answer.pop(name)
    for name in ("acknowledge", "resolve", "decide"):
        durations: Durations = getattr(figures, name)
        answer[name] = (durations.count, durations.mean_seconds, durations.median_seconds)
    return answer


def _close(actual: object, expected: object) -> bool:
    """Equal, with float means and medians equal to the microsecond."""
    if isinstance(actual, tuple) and isinstance(expected, tuple):
        return len(actual) == len(expected) and all(map(_close, actual, expected))
    if isinstance(actual, float) and isinstance(expected, float):
        return abs(actual - expected) < 1e-6
    return actual == expected


async def test_the_figures_match_the_seeded_store(digest_store: Store) -> None:
    drawn = scenario()
    await seed(digest_store, drawn)
    window = drawn.window

    figures = await digest_figures(digest_store.engine, window)

    for actual, (start, end) in (
        (figures.current, (window.start, window.end)),
        (figures.previous, (window.previous_start, window.start)),
    ):
        expected = expected_period(drawn, start, end)
        got = _as_expected(actual)
        wrong = {k: (got[k], v) for k, v in expected.items() if not _close(got[k], v)}
        assert not wrong, f"[{start}, {end}) differs (got, expected): {wrong}"
        assert actual.alerts > 0 and actual.cases_resolved > 0 and actual.acknowledge.count > 0
    assert [(r.rule, r.alerts, r.previous_alerts) for r in figures.rules] == expected_rules(drawn)
    assert [(d.day.isoformat(), d.alerts, d.cases) for d in figures.days] == expected_days(drawn)


async def test_an_empty_store_has_zeros_and_no_rates(digest_store: Store) -> None:
    window = scheduled_window(DigestPeriod.DAILY, datetime(2026, 5, 2, 8, tzinfo=UTC), "UTC")

    figures = await digest_figures(digest_store.engine, window)

    assert figures.current.alerts == 0 and figures.current.alerts_by_source == {}
    assert figures.current.automation_rate is None
    assert figures.current.resolve == Durations(0, None, None)
    assert figures.current.sla_breaches == {"acknowledge": 0, "decide": 0}
    assert figures.rules == []
    assert [d.alerts for d in figures.days] == [0] * 7


def test_scheduled_windows_are_whole_days_in_the_time_zone() -> None:
    at = datetime(2026, 3, 30, 6, 0, tzinfo=UTC)  # 08:00 in Paris, summer time since Sunday

    weekly = scheduled_window(DigestPeriod.WEEKLY, at, "Europe/Paris")
    daily = scheduled_window(DigestPeriod.DAILY, at, "Europe/Paris")

    assert weekly.start == datetime(2026, 3, 22, 23, 0, tzinfo=UTC)
    assert weekly.end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert weekly.previous_start == datetime(2026, 3, 15, 23, 0, tzinfo=UTC)
    assert weekly.last_day.isoformat() == "2026-03-29"
    assert daily.start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert daily.end == weekly.end and daily.previous_start == datetime(
        2026, 3, 27, 23, 0, tzinfo=UTC
    )
    days = weekly.days()
    assert [d.day.isoformat() for d in days] == [f"2026-03-{n}" for n in range(23, 30)]
    assert days[-1].end - days[-1].start == timedelta(hours=23)
    assert [d.day for d in daily.days()] == [d.day for d in days]


def test_a_recent_window_ends_now_and_its_first_day_is_clipped() -> None:
    now = datetime(2026, 5, 10, 14, 30, tzinfo=UTC)

    window = recent_window(timedelta(days=7), now, "UTC")

    assert (window.start, window.end) == (now - timedelta(days=7), now)
    assert window.previous_start == now - timedelta(days=14)
    assert window.label == "last 7 days"
    days = window.days()
    assert len(days) == 8 and days[0].start == window.start and days[-1].end == now
