"""The Entra actuator against the Entra emulator over real HTTP: the actuator contract
on `disable`, then Microsoft's own ways — client-credentials tokens renewed when they
expire, `accountEnabled` read before it is written, unknown users, revoking sign-in
sessions, 429 with `Retry-After`, outages of Graph and of the token endpoint,
replication lag, the check, and no secret in any error."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator

import pytest

from integrations.entra import INTEGRATION, EntraActuator, EntraOptions
from integrations.entra.client import check
from soar.containment.models import ContainmentCommand, disable_account, revoke_sessions
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
from soar.testing.emulators.entra import EntraEmulator

UPN = "jdoe@contoso.example"
BAD_SECRET = "wrong-client-secret-for-entra-tests"


def options(entra: EntraEmulator, **extra: object) -> EntraOptions:
    settings: dict[str, object] = {
        "base_url": entra.base_url,
        "token_url": entra.token_url,
        "tenant_id": entra.tenant_id,
        "client_id": entra.client_id,
        "client_secret": entra.client_secret,
        "max_wait_seconds": 5,
    }
    settings.update(extra)
    return EntraOptions.model_validate(settings)


@pytest.fixture
async def emulator() -> AsyncIterator[EntraEmulator]:
    entra = EntraEmulator()
    entra.add_user(UPN, sessions=2)
    entra.secrets.append(BAD_SECRET)
    async with entra:
        yield entra


@pytest.fixture
async def actuator(emulator: EntraEmulator) -> AsyncIterator[EntraActuator]:
    made = EntraActuator("entra-test", options(emulator))
    yield made
    await made.aclose()


@pytest.fixture
async def bad_credentials_actuator(emulator: EntraEmulator) -> AsyncIterator[EntraActuator]:
    made = EntraActuator("entra-test", options(emulator, client_secret=BAD_SECRET))
    yield made
    await made.aclose()


@pytest.fixture
def command() -> ContainmentCommand:
    return disable_account(UPN)


class TestEntraContract(ActuatorContract):
    """The contract every actuator keeps, on disabling a seeded user."""


def patches(entra: EntraEmulator) -> list[dict[str, object]]:
    return [json.loads(c.body) for c in entra.calls if c.method == "PATCH"]


# Disable and enable


async def test_disable_sets_account_enabled_false_and_revert_sets_it_back(
    emulator: EntraEmulator, actuator: EntraActuator
) -> None:
    user = emulator.user(UPN)
    assert user is not None
    applied = await actuator.apply(disable_account(UPN))
    assert applied.ok, applied.detail
    assert applied.data == {
        "user_id": user.id,
        "user_principal_name": UPN,
        "account_enabled": False,
        "changed": True,
    }
    assert not user.enabled
    [find] = [c for c in emulator.calls if c.method == "GET"]
    assert find.query == {"$select": "id,accountEnabled,userPrincipalName"}
    reverted = await actuator.revert(disable_account(UPN))
    assert reverted.ok and reverted.data["changed"], reverted.detail
    assert user.enabled
    assert patches(emulator) == [{"accountEnabled": False}, {"accountEnabled": True}]
    assert emulator.count("PATCH", f"/v1.0/users/{user.id}", status=204) == 2


async def test_an_account_disabled_already_is_done_without_a_call(
    emulator: EntraEmulator, actuator: EntraActuator
) -> None:
    emulator.add_user("off@contoso.example", enabled=False)
    result = await actuator.apply(disable_account("off@contoso.example"))
    assert result.ok, result.detail
    assert "already disabled" in result.detail
    assert result.data["changed"] is False
    assert patches(emulator) == []


async def test_a_guest_and_an_object_id_are_found(
    emulator: EntraEmulator, actuator: EntraActuator
) -> None:
    guest = emulator.add_user("ann_fabrikam.example#EXT#@contoso.onmicrosoft.example")
    assert (await actuator.apply(disable_account(guest.upn))).ok
    assert not guest.enabled
    member = emulator.user(UPN)
    assert member is not None
    assert (await actuator.apply(disable_account(member.id))).ok
    assert not member.enabled


async def test_an_admin_the_app_may_not_manage_is_access_denied(
    emulator: EntraEmulator, actuator: EntraActuator
) -> None:
    admin = emulator.add_user("admin@contoso.example", protected=True)
    for command in (disable_account(admin.upn), revoke_sessions(admin.upn)):
        with pytest.raises(AccessDenied) as denied:
            await actuator.apply(command)
        assert "Insufficient privileges to complete the operation" in str(denied.value)
        assert "[Authorization_RequestDenied]" in str(denied.value)
    assert admin.enabled and admin.sessions == 1


async def test_verify_reads_the_directory_through_replication_lag(
    emulator: EntraEmulator, actuator: EntraActuator
) -> None:
    assert (await actuator.apply(disable_account(UPN))).ok
    emulator.lag_reads(1)
    assert not await actuator.verify(disable_account(UPN)), "a lagging replica says enabled"
    assert await actuator.verify(disable_account(UPN))


# Unknown users and a wrong URL


async def test_an_unknown_user_is_target_not_found(
    emulator: EntraEmulator, actuator: EntraActuator
) -> None:
    for command in (
        disable_account("nobody@contoso.example"),
        revoke_sessions("nobody@contoso.example"),
    ):
        with pytest.raises(TargetNotFound) as missing:
            await actuator.apply(command)
        assert "nobody@contoso.example" in str(missing.value)
        assert not await actuator.verify(command)
        reverted = await actuator.revert(command)
        assert reverted.ok, reverted.detail
    assert emulator.count("PATCH") == emulator.count("POST", "/revokeSignInSessions") == 0


async def test_a_404_without_graphs_body_says_base_url_may_be_wrong(
    emulator: EntraEmulator,
) -> None:
    made = EntraActuator("entra-test", options(emulator, base_url=f"{emulator.base_url}/x"))
    try:
        with pytest.raises(RequestRejected) as rejected:
            await made.apply(disable_account(UPN))
    finally:
        await made.aclose()
    assert "is base_url Microsoft Graph's root?" in str(rejected.value)


# Revoke


async def test_revoke_ends_sign_in_sessions_and_cannot_be_reverted(
    emulator: EntraEmulator, actuator: EntraActuator
) -> None:
    user = emulator.user(UPN)
    assert user is not None
    command = revoke_sessions(UPN)
    assert actuator.handles(command)
    result = await actuator.apply(command)
    assert result.ok, result.detail
    assert user.sessions == 0
    assert user.enabled, "revoking sessions leaves the account enabled"
    assert emulator.count("POST", f"/v1.0/users/{user.id}/revokeSignInSessions", status=200) == 1
    assert await actuator.verify(command)
    before = len(emulator.calls)
    reverted = await actuator.revert(command)
    assert reverted.ok
    assert "cannot be given back" in reverted.detail
    assert len(emulator.calls) == before, "reverting a revoke calls nothing"


async def test_a_revoke_graph_does_not_confirm_is_a_plain_no(
    emulator: EntraEmulator, actuator: EntraActuator
) -> None:
    emulator.revoke_value = False
    result = await actuator.apply(revoke_sessions(UPN))
    assert not result.ok
    assert "did not confirm" in result.detail
    assert not emulator.in_effect(revoke_sessions(UPN))


async def test_revoking_again_ends_the_sessions_opened_since(
    emulator: EntraEmulator, actuator: EntraActuator
) -> None:
    command = revoke_sessions(UPN)
    await actuator.apply(command)
    emulator.sign_in(UPN)
    assert not emulator.in_effect(command)
    assert (await actuator.apply(command)).ok
    assert emulator.in_effect(command)
    assert emulator.effects(command) == 2


# Tokens


async def test_an_expired_token_is_renewed_and_the_call_lands(
    emulator: EntraEmulator, actuator: EntraActuator
) -> None:
    assert (await actuator.apply(disable_account(UPN))).ok
    assert emulator.tokens_issued == 1
    emulator.expire_tokens()
    assert (await actuator.revert(disable_account(UPN))).ok
    assert emulator.tokens_issued == 2
    assert [c.status for c in emulator.calls if c.method == "GET"] == [200, 401, 200]
    user = emulator.user(UPN)
    assert user is not None and user.enabled


async def test_one_token_serves_many_calls_until_it_is_about_to_expire(
    emulator: EntraEmulator, actuator: EntraActuator
) -> None:
    await actuator.apply(disable_account(UPN))
    await actuator.revert(disable_account(UPN))
    assert emulator.tokens_issued == 1
    emulator.token_lifetime = 30
    short = EntraActuator("entra-test", options(emulator))
    try:
        await short.verify(disable_account(UPN))
        await short.verify(disable_account(UPN))
    finally:
        await short.aclose()
    assert emulator.tokens_issued == 3, "a token about to expire is replaced before use"
    assert emulator.count("GET", status=401) == 0


@pytest.mark.parametrize(
    ("setting", "value", "status"),
    [
        ("client_secret", BAD_SECRET, 401),
        ("client_id", "00000000-0000-0000-0000-000000000000", 400),
        ("tenant_id", "fabrikam.example", 400),
    ],
)
async def test_refused_credentials_are_permanent_and_call_no_graph(
    emulator: EntraEmulator, setting: str, value: str, status: int
) -> None:
    settings = options(emulator, **{setting: value})
    made = EntraActuator("entra-test", settings)
    try:
        with pytest.raises(CredentialsRejected) as refused:
            await made.apply(disable_account(UPN))
    finally:
        await made.aclose()
    assert f"refused ({status})" in str(refused.value)
    assert [c.path for c in emulator.calls] == [f"/{settings.tenant_id}/oauth2/v2.0/token"]


async def test_the_token_is_asked_for_graphs_default_scope(
    emulator: EntraEmulator, actuator: EntraActuator
) -> None:
    await actuator.verify(disable_account(UPN))
    [token] = [c for c in emulator.calls if c.path.endswith("/token")]
    assert token.path == f"/{emulator.tenant_id}/oauth2/v2.0/token"
    assert "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" in token.body
    assert "grant_type=client_credentials" in token.body


# Rate limits and outages


async def test_a_429_is_waited_out_for_retry_after_seconds(
    emulator: EntraEmulator, actuator: EntraActuator
) -> None:
    emulator.throttle(1, seconds=1)
    began = time.monotonic()
    result = await actuator.apply(disable_account(UPN))
    assert result.ok, result.detail
    assert time.monotonic() - began >= 1
    graph = [c.status for c in emulator.calls if c.path.startswith("/v1.0/")]
    assert graph[:2] == [429, 200]


async def test_a_long_retry_after_becomes_a_timed_retry(
    emulator: EntraEmulator, actuator: EntraActuator
) -> None:
    emulator.throttle(1, seconds=120)
    with pytest.raises(RateLimited) as limited:
        await actuator.apply(disable_account(UPN))
    assert limited.value.retry_after == 120
    assert emulator.effects(disable_account(UPN)) == 0


async def test_a_graph_outage_is_retried_and_a_long_one_is_transient(
    emulator: EntraEmulator, actuator: EntraActuator
) -> None:
    emulator.outage(2)
    assert (await actuator.apply(disable_account(UPN))).ok
    await actuator.revert(disable_account(UPN))
    emulator.outage(10)
    with pytest.raises(TransientError) as down:
        await actuator.apply(disable_account(UPN))
    assert not isinstance(down.value, PermanentError)
    assert "503" in str(down.value)
    assert "The service is temporarily unavailable" in str(down.value)
    assert not emulator.in_effect(disable_account(UPN))


async def test_a_busy_token_endpoint_is_waited_out_and_a_long_outage_is_transient(
    emulator: EntraEmulator, actuator: EntraActuator
) -> None:
    emulator.sign_in_throttle(1, seconds=1)
    emulator.sign_in_outage(1)
    began = time.monotonic()
    assert (await actuator.apply(disable_account(UPN))).ok
    assert time.monotonic() - began >= 1
    assert [c.status for c in emulator.calls if c.path.endswith("/token")] == [429, 503, 200]
    fresh = EntraActuator("entra-test", options(emulator))
    emulator.sign_in_outage(10)
    try:
        with pytest.raises(TransientError) as down:
            await fresh.verify(disable_account(UPN))
    finally:
        await fresh.aclose()
    assert not isinstance(down.value, PermanentError)
    assert "token request answered 503" in str(down.value)


# The check, the descriptor, secrets


async def test_the_check_says_the_token_is_accepted_and_changes_nothing(
    emulator: EntraEmulator,
) -> None:
    lines = await check("entra-test", options(emulator))
    assert lines == [
        f"token issued for application {emulator.client_id} in tenant {emulator.tenant_id}",
        f"token accepted by {emulator.base_url}: users are readable",
    ]
    assert {(c.method, c.path) for c in emulator.calls} == {
        ("POST", f"/{emulator.tenant_id}/oauth2/v2.0/token"),
        ("GET", "/v1.0/users"),
    }
    with pytest.raises(CredentialsRejected):
        await check("entra-test", options(emulator, client_secret=BAD_SECRET))


def test_the_integration_is_installed_with_microsofts_endpoints_by_default() -> None:
    found = installed().integrations["entra"]
    assert found is INTEGRATION
    assert found.kinds == ["actuator"]
    configured = options_of(
        found,
        "actuators",
        "idp",
        {"tenant_id": "contoso.onmicrosoft.com", "client_id": "app", "client_secret": "s3cret"},
    )
    assert isinstance(configured, EntraOptions)
    assert configured.base_url == "https://graph.microsoft.com"
    assert configured.token_endpoint() == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    )
    with pytest.raises(ValueError, match=r"actuators\.idp\.options\.tenant_id") as bad:
        options_of(
            found,
            "actuators",
            "idp",
            {"tenant_id": "x/../evil", "client_id": "app", "client_secret": "s3cret"},
        )
    assert "s3cret" not in str(bad.value)


async def test_nothing_secret_is_in_an_error_or_a_log(
    emulator: EntraEmulator,
    actuator: EntraActuator,
    bad_credentials_actuator: EntraActuator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.add_user("admin@contoso.example", protected=True)
    errors: list[IntegrationError] = []
    attempts = [
        (bad_credentials_actuator, disable_account(UPN)),
        (actuator, disable_account("nobody@contoso.example")),
        (actuator, revoke_sessions("admin@contoso.example")),
    ]
    for who, command in attempts:
        with pytest.raises(IntegrationError) as raised:
            await who.apply(command)
        errors.append(raised.value)
    emulator.expire_tokens()
    emulator.outage(10)
    with pytest.raises(IntegrationError) as down:
        await actuator.apply(disable_account(UPN))
    errors.append(down.value)
    assert [type(e) for e in errors] == [
        CredentialsRejected,
        TargetNotFound,
        AccessDenied,
        TransientError,
    ]
    assert len(emulator.secrets) > 2, "the tokens issued are secrets too"
    text = " ".join(str(e) for e in errors) + caplog.text
    for secret in emulator.secrets:
        assert secret not in text
    assert emulator.client_secret not in repr(options(emulator))
