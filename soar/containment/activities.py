"""The containment activities: check the guardrails, apply, verify and revert actions.

`apply_containment` checks the guardrails again right before it acts — the policy, the
inventory or the hourly count may have changed while the approval waited — then, right
before the actuator is called, reserves a slot of the hourly ceiling in the store. The
reservation counts and takes the slot atomically, so approved containments running at
once cannot all see the same count and overrun the ceiling. It ends in exactly one of
these states:

- `refused`: a guardrail said no, or the ceiling had no slot left; nothing was called.
- `dry_run`: dry-run is on (globally or for this request); nothing was called, and the
  detail says what would have happened.
- `no_actuator`: no configured actuator handles the command; a person must act.
- `failed`: the actuator answered a definitive no; its slot is given back.
- `verified` or `applied`: the actuator applied it and did or did not confirm it yet.

A dry run, a refusal and a command without an actuator take no slot. An actuator that
raises (a transient failure) fails the activity, and Temporal retries it; that is safe
because actuators are idempotent. Action ids come from the caller and are
deterministic, so recording the returned action twice is harmless, and a retry finds
the slot its first attempt reserved instead of being refused at a full ceiling.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.exceptions import ApplicationError

from soar.cases.models import UtcDatetime
from soar.containment.actuators import Actuator, ActuatorRegistry, ActuatorResult
from soar.containment.models import (
    ActionState,
    ActuatorOutcome,
    ContainmentAction,
    ContainmentCommand,
)
from soar.enrichment.inventory import Inventory
from soar.guardrails.models import GuardrailDecision
from soar.guardrails.policy import check
from soar.guardrails.settings import GuardrailSettings
from soar.heartbeat import heartbeating
from soar.integrations.errors import PermanentError, RateLimited

if TYPE_CHECKING:
    from soar.store.repository import SlotReservation

CEILING_WINDOW = timedelta(hours=1)
"""How long a slot of `max_containments_per_hour` stays taken."""

HEARTBEAT_EVERY = timedelta(seconds=5)
"""How often a containment activity tells Temporal it is alive while an actuator works:
a worker that dies mid-call is then noticed within the workflow's heartbeat timeout
(seconds), not its two-minute start-to-close timeout, and the retry — idempotent, it
reads the product first — carries the action out once."""

REVERTIBLE_STATES = frozenset({ActionState.APPLIED, ActionState.VERIFIED, ActionState.FAILED})


class ContainmentSlots(Protocol):
    """The ledger behind the hourly ceiling: one slot per action an actuator was called
    for. :class:`soar.store.repository.Repository` keeps it in the store."""

    async def count_containment_slots_since(
        self, since: datetime, *, excluding: str | None = None
    ) -> int:
        """Slots reserved at or after `since`, other than the one `excluding` holds."""
        ...

    async def reserve_containment_slot(
        self, action_id: str, *, at: datetime, since: datetime, ceiling: int
    ) -> SlotReservation:
        """Atomically take a slot for `action_id` unless others hold `ceiling` of them."""
        ...

    async def release_containment_slot(self, action_id: str) -> None:
        """Give back the slot of `action_id`."""
        ...


class ContainmentRequest(BaseModel):
    """Apply `command` for a case. `action_id` is the caller's deterministic id.

    `requested_at` is the workflow's time and becomes the action's `created_at`;
    `dry_run` turns dry-run on for this request (a playbook in dry-run) even when it is
    off globally.
    """

    action_id: str = Field(min_length=1)
    case_id: str = Field(min_length=1)
    command: ContainmentCommand
    approval_id: str | None = None
    requested_at: UtcDatetime
    dry_run: bool = False


def describe(command: ContainmentCommand) -> str:
    """The command in words: "deny 203.0.113.7 for 3600 s"."""
    duration = command.args.duration_seconds
    suffix = f" for {duration} s" if duration is not None else ""
    return f"{command.action.value} {command.target.value}{suffix}"


class ContainmentActivities:
    """Containment through the configured actuators, behind the guardrails."""

    def __init__(
        self,
        registry: ActuatorRegistry,
        policy: GuardrailSettings,
        inventory: Inventory,
        *,
        dry_run: bool,
        slots: ContainmentSlots,
    ) -> None:
        self.registry = registry
        self.policy = policy
        self.inventory = inventory
        self.dry_run = dry_run
        self.slots = slots

    def all(self) -> list[Callable[..., Any]]:
        """Every activity of this class, for a worker."""
        return [
            self.check_guardrails,
            self.apply_containment,
            self.verify_containment,
            self.revert_containment,
        ]

    @activity.defn(name="check_guardrails")
    async def check_guardrails(self, command: ContainmentCommand) -> GuardrailDecision:
        """The guardrails' answer, asked before an approval is requested."""
        return await self._check(command, action_id=None)

    @activity.defn(name="apply_containment")
    async def apply_containment(self, request: ContainmentRequest) -> ContainmentAction:
        """Check the guardrails again, reserve a slot of the hourly ceiling, then apply
        and verify (or say why not)."""
        async with heartbeating(HEARTBEAT_EVERY):
            return await self._apply_containment(request)

    @activity.defn(name="verify_containment")
    async def verify_containment(self, action: ContainmentAction) -> ContainmentAction:
        """Ask each actuator that applied an action again whether it is in effect."""
        async with heartbeating(HEARTBEAT_EVERY):
            return await self._verify_containment(action)

    @activity.defn(name="revert_containment")
    async def revert_containment(self, action: ContainmentAction) -> ContainmentAction:
        """Undo an applied action. An action that cannot or need not be undone comes back
        in the same state with a detail saying why."""
        async with heartbeating(HEARTBEAT_EVERY):
            return await self._revert_containment(action)

    async def _apply_containment(self, request: ContainmentRequest) -> ContainmentAction:
        command = request.command
        action = ContainmentAction(
            id=request.action_id,
            case_id=request.case_id,
            command=command,
            approval_id=request.approval_id,
            created_at=request.requested_at,
        )
        decision = await self._check(command, action_id=action.id)
        if not decision.allowed:
            return _refused(action, decision)
        actuators = self.registry.for_command(command)
        if self.dry_run or request.dry_run:
            return self._dry_run(action, actuators)
        if not actuators:
            return action.model_copy(
                update={
                    "state": ActionState.NO_ACTUATOR,
                    "detail": f"no actuator is configured to {describe(command)}; "
                    "a person must do it by hand",
                }
            )
        refusal = await self._reserve_slot(action)
        if refusal is not None:
            return _refused(action, refusal)
        return await self._apply(action, actuators)

    async def _verify_containment(self, action: ContainmentAction) -> ContainmentAction:
        if action.state not in (ActionState.APPLIED, ActionState.VERIFIED):
            return action
        if self.dry_run:
            return action.model_copy(
                update={"detail": f"dry run: would verify {describe(action.command)}"}
            )
        outcomes: list[ActuatorOutcome] = []
        for outcome, actuator in self._applied_by(action):
            if actuator is None or outcome.state not in IN_EFFECT:
                outcomes.append(outcome)
                continue
            verified = await _call(actuator.verify(_labelled(action.command, action.case_id)))
            outcomes.append(
                outcome.model_copy(
                    update={
                        "state": ActionState.VERIFIED if verified else ActionState.APPLIED,
                        "detail": "verified" if verified else "not in effect",
                    }
                )
            )
        return _summed(action, outcomes)

    async def _revert_containment(self, action: ContainmentAction) -> ContainmentAction:
        command = action.command
        what = describe(command)
        if action.state is ActionState.REVERTED:
            return action
        if not command.action.revertible:
            return action.model_copy(
                update={"detail": f"{command.action.value} cannot be reverted"}
            )
        if action.state is ActionState.DRY_RUN:
            return action.model_copy(update={"detail": f"dry run: would have reverted {what}"})
        if action.state not in REVERTIBLE_STATES:
            return action.model_copy(
                update={"detail": f"nothing to revert: the action ended {action.state.value}"}
            )
        if self.dry_run:
            return action.model_copy(update={"detail": f"dry run: would revert {what}"})
        outcomes: list[ActuatorOutcome] = []
        for outcome, actuator in self._applied_by(action):
            if outcome.state not in REVERTIBLE_STATES:
                outcomes.append(outcome)
            elif actuator is None:
                outcomes.append(
                    outcome.model_copy(update={"detail": "no longer configured; undo it by hand"})
                )
            else:
                labelled = _labelled(action.command, action.case_id)
                outcomes.append(await _revert_one(actuator, labelled, outcome))
        undone = all(o.state not in REVERTIBLE_STATES for o in outcomes)
        summary = "; ".join(f"{o.actuator}: {o.detail}" for o in outcomes)
        if not undone:
            return action.model_copy(
                update={"outcomes": outcomes, "detail": f"could not revert {what}: {summary}"}
            )
        return action.model_copy(
            update={
                "state": ActionState.REVERTED,
                "outcomes": outcomes,
                "detail": summary,
                "reverted_at": datetime.now(UTC),
            }
        )

    async def _check(self, command: ContainmentCommand, action_id: str | None) -> GuardrailDecision:
        """Every guardrail, counting the slots taken in the last hour by other actions
        than `action_id` (a retried action does not count against itself)."""
        since = datetime.now(UTC) - CEILING_WINDOW
        recent = await self.slots.count_containment_slots_since(since, excluding=action_id)
        return check(command, self.policy, self.inventory, recent)

    async def _reserve_slot(self, action: ContainmentAction) -> GuardrailDecision | None:
        """Take the action's slot of the hourly ceiling; None once it holds one. When none
        is left, the refusal is the guardrail's own, with the count the reservation saw."""
        now = datetime.now(UTC)
        reservation = await self.slots.reserve_containment_slot(
            action.id,
            at=now,
            since=now - CEILING_WINDOW,
            ceiling=self.policy.max_containments_per_hour,
        )
        if reservation.granted:
            return None
        return check(action.command, self.policy, self.inventory, reservation.held)

    def _applied_by(
        self, action: ContainmentAction
    ) -> list[tuple[ActuatorOutcome, Actuator | None]]:
        """Each actuator's outcome with the actuator (None: no longer configured). An
        action recorded before outcomes existed names its one actuator."""
        outcomes = action.outcomes or (
            [ActuatorOutcome(actuator=action.actuator, state=action.state)]
            if action.actuator
            else []
        )
        return [(o, self.registry.get(o.actuator)) for o in outcomes]

    def _dry_run(self, action: ContainmentAction, actuators: list[Actuator]) -> ContainmentAction:
        what = describe(action.command)
        names = ", ".join(a.name for a in actuators)
        by = f"with {names}" if actuators else "but no actuator is configured for it"
        return action.model_copy(
            update={
                "state": ActionState.DRY_RUN,
                "actuator": names or None,
                "detail": f"dry run: would {what} {by}",
            }
        )

    async def _apply(
        self, action: ContainmentAction, actuators: list[Actuator]
    ) -> ContainmentAction:
        """Apply through each actuator in turn, then verify what each applied. One that
        answers a definitive no (or a permanent error) is recorded as failed and the
        others go on; a transient error fails the activity, and the retry finds what the
        first attempt applied already in effect (actuators are idempotent)."""
        command = action.command
        labelled = _labelled(command, action.case_id)
        outcomes: list[ActuatorOutcome] = []
        for actuator in actuators:
            outcomes.append(await _apply_one(actuator, labelled))
        if all(o.state is ActionState.FAILED for o in outcomes):
            await self.slots.release_containment_slot(action.id)
            return _summed(action, outcomes, failed_detail=f"could not {describe(command)}")
        applied_at = datetime.now(UTC)
        duration = command.args.duration_seconds
        return _summed(action, outcomes).model_copy(
            update={
                "applied_at": applied_at,
                "expires_at": applied_at + timedelta(seconds=duration) if duration else None,
            }
        )


IN_EFFECT = (ActionState.APPLIED, ActionState.VERIFIED)


def _labelled(command: ContainmentCommand, case_id: str) -> ContainmentCommand:
    """The command as actuators get it: with the case id as its reference."""
    return command.model_copy(
        update={"args": command.args.model_copy(update={"reference": case_id})}
    )


R = TypeVar("R")


async def _call(call: Awaitable[R]) -> R:
    """Await an actuator call; a vendor's rate limit becomes a retry after its wait."""
    try:
        return await call
    except RateLimited as limited:
        raise ApplicationError(
            str(limited),
            type="RateLimited",
            next_retry_delay=timedelta(seconds=max(limited.retry_after, 1)),
        ) from limited


async def _apply_one(actuator: Actuator, command: ContainmentCommand) -> ActuatorOutcome:
    """One actuator's apply and verify, as its outcome."""
    try:
        result = await _call(actuator.apply(command))
    except PermanentError as error:
        return ActuatorOutcome(
            actuator=actuator.name, state=ActionState.FAILED, detail=error.reason
        )
    if not result.ok:
        return ActuatorOutcome(
            actuator=actuator.name, state=ActionState.FAILED, detail=result.detail
        )
    try:
        verified = await _call(actuator.verify(command))
    except PermanentError as error:
        verified = False
        result = ActuatorResult(ok=True, detail=f"{result.detail} ({error.reason})")
    return ActuatorOutcome(
        actuator=actuator.name,
        state=ActionState.VERIFIED if verified else ActionState.APPLIED,
        detail=f"{result.detail}; {'verified' if verified else 'not verified yet'}",
    )


async def _revert_one(
    actuator: Actuator, command: ContainmentCommand, outcome: ActuatorOutcome
) -> ActuatorOutcome:
    """One actuator's revert, as its outcome (unchanged, with why, when it could not)."""
    try:
        result = await _call(actuator.revert(command))
    except PermanentError as error:
        return outcome.model_copy(update={"detail": f"could not revert: {error.reason}"})
    if not result.ok:
        return outcome.model_copy(update={"detail": f"could not revert: {result.detail}"})
    return ActuatorOutcome(actuator=actuator.name, state=ActionState.REVERTED, detail=result.detail)


def _summed(
    action: ContainmentAction, outcomes: list[ActuatorOutcome], *, failed_detail: str = ""
) -> ContainmentAction:
    """The action with its outcomes, its state their sum (see ContainmentAction)."""
    states = {o.state for o in outcomes}
    if states & set(IN_EFFECT):
        state = ActionState.VERIFIED if states == {ActionState.VERIFIED} else ActionState.APPLIED
    else:
        state = ActionState.FAILED
    lines = "; ".join(f"{o.actuator}: {o.detail}" for o in outcomes)
    return action.model_copy(
        update={
            "state": state,
            "outcomes": outcomes,
            "actuator": ", ".join(o.actuator for o in outcomes),
            "detail": f"{failed_detail}: {lines}" if failed_detail else lines,
        }
    )


def _refused(action: ContainmentAction, decision: GuardrailDecision) -> ContainmentAction:
    return action.model_copy(update={"state": ActionState.REFUSED, "detail": decision.reason})
