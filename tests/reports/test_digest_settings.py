"""The `[reports]` digest settings: their defaults, and a bad value as one line naming
the setting (never a traceback)."""

from __future__ import annotations

from datetime import time

import pytest
from pydantic import ValidationError

from soar.reports.settings import ReportSettings, Weekday
from soar.settings import Settings, setting_problems


def test_the_defaults_send_both_digests_at_eight_in_utc() -> None:
    reports = Settings().reports

    assert reports.digest_enabled is True
    assert (reports.digest_time, reports.digest_weekly_day) == (time(8, 0), Weekday.MONDAY)
    assert reports.timezone == "UTC" and reports.management_channel is None


def test_the_settings_read_as_written_in_soar_toml() -> None:
    reports = ReportSettings.model_validate(
        {"digest_time": "07:30", "digest_weekly_day": "friday", "timezone": "Asia/Tokyo"}
    )

    assert reports.digest_time == time(7, 30)
    assert reports.digest_weekly_day.number == 4


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (
            {"timezone": "Mars/Olympus"},
            "reports.timezone: Value error, 'Mars/Olympus' is not an IANA time zone",
        ),
        (
            {"timezone": "../../etc/passwd"},
            "reports.timezone: Value error, '../../etc/passwd' is not",
        ),
        ({"digest_time": "25:00"}, "reports.digest_time: Input should be in a valid time format"),
        (
            {"digest_time": "08:00:30"},
            "reports.digest_time: Value error, give a time of day as HH:MM",
        ),
        ({"digest_weekly_day": "someday"}, "reports.digest_weekly_day: Input should be 'monday'"),
    ],
)
def test_a_bad_value_names_the_setting(table: dict[str, str], problem: str) -> None:
    with pytest.raises(ValidationError) as bad:
        Settings.model_validate({"reports": table})

    assert setting_problems(bad.value).startswith(problem)
