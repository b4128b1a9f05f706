"""The chain as pure data: which level is due when, once; what stops it; business hours;
the policy a case gets; and configuration mistakes named."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from soar.alerts.models import Severity
from soar.escalation.chain import (
    BreachDue,
    EscalationState,
    LevelDue,
    ReminderDue,
    active,
    due,
    new_episode,
    next_level,
    next_wake,
)
from soar.escalation.models import BusinessHours, EscalationSettings, Policy

OPENED = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # a Wednesday


def policy(**extra: object) -> Policy:
    return Policy.model_validate(
        {
            "levels": [
                {"after": "5m", "page": "oncall"},
                {"after": "10m", "channel": "#soc-leads"},
                {"after": "15m", "when": "not_closed", "ticket": "jira"},
            ],
            **extra,
        }
    )


def state(**extra: object) -> EscalationState:
    return EscalationState(policy=policy(**extra), started_at=OPENED)


def at(minutes: float) -> datetime:
    return OPENED + timedelta(minutes=minutes)


def fire(current: EscalationState, steps: list[object]) -> EscalationState:
    keys = [s.key(current.episode) for s in steps if isinstance(s, LevelDue)]
    return current.model_copy(update={"fired": [*current.fired, *keys]})


def test_levels_fall_due_in_order_each_after_the_one_before() -> None:
    current = state()
    assert due(current, at(4)) == []
    assert next_wake(current) == at(5)
    assert due(current, at(5)) == [LevelDue(0, 0)]
    current = fire(current, due(current, at(5)))
    assert next_wake(current) == at(15)
    assert due(current, at(31)) == [LevelDue(1, 0), LevelDue(2, 0)]
    current = fire(current, due(current, at(31)))
    assert due(current, at(500)) == [] and not active(current)


def test_an_acknowledgement_ends_only_the_not_acknowledged_levels() -> None:
    current = state().model_copy(update={"acknowledged": True})
    assert due(current, at(60)) == [LevelDue(2, 0)]
    closed = current.model_copy(update={"closed": True})
    assert due(closed, at(60)) == [] and not active(closed) and next_wake(closed) is None


def test_the_chain_repeats_round_after_round() -> None:
    current = state(repeat=2)
    assert next_level(current) == LevelDue(0, 0)
    assert [s for s in due(current, at(30 + 5)) if isinstance(s, LevelDue)] == [
        LevelDue(0, 0),
        LevelDue(1, 0),
        LevelDue(2, 0),
        LevelDue(0, 1),
    ]
    assert len(due(current, at(90))) == 9


def test_slas_breach_once_and_stop_with_the_acknowledgement() -> None:
    current = state(acknowledge_within="15m", decide_within="10m")
    assert BreachDue("acknowledge", at(15)) in due(current, at(15))
    waiting = current.model_copy(update={"acknowledged": True, "awaiting_since": at(20)})
    assert [s for s in due(waiting, at(30)) if isinstance(s, BreachDue)] == [
        BreachDue("decide", at(30))
    ]


def test_reminders_come_every_period_until_acknowledged() -> None:
    current = state(remind_every="2m")
    assert ReminderDue(OPENED) in due(current, at(2))
    reminded = current.model_copy(update={"reminded_at": at(2)})
    assert next_wake(reminded) == at(4)
    assert not any(
        isinstance(s, ReminderDue)
        for s in due(reminded.model_copy(update={"acknowledged": True}), at(10))
    )


def test_a_new_episode_starts_the_chain_again_from_its_own_start() -> None:
    current = fire(state(), due(state(), at(31)))
    again = new_episode(current.model_copy(update={"acknowledged": True}), at(40))
    assert again.episode == 2 and not again.acknowledged
    assert due(again, at(45)) == [LevelDue(0, 0)]


def test_business_hours_hold_a_level_until_they_open() -> None:
    hours = BusinessHours(days=["mon", "tue", "wed", "thu", "fri"], start=time(8), end=time(18))
    friday_night = datetime(2026, 12, 4, 22, 0, tzinfo=UTC)
    assert hours.next_open(friday_night) == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert hours.next_open(OPENED) == OPENED
    paris = BusinessHours(start=time(9), end=time(17), timezone="Europe/Paris")
    assert paris.next_open(datetime(2026, 12, 2, 7, 0, tzinfo=UTC)) == datetime(
        2026, 12, 2, 8, 0, tzinfo=UTC
    )
    held = EscalationState(
        policy=Policy.model_validate(
            {"levels": [{"after": "13h", "page": "oncall", "hours": {"start": "08:00"}}]}
        ),
        started_at=OPENED,
    )
    assert next_wake(held) == datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def test_the_policy_is_chosen_by_rule_or_source_first_then_severity() -> None:
    settings = EscalationSettings.model_validate(
        {
            "groups": {"leads": ["alice", "bob"]},
            "policies": {
                "urgent": {"severities": ["critical", "high"], "levels": [{"page": "oncall"}]},
                "ransomware": {"rules": ["Ransomware"], "levels": [{"group": "leads"}]},
                "anything": {"levels": [{"channel": "#soc"}]},
            },
        }
    )
    chosen = settings.policy_for(Severity.CRITICAL, "Ransomware", "wazuh")
    assert chosen is not None and chosen.name == "ransomware"
    assert settings.policy_for(Severity.HIGH, "Brute force", "wazuh").name == "urgent"  # type: ignore[union-attr]
    assert settings.policy_for(Severity.LOW, "Scan", "wazuh").name == "anything"  # type: ignore[union-attr]
    assert settings.members(settings.policies["ransomware"].levels[0]) == ["alice", "bob"]
    assert settings.policies["urgent"].find_level("1") == 0
    assert settings.policies["urgent"].find_level("level 1") == 0
    assert settings.policies["urgent"].find_level("9") is None


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"policies": {"p": {"levels": [{"after": "5m"}]}}}, "at least one of page"),
        ({"policies": {"p": {"levels": [{"group": "nobody"}]}}}, "is not in [escalation.groups]"),
        ({"policies": {"p": {"repeat": 2, "levels": [{"page": "x"}]}}}, "needs some level"),
        ({"policies": {"p": {"levels": [{"after": "soon", "page": "x"}]}}}, "not a duration"),
        (
            {"policies": {"p": {"levels": [{"page": "x", "hours": {"timezone": "Mars/Base"}}]}}},
            "IANA time zone",
        ),
        ({"policies": {"p": {"levels": [{"page": "x", "hours": {"days": ["funday"]}}]}}}, "days"),
    ],
)
def test_configuration_mistakes_are_named(raw: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        EscalationSettings.model_validate(raw)
