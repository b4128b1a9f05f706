"""The digest workflow's contract: its name, its schedules' ids, its input and output.

The daily and weekly digests are each a Temporal Schedule (fixed ids, so the worker
creates or updates the same two at every start) starting `DigestWorkflow` with a
:class:`DigestRequest`; the workflow hands its one activity a :class:`DigestJob` and
returns what the activity did (:class:`DigestOutcome`).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from soar.cases.models import UtcDatetime

DIGEST_WORKFLOW = "digest"
SEND_DIGEST_ACTIVITY = "reports.send_digest"


class DigestPeriod(StrEnum):
    """Which digest: yesterday, or the seven days up to today."""

    DAILY = "daily"
    WEEKLY = "weekly"

    @property
    def days(self) -> int:
        """The calendar days the digest covers."""
        return 1 if self is DigestPeriod.DAILY else 7


def schedule_id(period: DigestPeriod) -> str:
    """The Temporal Schedule of one digest (`soar-digest-daily`, `soar-digest-weekly`)."""
    return f"soar-digest-{period.value}"


def digest_workflow_id(period: DigestPeriod) -> str:
    """The id the schedule starts its workflows under (Temporal appends the time)."""
    return f"digest-{period.value}"


class DigestRequest(BaseModel):
    """What a schedule (or a person triggering one) asks for. `at` is the moment the
    digest is for; when absent the workflow uses its scheduled start time."""

    period: DigestPeriod
    at: UtcDatetime | None = None


class DigestJob(BaseModel):
    """The activity's input: the digest of `period` as of `at`, which falls in the first
    day after the period (the period ends at that day's midnight)."""

    period: DigestPeriod
    at: UtcDatetime


class DigestOutcome(BaseModel):
    """What a digest run did: the files written and what became of the post."""

    html_file: str
    markdown_file: str
    posted: str
    """`posted`, `already posted`, or why nothing was posted."""
