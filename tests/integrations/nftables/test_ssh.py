"""The SSH side: host keys are checked, never accepted; `check` changes nothing."""

from __future__ import annotations

from pathlib import Path

import asyncssh
import pytest

from integrations.nftables import check
from integrations.nftables.client import HostKeyRejected
from integrations.nftables.options import NftablesOptions
from soar.containment.models import block_ip
from soar.integrations.errors import PermanentError, TransientError
from tests.integrations.nftables.conftest import MakeActuator
from tests.integrations.nftables.lab import Host, Lab


@pytest.mark.parametrize("recorded", ["another key", "no key"])
async def test_an_unknown_or_different_host_key_is_a_permanent_error_in_plain_words(
    lab: Lab, gateway: Host, make_actuator: MakeActuator, tmp_path: Path, recorded: str
) -> None:
    known_hosts = tmp_path / "known_hosts"
    if recorded == "another key":
        lab.known_hosts(known_hosts, gateway, key=asyncssh.generate_private_key("ssh-ed25519"))
    else:
        lab.known_hosts(known_hosts, lab.protected)
    actuator = make_actuator(gateway, known_hosts=str(known_hosts))

    with pytest.raises(HostKeyRejected) as rejected:
        await actuator.apply(block_ip(lab.attacker))

    assert isinstance(rejected.value, PermanentError)
    message = str(rejected.value)
    assert message.startswith(f"edge: the host key of {gateway.address}:{gateway.port} is not ")
    assert f"{known_hosts} has no key for it or a different one; refusing to connect" in message
    assert gateway.listing("table inet soar") is None


async def test_an_unreachable_host_is_transient(
    lab: Lab, make_actuator: MakeActuator, gateway: Host
) -> None:
    actuator = make_actuator(gateway, port=2299, connect_timeout_seconds=2)

    with pytest.raises(TransientError) as unreachable:
        await actuator.verify(block_ip(lab.attacker))

    assert f"cannot reach {gateway.address}:2299 over SSH" in str(unreachable.value)


async def test_check_reports_what_it_finds_and_changes_nothing(
    lab: Lab, gateway: Host, known_hosts: Path, make_actuator: MakeActuator
) -> None:
    options = NftablesOptions.model_validate(lab.options(gateway, known_hosts))
    fresh = await check("edge", options)
    assert fresh[0] == (
        f"connected to {gateway.address}:{gateway.port} as root; the host key matches {known_hosts}"
    )
    assert fresh[1].startswith("nft: nftables v")
    assert fresh[2:] == [
        "table inet soar: absent (made by the first block)",
        "isolation (table inet soar_isolation): off",
        f"this product connects from {lab.product_address}, which management covers",
    ]
    assert gateway.transactions() == []

    assert (await make_actuator(gateway).apply(block_ip(lab.attacker))).ok
    narrow = options.model_copy(update={"management": [lab.management_host]})
    later = await check("edge", narrow)
    assert later[2:] == [
        "table inet soar: 1 blocked networks, dropping on input, forward",
        "isolation (table inet soar_isolation): off",
        f"this product connects from {lab.product_address}, which management does not "
        "cover: contain would be refused",
    ]
    assert len(gateway.transactions()) == 1
