"""`contain` on a real host: the protected host's own nftables, over its own sshd,
judged by real TCP connections from the attacker and the management host."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from integrations.nftables.actuator import NftablesActuator
from soar.containment.models import ContainmentCommand, isolate
from tests.integrations.nftables.conftest import MakeActuator, SshActuatorContract
from tests.integrations.nftables.lab import Firewall, Host, Lab

WRONG_PASSWORD = "not-the-root-password-5519"
NAME = "protected-01.corp.example"


class TestHostIsolation(SshActuatorContract):
    """The shared actuator contract, on the protected host's real firewall."""

    @pytest.fixture
    def emulator(self, protected: Host) -> Firewall:
        return Firewall(protected, secrets=[WRONG_PASSWORD])

    @pytest.fixture
    def actuator(self, make_actuator: MakeActuator, protected: Host) -> NftablesActuator:
        return make_actuator(protected, name="host", hostnames=[NAME])

    @pytest.fixture
    def bad_credentials_actuator(
        self, make_actuator: MakeActuator, protected: Host
    ) -> NftablesActuator:
        return make_actuator(
            protected, hostnames=[NAME], client_keys=[], password=SecretStr(WRONG_PASSWORD)
        )

    @pytest.fixture
    def command(self) -> ContainmentCommand:
        return isolate(NAME)

    @pytest.fixture
    def impatient_actuator(self, make_actuator: MakeActuator, protected: Host) -> NftablesActuator:
        return make_actuator(protected, hostnames=[NAME], command_timeout_seconds=1)


async def test_an_isolated_host_answers_the_management_host_only_until_released(
    lab: Lab, protected: Host, make_actuator: MakeActuator
) -> None:
    actuator = make_actuator(protected, hostnames=[NAME])
    command = isolate("PROTECTED-01.corp.example.")
    assert actuator.handles(command)
    assert await lab.connects(lab.attacker) == "connected"

    applied = await actuator.apply(command)

    assert applied.ok, applied.detail
    assert await lab.connects(lab.attacker) == "dropped"
    assert await lab.connects(lab.attacker6) == "dropped"
    assert await lab.connects(lab.management_host) == "connected"
    assert await actuator.verify(command), "this product still reaches the isolated host"

    released = await actuator.revert(command)

    assert released.ok, released.detail
    assert await lab.connects(lab.attacker) == "connected"
    assert await lab.connects(lab.attacker6) == "connected"
    assert not await actuator.verify(command)


async def test_isolating_twice_leaves_the_table_as_it_was(
    protected: Host, make_actuator: MakeActuator
) -> None:
    actuator = make_actuator(protected, hostnames=[NAME])
    command = isolate(NAME)
    assert (await actuator.apply(command)).ok
    before = protected.listing("table inet soar_isolation")

    again = await actuator.apply(command)

    assert again.ok and "already isolated" in again.detail, again.detail
    assert protected.listing("table inet soar_isolation") == before
    assert len(protected.transactions()) == 1


async def test_isolation_with_other_management_addresses_is_rewritten(
    lab: Lab, protected: Host, make_actuator: MakeActuator
) -> None:
    command = isolate(NAME)
    narrow = make_actuator(protected, hostnames=[NAME], management=[lab.product_address])
    assert (await narrow.apply(command)).ok
    assert await lab.connects(lab.management_host) == "dropped"
    wide = make_actuator(protected, hostnames=[NAME])
    assert not await wide.verify(command)

    assert (await wide.apply(command)).ok

    assert await wide.verify(command)
    assert await lab.connects(lab.management_host) == "connected"
    assert await lab.connects(lab.attacker) == "dropped"


async def test_isolation_is_refused_when_it_would_cut_this_product_off(
    lab: Lab, protected: Host, make_actuator: MakeActuator
) -> None:
    actuator = make_actuator(protected, hostnames=[NAME], management=[lab.management_host])

    refused = await actuator.apply(isolate(NAME))

    assert not refused.ok
    assert f"reaches {lab.protected.address}:22 from {lab.product_address}" in refused.detail
    assert "management` does not cover" in refused.detail
    assert protected.listing("table inet soar_isolation") is None
    assert await lab.connects(lab.attacker) == "connected"


def test_only_the_configured_host_is_contained_by_its_actuator(
    make_actuator: MakeActuator, protected: Host
) -> None:
    actuator = make_actuator(protected, hostnames=[NAME])
    assert actuator.handles(isolate(protected.address))
    assert actuator.handles(isolate(NAME.upper()))
    assert not actuator.handles(isolate("protected-02.corp.example"))
