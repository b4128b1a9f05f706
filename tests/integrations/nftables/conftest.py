"""Fixtures of the nftables tests: one lab of network namespaces for the session
(see :mod:`tests.integrations.nftables.lab`), its firewalls emptied before each test,
and actuators configured against them.

The lab needs root, `ip`, `nft`, `sshd` and `stdbuf`. Without them the tests that use
it are skipped, saying what is missing — unless `SOAR_REQUIRE_NETNS=1` (CI sets it),
which makes the same message a failure: a CI machine that cannot run them must not
pass quietly.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from integrations.nftables import INTEGRATION
from integrations.nftables.actuator import NftablesActuator
from integrations.nftables.options import NftablesOptions
from soar.containment.models import ContainmentCommand
from soar.integrations.errors import TransientError
from soar.testing.contract import ActuatorContract
from tests.integrations.nftables.lab import (
    Firewall,
    Host,
    Lab,
    missing_requirements,
    running_lab,
)

REQUIRE = "SOAR_REQUIRE_NETNS"

MakeActuator = Callable[..., NftablesActuator]


def require_lab() -> None:
    """Skip (or, with SOAR_REQUIRE_NETNS=1, fail) when a lab cannot run here."""
    missing = missing_requirements()
    if not missing:
        return
    message = (
        f"the nftables tests need {', '.join(missing)} "
        "(they build network namespaces running nftables and sshd)"
    )
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{message}; {REQUIRE}=1 makes this a failure", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_lab()
    with running_lab(tmp_path_factory.mktemp("nft-lab")) as started:
        yield started


@pytest.fixture
def clean_lab(lab: Lab) -> Lab:
    """The lab with both firewalls empty: what one test blocked never meets the next."""
    for host in (lab.gateway, lab.protected):
        host.reset()
    return lab


@pytest.fixture
def gateway(clean_lab: Lab) -> Host:
    return clean_lab.gateway


@pytest.fixture
def protected(clean_lab: Lab) -> Host:
    return clean_lab.protected


@pytest.fixture
def known_hosts(lab: Lab, tmp_path: Path) -> Path:
    return lab.known_hosts(tmp_path / "known_hosts", lab.gateway, lab.protected)


@pytest.fixture
async def make_actuator(lab: Lab, known_hosts: Path) -> AsyncIterator[MakeActuator]:
    """Builds actuators against a lab host the way the product does (options validated
    into the integration's model, then its factory); closes them after the test."""
    made: list[NftablesActuator] = []

    def make(host: Host, name: str = "edge", **overrides: Any) -> NftablesActuator:
        options = NftablesOptions.model_validate(lab.options(host, known_hosts) | overrides)
        assert INTEGRATION.actuator is not None
        actuator = INTEGRATION.actuator(name, options)
        assert isinstance(actuator, NftablesActuator)
        made.append(actuator)
        return actuator

    yield make
    for actuator in made:
        await actuator.aclose()


async def until(condition: Callable[[], bool], *, within: float = 10.0) -> None:
    """Wait until `condition()` holds (the host acts on its own clock)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.1)


class SshActuatorContract(ActuatorContract):
    """The actuator contract for an actuator over SSH. Subclasses add the fixture
    `impatient_actuator`: the actuator with a one-second command timeout."""

    async def test_a_rate_limit_is_waited_out(
        self,
        emulator: Firewall,
        impatient_actuator: NftablesActuator,
        command: ContainmentCommand,
    ) -> None:
        """SSH has no rate limit; its counterpart is a host too slow to answer. A change
        that outlives the command timeout is a transient error in words (the activity
        is retried) — and as it may still land, the retry reads the firewall first and
        finds it done: one effect."""
        emulator.throttle(1, seconds=2)
        with pytest.raises(TransientError) as slow:
            await impatient_actuator.apply(command)
        assert "`nft -f -` did not finish within 1 s" in str(slow.value)
        await until(lambda: emulator.in_effect(command))
        again = await impatient_actuator.apply(command)
        assert again.ok and "already" in again.detail, again.detail
        assert emulator.effects(command) == 1
