"""The case, approval and containment models refuse what they cannot mean."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from soar.containment.models import (
    ContainmentCommand,
    ContainmentTarget,
    ContainmentVerb,
    TargetType,
)

from . import factories


def test_times_are_normalised_to_utc_and_naive_times_refused() -> None:
    plus_two = datetime(2025, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    event = factories.event("e1").model_copy(update={"at": plus_two})
    assert type(event).model_validate(event.model_dump()).at.tzinfo is UTC
    with pytest.raises(ValidationError):
        factories.case(created_at=datetime(2025, 3, 1, 12, 0))


@pytest.mark.parametrize(
    ("action", "target_type", "value"),
    [
        (ContainmentVerb.DENY, TargetType.HOSTNAME, "web-1"),
        (ContainmentVerb.CONTAIN, TargetType.IPV4_NET, "203.0.113.7"),
        (ContainmentVerb.DISABLE, TargetType.HOSTNAME, "web-1"),
    ],
)
def test_a_command_refuses_a_target_its_action_cannot_take(
    action: ContainmentVerb, target_type: TargetType, value: str
) -> None:
    with pytest.raises(ValidationError, match="takes a target of type"):
        ContainmentCommand(action=action, target=ContainmentTarget(type=target_type, value=value))


@pytest.mark.parametrize(
    ("target_type", "value"),
    [
        (TargetType.IPV4_NET, "not-an-ip"),
        (TargetType.IPV4_NET, "2001:db8::1"),
        (TargetType.IPV6_NET, "203.0.113.7"),
        (TargetType.ACCOUNT, ""),
    ],
)
def test_a_target_must_parse_as_its_type(target_type: TargetType, value: str) -> None:
    with pytest.raises(ValidationError):
        ContainmentTarget(type=target_type, value=value)


def test_network_targets_accept_addresses_and_blocks_as_written() -> None:
    assert ContainmentTarget(type=TargetType.IPV4_NET, value="203.0.113.0/24").value == (
        "203.0.113.0/24"
    )
    assert ContainmentTarget(type=TargetType.IPV6_NET, value="2001:db8::1").value == "2001:db8::1"


def test_revoked_sessions_cannot_be_reverted() -> None:
    assert [verb for verb in ContainmentVerb if not verb.revertible] == [ContainmentVerb.REVOKE]


def test_an_approval_needs_deciders_and_a_quorum_of_at_least_one() -> None:
    with pytest.raises(ValidationError):
        factories.approval(deciders=[])
    with pytest.raises(ValidationError):
        factories.approval(quorum=0)
