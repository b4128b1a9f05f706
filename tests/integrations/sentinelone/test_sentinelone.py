"""The SentinelOne actuator against its emulator over loopback HTTP: the actuator
contract, and SentinelOne's own ways — the ApiToken scheme, `networkStatus` moving over
a few reads, actions that affect no agent, its error bodies, `Retry-After`, an unknown
host."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from integrations.sentinelone import (
    INTEGRATION,
    SentinelOneActuator,
    SentinelOneOptions,
    check,
)
from soar.containment.models import ContainmentCommand, isolate
from soar.integrations.errors import (
    CredentialsRejected,
    RateLimited,
    TargetNotFound,
    TransientError,
)
from soar.runtime.integrations import installed
from soar.testing.contract import ActuatorContract
from soar.testing.emulators.sentinelone import SentinelOneEmulator

ACTIONS = "/agents/actions/"


def options(s1: SentinelOneEmulator, **overrides: Any) -> SentinelOneOptions:
    settings: dict[str, Any] = {
        "base_url": s1.api_url,
        "api_token": SecretStr(s1.api_token),
        "max_wait_seconds": 5,
        "settle_seconds": 2,
        "poll_seconds": 0.01,
        **overrides,
    }
    return SentinelOneOptions(**settings)


@pytest.fixture
async def s1() -> AsyncIterator[SentinelOneEmulator]:
    vendor = SentinelOneEmulator()
    async with vendor:
        vendor.add_host("WS-01")
        yield vendor


@pytest.fixture
async def s1_actuator(s1: SentinelOneEmulator) -> AsyncIterator[SentinelOneActuator]:
    actuator = SentinelOneActuator("s1", options(s1))
    yield actuator
    await actuator.aclose()


class TestSentinelOneContract(ActuatorContract):
    @pytest.fixture
    def emulator(self, s1: SentinelOneEmulator) -> SentinelOneEmulator:
        return s1

    @pytest.fixture
    def actuator(self, s1_actuator: SentinelOneActuator) -> SentinelOneActuator:
        return s1_actuator

    @pytest.fixture
    async def bad_credentials_actuator(
        self, s1: SentinelOneEmulator
    ) -> AsyncIterator[SentinelOneActuator]:
        actuator = SentinelOneActuator(
            "s1", options(s1, api_token=SecretStr("not-the-token-at-all"))
        )
        yield actuator
        await actuator.aclose()

    @pytest.fixture
    def command(self) -> ContainmentCommand:
        return isolate("WS-01")


async def test_the_integration_is_discovered_and_needs_its_console_url() -> None:
    assert installed().integrations["sentinelone"] is INTEGRATION
    with pytest.raises(ValidationError, match="base_url"):
        SentinelOneOptions(api_token=SecretStr("t0ken-value"))  # type: ignore[call-arg]


async def test_a_refused_token_is_reported_in_sentinelones_words(
    s1: SentinelOneEmulator,
) -> None:
    actuator = SentinelOneActuator("s1", options(s1, api_token=SecretStr("wrong-token-xyz")))
    with pytest.raises(CredentialsRejected) as refused:
        await actuator.verify(isolate("WS-01"))
    await actuator.aclose()
    assert "Authentication Failed (code 4010010)" in str(refused.value)
    assert "wrong-token-xyz" not in str(refused.value)


async def test_an_unknown_host_is_a_permanent_target_not_found(
    s1: SentinelOneEmulator, s1_actuator: SentinelOneActuator
) -> None:
    with pytest.raises(TargetNotFound) as missing:
        await s1_actuator.apply(isolate("WS-99"))
    assert missing.value.reason == "no host named WS-99 in SentinelOne"
    assert s1.count("POST", ACTIONS) == 0


async def test_the_disconnect_is_verified_once_the_agent_reports_it(
    s1: SentinelOneEmulator, s1_actuator: SentinelOneActuator
) -> None:
    command = isolate("WS-01")
    result = await s1_actuator.apply(command)
    assert result.ok and result.data["network_status"] == "disconnecting"
    assert s1.agent("WS-01").network_status == "disconnecting"
    assert await s1_actuator.verify(command)
    assert s1.agent("WS-01").network_status == "disconnected"
    assert s1.count("GET", "/agents") >= 1 + s1.pending_reads


async def test_a_disconnect_still_pending_is_applied_but_not_verified(
    s1: SentinelOneEmulator,
) -> None:
    s1.pending_reads = 1000
    actuator = SentinelOneActuator("s1", options(s1, settle_seconds=0.1, poll_seconds=0.02))
    command = isolate("WS-01")
    assert (await actuator.apply(command)).ok
    assert not await actuator.verify(command)
    s1.settle("WS-01")
    assert await actuator.verify(command)
    await actuator.aclose()


@pytest.mark.parametrize("status", ["disconnected", "disconnecting"])
async def test_a_disconnected_or_disconnecting_agent_is_not_asked_again(
    s1: SentinelOneEmulator, s1_actuator: SentinelOneActuator, status: str
) -> None:
    s1.add_host("WS-02", network_status=status)
    result = await s1_actuator.apply(isolate("WS-02"))
    assert result.ok and result.data["network_status"] == status
    assert s1.count("POST", ACTIONS) == 0


@pytest.mark.parametrize("status", ["connected", "connecting"])
async def test_reconnecting_a_connected_or_connecting_agent_calls_nothing(
    s1: SentinelOneEmulator, s1_actuator: SentinelOneActuator, status: str
) -> None:
    s1.add_host("WS-02", network_status=status)
    assert (await s1_actuator.revert(isolate("WS-02"))).ok
    assert s1.count("POST", ACTIONS) == 0


async def test_a_reconnect_crossing_a_disconnect_that_does_not_settle_is_retried_later(
    s1: SentinelOneEmulator,
) -> None:
    s1.pending_reads = 1000
    s1.add_host("WS-02", network_status="disconnecting")
    actuator = SentinelOneActuator("s1", options(s1, settle_seconds=0.05, poll_seconds=0.01))
    with pytest.raises(TransientError, match="still disconnecting"):
        await actuator.revert(isolate("WS-02"))
    assert s1.count("POST", ACTIONS) == 0
    await actuator.aclose()


async def test_an_action_that_affects_no_agent_is_a_definitive_no(
    s1: SentinelOneEmulator, s1_actuator: SentinelOneActuator
) -> None:
    s1.add_host("WS-GONE", pending_uninstall=True)
    result = await s1_actuator.apply(isolate("WS-GONE"))
    assert not result.ok
    assert "affected no agent" in result.detail
    assert s1.agent("WS-GONE").network_status == "connected"


async def test_retry_after_is_read_as_the_wait(s1: SentinelOneEmulator) -> None:
    s1.throttle(1, seconds=90)
    actuator = SentinelOneActuator("s1", options(s1, max_wait_seconds=5))
    with pytest.raises(RateLimited) as limited:
        await actuator.apply(isolate("WS-01"))
    await actuator.aclose()
    assert limited.value.retry_after == 90


async def test_an_outage_is_retried(
    s1: SentinelOneEmulator, s1_actuator: SentinelOneActuator
) -> None:
    s1.outage(1)
    assert (await s1_actuator.apply(isolate("WS-01"))).ok
    assert s1.in_effect(isolate("WS-01"))


async def test_of_several_agents_of_a_name_the_one_active_last_is_disconnected(
    s1: SentinelOneEmulator, s1_actuator: SentinelOneActuator
) -> None:
    stale = s1.add_host("WS-03", active_ago=timedelta(days=60))
    live = s1.add_host("WS-03")
    await s1_actuator.apply(isolate("WS-03"))
    assert (stale.effects, live.effects) == (0, 1)


async def test_check_counts_the_agents_and_changes_nothing(s1: SentinelOneEmulator) -> None:
    s1.add_host("WS-02")
    s1.add_host("WS-03")
    lines = await check("s1", options(s1))
    assert lines == [f"{s1.api_url}: token accepted", "3 agents visible"]
    assert s1.count("POST") == 0
