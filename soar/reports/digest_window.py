"""The stretch of time a digest covers, the one before it, and its days.

Days are calendar days in the configured time zone (`[reports] timezone`): a scheduled
digest covers whole days — the daily one yesterday, the weekly one the seven days up to
today — so its figures do not depend on the minute it ran. `soar report digest --since`
covers the moment it is asked back to that far. Either way the previous period is the
same stretch just before, and the chart counts per day over at least the last week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from soar.reports.digest_contract import DigestPeriod

CHART_DAYS = 7
"""The chart shows at least this many days, so a daily digest shows the week's trend."""


@dataclass(frozen=True)
class DayBucket:
    """One calendar day in the time zone, as a half-open UTC range `[start, end)`
    (clipped to the chart's range on its first day)."""

    day: date
    start: datetime
    end: datetime


@dataclass(frozen=True)
class DigestWindow:
    """`[start, end)` is the period, `[previous_start, start)` the one before it; all
    three are aware UTC datetimes."""

    label: str
    start: datetime
    end: datetime
    previous_start: datetime
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def last_day(self) -> date:
        """The last calendar day the period touches (the date a digest file is named by)."""
        return (self.end - timedelta(microseconds=1)).astimezone(self.zone).date()

    def days(self) -> list[DayBucket]:
        """The calendar days from `CHART_DAYS` days (or the period, when longer) before
        `end` up to `end`, oldest first (a week back on the wall clock, so a change to or
        from summer time does not add a day)."""
        zone = self.zone
        week_back = (self.end.astimezone(zone) - timedelta(days=CHART_DAYS)).astimezone(UTC)
        chart_start = min(self.start, week_back)
        day = chart_start.astimezone(zone).date()
        buckets: list[DayBucket] = []
        while (start := _midnight(day, zone)) < self.end:
            following = _midnight(day + timedelta(days=1), zone)
            buckets.append(DayBucket(day, max(start, chart_start), min(following, self.end)))
            day += timedelta(days=1)
        return buckets


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def scheduled_window(period: DigestPeriod, at: datetime, timezone: str) -> DigestWindow:
    """The whole days of `period` before the day `at` falls on, in `timezone`."""
    zone = ZoneInfo(timezone)
    today = at.astimezone(zone).date()
    first = today - timedelta(days=period.days)
    return DigestWindow(
        label=period.value,
        start=_midnight(first, zone),
        end=_midnight(today, zone),
        previous_start=_midnight(first - timedelta(days=period.days), zone),
        timezone=timezone,
    )


def recent_window(length: timedelta, now: datetime, timezone: str) -> DigestWindow:
    """The `length` up to `now` (and the `length` before it)."""
    end = now.astimezone(UTC)
    return DigestWindow(
        label=f"last {describe_length(length)}",
        start=end - length,
        end=end,
        previous_start=end - 2 * length,
        timezone=timezone,
    )


def describe_length(length: timedelta) -> str:
    """`7 days`, `24 hours`, `90 minutes`: the length as a person says it (the largest
    unit it is a whole number of, at least two of them)."""
    seconds = int(length.total_seconds())
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} seconds"
