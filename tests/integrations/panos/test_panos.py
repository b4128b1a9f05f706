"""The PAN-OS actuator against the PAN-OS emulator over real HTTP: the actuator
contract, then what is PAN-OS's own — a key generated from a username and password
(and again when it lapses), repeats answered "already exists, ignore", errors inside
200 bodies, a bad key in a 403 or a 200, tag timeouts, IPv6, networks refused, and an
answer declaring a DOCTYPE never parsed."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from ipaddress import ip_address
from typing import Any
from urllib.parse import parse_qs

import pytest
from pydantic import SecretStr, ValidationError

from integrations.panos import INTEGRATION
from integrations.panos.actuator import PanosActuator
from integrations.panos.client import NotPanosXml, check, parse_answer
from integrations.panos.options import PanosOptions
from soar.containment.models import ContainmentCommand, block_ip
from soar.integrations.errors import (
    AccessDenied,
    CredentialsRejected,
    IntegrationConfigError,
    IntegrationError,
    RateLimited,
    RequestRejected,
    TargetNotFound,
    TransientError,
)
from soar.runtime.integrations import installed
from soar.testing.contract import ActuatorContract
from soar.testing.emulators.panos import PanosEmulator

ADDRESS = "203.0.113.7"


def options(emulator: PanosEmulator, **overrides: Any) -> PanosOptions:
    """Options reaching the emulator with its username and password."""
    values: dict[str, Any] = {
        "base_url": emulator.base_url,
        "username": emulator.username,
        "password": SecretStr(emulator.password),
        "max_wait_seconds": 5,
    }
    values.update(overrides)
    return PanosOptions(**values)


def uid_calls(emulator: PanosEmulator) -> list[str]:
    """The uid-messages the emulator received, in order."""
    return [
        parse_qs(call.body)["cmd"][0]
        for call in emulator.calls
        if call.query.get("type") == "user-id"
    ]


@pytest.fixture
async def emulator() -> AsyncIterator[PanosEmulator]:
    vendor = PanosEmulator()
    await vendor.start()
    yield vendor
    await vendor.stop()


@pytest.fixture
async def actuator(emulator: PanosEmulator) -> AsyncIterator[PanosActuator]:
    made = PanosActuator("edge-fw", options(emulator))
    yield made
    await made.aclose()


@pytest.fixture
async def bad_credentials_actuator(emulator: PanosEmulator) -> AsyncIterator[PanosActuator]:
    made = PanosActuator("edge-fw", options(emulator, password=SecretStr("not-the-password")))
    yield made
    await made.aclose()


@pytest.fixture
def command() -> ContainmentCommand:
    return block_ip(ADDRESS, ttl=3600)


class TestPanosActuatorContract(ActuatorContract):
    """The contract every actuator keeps, on PAN-OS."""


async def test_a_key_is_generated_once_with_a_post_and_sent_as_a_header(
    emulator: PanosEmulator,
    actuator: PanosActuator,
    command: ContainmentCommand,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await actuator.apply(command)
    assert await actuator.verify(command)
    keygens = [call for call in emulator.calls if call.query.get("type") == "keygen"]
    assert [call.method for call in keygens] == ["POST"]
    assert emulator.password not in str(keygens[0].query)
    assert emulator.keys_issued == 1
    for secret in emulator.secrets:
        assert secret not in caplog.text


async def test_a_lapsed_key_is_generated_again_and_the_call_lands(
    emulator: PanosEmulator, actuator: PanosActuator, command: ContainmentCommand
) -> None:
    await actuator.apply(command)
    emulator.revoke_keys()
    assert await actuator.verify(command)
    assert emulator.keys_issued == 2


@pytest.mark.parametrize("bad_key_status", [403, 200])
async def test_a_bad_api_key_is_refused_credentials_in_a_403_or_a_200(
    bad_key_status: int, command: ContainmentCommand
) -> None:
    vendor = PanosEmulator(bad_key_status=bad_key_status)
    await vendor.start()
    made = PanosActuator(
        "edge-fw",
        PanosOptions(base_url=vendor.base_url, api_key=SecretStr("LUFRPT-a-revoked-key")),
    )
    try:
        with pytest.raises(CredentialsRejected) as refused:
            await made.apply(command)
    finally:
        await made.aclose()
        await vendor.stop()
    assert "API key was refused" in str(refused.value)
    assert "LUFRPT-a-revoked-key" not in str(refused.value)
    assert len(vendor.calls) == 1
    assert not vendor.in_effect(command)


async def test_an_api_key_given_directly_is_used_without_keygen(
    emulator: PanosEmulator, command: ContainmentCommand
) -> None:
    made = PanosActuator(
        "edge-fw", PanosOptions(base_url=emulator.base_url, api_key=SecretStr(emulator.api_key))
    )
    try:
        assert (await made.apply(command)).ok
    finally:
        await made.aclose()
    assert emulator.in_effect(command)
    assert emulator.keys_issued == 0


async def test_repeats_are_answered_already_exists_and_are_not_errors(
    emulator: PanosEmulator, actuator: PanosActuator
) -> None:
    address = ip_address(ADDRESS)
    assert await actuator.client.register(address, None) is True
    assert await actuator.client.register(address, None) is False
    assert await actuator.client.unregister(address) is True
    assert await actuator.client.unregister(address) is False
    messages = uid_calls(emulator)
    assert len(messages) == 4
    assert "<register>" in messages[1] and "<unregister>" in messages[3]
    assert emulator.changes[ADDRESS] == 4
    assert emulator.tags[ADDRESS] == {}


async def test_a_block_with_a_duration_is_a_tag_timeout_that_lapses(
    emulator: PanosEmulator, actuator: PanosActuator
) -> None:
    command = block_ip(ADDRESS, ttl=600)
    result = await actuator.apply(command)
    assert result.ok and result.data["timeout_seconds"] == 600
    assert 'timeout="600"' in uid_calls(emulator)[0]
    remaining = emulator.remaining(command)
    assert remaining is not None and 590 < remaining <= 600
    emulator.advance(601)
    assert not await actuator.verify(command)
    assert (await actuator.apply(command)).data["changed"] is True
    assert await actuator.verify(command)


async def test_a_block_without_a_duration_has_no_timeout(
    emulator: PanosEmulator, actuator: PanosActuator
) -> None:
    command = block_ip(ADDRESS)
    result = await actuator.apply(command)
    assert result.ok, result.detail
    assert "until reverted" in result.detail
    assert "timeout" not in uid_calls(emulator)[0]
    assert emulator.remaining(command) is None


@pytest.mark.parametrize("value", ["2001:db8::7", "2001:db8::7/128", "203.0.113.7/32"])
async def test_ipv6_and_single_address_networks_are_tagged(
    emulator: PanosEmulator, actuator: PanosActuator, value: str
) -> None:
    command = block_ip(value, ttl=60)
    assert (await actuator.apply(command)).ok
    assert emulator.in_effect(command)
    assert await actuator.verify(command)
    assert (await actuator.revert(command)).ok
    assert not emulator.in_effect(command)
    assert not await actuator.verify(command)


@pytest.mark.parametrize(("value", "size"), [("203.0.113.0/24", 256), ("2001:db8::/127", 2)])
async def test_a_network_is_refused_in_plain_words_and_nothing_is_sent(
    emulator: PanosEmulator, actuator: PanosActuator, value: str, size: int
) -> None:
    command = block_ip(value)
    result = await actuator.apply(command)
    assert not result.ok
    assert f"network of {size} addresses" in result.detail
    assert not await actuator.verify(command)
    assert (await actuator.revert(command)).ok
    assert emulator.calls == []


async def test_a_duration_beyond_thirty_days_is_refused(
    emulator: PanosEmulator, actuator: PanosActuator
) -> None:
    result = await actuator.apply(block_ip(ADDRESS, ttl=31 * 24 * 3600))
    assert not result.ok and "30 days" in result.detail
    assert uid_calls(emulator) == []


@pytest.mark.parametrize(
    ("code", "error", "words"),
    [
        ("7", TargetNotFound, "not present"),
        ("16", AccessDenied, "may not do this"),
        ("17", RequestRejected, "refused"),
    ],
)
async def test_an_error_inside_a_200_is_raised_once_in_pan_os_words(
    emulator: PanosEmulator,
    actuator: PanosActuator,
    command: ContainmentCommand,
    code: str,
    error: type[IntegrationError],
    words: str,
) -> None:
    await actuator.verify(command)  # the key is generated first
    before = len(emulator.calls)
    emulator.fail_next(code, "Object doesn't exist or permission denied")
    with pytest.raises(error) as raised:
        await actuator.client.registered()
    assert words in str(raised.value)
    assert f"PAN-OS error {code}: Object doesn't exist" in str(raised.value)
    assert len(emulator.calls) == before + 1


async def test_a_key_refused_inside_a_200_is_generated_again_once(
    emulator: PanosEmulator, actuator: PanosActuator, command: ContainmentCommand
) -> None:
    await actuator.verify(command)
    emulator.fail_next("403", "Invalid credentials.")
    assert (await actuator.apply(command)).ok
    assert emulator.keys_issued == 2
    emulator.fail_next("403", "Invalid credentials.")
    emulator.fail_next("403", "Invalid credentials.")
    with pytest.raises(CredentialsRejected, match="API key was refused"):
        await actuator.verify(command)
    assert emulator.keys_issued == 3


async def test_an_internal_error_inside_a_200_is_retried_and_the_call_lands(
    emulator: PanosEmulator, actuator: PanosActuator, command: ContainmentCommand
) -> None:
    await actuator.verify(command)
    emulator.fail_next("2", "Internal error")
    assert (await actuator.apply(command)).ok
    assert emulator.in_effect(command)


async def test_a_refused_user_id_entry_is_a_rejection_not_a_repeat(
    emulator: PanosEmulator, actuator: PanosActuator
) -> None:
    await actuator.verify(block_ip(ADDRESS))
    emulator.answer_next(
        '<response status="error"><msg><line><uid-response><version>2.0</version>'
        '<payload><register><entry ip="203.0.113.7" message="tag limit reached"/>'
        "</register></payload></uid-response></line></msg></response>"
    )
    with pytest.raises(RequestRejected, match="tag limit reached"):
        await actuator.client.register(ip_address(ADDRESS), None)


async def test_an_answer_declaring_a_doctype_is_never_parsed(
    emulator: PanosEmulator, command: ContainmentCommand
) -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;">]>'
        '<response status="success"><result>&b;</result></response>'
    )
    with pytest.raises(NotPanosXml, match="DOCTYPE"):
        parse_answer(laughs)
    made = PanosActuator("edge-fw", options(emulator, max_retries=0))
    try:
        await made.verify(command)
        emulator.answer_next(laughs)
        with pytest.raises(TransientError, match="declares a DOCTYPE"):
            await made.verify(command)
    finally:
        await made.aclose()


async def test_an_outage_is_retried_and_the_call_lands(
    emulator: PanosEmulator, actuator: PanosActuator, command: ContainmentCommand
) -> None:
    emulator.outage(2)
    assert (await actuator.apply(command)).ok
    assert [call.status for call in emulator.calls[:2]] == [503, 503]
    assert emulator.in_effect(command)


async def test_a_long_rate_limit_becomes_a_timed_retry(
    emulator: PanosEmulator, actuator: PanosActuator, command: ContainmentCommand
) -> None:
    await actuator.verify(command)
    emulator.throttle(1, seconds=120)
    with pytest.raises(RateLimited) as limited:
        await actuator.apply(command)
    assert 119 <= limited.value.retry_after <= 120
    assert not emulator.in_effect(command)


async def test_registered_addresses_are_read_page_by_page(
    emulator: PanosEmulator, actuator: PanosActuator
) -> None:
    for n in range(1001):
        emulator.tags[f"198.51.{n // 256}.{n % 256}"] = {"soar-block": None}
    emulator.tags["192.0.2.1"] = {"someone-else": None}
    found = await actuator.client.registered()
    assert len(found) == 1001
    assert ip_address("192.0.2.1") not in found
    assert sum(1 for call in emulator.calls if call.query.get("type") == "op") == 3


async def test_the_vsys_is_named_on_every_call(
    emulator: PanosEmulator, command: ContainmentCommand
) -> None:
    made = PanosActuator("edge-fw", options(emulator, vsys="vsys2"))
    try:
        await made.apply(command)
    finally:
        await made.aclose()
    api_calls = [call for call in emulator.calls if call.query.get("type") != "keygen"]
    assert api_calls and all(call.query.get("vsys") == "vsys2" for call in api_calls)


@pytest.mark.parametrize(
    "given",
    [
        {"api_key": "k3y-value", "username": "soar", "password": "pw-value"},
        {},
        {"username": "soar"},
        {"password": "pw-value"},
    ],
)
def test_options_take_exactly_one_way_to_a_key(given: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as invalid:
        PanosOptions(base_url="https://fw.example.com", **given)  # type: ignore[arg-type]
    assert "api_key" in str(invalid.value)
    for value in given.values():
        if value != "soar":
            assert value not in str(invalid.value)


async def test_check_reports_the_device_and_changes_nothing(
    emulator: PanosEmulator, command: ContainmentCommand
) -> None:
    emulator.tags["198.51.100.1"] = {"soar-block": None}
    lines = await check("edge-fw", options(emulator))
    assert lines[0].startswith("reached pa-emulator (PA-VM, PAN-OS 11.1.2)")
    assert "key generated for soar-api" in lines[1]
    assert lines[2] == "1 addresses are tagged soar-block now"
    assert uid_calls(emulator) == []
    with pytest.raises(CredentialsRejected):
        await check("edge-fw", options(emulator, password=SecretStr("wrong")))


async def test_the_entry_point_builds_the_actuator_from_raw_options(
    emulator: PanosEmulator, command: ContainmentCommand
) -> None:
    assert installed().integrations["panos"] is INTEGRATION
    make = installed().actuator_factories()["panos"]
    made = make("edge-fw", {"base_url": emulator.base_url, "api_key": emulator.api_key})
    assert isinstance(made, PanosActuator) and made.handles(command)
    await made.aclose()
    with pytest.raises(IntegrationConfigError) as invalid:
        make("edge-fw", {"base_url": emulator.base_url, "password": "hunter2-secret"})
    assert "actuators.edge-fw.options" in str(invalid.value)
    assert "hunter2-secret" not in str(invalid.value)
