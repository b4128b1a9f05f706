"""The pure guardrail check: what it refuses, what it allows, and how it says so."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from soar.containment.models import ContainmentCommand, ContainmentTarget, ContainmentVerb
from soar.containment.models import TargetType as T
from soar.enrichment.inventory import Inventory
from soar.enrichment.models import AssetContext
from soar.guardrails.policy import check
from soar.guardrails.settings import GuardrailSettings

POLICY = GuardrailSettings(
    gateways=["10.0.0.1", "2001:db8:1::1"],
    resolvers=["10.0.0.53"],
    never_isolate=["backup-01.corp.example", "jump-*"],
    never_disable=["administrator", "root", "breakglass-*"],
)
INVENTORY = Inventory(
    hosts=[AssetContext(hostname="ad-01.corp.example", tags=["domain-controller"])]
)


def command(action: ContainmentVerb, kind: T, value: str) -> ContainmentCommand:
    return ContainmentCommand(action=action, target=ContainmentTarget(type=kind, value=value))


def deny(value: str) -> ContainmentCommand:
    return command(ContainmentVerb.DENY, T.IPV6_NET if ":" in value else T.IPV4_NET, value)


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("127.0.0.1", "refused: 127.0.0.1 is in 127.0.0.0/8, the loopback network (never_block)"),
        ("::1", "refused: ::1 is the loopback address (never_block)"),
        ("169.254.169.254", "refused: 169.254.169.254 is the cloud metadata address (never_block)"),
        ("10.0.0.1/32", "refused: 10.0.0.1 is a configured gateway (gateways)"),
        ("10.0.0.0/8", "refused: 10.0.0.0/8 contains 10.0.0.1, a configured gateway (gateways)"),
        ("10.0.0.53", "refused: 10.0.0.53 is a configured resolver (resolvers)"),
        (
            "169.254.0.0/16",
            "refused: 169.254.0.0/16 is the link-local network (never_block)",
        ),
        (
            "::ffff:169.254.169.254",
            "refused: 169.254.169.254 is the cloud metadata address (never_block)",
        ),
        (
            "2001:db8:1::/48",
            "refused: 2001:db8:1::/48 contains 2001:db8:1::1, a configured gateway (gateways)",
        ),
        (
            "0.0.0.0/0",
            "refused: 0.0.0.0/0 contains 10.0.0.1, a configured gateway (gateways)",
        ),
        (
            "198.18.0.0/15",
            "refused: 198.18.0.0/15 spans 131,072 addresses, more than the widest block "
            "allowed (/16) (min_block_prefix_v4)",
        ),
    ],
)
def test_protected_networks_are_refused_with_a_reason(target: str, reason: str) -> None:
    decision = check(deny(target), POLICY, INVENTORY, 0)

    assert not decision.allowed
    assert decision.reason == reason


def test_a_normal_block_is_allowed_and_says_how_much_of_the_hour_is_used() -> None:
    decision = check(deny("198.51.100.7"), POLICY, INVENTORY, 3)

    assert decision.allowed
    assert decision.rule is None
    assert decision.reason == (
        "allowed: deny 198.51.100.7 passes every guardrail "
        "(3 of 20 containment actions used in the last hour)"
    )


def test_a_slash_16_is_the_widest_ipv4_block_allowed() -> None:
    assert check(deny("198.18.0.0/16"), POLICY, INVENTORY, 0).allowed
    assert not check(deny("2001:db8:2::/47"), POLICY, INVENTORY, 0).allowed
    assert check(deny("2001:db8:2::/48"), POLICY, INVENTORY, 0).allowed


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("BACKUP-01", "refused: host BACKUP-01 is on the never-isolate list (never_isolate)"),
        (
            "jump-07.corp.example",
            "refused: host jump-07.corp.example matches the never-isolate pattern 'jump-*' "
            "(never_isolate)",
        ),
        (
            "AD-01",
            "refused: host AD-01 (ad-01.corp.example in the inventory) is tagged "
            "domain-controller in the inventory (never_isolate_tags)",
        ),
        ("10.0.0.53", "refused: 10.0.0.53 is a configured resolver (resolvers)"),
    ],
)
def test_protected_hosts_are_refused(target: str, reason: str) -> None:
    decision = check(command(ContainmentVerb.CONTAIN, T.HOSTNAME, target), POLICY, INVENTORY, 0)

    assert decision.reason == reason


@pytest.mark.parametrize(
    ("action", "target", "reason"),
    [
        (
            ContainmentVerb.DISABLE,
            "CORP\\Administrator",
            "refused: account CORP\\Administrator is on the never-disable list (never_disable)",
        ),
        (
            ContainmentVerb.REVOKE,
            "breakglass-02@corp.example",
            "refused: account breakglass-02@corp.example matches the never-disable pattern "
            "'breakglass-*' (never_disable)",
        ),
    ],
)
def test_protected_accounts_are_refused(action: ContainmentVerb, target: str, reason: str) -> None:
    decision = check(command(action, T.ACCOUNT, target), POLICY, INVENTORY, 0)

    assert decision.reason == reason


def test_the_hourly_ceiling_refuses_once_reached() -> None:
    host = command(ContainmentVerb.CONTAIN, T.HOSTNAME, "fin-laptop-07")

    assert check(host, POLICY, INVENTORY, 19).allowed
    decision = check(host, POLICY, INVENTORY, 20)
    assert decision.reason == (
        "refused: 20 containment actions in the last hour already reach the ceiling of 20 "
        "(max_containments_per_hour)"
    )


def test_ordinary_hosts_and_accounts_pass() -> None:
    assert check(
        command(ContainmentVerb.CONTAIN, T.HOSTNAME, "ad-02"), POLICY, INVENTORY, 0
    ).allowed
    assert check(command(ContainmentVerb.DISABLE, T.ACCOUNT, "j.doe"), POLICY, INVENTORY, 0).allowed


def test_defaults_protect_the_usual_addresses_and_accounts() -> None:
    defaults = GuardrailSettings()

    assert not check(deny("fd00:ec2::254"), defaults, Inventory(), 0).allowed
    assert not check(deny("fe80::1"), defaults, Inventory(), 0).allowed
    assert not check(deny("0.0.0.0/8"), defaults, Inventory(), 0).allowed
    root = command(ContainmentVerb.DISABLE, T.ACCOUNT, "root")
    assert check(root, defaults, Inventory(), 0).rule == "never_disable"
    assert defaults.never_isolate_tags == ["domain-controller"]


def test_settings_refuse_what_is_not_an_address() -> None:
    with pytest.raises(
        ValidationError, match=re.escape("'10.0.0.300' is not an IP address or network")
    ):
        GuardrailSettings(gateways=["10.0.0.300"])
