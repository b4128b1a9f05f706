"""Applying, verifying and reverting through the actuator registry."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from soar.containment.actuators import (
    Actuator,
    ActuatorRegistry,
    ActuatorResult,
    ActuatorSettings,
    build_actuator_registry,
)
from soar.containment.models import ActionState, ContainmentCommand, ContainmentVerb
from soar.containment.models import TargetType as T
from soar.integrations.errors import CredentialsRejected, IntegrationConfigError, RateLimited
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
    assert action.detail == "could not deny 198.51.100.7: edge-fw: refused by the test actuator"
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
    assert result.detail == "dry run: would revert deny 198.51.100.7"
    assert actuator.calls_to("revert") == []


async def test_revert_when_the_actuator_is_gone_asks_for_a_person() -> None:
    action = await activities(RecordingActuator("old-fw")).apply_containment(
        request(deny("198.51.100.7"))
    )

    result = await activities().revert_containment(action)

    assert result.state is ActionState.VERIFIED
    assert result.detail == (
        "could not revert deny 198.51.100.7: old-fw: no longer configured; undo it by hand"
    )


def test_the_registry_routes_a_command_to_every_actuator_that_handles_it() -> None:
    edr = RecordingActuator("edr", actions=[ContainmentVerb.CONTAIN])
    firewall = RecordingActuator("fw-a", actions=[ContainmentVerb.DENY])
    edge = RecordingActuator("fw-b", actions=[ContainmentVerb.DENY])
    registry = ActuatorRegistry([edr, firewall, edge])

    assert registry.for_command(deny("198.51.100.7")) == [firewall, edge]
    assert registry.for_command(command(ContainmentVerb.DISABLE, T.ACCOUNT, "j.doe")) == []
    assert registry.get("fw-b") is edge
    assert isinstance(edr, Actuator)
    with pytest.raises(IntegrationConfigError, match="unique: edr"):
        ActuatorRegistry([edr, RecordingActuator("edr")])


async def test_a_block_runs_on_each_firewall_and_each_result_is_recorded() -> None:
    edge = RecordingActuator("edge-fw", actions=[ContainmentVerb.DENY])
    cloud = RecordingActuator("cloudflare", actions=[ContainmentVerb.DENY])
    containment = activities(edge, cloud)

    action = await containment.apply_containment(request(deny("198.51.100.7")))

    assert action.state is ActionState.VERIFIED
    assert action.actuator == "edge-fw, cloudflare"
    assert [(o.actuator, o.state) for o in action.outcomes] == [
        ("edge-fw", ActionState.VERIFIED),
        ("cloudflare", ActionState.VERIFIED),
    ]
    reverted = await containment.revert_containment(action)
    assert reverted.state is ActionState.REVERTED
    assert [o.state for o in reverted.outcomes] == [ActionState.REVERTED] * 2
    assert not edge.in_effect and not cloud.in_effect


async def test_one_firewall_saying_no_leaves_the_block_in_effect_on_the_other() -> None:
    edge = RecordingActuator("edge-fw", actions=[ContainmentVerb.DENY], refuse=True)
    cloud = RecordingActuator("cloudflare", actions=[ContainmentVerb.DENY])

    action = await activities(edge, cloud).apply_containment(request(deny("198.51.100.7")))

    assert action.state is ActionState.APPLIED
    assert action.in_effect
    assert [(o.actuator, o.state) for o in action.outcomes] == [
        ("edge-fw", ActionState.FAILED),
        ("cloudflare", ActionState.VERIFIED),
    ]
    assert "edge-fw: refused by the test actuator" in (action.detail or "")


async def test_a_permanent_vendor_error_is_a_failure_said_once_and_a_rate_limit_a_timed_retry() -> (
    None
):
    class Rejecting(RecordingActuator):
        def __init__(self, error: Exception) -> None:
            super().__init__("vendor")
            self.error = error

        async def apply(self, command: ContainmentCommand) -> ActuatorResult:
            raise self.error

    refused = Rejecting(CredentialsRejected("vendor", "the API token was refused"))
    action = await activities(refused).apply_containment(request(deny("198.51.100.7")))
    assert action.state is ActionState.FAILED
    assert action.detail == "could not deny 198.51.100.7: vendor: the API token was refused"

    limited = Rejecting(RateLimited("vendor", "rate limited", retry_after=7))
    with pytest.raises(ApplicationError) as retried:
        await activities(limited).apply_containment(request(deny("198.51.100.8")))
    assert retried.value.next_retry_delay == timedelta(seconds=7)
    assert not retried.value.non_retryable


def test_the_registry_is_built_from_settings_and_factories() -> None:
    def factory(name: str, options: Mapping[str, Any]) -> Actuator:
        return RecordingActuator(name, actions=[ContainmentVerb(options["action"])])

    settings = {"edge": ActuatorSettings(type="nft", options={"action": "deny"})}

    registry = build_actuator_registry(settings, {"nft": factory})

    assert [actuator.name for actuator in registry] == ["edge"]
    assert len(build_actuator_registry({})) == 0
    with pytest.raises(IntegrationConfigError, match=r"actuators\.edge\.type: 'nft' is not a type"):
        build_actuator_registry(settings)
