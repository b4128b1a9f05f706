"""The daily and weekly digests' Temporal Schedules, made to match the configuration.

Every worker start calls :func:`ensure_digest_schedules`: each schedule (fixed ids
`soar-digest-daily`, `soar-digest-weekly`) is created when missing and otherwise
updated to the configured time, day, time zone and task queue, keeping whether an
operator paused it; with `[reports] digest_enabled = false` both are deleted. Running
it again changes nothing, so any number of workers may start at once.

The daily digest runs every day at `digest_time`, the weekly one on
`digest_weekly_day` at the same time, both in `[reports] timezone` (Temporal keeps the
wall-clock time across changes of summer time). A run that cannot start on time is
still started within a day (the catch-up window); a run still going when the next is
due makes the next one skip.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from soar.reports.digest_contract import (
    DIGEST_WORKFLOW,
    DigestPeriod,
    DigestRequest,
    digest_workflow_id,
    schedule_id,
)
from soar.reports.settings import ReportSettings

log = logging.getLogger(__name__)

CATCHUP_WINDOW = timedelta(days=1)
RUN_TIMEOUT = timedelta(days=1)


@dataclass
class ScheduleChanges:
    """What :func:`ensure_digest_schedules` did, by schedule id."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def digest_schedule(period: DigestPeriod, settings: ReportSettings, task_queue: str) -> Schedule:
    """The schedule of one digest, as the configuration wants it."""
    at = settings.digest_time
    calendar = ScheduleCalendarSpec(
        hour=[ScheduleRange(at.hour)],
        minute=[ScheduleRange(at.minute)],
        day_of_week=[ScheduleRange(_temporal_weekday(settings.digest_weekly_day.number))]
        if period is DigestPeriod.WEEKLY
        else [ScheduleRange(0, 6)],
        comment=f"the {period.value} digest",
    )
    return Schedule(
        action=ScheduleActionStartWorkflow(
            DIGEST_WORKFLOW,
            DigestRequest(period=period),
            id=digest_workflow_id(period),
            task_queue=task_queue,
            execution_timeout=RUN_TIMEOUT,
        ),
        spec=ScheduleSpec(calendars=[calendar], time_zone_name=settings.timezone),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP_WINDOW),
        state=ScheduleState(note="managed by soar: [reports] digest_* settings"),
    )


def _temporal_weekday(monday_first: int) -> int:
    """Temporal counts the days of the week from Sunday (0), Python from Monday."""
    return (monday_first + 1) % 7


async def ensure_digest_schedules(
    client: Client, settings: ReportSettings, task_queue: str
) -> ScheduleChanges:
    """Create, update or (when digests are off) delete both schedules."""
    changes = ScheduleChanges()
    for period in DigestPeriod:
        name = schedule_id(period)
        if not settings.digest_enabled:
            if await _delete(client, name):
                changes.deleted.append(name)
            continue
        wanted = digest_schedule(period, settings, task_queue)
        try:
            await client.create_schedule(name, wanted)
            changes.created.append(name)
        except ScheduleAlreadyRunningError:
            await client.get_schedule_handle(name).update(_keeping_state(wanted))
            changes.updated.append(name)
    log.info(
        "digest schedules: created %s, updated %s, deleted %s",
        changes.created,
        changes.updated,
        changes.deleted,
    )
    return changes


def _keeping_state(wanted: Schedule) -> Callable[[ScheduleUpdateInput], ScheduleUpdate]:
    """The update to `wanted`, paused or not (and with the note) as it is now."""

    def update(current: ScheduleUpdateInput) -> ScheduleUpdate:
        state = current.description.schedule.state
        wanted.state = ScheduleState(paused=state.paused, note=state.note or wanted.state.note)
        return ScheduleUpdate(schedule=wanted)

    return update


async def _delete(client: Client, name: str) -> bool:
    try:
        await client.get_schedule_handle(name).delete()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True
