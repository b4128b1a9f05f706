"""The CrowdStrike Falcon actuator against its emulator over loopback HTTP: the
actuator contract, and Falcon's own ways — pending statuses, errors inside a 200 body,
tokens that expire, the epoch wait header, stale host records, an unknown host."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from integrations.crowdstrike import INTEGRATION, CrowdStrikeOptions, FalconActuator, check
from soar.containment.models import ContainmentCommand, isolate
from soar.integrations.errors import (
    CredentialsRejected,
    RateLimited,
    RequestRejected,
    TargetNotFound,
    TransientError,
)
from soar.runtime.integrations import installed
from soar.testing.contract import ActuatorContract
from soar.testing.emulators.crowdstrike import FalconEmulator

ACTIONS = "/devices/entities/devices-actions/v2"


def options(falcon: FalconEmulator, **overrides: Any) -> CrowdStrikeOptions:
    settings: dict[str, Any] = {
        "base_url": falcon.base_url,
        "client_id": falcon.client_id,
        "client_secret": SecretStr(falcon.client_secret),
        "max_wait_seconds": 5,
        "settle_seconds": 2,
        "poll_seconds": 0.01,
        **overrides,
    }
    return CrowdStrikeOptions(**settings)


@pytest.fixture
async def falcon() -> AsyncIterator[FalconEmulator]:
    vendor = FalconEmulator()
    async with vendor:
        vendor.add_host("WS-01")
        yield vendor


@pytest.fixture
async def falcon_actuator(falcon: FalconEmulator) -> AsyncIterator[FalconActuator]:
    actuator = FalconActuator("falcon", options(falcon))
    yield actuator
    await actuator.aclose()


class TestFalconContract(ActuatorContract):
    @pytest.fixture
    def emulator(self, falcon: FalconEmulator) -> FalconEmulator:
        return falcon

    @pytest.fixture
    def actuator(self, falcon_actuator: FalconActuator) -> FalconActuator:
        return falcon_actuator

    @pytest.fixture
    async def bad_credentials_actuator(
        self, falcon: FalconEmulator
    ) -> AsyncIterator[FalconActuator]:
        actuator = FalconActuator(
            "falcon", options(falcon, client_secret=SecretStr("not-the-secret-at-all"))
        )
        yield actuator
        await actuator.aclose()

    @pytest.fixture
    def command(self) -> ContainmentCommand:
        return isolate("WS-01")


async def test_the_integration_is_discovered_through_its_entry_point() -> None:
    assert installed().integrations["crowdstrike"] is INTEGRATION
    assert INTEGRATION.kinds == ["actuator"]
    defaults = CrowdStrikeOptions(client_id="me", client_secret=SecretStr("s3cr3t-value"))
    assert defaults.base_url == "https://api.crowdstrike.com"
    assert "s3cr3t-value" not in repr(defaults)


async def test_an_unknown_host_is_a_permanent_target_not_found(
    falcon: FalconEmulator, falcon_actuator: FalconActuator
) -> None:
    with pytest.raises(TargetNotFound) as missing:
        await falcon_actuator.apply(isolate("WS-99"))
    assert missing.value.reason == "no host named WS-99 in CrowdStrike"
    assert falcon.count("POST", ACTIONS) == 0


@pytest.mark.parametrize("status", ["contained", "containment_pending"])
async def test_a_contained_or_pending_host_is_not_asked_again(
    falcon: FalconEmulator, falcon_actuator: FalconActuator, status: str
) -> None:
    falcon.add_host("WS-02", status=status)
    result = await falcon_actuator.apply(isolate("WS-02"))
    assert result.ok and result.data["status"] == status
    assert falcon.count("POST", ACTIONS) == 0


@pytest.mark.parametrize("status", ["normal", "lift_containment_pending"])
async def test_lifting_a_host_already_released_or_releasing_calls_nothing(
    falcon: FalconEmulator, falcon_actuator: FalconActuator, status: str
) -> None:
    falcon.add_host("WS-02", status=status)
    result = await falcon_actuator.revert(isolate("WS-02"))
    assert result.ok and result.data["status"] == status
    assert falcon.count("POST", ACTIONS) == 0


async def test_an_error_inside_a_200_answer_is_a_refusal_not_a_success(
    falcon: FalconEmulator, falcon_actuator: FalconActuator
) -> None:
    falcon.add_host("WS-RFM", reduced_functionality=True)
    with pytest.raises(RequestRejected) as refused:
        await falcon_actuator.apply(isolate("WS-RFM"))
    assert "reduced functionality mode" in str(refused.value)
    assert falcon.count("POST", ACTIONS, status=200) == 1
    assert falcon.host("WS-RFM").status == "normal"


async def test_an_expired_token_is_renewed_and_the_call_lands(
    falcon: FalconEmulator, falcon_actuator: FalconActuator
) -> None:
    command = isolate("WS-01")
    await falcon_actuator.apply(command)
    falcon.expire_tokens()
    result = await falcon_actuator.revert(command)
    assert result.ok, result.detail
    assert falcon.tokens_issued == 2
    assert falcon.count("POST", "/oauth2/token") == 2
    assert not falcon.in_effect(command)


async def test_the_epoch_wait_header_is_read_as_the_wait(falcon: FalconEmulator) -> None:
    falcon.throttle(1, seconds=120)
    actuator = FalconActuator("falcon", options(falcon, max_wait_seconds=5))
    with pytest.raises(RateLimited) as limited:
        await actuator.apply(isolate("WS-01"))
    await actuator.aclose()
    assert 118 <= limited.value.retry_after <= 121
    assert "X-Ratelimit-Retryafter" in falcon.wait_headers(1)


async def test_a_rate_limited_api_call_after_the_token_is_waited_out(
    falcon: FalconEmulator, falcon_actuator: FalconActuator
) -> None:
    await falcon_actuator.verify(isolate("WS-01"))
    falcon.throttle(1, seconds=1)
    began = time.monotonic()
    result = await falcon_actuator.apply(isolate("WS-01"))
    assert result.ok
    assert time.monotonic() - began >= 0.5
    assert falcon.count("GET", "/devices/queries", status=429) == 1


async def test_an_outage_is_retried(
    falcon: FalconEmulator, falcon_actuator: FalconActuator
) -> None:
    falcon.outage(1)
    result = await falcon_actuator.apply(isolate("WS-01"))
    assert result.ok
    assert falcon.in_effect(isolate("WS-01"))


async def test_a_containment_still_pending_is_applied_but_not_verified(
    falcon: FalconEmulator,
) -> None:
    falcon.pending_reads = 1000
    actuator = FalconActuator("falcon", options(falcon, settle_seconds=0.1, poll_seconds=0.02))
    command = isolate("WS-01")
    assert (await actuator.apply(command)).ok
    assert not await actuator.verify(command)
    falcon.settle("WS-01")
    assert await actuator.verify(command)
    await actuator.aclose()


async def test_a_containment_waits_for_a_pending_lift_to_settle(
    falcon: FalconEmulator, falcon_actuator: FalconActuator
) -> None:
    falcon.add_host("WS-02", status="lift_containment_pending")
    result = await falcon_actuator.apply(isolate("WS-02"))
    assert result.ok and result.data["status"] == "containment_pending"
    assert falcon.host("WS-02").effects == 1


async def test_a_lift_that_does_not_settle_is_retried_later(falcon: FalconEmulator) -> None:
    falcon.pending_reads = 1000
    falcon.add_host("WS-02", status="lift_containment_pending")
    actuator = FalconActuator("falcon", options(falcon, settle_seconds=0.05, poll_seconds=0.01))
    with pytest.raises(TransientError, match="still lift containment pending"):
        await actuator.apply(isolate("WS-02"))
    assert falcon.count("POST", ACTIONS) == 0
    await actuator.aclose()


async def test_of_several_records_the_host_seen_last_is_contained(
    falcon: FalconEmulator, falcon_actuator: FalconActuator
) -> None:
    stale = falcon.add_host("WS-03", seen_ago=timedelta(days=40))
    live = falcon.add_host("WS-03")
    await falcon_actuator.apply(isolate("WS-03"))
    assert (stale.effects, live.effects) == (0, 1)


async def test_a_host_name_that_would_break_the_filter_is_refused(
    falcon: FalconEmulator, falcon_actuator: FalconActuator
) -> None:
    with pytest.raises(RequestRejected):
        await falcon_actuator.apply(isolate("WS-01' or hostname:'*"))
    assert len(falcon.calls) == 0


async def test_check_counts_the_hosts_and_changes_nothing(falcon: FalconEmulator) -> None:
    falcon.add_host("WS-02")
    falcon.add_host("WS-03")
    lines = await check("falcon", options(falcon))
    assert lines == [f"{falcon.base_url}: token accepted", "3 hosts visible"]
    assert all(call.method == "GET" or call.path == "/oauth2/token" for call in falcon.calls)


async def test_check_with_a_wrong_secret_says_so(falcon: FalconEmulator) -> None:
    with pytest.raises(CredentialsRejected) as refused:
        await check("falcon", options(falcon, client_secret=SecretStr("wrong-secret-value")))
    assert "wrong-secret-value" not in str(refused.value)


async def test_a_rate_limited_token_request_is_waited_out(
    falcon: FalconEmulator, falcon_actuator: FalconActuator
) -> None:
    falcon.throttle(1, seconds=1)
    result = await falcon_actuator.apply(isolate("WS-01"))
    assert result.ok
    assert [(c.path, c.status) for c in falcon.calls[:2]] == [
        ("/oauth2/token", 429),
        ("/oauth2/token", 201),
    ]
