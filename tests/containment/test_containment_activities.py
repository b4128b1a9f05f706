"""Applying, verifying and reverting through the actuator registry."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from soar.containment.actuators import (
    Actuator,
    ActuatorRegistry,
    ActuatorSettings,
    build_actuator_registry,
)
from soar.containment.models import ActionState, ContainmentVerb
from soar.containment.models import TargetType as T
from soar.testing.actuators import RecordingActuator

from .support import REQUESTED_AT, activities, command, deny, request


async def test_an_allowed_command_is_applied_and_verified_once_even_when_applied_twice() -> None:
    actuator = RecordingActuator("edge-fw")
    containment = activities(actuator)
    cmd = deny("198.51.100.7", duration=3600)

    first = await containment.apply_containment(request(cmd))
    second = await containment.apply_containment(request(deny("198.51.100.7/32", 3600)))

    assert first.state is second.state is ActionState.VERIFIED
    assert first.id == second.id == "case-1-action-1"
    assert (first.case_id, first.approval_id, first.actuator) == ("case-1", "approval-1", "edge-fw")
    assert first.created_at == REQUESTED_AT
    assert first.detail == "edge-fw: applied; verified"
    assert second.detail == "edge-fw: already in effect; verified"
    assert first.applied_at is not None
    assert first.expires_at == first.applied_at + timedelta(seconds=3600)
    assert len(actuator.in_effect) == 1


async def test_dry_run_never_calls_the_actuator_and_says_what_would_have_happened() -> None:
    actuator = RecordingActuator("edge-fw")

    action = await activities(actuator, dry_run=True).apply_containment(
        request(deny("198.51.100.7", duration=3600))
    )

    assert action.state is ActionState.DRY_RUN
    assert action.detail == "dry run: would deny 198.51.100.7 for 3600 s with edge-fw"
    assert action.applied_at is None
    assert not actuator.called


async def test_dry_run_for_one_request_while_off_globally() -> None:
    actuator = RecordingActuator()

    action = await activities(actuator).apply_containment(
        request(command(ContainmentVerb.CONTAIN, T.HOSTNAME, "fin-laptop-07"), dry_run=True)
    )

    assert action.state is ActionState.DRY_RUN
    assert not actuator.called


async def test_dry_run_without_an_actuator_says_so() -> None:
    action = await activities(dry_run=True).apply_containment(request(deny("198.51.100.7")))

    assert action.detail == (
        "dry run: would deny 198.51.100.7 but no actuator is configured for it"
    )


async def test_no_actuator_for_the_command_hands_it_to_a_person() -> None:
    firewall = RecordingActuator("edge-fw", actions=[ContainmentVerb.DENY])

    action = await activities(firewall).apply_containment(
        request(command(ContainmentVerb.DISABLE, T.ACCOUNT, "j.doe"))
    )

    assert action.state is ActionState.NO_ACTUATOR
    assert action.actuator is None
    assert action.detail == (
        "no actuator is configured to disable j.doe; a person must do it by hand"
    )
    assert not firewall.called


async def test_a_definitive_no_from_the_actuator_is_failed() -> None:
    actuator = RecordingActuator("edge-fw", refuse=True)

    action = await activities(actuator).apply_containment(request(deny("198.51.100.7")))

    assert action.state is ActionState.FAILED
    assert action.detail == "edge-fw could not deny 198.51.100.7: refused by the test actuator"
    assert actuator.calls_to("verify") == []


async def test_applied_but_not_confirmed_stays_applied_until_verified() -> None:
    actuator = RecordingActuator("edr", confirm=False)
    containment = activities(actuator)

    action = await containment.apply_containment(
        request(command(ContainmentVerb.CONTAIN, T.HOSTNAME, "fin-laptop-07"))
    )
    assert action.state is ActionState.APPLIED
    assert action.detail == "edr: applied; not verified yet"

    actuator.confirm = True
    verified = await containment.verify_containment(action)
    assert verified.state is ActionState.VERIFIED


async def test_revert_undoes_an_applied_action_and_is_idempotent() -> None:
    actuator = RecordingActuator("edge-fw")
    containment = activities(actuator)
    action = await containment.apply_containment(request(deny("198.51.100.7")))

    reverted = await containment.revert_containment(action)
    again = await containment.revert_containment(reverted)

    assert reverted.state is ActionState.REVERTED
    assert reverted.reverted_at is not None
    assert reverted.detail == "edge-fw: reverted"
    assert again == reverted
    assert actuator.in_effect == {}
    assert len(actuator.calls_to("revert")) == 1


@pytest.mark.parametrize(
    ("cmd", "setup", "detail"),
    [
        (
            command(ContainmentVerb.REVOKE, T.ACCOUNT, "j.doe"),
            "apply",
            "revoke cannot be reverted",
        ),
        (deny("198.51.100.7"), "dry_run", "dry run: would have reverted deny 198.51.100.7"),
        (deny("169.254.169.254"), "apply", "nothing to revert: the action ended refused"),
    ],
)
async def test_revert_leaves_what_cannot_or_need_not_be_undone(
    cmd: Any, setup: str, detail: str
) -> None:
    actuator = RecordingActuator()
    action = await activities(actuator, dry_run=setup == "dry_run").apply_containment(request(cmd))
    calls_before = len(actuator.calls)

    result = await activities(actuator).revert_containment(action)

    assert result.state is action.state
    assert result.detail == detail
    assert len(actuator.calls) == calls_before


async def test_revert_in_dry_run_does_not_call_the_actuator() -> None:
    actuator = RecordingActuator("edge-fw")
    action = await activities(actuator).apply_containment(request(deny("198.51.100.7")))

    result = await activities(actuator, dry_run=True).revert_containment(action)

    assert result.state is ActionState.VERIFIED
    assert result.detail == "dry run: would revert deny 198.51.100.7 with edge-fw"
    assert actuator.calls_to("revert") == []


async def test_revert_when_the_actuator_is_gone_asks_for_a_person() -> None:
    action = await activities(RecordingActuator("old-fw")).apply_containment(
        request(deny("198.51.100.7"))
    )

    result = await activities().revert_containment(action)

    assert result.state is ActionState.VERIFIED
    assert result.detail == (
        "actuator old-fw is no longer configured; undo deny 198.51.100.7 by hand"
    )


def test_the_registry_picks_the_first_actuator_that_handles_the_command() -> None:
    edr = RecordingActuator("edr", actions=[ContainmentVerb.CONTAIN])
    firewall = RecordingActuator("fw-a", actions=[ContainmentVerb.DENY])
    backup = RecordingActuator("fw-b", actions=[ContainmentVerb.DENY])
    registry = ActuatorRegistry([edr, firewall, backup])

    assert registry.for_command(deny("198.51.100.7")) is firewall
    assert registry.for_command(command(ContainmentVerb.DISABLE, T.ACCOUNT, "j.doe")) is None
    assert registry.get("fw-b") is backup
    assert isinstance(edr, Actuator)
    with pytest.raises(ValueError, match="unique: edr"):
        ActuatorRegistry([edr, RecordingActuator("edr")])


def test_the_registry_is_built_from_settings_and_factories() -> None:
    def factory(name: str, options: Mapping[str, Any]) -> Actuator:
        return RecordingActuator(name, actions=[ContainmentVerb(options["action"])])

    settings = {"edge": ActuatorSettings(type="nft", options={"action": "deny"})}

    registry = build_actuator_registry(settings, {"nft": factory})

    assert [actuator.name for actuator in registry.actuators] == ["edge"]
    assert build_actuator_registry({}).actuators == ()
    with pytest.raises(ValueError, match="type 'nft', which no installed integration"):
        build_actuator_registry(settings)
