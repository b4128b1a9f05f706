"""The `[reports]` table: where summaries and digests go and how they look."""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator


class Weekday(StrEnum):
    """A day of the week, as `[reports] digest_weekly_day` names it."""

    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def number(self) -> int:
        """0 for Monday up to 6 for Sunday (Python's `date.weekday()`)."""
        return list(Weekday).index(self)


class ReportSettings(BaseModel):
    """Settings of case summaries and digests (see the README's "Reports" section)."""

    templates_dir: Path | None = Field(
        default=None,
        description=(
            "A directory whose templates replace the shipped ones of the same name "
            "(the rest stay the shipped ones)."
        ),
    )
    management_channel: str | None = Field(
        default=None,
        description="The Slack channel (id or #name) that receives digests and executive reports.",
    )
    timezone: str = Field(
        default="UTC", description="The IANA time zone digests count days and send times in."
    )
    digest_enabled: bool = Field(
        default=True,
        description=(
            "Send the daily and weekly digests (their Temporal Schedules are created at "
            "worker start, and removed when this is false)."
        ),
    )
    digest_time: time = Field(
        default=time(8, 0),
        description="When the digests are sent (HH:MM in `timezone`).",
    )
    digest_weekly_day: Weekday = Field(
        default=Weekday.MONDAY, description="The day the weekly digest is sent."
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{name!r} is not an IANA time zone such as UTC or Europe/Paris"
            ) from None
        return name

    @field_validator("digest_time")
    @classmethod
    def _whole_minute(cls, value: time) -> time:
        if value.second or value.microsecond or value.tzinfo is not None:
            raise ValueError("give a time of day as HH:MM, without seconds or a zone")
        return value
