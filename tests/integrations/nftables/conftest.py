"""Fixtures of the nftables tests: one lab of network namespaces for the session
(see :mod:`tests.integrations.nftables.lab`), its firewalls emptied before each test,
and actuators configured against them.

The lab needs root, `ip`, `nft`, `sshd` and `stdbuf`. Without them the tests that use
it are skipped, saying what is missing — unless `SOAR_REQUIRE_NETNS=1` (CI sets it),
which makes the same message a failure: a CI machine that cannot run them must not
pass quietly.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from integrations.nftables import INTEGRATION
from integrations.nftables.actuator import NftablesActuator
from integrations.nftables.options import NftablesOptions
from tests.integrations.nftables.lab import Host, Lab, missing_requirements, running_lab

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
def gateway(lab: Lab) -> Host:
    """The gateway, its firewall empty."""
    lab.gateway.reset()
    return lab.gateway


@pytest.fixture
def protected(lab: Lab) -> Host:
    """The protected host, its firewall empty."""
    lab.protected.reset()
    return lab.protected


@pytest.fixture
def known_hosts(lab: Lab, tmp_path: Path) -> Path:
    return lab.known_hosts(tmp_path / "known_hosts", lab.gateway, lab.protected)


@pytest.fixture
async def make_actuator(lab: Lab, known_hosts: Path) -> AsyncIterator[MakeActuator]:
    """Builds actuators against a lab host the way the product does (options validated
    into the integration's model, then its factory); closes them after the test."""
    made: list[NftablesActuator] = []

    def make(host: Host, name: str = "edge", **overrides: Any) -> NftablesActuator:
        options = NftablesOptions.model_validate(lab.options(host, known_hosts, **overrides))
        assert INTEGRATION.actuator is not None
        actuator = INTEGRATION.actuator(name, options)
        assert isinstance(actuator, NftablesActuator)
        made.append(actuator)
        return actuator

    yield make
    for actuator in made:
        await actuator.aclose()
