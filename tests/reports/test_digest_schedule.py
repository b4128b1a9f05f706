"""The digests' Temporal Schedules on a real dev server of the test's own: created as
configured, updated in place when the configuration changes (a pause kept), changed
by nothing when ensured again, and deleted when digests are switched off."""

from __future__ import annotations

from datetime import time

from temporalio.client import Client, ScheduleActionStartWorkflow, ScheduleDescription
from temporalio.service import RPCError, RPCStatusCode

from soar.reports.digest_contract import DIGEST_WORKFLOW, DigestPeriod, schedule_id
from soar.reports.schedule import ensure_digest_schedules
from soar.reports.settings import ReportSettings, Weekday
from tests.bare_temporal import bare_temporal

DAILY, WEEKLY = schedule_id(DigestPeriod.DAILY), schedule_id(DigestPeriod.WEEKLY)


async def _describe(client: Client, name: str) -> ScheduleDescription:
    return await client.get_schedule_handle(name).describe()


async def _exists(client: Client, name: str) -> bool:
    """Whether the schedule is there (describe reads it directly: no visibility lag)."""
    try:
        await _describe(client, name)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


def _calendar(description: ScheduleDescription) -> tuple[list[int], list[int], list[int]]:
    [calendar] = description.schedule.spec.calendars
    days = [d for r in calendar.day_of_week for d in range(r.start, r.end + 1, r.step or 1)]
    return [r.start for r in calendar.hour], [r.start for r in calendar.minute], days


async def test_the_schedules_follow_the_configuration() -> None:
    settings = ReportSettings(
        timezone="Europe/Paris", digest_time=time(7, 45), digest_weekly_day=Weekday.FRIDAY
    )
    async with bare_temporal() as env:
        client = env.client

        first = await ensure_digest_schedules(client, settings, "digest-queue")

        assert first.created == [DAILY, WEEKLY] and first.updated == []
        daily, weekly = await _describe(client, DAILY), await _describe(client, WEEKLY)
        assert _calendar(daily) == ([7], [45], [0, 1, 2, 3, 4, 5, 6])
        assert _calendar(weekly) == ([7], [45], [5])  # Temporal counts from Sunday
        for description, period in ((daily, "daily"), (weekly, "weekly")):
            assert description.schedule.spec.time_zone_name == "Europe/Paris"
            action = description.schedule.action
            assert isinstance(action, ScheduleActionStartWorkflow)
            assert action.workflow == DIGEST_WORKFLOW and action.task_queue == "digest-queue"
            assert action.id == f"digest-{period}"
            [argument] = await client.data_converter.decode(action.args)
            assert argument == {"period": period, "at": None}
        next_runs = [run.isoformat() for run in weekly.info.next_action_times[:2]]
        assert all(r.endswith(("T05:45:00+00:00", "T06:45:00+00:00")) for r in next_runs)

        await client.get_schedule_handle(WEEKLY).pause(note="holiday")
        later = settings.model_copy(
            update={"digest_time": time(9, 30), "digest_weekly_day": Weekday.MONDAY}
        )
        second = await ensure_digest_schedules(client, later, "digest-queue")

        assert second.created == [] and second.updated == [DAILY, WEEKLY]
        weekly = await _describe(client, WEEKLY)
        assert _calendar(weekly) == ([9], [30], [1])
        assert weekly.schedule.state.paused and weekly.schedule.state.note == "holiday"
        assert not (await _describe(client, DAILY)).schedule.state.paused

        off = await ensure_digest_schedules(
            client, later.model_copy(update={"digest_enabled": False}), "digest-queue"
        )

        assert off.deleted == [DAILY, WEEKLY]
        assert not await _exists(client, DAILY) and not await _exists(client, WEEKLY)
        again = await ensure_digest_schedules(
            client, later.model_copy(update={"digest_enabled": False}), "digest-queue"
        )
        assert again.deleted == []
