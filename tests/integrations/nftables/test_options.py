"""Configuring the nftables actuator: what building it checks (no host needed — building
connects to nothing), and the rules its scripts are written by."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from integrations.nftables import check, ruleset
from integrations.nftables.actuator import NftablesActuator
from integrations.nftables.options import NftablesOptions
from soar.integrations.errors import IntegrationConfigError, PermanentError
from soar.runtime.integrations import actuators_of
from soar.settings import Settings
from tests.integrations.nftables import conftest

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    key = tmp_path / "id_ed25519"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(key))
    known_hosts = tmp_path / "known_hosts"
    host_key = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    known_hosts.write_text(f"gw.invalid {host_key}")
    return {"key": key, "known_hosts": known_hosts}


def build(**options: Any) -> NftablesActuator:
    settings = Settings(actuators={"edge": {"type": "nftables", "options": options}})
    [actuator] = actuators_of(settings).members
    assert isinstance(actuator, NftablesActuator)
    return actuator


def base(files: dict[str, Path], **overrides: Any) -> dict[str, Any]:
    return {
        "host": "gw.invalid",
        "username": "root",
        "client_keys": [str(files["key"])],
        "known_hosts": str(files["known_hosts"]),
    } | overrides


def test_building_reads_the_files_and_connects_to_nothing(files: dict[str, Path]) -> None:
    actuator = build(**base(files, hostnames=["GW-01.corp.example."]))
    assert actuator.name == "edge"
    assert actuator.shell.connections == 0
    assert actuator.options.hooks == ["input", "forward"]
    assert actuator.options.names() == {"gw.invalid", "gw-01.corp.example"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"known_hosts": "/nonexistent/known_hosts"},
            "actuators.edge.options.known_hosts: cannot read /nonexistent/known_hosts "
            "(No such file or directory)",
        ),
        (
            {"client_keys": ["/nonexistent/id_ed25519"]},
            "actuators.edge.options.client_keys: cannot read /nonexistent/id_ed25519 "
            "(No such file or directory)",
        ),
    ],
    ids=["known_hosts", "client_keys"],
)
def test_a_missing_file_stops_the_build_naming_its_option(
    files: dict[str, Path], change: dict[str, Any], expected: str
) -> None:
    with pytest.raises(IntegrationConfigError) as refused:
        build(**base(files, password=PASSWORD) | change)
    assert str(refused.value) == expected


async def test_check_says_which_file_it_cannot_read(files: dict[str, Path]) -> None:
    options = NftablesOptions.model_validate(base(files, known_hosts="/nonexistent/kh"))
    with pytest.raises(PermanentError) as refused:
        await check("edge", options)
    assert str(refused.value) == (
        "edge: actuators.edge.options.known_hosts: cannot read /nonexistent/kh "
        "(No such file or directory)"
    )


def test_a_key_file_that_cannot_be_used_is_named_and_never_shown(
    files: dict[str, Path], tmp_path: Path
) -> None:
    encrypted = tmp_path / "encrypted"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(
        str(encrypted), format_name="pkcs8-pem", passphrase=PASSWORD
    )
    for path in (encrypted, files["known_hosts"]):
        with pytest.raises(IntegrationConfigError) as refused:
            build(**base(files, client_keys=[str(path)], password=PASSWORD))
        message = str(refused.value)
        assert message == (
            f"actuators.edge.options.client_keys: {path} is not an unencrypted private "
            "key in a format OpenSSH writes"
        )
        assert PASSWORD not in message


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"client_keys": []}, "actuators.edge.options.settings"),
        ({"table": "soar; flush ruleset"}, "actuators.edge.options.table"),
        ({"management": ["10.0.0.0/8", "not-an-address"]}, "actuators.edge.options.management"),
        ({"hooks": ["prerouting"]}, "actuators.edge.options.hooks.0"),
    ],
    ids=["no-credential", "table", "management", "hook"],
)
def test_bad_options_are_named(
    files: dict[str, Path], change: dict[str, Any], setting: str
) -> None:
    with pytest.raises(IntegrationConfigError) as refused:
        build(**base(files) | change)
    assert str(refused.value).startswith(f"{setting}: ")


def test_comments_keep_a_safe_charset_within_nft_s_limit() -> None:
    assert ruleset.comment("case-ip:45.1.2.3-1a2b3c4d") == "case-ip:45.1.2.3-1a2b3c4d"
    assert ruleset.comment('x"; }\\\n{') == "x__ ____"
    assert ruleset.comment("é" * 200) == "_" * 128
    assert ruleset.comment("") is None
    assert ruleset.comment(None) is None


def test_a_mapped_ipv6_target_is_blocked_as_the_ipv4_network_it_carries() -> None:
    assert ruleset.network_of("::ffff:203.0.113.7") == ipaddress.ip_network("203.0.113.7/32")
    assert ruleset.network_of("::ffff:203.0.113.0/120") == ipaddress.ip_network("203.0.113.0/24")
    assert ruleset.network_of("2001:db8::/64") == ipaddress.ip_network("2001:db8::/64")


def test_elements_are_read_in_every_form_nft_lists_them() -> None:
    listed = {
        "elem": [
            "203.0.113.7",
            {"prefix": {"addr": "198.51.100.0", "len": 24}},
            {"range": ["192.0.2.10", "192.0.2.20"]},
            {"elem": {"val": "192.0.2.99", "timeout": 60, "expires": 41, "comment": "case-9"}},
        ]
    }
    found = ruleset.elements(listed)
    assert [e.text for e in found] == [
        "203.0.113.7",
        "198.51.100.0/24",
        "192.0.2.10-192.0.2.20",
        "192.0.2.99",
    ]
    assert found[3].expires == 41 and found[3].comment == "case-9"
    assert found[1].covers(ipaddress.ip_network("198.51.100.128/25"))
    assert found[2].covers(ipaddress.ip_network("192.0.2.15/32"))
    assert not found[2].covers(ipaddress.ip_network("192.0.2.16/28"))
    assert found[2].overlaps(ipaddress.ip_network("192.0.2.16/28"))


def test_a_machine_that_cannot_run_the_lab_skips_unless_ci_requires_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(conftest, "missing_requirements", lambda: ["root", "`sshd`"])
    monkeypatch.delenv(conftest.REQUIRE, raising=False)
    with pytest.raises(pytest.skip.Exception, match="need root, `sshd` "):
        conftest.require_lab()
    monkeypatch.setenv(conftest.REQUIRE, "1")
    with pytest.raises(pytest.fail.Exception, match="SOAR_REQUIRE_NETNS=1 makes this a failure"):
        conftest.require_lab()
