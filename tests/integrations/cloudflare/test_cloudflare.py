"""The Cloudflare actuator against the Cloudflare emulator over real HTTP: the actuator
contract, then what is Cloudflare's own — the case id as the rule's notes, the target
chosen by address and prefix (ip, ip6, ip_range), a duplicate (10009) after a race
read as in effect, another mode's rule left alone, authentication errors in a 401, a
403 or a malformed header, a wrong zone, `success: false` inside a 200."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from integrations.cloudflare import INTEGRATION
from integrations.cloudflare.actuator import CloudflareActuator
from integrations.cloudflare.client import CloudflareHttp, check
from integrations.cloudflare.options import CLOUDFLARE_API, CloudflareOptions
from soar.containment.models import ContainmentCommand, block_ip
from soar.integrations.errors import (
    CredentialsRejected,
    RateLimited,
    RequestRejected,
    TargetNotFound,
)
from soar.runtime.integrations import installed
from soar.testing.contract import ActuatorContract
from soar.testing.emulators.cloudflare import CloudflareEmulator

ADDRESS = "203.0.113.7"


def options(emulator: CloudflareEmulator, **overrides: Any) -> CloudflareOptions:
    values: dict[str, Any] = {
        "base_url": f"{emulator.base_url}/client/v4",
        "api_token": SecretStr(emulator.token),
        "zone_id": emulator.zone_id,
        "requests_per_minute": None,
        "max_wait_seconds": 5,
    }
    values.update(overrides)
    return CloudflareOptions(**values)


def for_case(command: ContainmentCommand, case_id: str) -> ContainmentCommand:
    """The command as the containment activity hands it over: with the case id."""
    return command.model_copy(
        update={"args": command.args.model_copy(update={"reference": case_id})}
    )


def created(emulator: CloudflareEmulator) -> list[dict[str, Any]]:
    """The bodies of the create calls the emulator received."""
    return [json.loads(call.body) for call in emulator.calls if call.method == "POST"]


async def started(**settings: Any) -> CloudflareEmulator:
    vendor = CloudflareEmulator(**settings)
    await vendor.start()
    return vendor


@pytest.fixture
async def emulator() -> AsyncIterator[CloudflareEmulator]:
    vendor = await started()
    yield vendor
    await vendor.stop()


@pytest.fixture
async def actuator(emulator: CloudflareEmulator) -> AsyncIterator[CloudflareActuator]:
    made = CloudflareActuator("cf", options(emulator))
    yield made
    await made.aclose()


@pytest.fixture
async def bad_credentials_actuator(
    emulator: CloudflareEmulator,
) -> AsyncIterator[CloudflareActuator]:
    made = CloudflareActuator("cf", options(emulator, api_token=SecretStr("revoked-token-1234")))
    yield made
    await made.aclose()


@pytest.fixture
def command() -> ContainmentCommand:
    return for_case(block_ip(ADDRESS, ttl=3600), "case-42")


class TestCloudflareActuatorContract(ActuatorContract):
    """The contract every actuator keeps, at Cloudflare."""


async def test_the_case_id_is_the_rules_notes(
    emulator: CloudflareEmulator, actuator: CloudflareActuator, command: ContainmentCommand
) -> None:
    result = await actuator.apply(command)
    assert result.ok and result.data["notes"] == "case-42"
    assert created(emulator) == [
        {"mode": "block", "configuration": {"target": "ip", "value": ADDRESS}, "notes": "case-42"}
    ]
    (rule,) = emulator.blocking(command)
    assert rule["notes"] == "case-42" and result.data["rule_id"] == rule["id"]


@pytest.mark.parametrize(
    ("value", "target", "rule_value"),
    [
        ("203.0.113.7/32", "ip", "203.0.113.7"),
        ("198.51.100.0/24", "ip_range", "198.51.100.0/24"),
        ("198.51.100.77/24", "ip_range", "198.51.100.0/24"),
        ("10.20.0.0/16", "ip_range", "10.20.0.0/16"),
        ("2001:db8::7", "ip6", "2001:db8::7"),
        ("2001:db8:0:0::7/128", "ip6", "2001:db8::7"),
        ("2001:db8:1:2::/64", "ip_range", "2001:db8:1:2::/64"),
        ("2001:db8:1::/48", "ip_range", "2001:db8:1::/48"),
        ("2001:db8::/32", "ip_range", "2001:db8::/32"),
    ],
)
async def test_the_target_follows_the_address_and_prefix(
    emulator: CloudflareEmulator,
    actuator: CloudflareActuator,
    value: str,
    target: str,
    rule_value: str,
) -> None:
    command = block_ip(value)
    result = await actuator.apply(command)
    assert result.ok, result.detail
    assert created(emulator)[0]["configuration"] == {"target": target, "value": rule_value}
    assert await actuator.verify(command)
    assert (await actuator.revert(command)).ok
    assert not emulator.in_effect(command)
    assert not await actuator.verify(command)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("203.0.113.0/25", "IPv4 ranges of /16 and /24 only"),
        ("10.0.0.0/8", "IPv4 ranges of /16 and /24 only"),
        ("2001:db8::/56", "IPv6 ranges of /32 and /48 and /64 only"),
    ],
)
async def test_a_range_cloudflare_does_not_take_is_refused_and_nothing_is_sent(
    emulator: CloudflareEmulator, actuator: CloudflareActuator, value: str, words: str
) -> None:
    command = block_ip(value)
    result = await actuator.apply(command)
    assert not result.ok and words in result.detail
    assert not await actuator.verify(command)
    assert (await actuator.revert(command)).ok
    assert emulator.calls == []


async def test_a_rule_of_another_mode_is_left_alone(
    emulator: CloudflareEmulator, actuator: CloudflareActuator, command: ContainmentCommand
) -> None:
    allow = emulator.add_rule("ip", ADDRESS, "whitelist", "office egress")
    result = await actuator.apply(command)
    assert not result.ok
    assert "whitelist rule" in result.detail and "office egress" in result.detail
    assert not await actuator.verify(command)
    assert (await actuator.revert(command)).ok
    assert emulator.rules == {allow["id"]: allow}
    assert created(emulator) == []


async def test_a_duplicate_after_a_race_is_read_as_in_effect(
    emulator: CloudflareEmulator, actuator: CloudflareActuator, command: ContainmentCommand
) -> None:
    emulator.concurrent_writer("block", notes="case-41")
    result = await actuator.apply(command)
    assert result.ok and result.data["changed"] is False
    assert "already blocked" in result.detail and result.data["notes"] == "case-41"
    assert emulator.count("POST", "/rules", status=400) == 1
    assert len(emulator.rules) == 1
    assert await actuator.verify(command)


async def test_a_race_lost_to_another_mode_is_refused(
    emulator: CloudflareEmulator, actuator: CloudflareActuator, command: ContainmentCommand
) -> None:
    emulator.concurrent_writer("challenge")
    result = await actuator.apply(command)
    assert not result.ok and "challenge rule" in result.detail
    assert not emulator.in_effect(command)


@pytest.mark.parametrize("bad_token_status", [401, 403])
async def test_an_authentication_error_is_refused_credentials_in_a_401_or_a_403(
    bad_token_status: int, command: ContainmentCommand
) -> None:
    vendor = await started(bad_token_status=bad_token_status)
    made = CloudflareActuator("cf", options(vendor, api_token=SecretStr("wrong-token-abcd")))
    try:
        with pytest.raises(CredentialsRejected, match="Cloudflare error 10000") as refused:
            await made.apply(command)
    finally:
        await made.aclose()
        await vendor.stop()
    assert "wrong-token-abcd" not in str(refused.value)
    assert len(vendor.calls) == 1


async def test_a_malformed_authorization_header_is_refused_credentials(
    emulator: CloudflareEmulator,
) -> None:
    http = CloudflareHttp("cf", options(emulator), headers={"Authorization": "Token abc"})
    try:
        with pytest.raises(CredentialsRejected, match="Cloudflare error 6003"):
            await http.request("GET", f"/zones/{emulator.zone_id}")
    finally:
        await http.aclose()


async def test_a_zone_nothing_routes_to_is_not_found(
    emulator: CloudflareEmulator, command: ContainmentCommand
) -> None:
    made = CloudflareActuator("cf", options(emulator, zone_id="0" * 32))
    try:
        with pytest.raises(TargetNotFound, match="no such zone"):
            await made.apply(command)
    finally:
        await made.aclose()
    assert len(emulator.calls) == 1


async def test_success_false_inside_a_200_is_an_error_raised_once(
    emulator: CloudflareEmulator, actuator: CloudflareActuator, command: ContainmentCommand
) -> None:
    emulator.fail_next(1000, "internal validation failed")
    with pytest.raises(RequestRejected, match="Cloudflare error 1000: internal validation"):
        await actuator.apply(command)
    assert len(emulator.calls) == 1
    assert not emulator.in_effect(command)


async def test_a_rule_deleted_meanwhile_is_not_an_error(
    emulator: CloudflareEmulator, actuator: CloudflareActuator
) -> None:
    assert await actuator.client.delete("f" * 32) is False
    assert emulator.count("DELETE", "/rules/", status=404) == 1


async def test_an_outage_is_retried_and_the_call_lands(
    emulator: CloudflareEmulator, actuator: CloudflareActuator, command: ContainmentCommand
) -> None:
    emulator.outage(2)
    assert (await actuator.apply(command)).ok
    assert [call.status for call in emulator.calls[:2]] == [503, 503]
    assert emulator.in_effect(command)


async def test_a_long_retry_after_becomes_a_timed_retry(
    emulator: CloudflareEmulator, actuator: CloudflareActuator, command: ContainmentCommand
) -> None:
    emulator.throttle(1, seconds=300)
    with pytest.raises(RateLimited) as limited:
        await actuator.apply(command)
    assert 299 <= limited.value.retry_after <= 300
    assert not emulator.in_effect(command)


def test_options_default_to_cloudflare_and_its_rate_limit() -> None:
    given = CloudflareOptions(api_token=SecretStr("t0ken-value"), zone_id="a" * 32)
    assert given.base_url == CLOUDFLARE_API
    assert given.requests_per_minute == 240
    with pytest.raises(ValidationError) as invalid:
        CloudflareOptions(api_token="t0ken-value", zone_id="example.com")  # type: ignore[arg-type]
    assert "zone_id" in str(invalid.value) and "t0ken-value" not in str(invalid.value)


async def test_check_reports_the_zone_and_changes_nothing(
    emulator: CloudflareEmulator, actuator: CloudflareActuator, command: ContainmentCommand
) -> None:
    await actuator.apply(command)
    emulator.add_rule("ip", "192.0.2.1", "whitelist")
    before = len(emulator.calls)
    lines = await check("cf", options(emulator))
    assert lines[0].startswith("reached zone example.com (active)")
    assert lines[2] == "1 IP Access rules block addresses in the zone now"
    assert all(call.method == "GET" for call in emulator.calls[before:])
    with pytest.raises(CredentialsRejected):
        await check("cf", options(emulator, api_token=SecretStr("wrong-token-abcd")))


async def test_the_entry_point_builds_the_actuator_from_raw_options(
    emulator: CloudflareEmulator, command: ContainmentCommand
) -> None:
    assert installed().integrations["cloudflare"] is INTEGRATION
    make = installed().actuator_factories()["cloudflare"]
    made = make("cf", {"api_token": emulator.token, "zone_id": emulator.zone_id})
    assert isinstance(made, CloudflareActuator) and made.handles(command)
    await made.aclose()
