"""Every kind of protected asset: `apply_containment` refuses it and the actuator is never
called, however the approval went."""

from __future__ import annotations

import pytest

from soar.containment.models import ActionState, ContainmentCommand, ContainmentVerb
from soar.containment.models import TargetType as T
from soar.testing.actuators import RecordingActuator

from .support import activities, command, deny, request

PROTECTED: dict[str, tuple[ContainmentCommand, int, str]] = {
    "loopback": (
        deny("127.0.0.1"),
        0,
        "refused: 127.0.0.1 is in 127.0.0.0/8, the loopback network (never_block)",
    ),
    "link-local": (
        deny("169.254.10.20"),
        0,
        "refused: 169.254.10.20 is in 169.254.0.0/16, the link-local network (never_block)",
    ),
    "metadata address": (
        deny("169.254.169.254"),
        0,
        "refused: 169.254.169.254 is the cloud metadata address (never_block)",
    ),
    "configured gateway": (
        deny("10.0.0.1"),
        0,
        "refused: 10.0.0.1 is a configured gateway (gateways)",
    ),
    "configured resolver": (
        deny("10.0.0.53"),
        0,
        "refused: 10.0.0.53 is a configured resolver (resolvers)",
    ),
    "overlapping network": (
        deny("10.0.0.0/8"),
        0,
        "refused: 10.0.0.0/8 contains 10.0.0.1, a configured gateway (gateways)",
    ),
    "too-wide prefix": (
        deny("198.18.0.0/15"),
        0,
        "refused: 198.18.0.0/15 spans 131,072 addresses, more than the widest block "
        "allowed (/16) (min_block_prefix_v4)",
    ),
    "host by name": (
        command(ContainmentVerb.CONTAIN, T.HOSTNAME, "backup-01"),
        0,
        "refused: host backup-01 is on the never-isolate list (never_isolate)",
    ),
    "host by pattern": (
        command(ContainmentVerb.CONTAIN, T.HOSTNAME, "JUMP-07"),
        0,
        "refused: host JUMP-07 matches the never-isolate pattern 'jump-*' (never_isolate)",
    ),
    "host by inventory tag": (
        command(ContainmentVerb.CONTAIN, T.HOSTNAME, "ad-01.corp.example"),
        0,
        "refused: host ad-01.corp.example is tagged domain-controller in the inventory "
        "(never_isolate_tags)",
    ),
    "account by name": (
        command(ContainmentVerb.DISABLE, T.ACCOUNT, "Administrator@corp.example"),
        0,
        "refused: account Administrator@corp.example is on the never-disable list (never_disable)",
    ),
    "rate ceiling": (
        deny("198.51.100.7", duration=3600),
        20,
        "refused: 20 containment actions in the last hour already reach the ceiling of 20 "
        "(max_containments_per_hour)",
    ),
}


@pytest.mark.parametrize(("cmd", "recent", "reason"), PROTECTED.values(), ids=PROTECTED.keys())
async def test_protected_assets_are_refused_and_the_actuator_is_never_called(
    cmd: ContainmentCommand, recent: int, reason: str
) -> None:
    actuator = RecordingActuator()
    containment = activities(actuator, recent=recent)

    before_approval = await containment.check_guardrails(cmd)
    action = await containment.apply_containment(request(cmd))

    assert not before_approval.allowed
    assert before_approval.reason == reason
    assert action.state is ActionState.REFUSED
    assert action.detail == reason
    assert action.actuator is None
    assert action.applied_at is None
    assert not actuator.called
    assert actuator.in_effect == {}


async def test_a_refused_command_is_not_called_even_in_dry_run() -> None:
    actuator = RecordingActuator()

    action = await activities(actuator, dry_run=True).apply_containment(
        request(deny("169.254.169.254"))
    )

    assert action.state is ActionState.REFUSED
    assert not actuator.called


async def test_the_policy_is_checked_again_at_apply_time() -> None:
    """Approved while under the ceiling, refused when the hour filled up meanwhile."""
    actuator = RecordingActuator()
    cmd = deny("198.51.100.7")

    assert (await activities(actuator, recent=5).check_guardrails(cmd)).allowed
    action = await activities(actuator, recent=20).apply_containment(request(cmd))

    assert action.state is ActionState.REFUSED
    assert not actuator.called
