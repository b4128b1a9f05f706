"""The Okta actuator against the Okta emulator over real HTTP: the actuator contract on
`disable`, then Okta's own ways — only ACTIVE users suspend, a status changed under the
actuator's feet, unknown users, revoking sessions and OAuth tokens, 429 with
`X-Rate-Limit-Reset`, outages, the check, and no secret in any error."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import pytest

from integrations.okta import INTEGRATION, OktaActuator, OktaOptions
from integrations.okta.client import OktaClient, check
from soar.containment.models import (
    ContainmentCommand,
    disable_account,
    revoke_sessions,
)
from soar.integrations.errors import (
    AccessDenied,
    CredentialsRejected,
    IntegrationError,
    PermanentError,
    RateLimited,
    RequestRejected,
    TargetNotFound,
    TransientError,
)
from soar.runtime.integrations import installed, options_of
from soar.testing.contract import ActuatorContract
from soar.testing.emulators.okta import SUSPENDED, OktaEmulator

LOGIN = "jdoe@example.com"
BAD_TOKEN = "00wrong-token-for-okta-tests"


def options(okta: OktaEmulator, **extra: object) -> OktaOptions:
    settings: dict[str, object] = {
        "base_url": okta.base_url,
        "api_token": okta.token,
        "max_wait_seconds": 5,
    }
    settings.update(extra)
    return OktaOptions.model_validate(settings)


@pytest.fixture
async def emulator() -> AsyncIterator[OktaEmulator]:
    okta = OktaEmulator()
    okta.add_user(LOGIN, sessions=2, oauth_tokens=1)
    okta.secrets.append(BAD_TOKEN)
    async with okta:
        yield okta


@pytest.fixture
async def actuator(emulator: OktaEmulator) -> AsyncIterator[OktaActuator]:
    made = OktaActuator("okta-test", options(emulator))
    yield made
    await made.aclose()


@pytest.fixture
async def bad_credentials_actuator(emulator: OktaEmulator) -> AsyncIterator[OktaActuator]:
    made = OktaActuator("okta-test", options(emulator, api_token=BAD_TOKEN))
    yield made
    await made.aclose()


@pytest.fixture
def command() -> ContainmentCommand:
    return disable_account(LOGIN)


class TestOktaContract(ActuatorContract):
    """The contract every actuator keeps, on suspending a seeded user."""


def lifecycle_calls(okta: OktaEmulator) -> int:
    return okta.count("POST", "/lifecycle/")


# Suspend and unsuspend


async def test_disable_suspends_and_revert_unsuspends(
    emulator: OktaEmulator, actuator: OktaActuator
) -> None:
    user = emulator.user(LOGIN)
    assert user is not None
    applied = await actuator.apply(disable_account(LOGIN))
    assert applied.ok, applied.detail
    assert applied.data == {
        "user_id": user.id,
        "login": LOGIN,
        "status": SUSPENDED,
        "changed": True,
    }
    assert user.status == SUSPENDED
    assert emulator.count("POST", f"/users/{user.id}/lifecycle/suspend", status=200) == 1
    reverted = await actuator.revert(disable_account(LOGIN))
    assert reverted.ok and reverted.data["changed"], reverted.detail
    assert user.status == "ACTIVE"
    assert emulator.count("POST", f"/users/{user.id}/lifecycle/unsuspend", status=200) == 1


async def test_a_user_suspended_already_is_done_without_a_call(
    emulator: OktaEmulator, actuator: OktaActuator
) -> None:
    emulator.add_user("already@example.com", status=SUSPENDED)
    result = await actuator.apply(disable_account("already@example.com"))
    assert result.ok, result.detail
    assert "already suspended" in result.detail
    assert result.data["changed"] is False
    assert lifecycle_calls(emulator) == 0


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("DEPROVISIONED", "deactivated"),
        ("STAGED", "staged, never activated"),
        ("LOCKED_OUT", "locked out"),
        ("PASSWORD_EXPIRED", "waiting for a new password"),
    ],
)
async def test_a_user_that_is_not_active_is_a_plain_no(
    emulator: OktaEmulator, actuator: OktaActuator, status: str, words: str
) -> None:
    user = emulator.add_user("other@example.com", status=status)
    result = await actuator.apply(disable_account("other@example.com"))
    assert not result.ok
    assert f"only active users, and other@example.com is {words} ({status})" in result.detail
    assert lifecycle_calls(emulator) == 0
    assert user.status == status
    assert not await actuator.verify(disable_account("other@example.com"))
    reverted = await actuator.revert(disable_account("other@example.com"))
    assert reverted.ok, reverted.detail
    assert lifecycle_calls(emulator) == 0


async def test_okta_refuses_to_suspend_a_user_that_is_not_active(
    emulator: OktaEmulator,
) -> None:
    user = emulator.add_user("gone@example.com", status="DEPROVISIONED")
    client = OktaClient("okta-test", options(emulator))
    try:
        with pytest.raises(RequestRejected) as rejected:
            await client.suspend(user.id)
    finally:
        await client.aclose()
    assert rejected.value.status == 400
    assert "Cannot suspend a user that is not active [E0000001]" in str(rejected.value)
    assert user.status == "DEPROVISIONED"


async def test_a_user_suspended_between_the_read_and_the_call_is_done(
    emulator: OktaEmulator, actuator: OktaActuator
) -> None:
    emulator.race(LOGIN, SUSPENDED)
    result = await actuator.apply(disable_account(LOGIN))
    assert result.ok, result.detail
    assert result.data["changed"] is False
    assert emulator.count("POST", "/lifecycle/suspend", status=400) == 1
    assert await actuator.verify(disable_account(LOGIN))


async def test_a_user_deactivated_between_the_read_and_the_call_is_a_no_in_oktas_words(
    emulator: OktaEmulator, actuator: OktaActuator
) -> None:
    emulator.race(LOGIN, "DEPROVISIONED")
    result = await actuator.apply(disable_account(LOGIN))
    assert not result.ok
    assert "Cannot suspend a user that is not active" in result.detail
    assert result.data["status"] == "DEPROVISIONED"


async def test_a_user_unsuspended_between_the_read_and_the_revert_is_done(
    emulator: OktaEmulator, actuator: OktaActuator
) -> None:
    await actuator.apply(disable_account(LOGIN))
    emulator.race(LOGIN, "ACTIVE")
    result = await actuator.revert(disable_account(LOGIN))
    assert result.ok, result.detail
    assert "no longer suspended" in result.detail
    assert emulator.count("POST", "/lifecycle/unsuspend", status=400) == 1


async def test_the_account_may_be_named_by_its_okta_id(
    emulator: OktaEmulator, actuator: OktaActuator
) -> None:
    user = emulator.user(LOGIN)
    assert user is not None
    result = await actuator.apply(disable_account(user.id))
    assert result.ok, result.detail
    assert user.status == SUSPENDED
    assert emulator.count("GET", f"/users/{user.id}") == 1


async def test_a_user_the_tokens_admin_may_not_manage_is_access_denied(
    emulator: OktaEmulator, actuator: OktaActuator
) -> None:
    boss = emulator.add_user("boss@example.com", protected=True)
    with pytest.raises(AccessDenied) as denied:
        await actuator.apply(disable_account("boss@example.com"))
    assert "You do not have permission to perform the requested action" in str(denied.value)
    assert boss.status == "ACTIVE"


# Unknown users


async def test_an_unknown_user_is_target_not_found(
    emulator: OktaEmulator, actuator: OktaActuator
) -> None:
    for command in (disable_account("nobody@example.com"), revoke_sessions("nobody@example.com")):
        with pytest.raises(TargetNotFound) as missing:
            await actuator.apply(command)
        assert "nobody@example.com" in str(missing.value)
        assert not await actuator.verify(command)
        reverted = await actuator.revert(command)
        assert reverted.ok, reverted.detail
    assert emulator.count("POST") == emulator.count("DELETE") == 0


async def test_a_404_without_oktas_body_says_base_url_may_be_wrong(
    emulator: OktaEmulator,
) -> None:
    made = OktaActuator("okta-test", options(emulator, base_url=f"{emulator.base_url}/nowhere"))
    try:
        with pytest.raises(RequestRejected) as rejected:
            await made.apply(disable_account(LOGIN))
    finally:
        await made.aclose()
    assert "is base_url the Okta org's URL?" in str(rejected.value)


async def test_a_base_url_pasted_with_the_api_root_still_works(
    emulator: OktaEmulator,
) -> None:
    settings = options(emulator, base_url=f"{emulator.base_url}/api/v1/")
    assert settings.base_url == emulator.base_url
    made = OktaActuator("okta-test", settings)
    try:
        assert (await made.apply(disable_account(LOGIN))).ok
    finally:
        await made.aclose()


# Revoke


async def test_revoke_ends_sessions_and_oauth_tokens_and_cannot_be_reverted(
    emulator: OktaEmulator, actuator: OktaActuator
) -> None:
    user = emulator.user(LOGIN)
    assert user is not None
    command = revoke_sessions(LOGIN)
    assert actuator.handles(command)
    result = await actuator.apply(command)
    assert result.ok, result.detail
    assert (user.sessions, user.oauth_tokens) == (0, 0)
    [call] = [c for c in emulator.calls if c.method == "DELETE"]
    assert (call.path, call.query, call.status) == (
        f"/api/v1/users/{user.id}/sessions",
        {"oauthTokens": "true"},
        204,
    )
    assert await actuator.verify(command)
    assert user.status == "ACTIVE", "revoking sessions leaves the account as it was"
    before = len(emulator.calls)
    reverted = await actuator.revert(command)
    assert reverted.ok
    assert "cannot be given back" in reverted.detail
    assert len(emulator.calls) == before, "reverting a revoke calls nothing"


async def test_revoking_again_ends_the_sessions_opened_since(
    emulator: OktaEmulator, actuator: OktaActuator
) -> None:
    command = revoke_sessions(LOGIN)
    await actuator.apply(command)
    emulator.sign_in(LOGIN)
    assert not emulator.in_effect(command)
    assert (await actuator.apply(command)).ok
    assert emulator.in_effect(command)
    assert emulator.effects(command) == 2


async def test_disable_does_not_end_sessions(
    emulator: OktaEmulator, actuator: OktaActuator
) -> None:
    user = emulator.user(LOGIN)
    assert user is not None
    await actuator.apply(disable_account(LOGIN))
    assert user.sessions == 2
    assert emulator.count("DELETE") == 0


# Rate limits and outages


async def test_a_429_is_waited_out_until_x_rate_limit_reset(
    emulator: OktaEmulator, actuator: OktaActuator
) -> None:
    emulator.throttle(1, seconds=1)
    result = await actuator.apply(disable_account(LOGIN))
    assert result.ok, result.detail
    assert emulator.last_reset is not None
    assert time.time() >= emulator.last_reset - 0.05, "the call came back before the reset"
    assert [c.status for c in emulator.calls][:2] == [429, 200]


async def test_a_long_x_rate_limit_reset_becomes_a_timed_retry(
    emulator: OktaEmulator, actuator: OktaActuator
) -> None:
    emulator.throttle(1, seconds=120)
    with pytest.raises(RateLimited) as limited:
        await actuator.apply(disable_account(LOGIN))
    assert 118 <= limited.value.retry_after <= 121
    assert len(emulator.calls) == 1
    assert emulator.effects(disable_account(LOGIN)) == 0


async def test_an_outage_is_retried_and_a_long_one_is_transient(
    emulator: OktaEmulator, actuator: OktaActuator
) -> None:
    emulator.outage(2)
    assert (await actuator.apply(disable_account(LOGIN))).ok
    await actuator.revert(disable_account(LOGIN))
    emulator.outage(10)
    with pytest.raises(TransientError) as down:
        await actuator.apply(disable_account(LOGIN))
    assert not isinstance(down.value, PermanentError)
    assert "503" in str(down.value)
    assert not emulator.in_effect(disable_account(LOGIN))


# The check, the descriptor, secrets


async def test_the_check_says_the_token_is_accepted_and_changes_nothing(
    emulator: OktaEmulator,
) -> None:
    lines = await check("okta-test", options(emulator))
    assert lines == [
        f"reached {emulator.base_url}",
        "token accepted: it acts as soar-admin@example.com (ACTIVE)",
    ]
    assert {c.method for c in emulator.calls} == {"GET"}
    with pytest.raises(CredentialsRejected) as refused:
        await check("okta-test", options(emulator, api_token=BAD_TOKEN))
    assert "Invalid token provided [E0000011]" in str(refused.value)


def test_the_integration_is_installed_and_names_a_bad_option() -> None:
    found = installed().integrations["okta"]
    assert found is INTEGRATION
    assert found.kinds == ["actuator"]
    with pytest.raises(ValueError, match=r"actuators\.idp\.options\.api_token"):
        options_of(found, "actuators", "idp", {"base_url": "https://acme.okta.com"})


async def test_nothing_secret_is_in_an_error_or_a_log(
    emulator: OktaEmulator,
    actuator: OktaActuator,
    bad_credentials_actuator: OktaActuator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.add_user("boss@example.com", protected=True)
    errors: list[IntegrationError] = []
    attempts = [
        (bad_credentials_actuator, disable_account(LOGIN)),
        (actuator, disable_account("nobody@example.com")),
        (actuator, revoke_sessions("boss@example.com")),
    ]
    for who, command in attempts:
        with pytest.raises(IntegrationError) as raised:
            await who.apply(command)
        errors.append(raised.value)
    emulator.outage(10)
    with pytest.raises(IntegrationError) as down:
        await actuator.apply(disable_account(LOGIN))
    errors.append(down.value)
    assert [type(e) for e in errors] == [
        CredentialsRejected,
        TargetNotFound,
        AccessDenied,
        TransientError,
    ]
    text = " ".join(str(e) for e in errors) + caplog.text
    for secret in emulator.secrets:
        assert secret not in text
    assert repr(options(emulator)).count(emulator.token) == 0
