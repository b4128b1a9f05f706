"""The command builders playbooks use, and what an action's state says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from soar.containment.models import (
    ActionState,
    ContainmentAction,
    ContainmentVerb,
    TargetType,
    block_ip,
    disable_account,
    isolate,
    revoke_sessions,
)


def test_block_ip_knows_the_family_and_keeps_the_time_to_live() -> None:
    v4, v6 = block_ip("203.0.113.7", 3600), block_ip("2001:db8::/48")
    assert (v4.action, v4.target.type, v4.target.value) == (
        ContainmentVerb.DENY,
        TargetType.IPV4_NET,
        "203.0.113.7",
    )
    assert v4.args.duration_seconds == 3600
    assert (v6.target.type, v6.args.duration_seconds) == (TargetType.IPV6_NET, None)


def test_a_builder_refuses_what_is_not_its_target() -> None:
    with pytest.raises(ValidationError):
        block_ip("not-an-address")
    with pytest.raises(ValidationError):
        block_ip("203.0.113.7", ttl=0)


def test_host_and_account_builders() -> None:
    assert (isolate("web-01").action, isolate("web-01").target.type) == (
        ContainmentVerb.CONTAIN,
        TargetType.HOSTNAME,
    )
    assert disable_account("j.doe").action is ContainmentVerb.DISABLE
    revoke = revoke_sessions("j.doe")
    assert (revoke.action, revoke.target.type, revoke.action.revertible) == (
        ContainmentVerb.REVOKE,
        TargetType.ACCOUNT,
        False,
    )


@pytest.mark.parametrize(
    ("state", "in_effect", "carried_out"),
    [
        (ActionState.PLANNED, False, False),
        (ActionState.REFUSED, False, False),
        (ActionState.DRY_RUN, False, True),
        (ActionState.APPLIED, True, True),
        (ActionState.VERIFIED, True, True),
        (ActionState.FAILED, False, False),
        (ActionState.REVERTED, False, False),
        (ActionState.NO_ACTUATOR, False, False),
    ],
)
def test_in_effect_and_carried_out(state: ActionState, in_effect: bool, carried_out: bool) -> None:
    action = ContainmentAction(
        id="a-1",
        case_id="c-1",
        command=block_ip("203.0.113.7"),
        state=state,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert (action.in_effect, action.carried_out) == (in_effect, carried_out)
