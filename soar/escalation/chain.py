"""Where a case's escalation stands, and what is due next: pure functions of the state
and the time, tested without a server and driven by the case workflow's timers.

An *episode* is one call for attention: the case opening, or a decision becoming
awaited after the previous episode was answered. Within an episode the chain's levels
fire at their times, once each, round after round (`repeat`); an acknowledgement (or a
decision) ends the "not acknowledged" levels, closing the case ends every level. The
acknowledge and decide times, once run out, are recorded as breaches, once each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from soar.cases.models import UtcDatetime
from soar.escalation.models import Condition, Policy

Sla = Literal["acknowledge", "decide"]


class EscalationState(BaseModel):
    """The escalation of one case, carried in the case workflow's state (and over
    continue-as-new). `members` holds each level's direct recipients as resolved when
    the case opened."""

    policy: Policy
    members: list[list[str]] = Field(default_factory=list)
    episode: int = 1
    started_at: UtcDatetime
    acknowledged: bool = False
    closed: bool = False
    awaiting_since: UtcDatetime | None = None
    fired: list[str] = Field(default_factory=list)
    breached: list[str] = Field(default_factory=list)
    reminded_at: UtcDatetime | None = None
    paged: list[str] = Field(default_factory=list, description="Pagers triggered, to follow.")
    tickets: list[tuple[str, str]] = Field(
        default_factory=list, description="(system, key) of every ticket opened."
    )


@dataclass(frozen=True)
class LevelDue:
    """Level `index` of round `round` of the current episode is due."""

    index: int
    round: int

    def key(self, episode: int) -> str:
        return f"{episode}:{self.round}:{self.index}"


@dataclass(frozen=True)
class BreachDue:
    sla: Sla
    due: datetime


@dataclass(frozen=True)
class ReminderDue:
    since: datetime


Due = LevelDue | BreachDue | ReminderDue


def _round_length(policy: Policy) -> timedelta:
    return timedelta(seconds=sum(level.after for level in policy.levels))


def _holds(state: EscalationState, index: int) -> bool:
    """Whether level `index`'s condition still holds."""
    if state.closed:
        return False
    return state.policy.levels[index].when is Condition.NOT_CLOSED or not state.acknowledged


def level_times(state: EscalationState) -> list[tuple[LevelDue, datetime]]:
    """Every level of every round of the episode still to fire, with when it may
    (business hours applied), in chain order."""
    policy = state.policy
    length = _round_length(policy)
    pending: list[tuple[LevelDue, datetime]] = []
    for round_ in range(policy.repeat + 1):
        offset = state.started_at + round_ * length
        for index, level in enumerate(policy.levels):
            offset += timedelta(seconds=level.after)
            step = LevelDue(index, round_)
            if step.key(state.episode) in state.fired or not _holds(state, index):
                continue
            at = level.hours.next_open(offset) if level.hours else offset
            pending.append((step, at))
    return pending


def _sla_times(state: EscalationState) -> list[BreachDue]:
    policy = state.policy
    slas: list[BreachDue] = []
    if policy.acknowledge_within is not None and not state.acknowledged and not state.closed:
        due = state.started_at + timedelta(seconds=policy.acknowledge_within)
        slas.append(BreachDue("acknowledge", due))
    if policy.decide_within is not None and state.awaiting_since is not None and not state.closed:
        due = state.awaiting_since + timedelta(seconds=policy.decide_within)
        slas.append(BreachDue("decide", due))
    return [sla for sla in slas if breach_key(state, sla) not in state.breached]


def breach_key(state: EscalationState, breach: BreachDue) -> str:
    """Each SLA is breached once: acknowledge once per episode, decide once per wait."""
    return f"{breach.sla}:{state.episode}:{breach.due.isoformat()}"


def active(state: EscalationState) -> bool:
    """Whether anything is still to come (a level, a breach): the case stays open."""
    return bool(level_times(state) or _sla_times(state))


def _reminder_time(state: EscalationState) -> datetime | None:
    every = state.policy.remind_every
    if every is None or state.acknowledged or state.closed or not level_times(state):
        return None
    return (state.reminded_at or state.started_at) + timedelta(seconds=every)


def due(state: EscalationState, now: datetime) -> list[Due]:
    """What is due at `now`, in order: breaches, levels (chain order), a reminder."""
    found: list[Due] = [sla for sla in _sla_times(state) if sla.due <= now]
    found.extend(step for step, at in level_times(state) if at <= now)
    remind = _reminder_time(state)
    if remind is not None and remind <= now:
        found.append(ReminderDue(state.reminded_at or state.started_at))
    return found


def next_wake(state: EscalationState) -> datetime | None:
    """When something next falls due, if ever."""
    times = [at for _, at in level_times(state)] + [sla.due for sla in _sla_times(state)]
    remind = _reminder_time(state)
    if remind is not None:
        times.append(remind)
    return min(times, default=None)


def next_level(state: EscalationState) -> LevelDue | None:
    """The next level to fire in chain order (for a manual escalation without `--to`)."""
    pending = level_times(state)
    return pending[0][0] if pending else None


def new_episode(state: EscalationState, at: datetime) -> EscalationState:
    """A fresh call for attention (a decision awaited after the last was answered)."""
    return state.model_copy(
        update={
            "episode": state.episode + 1,
            "started_at": at,
            "acknowledged": False,
            "reminded_at": None,
        }
    )
