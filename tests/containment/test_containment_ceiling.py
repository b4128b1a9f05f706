"""The hourly ceiling holds against a real store when approved containments run at once:
each reserves its slot atomically right before the actuator is called."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from soar.containment.activities import ContainmentActivities, ContainmentRequest
from soar.containment.actuators import ActuatorRegistry, ActuatorResult
from soar.containment.models import ActionState, ContainmentCommand
from soar.store.db import Store
from soar.testing.actuators import RecordingActuator

from .support import INVENTORY, POLICY, REQUESTED_AT, deny

CEILING = POLICY.max_containments_per_hour
CEILING_REASON = (
    f"refused: {CEILING} containment actions in the last hour already reach the ceiling "
    f"of {CEILING} (max_containments_per_hour)"
)


class FlakyActuator(RecordingActuator):
    """Raises on its first `apply`, like a firewall API that timed out; then records."""

    def __init__(self) -> None:
        super().__init__("flaky-fw")
        self.failures_left = 1

    async def apply(self, command: ContainmentCommand) -> ActuatorResult:
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("firewall API timed out")
        return await super().apply(command)


def containment(store: Store, actuator: RecordingActuator) -> ContainmentActivities:
    return ContainmentActivities(
        ActuatorRegistry([actuator]), POLICY, INVENTORY, dry_run=False, slots=store
    )


def blocking(n: int, *, dry_run: bool = False) -> ContainmentRequest:
    """A request to block a distinct address, with its own action id."""
    return ContainmentRequest(
        action_id=f"case-{n}-action-1",
        case_id=f"case-{n}",
        command=deny(f"198.51.100.{n}", duration=3600),
        requested_at=REQUESTED_AT,
        dry_run=dry_run,
    )


async def slots_held(store: Store) -> int:
    return await store.count_containment_slots_since(datetime.now(UTC) - timedelta(hours=1))


async def fill(store: Store, actuator: RecordingActuator, numbers: range) -> None:
    for n in numbers:
        action = await containment(store, actuator).apply_containment(blocking(n))
        assert action.state is ActionState.VERIFIED


async def test_thirty_concurrent_containments_apply_exactly_the_ceiling(store: Store) -> None:
    actuator = RecordingActuator("edge-fw")
    activities = containment(store, actuator)

    actions = await asyncio.gather(
        *(activities.apply_containment(blocking(n)) for n in range(1, 31))
    )

    assert Counter(action.state for action in actions) == {
        ActionState.VERIFIED: CEILING,
        ActionState.REFUSED: 30 - CEILING,
    }
    refused = [action for action in actions if action.state is ActionState.REFUSED]
    assert {action.detail for action in refused} == {CEILING_REASON}
    assert all(action.actuator is None and action.applied_at is None for action in refused)
    assert len(actuator.calls_to("apply")) == len(actuator.in_effect) == CEILING
    assert await slots_held(store) == CEILING


async def test_a_retried_action_that_holds_a_slot_is_not_refused(store: Store) -> None:
    flaky = FlakyActuator()
    first_attempt = containment(store, flaky).apply_containment(blocking(1))
    try:
        await first_attempt
    except ConnectionError:
        pass
    else:
        raise AssertionError("the first attempt should have failed like a timed-out API")
    await fill(store, RecordingActuator("edge-fw"), range(2, CEILING + 1))

    retry = await containment(store, flaky).apply_containment(blocking(1))
    newcomer = await containment(store, flaky).apply_containment(blocking(CEILING + 1))

    assert retry.state is ActionState.VERIFIED
    assert newcomer.state is ActionState.REFUSED
    assert newcomer.detail == CEILING_REASON
    assert [(c.target, c.args.reference) for c in flaky.calls_to("apply")] == [
        (blocking(1).command.target, "case-1")
    ]
    assert await slots_held(store) == CEILING


async def test_a_dry_run_takes_no_slot(store: Store) -> None:
    actuator = RecordingActuator("edge-fw")
    await fill(store, actuator, range(1, CEILING))

    dry = await containment(store, actuator).apply_containment(blocking(CEILING, dry_run=True))
    assert dry.state is ActionState.DRY_RUN
    assert await slots_held(store) == CEILING - 1

    last = await containment(store, actuator).apply_containment(blocking(CEILING + 1))
    assert last.state is ActionState.VERIFIED
    assert await slots_held(store) == CEILING


async def test_a_definitive_no_from_the_actuator_gives_its_slot_back(store: Store) -> None:
    refusing = RecordingActuator("edge-fw", refuse=True)

    action = await containment(store, refusing).apply_containment(blocking(1))

    assert action.state is ActionState.FAILED
    assert [(c.target, c.args.reference) for c in refusing.calls_to("apply")] == [
        (blocking(1).command.target, "case-1")
    ]
    assert await slots_held(store) == 0


async def test_the_guardrail_check_before_approval_counts_the_slots(store: Store) -> None:
    actuator = RecordingActuator("edge-fw")
    await fill(store, actuator, range(1, CEILING + 1))

    decision = await containment(store, actuator).check_guardrails(deny("203.0.113.9"))

    assert not decision.allowed
    assert decision.reason == CEILING_REASON
