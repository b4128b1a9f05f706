"""The Defender for Endpoint actuator against its emulator over loopback HTTP: the
actuator contract, and Defender's own ways — machine actions that stay pending, the 400
"Action is already in progress" of a repeat, failed actions, tokens from the identity
platform that expire, `Retry-After`, an unknown machine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from integrations.defender import INTEGRATION, DefenderActuator, DefenderOptions, check
from soar.containment.models import ContainmentArgs, ContainmentCommand, isolate
from soar.integrations.errors import (
    CredentialsRejected,
    RateLimited,
    TargetNotFound,
    TransientError,
)
from soar.runtime.integrations import installed
from soar.testing.contract import ActuatorContract
from soar.testing.emulators.defender import DefenderEmulator


def options(mde: DefenderEmulator, **overrides: Any) -> DefenderOptions:
    settings: dict[str, Any] = {
        "base_url": mde.base_url,
        "token_url": mde.token_url,
        "tenant_id": mde.tenant_id,
        "client_id": mde.client_id,
        "client_secret": SecretStr(mde.client_secret),
        "requests_per_minute": None,
        "max_wait_seconds": 5,
        "settle_seconds": 2,
        "poll_seconds": 0.01,
        **overrides,
    }
    return DefenderOptions(**settings)


@pytest.fixture
async def mde() -> AsyncIterator[DefenderEmulator]:
    vendor = DefenderEmulator()
    async with vendor:
        vendor.add_host("ws-01.corp.example")
        yield vendor


@pytest.fixture
async def mde_actuator(mde: DefenderEmulator) -> AsyncIterator[DefenderActuator]:
    actuator = DefenderActuator("mde", options(mde))
    yield actuator
    await actuator.aclose()


def posts(mde: DefenderEmulator, status: int | None = None) -> int:
    return mde.count("POST", "/isolate", status=status) + mde.count(
        "POST", "/unisolate", status=status
    )


class TestDefenderContract(ActuatorContract):
    @pytest.fixture
    def emulator(self, mde: DefenderEmulator) -> DefenderEmulator:
        return mde

    @pytest.fixture
    def actuator(self, mde_actuator: DefenderActuator) -> DefenderActuator:
        return mde_actuator

    @pytest.fixture
    async def bad_credentials_actuator(
        self, mde: DefenderEmulator
    ) -> AsyncIterator[DefenderActuator]:
        actuator = DefenderActuator(
            "mde", options(mde, client_secret=SecretStr("not-the-secret-at-all"))
        )
        yield actuator
        await actuator.aclose()

    @pytest.fixture
    def command(self) -> ContainmentCommand:
        return isolate("ws-01.corp.example")


async def test_the_integration_is_discovered_with_microsoft_defaults() -> None:
    assert installed().integrations["defender"] is INTEGRATION
    defaults = DefenderOptions(
        tenant_id="contoso-tenant", client_id="app", client_secret=SecretStr("s3cr3t-value")
    )
    assert defaults.base_url == "https://api.security.microsoft.com"
    assert defaults.tenant_token_url() == (
        "https://login.microsoftonline.com/contoso-tenant/oauth2/v2.0/token"
    )
    assert defaults.isolation_type == "Full"
    assert "s3cr3t-value" not in repr(defaults)


async def test_an_unknown_machine_is_a_permanent_target_not_found(
    mde: DefenderEmulator, mde_actuator: DefenderActuator
) -> None:
    with pytest.raises(TargetNotFound) as missing:
        await mde_actuator.apply(isolate("ws-99"))
    assert missing.value.reason == "no host named ws-99 in Defender"
    assert posts(mde) == 0


async def test_the_isolation_type_and_the_case_go_on_the_action(mde: DefenderEmulator) -> None:
    actuator = DefenderActuator("mde", options(mde, isolation_type="Selective"))
    command = isolate("ws-01.corp.example").model_copy(
        update={"args": ContainmentArgs(reference="case-42")}
    )
    result = await actuator.apply(command)
    await actuator.aclose()
    (action,) = mde.actions_of("ws-01.corp.example")
    assert (action.type, action.isolation_type) == ("Isolate", "Selective")
    assert "case-42" in action.comment
    assert result.data["action_id"] == action.id


async def test_a_pending_isolation_is_applied_but_not_verified_until_it_succeeds(
    mde: DefenderEmulator,
) -> None:
    mde.pending_reads = 1000
    actuator = DefenderActuator("mde", options(mde, settle_seconds=0.1, poll_seconds=0.02))
    command = isolate("ws-01.corp.example")
    await actuator.apply(command)
    again = await actuator.apply(command)
    assert again.ok and "already Pending" in again.detail
    assert not await actuator.verify(command)
    assert mde.effects(command) == 1
    mde.settle("ws-01.corp.example")
    assert await actuator.verify(command)
    await actuator.aclose()


@pytest.mark.parametrize(("repeat", "answers"), [("conflict", 400), ("pending_action", 201)])
async def test_two_workers_at_once_make_one_action_whatever_the_repeat_answer(
    mde: DefenderEmulator, mde_actuator: DefenderActuator, repeat: Any, answers: int
) -> None:
    mde.repeat = repeat
    mde.hold_action_lists(2)
    command = isolate("ws-01.corp.example")
    first, second = await asyncio.gather(mde_actuator.apply(command), mde_actuator.apply(command))
    assert first.ok and second.ok, (first.detail, second.detail)
    assert mde.count("POST", "/isolate") == 2
    assert mde.count("POST", "/isolate", status=answers) == (2 if answers == 201 else 1)
    assert mde.effects(command) == 1
    assert await mde_actuator.verify(command)


async def test_a_release_crossing_a_pending_isolation_is_retried_later(
    mde: DefenderEmulator,
) -> None:
    mde.pending_reads = 1000
    actuator = DefenderActuator("mde", options(mde, settle_seconds=0.05, poll_seconds=0.01))
    command = isolate("ws-01.corp.example")
    await actuator.apply(command)
    with pytest.raises(TransientError, match=r"Isolate action .* is still pending"):
        await actuator.revert(command)
    assert mde.count("POST", "/unisolate") == 0
    await actuator.aclose()


async def test_a_release_right_after_isolating_waits_for_the_isolation(
    mde: DefenderEmulator, mde_actuator: DefenderActuator
) -> None:
    command = isolate("ws-01.corp.example")
    await mde_actuator.apply(command)
    result = await mde_actuator.revert(command)
    assert result.ok and result.data["action"] == "Unisolate"
    assert [a.type for a in mde.actions_of("ws-01.corp.example")] == ["Isolate", "Unisolate"]
    assert mde.count("POST", status=400) == 0


async def test_a_failed_isolation_is_not_verified_and_is_asked_again(
    mde: DefenderEmulator, mde_actuator: DefenderActuator
) -> None:
    command = isolate("ws-01.corp.example")
    mde.fail_next("ws-01.corp.example")
    await mde_actuator.apply(command)
    assert not await mde_actuator.verify(command)
    assert [a.status for a in mde.actions_of("ws-01.corp.example")] == ["Failed"]
    await mde_actuator.apply(command)
    assert await mde_actuator.verify(command)
    assert mde.effects(command) == 2


async def test_an_expired_token_is_renewed_and_the_call_lands(
    mde: DefenderEmulator, mde_actuator: DefenderActuator
) -> None:
    command = isolate("ws-01.corp.example")
    await mde_actuator.apply(command)
    assert await mde_actuator.verify(command)
    mde.expire_tokens()
    assert (await mde_actuator.revert(command)).ok
    assert mde.tokens_issued == 2
    assert not mde.in_effect(command)


async def test_retry_after_is_read_as_the_wait(mde: DefenderEmulator) -> None:
    mde.throttle(1, seconds=90)
    actuator = DefenderActuator("mde", options(mde, max_wait_seconds=5))
    with pytest.raises(RateLimited) as limited:
        await actuator.apply(isolate("ws-01.corp.example"))
    await actuator.aclose()
    assert limited.value.retry_after == 90


async def test_an_outage_is_retried(mde: DefenderEmulator, mde_actuator: DefenderActuator) -> None:
    mde.outage(1)
    assert (await mde_actuator.apply(isolate("ws-01.corp.example"))).ok
    assert mde.isolated("ws-01.corp.example")


async def test_a_quote_in_a_name_is_escaped_in_the_filter(
    mde: DefenderEmulator, mde_actuator: DefenderActuator
) -> None:
    mde.add_host("o'brien-pc")
    assert (await mde_actuator.apply(isolate("o'brien-pc"))).ok
    assert mde.isolated("o'brien-pc") and not mde.isolated("ws-01.corp.example")


async def test_of_several_records_the_machine_seen_last_is_isolated(
    mde: DefenderEmulator, mde_actuator: DefenderActuator
) -> None:
    stale = mde.add_host("ws-03", seen_ago=timedelta(days=30))
    live = mde.add_host("ws-03")
    await mde_actuator.apply(isolate("ws-03"))
    assert [a.machine for a in mde.actions] == [live]
    assert stale is not live


async def test_check_counts_the_machines_and_changes_nothing(mde: DefenderEmulator) -> None:
    mde.add_host("ws-02")
    lines = await check("mde", options(mde))
    assert lines == [f"{mde.base_url}: token accepted", "2 machines visible"]
    assert posts(mde) == 0 and not mde.actions


@pytest.mark.parametrize("field", ["client_secret", "tenant_id"])
async def test_check_with_a_wrong_secret_or_tenant_says_so(
    mde: DefenderEmulator, field: str
) -> None:
    wrong: Any = SecretStr("wrong-value-xyz") if field == "client_secret" else "other-tenant"
    with pytest.raises(CredentialsRejected) as refused:
        await check("mde", options(mde, **{field: wrong}))
    assert "wrong-value-xyz" not in str(refused.value)
    assert mde.count("GET", "/api/machines") == 0
