"""`deny` on a real gateway: nftables in a network namespace, reached over real SSH,
judged by real TCP connections from the attacker's namespace to the protected host."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from integrations.nftables.actuator import NftablesActuator
from soar.containment.models import ContainmentCommand, block_ip
from tests.integrations.nftables.conftest import MakeActuator, SshActuatorContract, until
from tests.integrations.nftables.lab import Firewall, Host, Lab

WRONG_PASSWORD = "not-the-root-password-7731"


def labelled(command: ContainmentCommand, reference: str) -> ContainmentCommand:
    """The command as the containment activity hands it over: with the case id."""
    return command.model_copy(
        update={"args": command.args.model_copy(update={"reference": reference})}
    )


class TestGatewayBlocklist(SshActuatorContract):
    """The shared actuator contract, on the gateway's real firewall."""

    @pytest.fixture
    def emulator(self, gateway: Host) -> Firewall:
        return Firewall(gateway, secrets=[WRONG_PASSWORD])

    @pytest.fixture
    def actuator(self, make_actuator: MakeActuator, gateway: Host) -> NftablesActuator:
        return make_actuator(gateway)

    @pytest.fixture
    def bad_credentials_actuator(
        self, make_actuator: MakeActuator, gateway: Host
    ) -> NftablesActuator:
        return make_actuator(gateway, client_keys=[], password=SecretStr(WRONG_PASSWORD))

    @pytest.fixture
    def command(self, lab: Lab) -> ContainmentCommand:
        return labelled(block_ip(lab.attacker, 600), "case-ip:198.18.0.66-1a2b3c4d")

    @pytest.fixture
    def impatient_actuator(self, make_actuator: MakeActuator, gateway: Host) -> NftablesActuator:
        return make_actuator(gateway, command_timeout_seconds=1)


async def test_a_blocked_attacker_is_dropped_and_passes_again_after_revert(
    lab: Lab, gateway: Host, make_actuator: MakeActuator
) -> None:
    actuator = make_actuator(gateway)
    command = labelled(block_ip(lab.attacker), "case-1")
    assert await lab.connects(lab.attacker) == "connected"

    applied = await actuator.apply(command)

    assert applied.ok, applied.detail
    assert await lab.connects(lab.attacker) == "dropped"
    assert await lab.connects(lab.bystander) == "connected"
    assert await lab.connects(lab.management_host) == "connected"
    assert await actuator.verify(command)
    [element] = gateway.set_elements("soar", "blocklist4")
    assert element == {"elem": {"val": lab.attacker, "comment": "case-1"}}

    reverted = await actuator.revert(command)

    assert reverted.ok, reverted.detail
    assert await lab.connects(lab.attacker) == "connected"
    assert not await actuator.verify(command)
    assert gateway.set_elements("soar", "blocklist4") == []


async def test_a_block_with_a_duration_expires_on_the_firewall_by_itself(
    lab: Lab, gateway: Host, make_actuator: MakeActuator
) -> None:
    actuator = make_actuator(gateway)
    command = block_ip(lab.attacker, ttl=2)

    assert (await actuator.apply(command)).ok
    [element] = gateway.set_elements("soar", "blocklist4")
    assert element["elem"]["timeout"] == 2
    assert await lab.connects(lab.attacker) == "dropped"

    await until(lambda: gateway.set_elements("soar", "blocklist4") == [])
    assert await lab.connects(lab.attacker) == "connected"
    assert not await actuator.verify(command)
    assert (await actuator.revert(command)).ok


async def test_a_cidr_block_covers_its_addresses_and_its_overlaps_are_said(
    lab: Lab, gateway: Host, make_actuator: MakeActuator
) -> None:
    actuator = make_actuator(gateway)
    block = block_ip(lab.attacker_block)
    inside = block_ip(lab.ip(73))
    around = block_ip(f"{lab.ip(64)}/27")

    assert (await actuator.apply(block)).ok
    assert await lab.connects(lab.ip(72)) == "dropped"
    assert await lab.connects(lab.attacker) == "connected"
    [element] = gateway.set_elements("soar", "blocklist4")
    assert element == {"prefix": {"addr": lab.ip(72), "len": 29}}

    covered = await actuator.apply(inside)
    assert covered.ok and f"lies in {lab.attacker_block}" in covered.detail, covered.detail
    assert await actuator.verify(inside)
    refused = await actuator.apply(around)
    assert not refused.ok
    assert f"already holds {lab.attacker_block} inside it" in refused.detail
    assert len(gateway.set_elements("soar", "blocklist4")) == 1

    gateway.nft("add", "element", "inet", "soar", "blocklist4", f"{{ {lab.ip(80)}-{lab.ip(83)} }}")
    ranged = block_ip(lab.ip(81))
    assert await actuator.verify(ranged), "an element listed as a range covers its addresses"
    assert (await actuator.revert(block)).ok
    assert await lab.connects(lab.ip(72)) == "connected"


async def test_an_ipv6_attacker_is_dropped_too(
    lab: Lab, gateway: Host, make_actuator: MakeActuator
) -> None:
    actuator = make_actuator(gateway)
    command = block_ip(lab.attacker6, 600)
    assert await lab.connects(lab.attacker6) == "connected"

    assert (await actuator.apply(command)).ok

    assert await lab.connects(lab.attacker6) == "dropped"
    assert await lab.connects(lab.attacker) == "connected"
    assert (await actuator.revert(command)).ok
    assert await lab.connects(lab.attacker6) == "connected"


async def test_a_layout_changed_behind_its_back_is_rewritten_without_losing_blocks(
    lab: Lab, gateway: Host, make_actuator: MakeActuator
) -> None:
    actuator = make_actuator(gateway)
    first, second = block_ip(lab.attacker), block_ip(lab.bystander)
    assert (await actuator.apply(first)).ok
    gateway.nft("flush", "chain", "inet", "soar", "forward")
    assert await lab.connects(lab.attacker) == "connected"
    assert not await actuator.verify(first), "an element without its drop rule blocks nothing"

    assert (await actuator.apply(second)).ok

    assert await actuator.verify(first) and await actuator.verify(second)
    assert await lab.connects(lab.attacker) == "dropped"
    assert len(gateway.set_elements("soar", "blocklist4")) == 2


async def test_the_case_id_cannot_inject_nft_statements(
    lab: Lab, gateway: Host, make_actuator: MakeActuator
) -> None:
    actuator = make_actuator(gateway)
    hostile = 'case-1" }\nflush ruleset\nadd element inet soar blocklist4 { 198.18.0.9 comment "'
    command = labelled(block_ip(lab.attacker), hostile)

    assert (await actuator.apply(command)).ok

    [element] = gateway.set_elements("soar", "blocklist4")
    assert element["elem"]["val"] == lab.attacker
    assert element["elem"]["comment"] == (
        "case-1_ __flush ruleset_add element inet soar blocklist4 _ 198.18.0.9 comment _"
    )
    assert gateway.listing("chain inet soar forward"), "the ruleset was not flushed"


async def test_a_block_that_would_cut_this_product_off_is_refused(
    lab: Lab, gateway: Host, make_actuator: MakeActuator
) -> None:
    actuator = make_actuator(gateway)
    command = block_ip(f"{lab.ip(0)}/26")

    refused = await actuator.apply(command)

    assert not refused.ok
    assert f"holds {lab.product_address}, the address this product reaches" in refused.detail
    assert gateway.listing("table inet soar") is None


async def test_a_dropped_connection_is_opened_again(
    lab: Lab, gateway: Host, make_actuator: MakeActuator
) -> None:
    actuator = make_actuator(gateway)
    command = block_ip(lab.attacker)
    assert not await actuator.verify(command)
    assert lab.end_ssh_sessions(gateway) >= 1

    assert (await actuator.apply(command)).ok
    assert await actuator.verify(command)
    assert actuator.shell.connections == 2
