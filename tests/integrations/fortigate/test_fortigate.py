"""The FortiGate actuator against the FortiGate emulator over real HTTP: the actuator
contract, then what is FortiOS's own — a duplicate ban (-5) and a clear of an address
not banned (-3) are answers, a coded error is a definitive no even in a 500, errors
inside 200 bodies, bans that lapse at their expiry, IPv6, networks refused, the VDOM
named on every call."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from ipaddress import ip_address
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from integrations.fortigate import INTEGRATION
from integrations.fortigate.actuator import FortigateActuator
from integrations.fortigate.client import check
from integrations.fortigate.options import FortigateOptions
from soar.containment.models import ContainmentCommand, block_ip
from soar.integrations.errors import (
    CredentialsRejected,
    RateLimited,
    RequestRejected,
    TargetNotFound,
)
from soar.runtime.integrations import installed
from soar.testing.contract import ActuatorContract
from soar.testing.emulators.fortigate import FortigateEmulator

ADDRESS = "203.0.113.7"


def options(emulator: FortigateEmulator, **overrides: Any) -> FortigateOptions:
    values: dict[str, Any] = {
        "base_url": emulator.base_url,
        "api_token": SecretStr(emulator.token),
        "max_wait_seconds": 5,
    }
    values.update(overrides)
    return FortigateOptions(**values)


def sent(emulator: FortigateEmulator, action: str) -> list[dict[str, Any]]:
    """The bodies of the add_users or clear_users calls the emulator received."""
    return [json.loads(call.body) for call in emulator.calls if call.path.endswith(action)]


async def started(**settings: Any) -> FortigateEmulator:
    vendor = FortigateEmulator(**settings)
    await vendor.start()
    return vendor


@pytest.fixture
async def emulator() -> AsyncIterator[FortigateEmulator]:
    vendor = await started()
    yield vendor
    await vendor.stop()


@pytest.fixture
async def actuator(emulator: FortigateEmulator) -> AsyncIterator[FortigateActuator]:
    made = FortigateActuator("fgt", options(emulator))
    yield made
    await made.aclose()


@pytest.fixture
async def bad_credentials_actuator(
    emulator: FortigateEmulator,
) -> AsyncIterator[FortigateActuator]:
    made = FortigateActuator("fgt", options(emulator, api_token=SecretStr("a-revoked-token")))
    yield made
    await made.aclose()


@pytest.fixture
def command() -> ContainmentCommand:
    return block_ip(ADDRESS, ttl=3600)


class TestFortigateActuatorContract(ActuatorContract):
    """The contract every actuator keeps, on a FortiGate."""


async def test_a_ban_carries_the_duration_as_its_expiry_and_lapses_there(
    emulator: FortigateEmulator, actuator: FortigateActuator
) -> None:
    command = block_ip(ADDRESS, ttl=600)
    result = await actuator.apply(command)
    assert result.ok and result.detail == f"banned {ADDRESS} for 600 s"
    assert sent(emulator, "add_users") == [{"ip_addresses": [ADDRESS], "expiry": 600}]
    remaining = emulator.remaining(command)
    assert remaining is not None and 590 < remaining <= 600
    emulator.advance(601)
    assert not await actuator.verify(command)
    assert (await actuator.apply(command)).data["changed"] is True
    assert await actuator.verify(command)


async def test_a_ban_without_a_duration_has_no_end(
    emulator: FortigateEmulator, actuator: FortigateActuator
) -> None:
    command = block_ip(ADDRESS)
    result = await actuator.apply(command)
    assert result.ok and "until cleared" in result.detail
    assert sent(emulator, "add_users") == [{"ip_addresses": [ADDRESS], "expiry": 0}]
    assert emulator.remaining(command) is None
    emulator.advance(10 * 365 * 24 * 3600)
    assert await actuator.verify(command)


async def test_a_duplicate_ban_answered_minus_5_is_in_effect(command: ContainmentCommand) -> None:
    vendor = await started(duplicate="error")
    made = FortigateActuator("fgt", options(vendor))
    try:
        address = ip_address(ADDRESS)
        assert await made.client.ban(address, 60) is True
        assert await made.client.ban(address, 60) is False
        assert [call.status for call in vendor.calls] == [200, 500]
        assert vendor.in_effect(command)
        assert await made.verify(command)
    finally:
        await made.aclose()
        await vendor.stop()


@pytest.mark.parametrize("errors_in_200", [False, True])
async def test_a_clear_answered_minus_3_means_it_was_not_banned(
    errors_in_200: bool,
) -> None:
    vendor = await started(clear_missing="error", errors_in_200=errors_in_200)
    made = FortigateActuator("fgt", options(vendor))
    try:
        assert await made.client.clear(ip_address(ADDRESS)) is False
        assert len(vendor.calls) == 1
    finally:
        await made.aclose()
        await vendor.stop()


@pytest.mark.parametrize("errors_in_200", [False, True])
async def test_a_coded_error_is_a_definitive_no_without_retries(
    errors_in_200: bool,
) -> None:
    vendor = await started(errors_in_200=errors_in_200)
    made = FortigateActuator("fgt", options(vendor))
    try:
        with pytest.raises(RequestRejected, match=r"rejected \(500\): FortiOS error -651"):
            await made.client.ban(ip_address(ADDRESS), -1)
        assert len(vendor.calls) == 1
    finally:
        await made.aclose()
        await vendor.stop()


async def test_a_bad_token_inside_a_200_is_refused_credentials(
    command: ContainmentCommand,
) -> None:
    vendor = await started(errors_in_200=True)
    made = FortigateActuator("fgt", options(vendor, api_token=SecretStr("not-the-token")))
    try:
        with pytest.raises(CredentialsRejected, match="API token was refused") as refused:
            await made.apply(command)
    finally:
        await made.aclose()
        await vendor.stop()
    assert "not-the-token" not in str(refused.value)
    assert [call.status for call in vendor.calls] == [200]


@pytest.mark.parametrize("value", ["2001:db8::7", "2001:db8:0:0::7/128", "203.0.113.7/32"])
async def test_ipv6_and_single_address_networks_are_banned(
    emulator: FortigateEmulator, actuator: FortigateActuator, value: str
) -> None:
    command = block_ip(value, ttl=60)
    assert (await actuator.apply(command)).ok
    assert emulator.in_effect(command)
    assert await actuator.verify(command)
    assert (await actuator.revert(command)).ok
    assert not emulator.in_effect(command)
    assert [body["ip_addresses"] for body in sent(emulator, "clear_users")] == [
        [str(ip_address(value.split("/")[0]))]
    ]


@pytest.mark.parametrize(("value", "size"), [("203.0.113.0/30", 4), ("2001:db8::/64", 2**64)])
async def test_a_network_is_refused_in_plain_words_and_nothing_is_sent(
    emulator: FortigateEmulator, actuator: FortigateActuator, value: str, size: int
) -> None:
    command = block_ip(value)
    result = await actuator.apply(command)
    assert not result.ok and f"network of {size} addresses" in result.detail
    assert not await actuator.verify(command)
    assert (await actuator.revert(command)).ok
    assert emulator.calls == []


async def test_the_vdom_is_named_on_every_call_and_an_unknown_one_is_not_found(
    command: ContainmentCommand,
) -> None:
    vendor = await started(vdoms=("root", "dmz"))
    made = FortigateActuator("fgt", options(vendor, vdom="dmz"))
    lost = FortigateActuator("fgt", options(vendor, vdom="nowhere"))
    try:
        assert (await made.apply(command)).ok
        assert all(call.query.get("vdom") == "dmz" for call in vendor.calls)
        assert ADDRESS in vendor.bans["dmz"] and not vendor.bans["root"]
        with pytest.raises(TargetNotFound):
            await lost.apply(command)
    finally:
        await made.aclose()
        await lost.aclose()
        await vendor.stop()


async def test_an_outage_is_retried_and_the_call_lands(
    emulator: FortigateEmulator, actuator: FortigateActuator, command: ContainmentCommand
) -> None:
    emulator.outage(2)
    assert (await actuator.apply(command)).ok
    assert [call.status for call in emulator.calls[:2]] == [503, 503]
    assert emulator.in_effect(command)


async def test_a_long_rate_limit_becomes_a_timed_retry(
    emulator: FortigateEmulator, actuator: FortigateActuator, command: ContainmentCommand
) -> None:
    emulator.throttle(1, seconds=90)
    with pytest.raises(RateLimited) as limited:
        await actuator.apply(command)
    assert 89 <= limited.value.retry_after <= 90
    assert not emulator.in_effect(command)


async def test_a_ban_already_there_is_left_as_it_is(
    emulator: FortigateEmulator, actuator: FortigateActuator
) -> None:
    await actuator.apply(block_ip(ADDRESS))
    result = await actuator.apply(block_ip(ADDRESS, ttl=60))
    assert result.ok and result.data["changed"] is False
    assert "already banned until cleared" in result.detail
    assert len(sent(emulator, "add_users")) == 1


def test_options_accept_a_url_ending_in_the_api_root_and_never_echo_the_token() -> None:
    given = FortigateOptions(base_url="https://fgt.example.com/api/v2/", api_token="t0ken-value")  # type: ignore[arg-type]
    assert given.base_url == "https://fgt.example.com"
    with pytest.raises(ValidationError) as invalid:
        FortigateOptions(base_url="", api_token="t0ken-value")  # type: ignore[arg-type]
    assert "t0ken-value" not in str(invalid.value)


async def test_check_reports_the_device_and_changes_nothing(
    emulator: FortigateEmulator, actuator: FortigateActuator, command: ContainmentCommand
) -> None:
    await actuator.apply(command)
    before = len(emulator.calls)
    lines = await check("fgt", options(emulator))
    assert lines[0].startswith("reached fgt-emulator (FortiGate, FortiOS v7.4.3)")
    assert lines[1:] == [
        "the API token was accepted",
        "1 addresses are banned now in the token's default VDOM",
    ]
    assert all(call.method == "GET" for call in emulator.calls[before:])
    assert emulator.effects(command) == 1
    with pytest.raises(CredentialsRejected):
        await check("fgt", options(emulator, api_token=SecretStr("wrong-token")))


async def test_the_entry_point_builds_the_actuator_from_raw_options(
    emulator: FortigateEmulator, command: ContainmentCommand
) -> None:
    assert installed().integrations["fortigate"] is INTEGRATION
    make = installed().actuator_factories()["fortigate"]
    made = make("fgt", {"base_url": emulator.base_url, "api_token": emulator.token})
    assert isinstance(made, FortigateActuator) and made.handles(command)
    await made.aclose()
