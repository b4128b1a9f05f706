"""The GuardDuty parser: EventBridge envelope, bare findings, every action type."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from soar.alerts.models import Rule, Severity, SeverityInfo
from soar.ingest.parsers.base import ParseError
from soar.ingest.parsers.guardduty import console_link

Parse = Callable[..., Any]
FINDING_ID = "7c2e4a6b8d0f1e3a5c7b9d1f3e5a7c9b"
TITLE = "198.51.100.203 is performing RDP brute force attacks against i-0fe9d8c7b6a543210."


def test_sample(sample: Callable[[str], Any], parse_one: Parse, triples: Parse) -> None:
    alert = parse_one("guardduty", sample("guardduty.json"))
    assert alert.title == TITLE
    assert alert.description == TITLE
    assert alert.rule == Rule(name="UnauthorizedAccess:EC2/RDPBruteForce")
    assert alert.severity == SeverityInfo(level=Severity.MEDIUM, original="5.0")
    assert alert.time == datetime(2026, 3, 14, 14, 5, tzinfo=UTC)
    assert alert.dedup_key == f"guardduty:{FINDING_ID}"
    assert alert.link == (
        "https://ap-southeast-2.console.aws.amazon.com/guardduty/home?region=ap-southeast-2"
        f"#/findings?macros=current&fId={FINDING_ID}"
    )
    assert triples(alert) == [
        ("ip", "198.51.100.203", "source"),
        ("ip", "192.0.2.18", "host"),
        ("hostname", "i-0fe9d8c7b6a543210", "host"),
    ]


def test_updated_finding_is_the_same_alert(sample: Callable[[str], Any], parse_one: Parse) -> None:
    original = sample("guardduty.json")
    updated = copy.deepcopy(original)
    updated["id"] = "another-eventbridge-event-id"
    updated["detail"]["service"]["count"] = 9
    updated["detail"]["updatedAt"] = "2026-03-14T15:18:00.000Z"
    assert parse_one("guardduty", updated).id == parse_one("guardduty", original).id


def test_bare_api_call_finding(parse_one: Parse, triples: Parse) -> None:
    alert = parse_one(
        "guardduty",
        {
            "id": "abc123",
            "type": "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
            "severity": 8,
            "region": "us-east-1",
            "resource": {"accessKeyDetails": {"userName": "deploy-bot", "accessKeyId": "AKIA"}},
            "service": {
                "action": {
                    "actionType": "AWS_API_CALL",
                    "awsApiCallAction": {
                        "api": "ListBuckets",
                        "remoteIpDetails": {"ipAddressV4": "198.51.100.61"},
                        "domainDetails": {"domain": "attacker.example"},
                    },
                }
            },
        },
    )
    assert alert.title == "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"
    assert alert.severity == SeverityInfo(level=Severity.HIGH, original="8")
    assert alert.dedup_key == "guardduty:abc123"
    assert alert.link is not None
    assert "us-east-1" in alert.link
    assert triples(alert) == [
        ("ip", "198.51.100.61", "source"),
        ("domain", "attacker.example", "related"),
        ("user", "deploy-bot", "actor"),
    ]


def test_dns_outbound_and_port_probe(parse_one: Parse, triples: Parse) -> None:
    dns = parse_one(
        "guardduty",
        {
            "detail": {
                "id": "d1",
                "title": "C2 domain query",
                "severity": 9.5,
                "service": {"action": {"dnsRequestAction": {"domain": "c2.evil.example"}}},
            }
        },
    )
    assert dns.severity == SeverityInfo(level=Severity.CRITICAL, original="9.5")
    assert triples(dns) == [("domain", "c2.evil.example", "destination")]
    outbound = parse_one(
        "guardduty",
        {
            "title": "Outbound to C2",
            "severity": 2,
            "service": {
                "action": {
                    "networkConnectionAction": {
                        "connectionDirection": "OUTBOUND",
                        "remoteIpDetails": {"ipAddressV4": "203.0.113.99"},
                    }
                }
            },
        },
    )
    assert outbound.severity.level is Severity.LOW
    assert triples(outbound) == [("ip", "203.0.113.99", "destination")]
    probe = parse_one(
        "guardduty",
        {
            "title": "Port probe",
            "severity": 7.0,
            "service": {
                "action": {
                    "portProbeAction": {
                        "portProbeDetails": [
                            {"remoteIpDetails": {"ipAddressV4": "192.0.2.1"},
                             "localIpDetails": {"ipAddressV4": "10.0.0.5"}},
                            {"remoteIpDetails": {"ipAddressV4": "192.0.2.2"}},
                            "junk",
                        ]
                    }
                }
            },
        },
    )  # fmt: skip
    assert probe.severity.level is Severity.HIGH
    assert triples(probe) == [
        ("ip", "192.0.2.1", "source"),
        ("ip", "192.0.2.2", "source"),
        ("ip", "10.0.0.5", "host"),
    ]


@pytest.mark.parametrize(
    ("region", "finding_id"),
    [("eu-west-1\n", "abc"), ("eu-west-1", "a&b=c"), (None, "abc"), ("x", "abc")],
)
def test_console_link_needs_well_formed_parts(region: str | None, finding_id: str) -> None:
    assert console_link(region, finding_id) is None


def test_unmappable(parse: Parse) -> None:
    with pytest.raises(ParseError) as enveloped:
        parse("guardduty", {"detail": {"severity": 5}})
    assert enveloped.value.field == "detail.title"
    with pytest.raises(ParseError) as no_detail:
        parse("guardduty", {"detail-type": "GuardDuty Finding", "detail": "oops"})
    assert no_detail.value.field == "detail"
    with pytest.raises(ParseError) as bare:
        parse("guardduty", {"severity": 5})
    assert bare.value.field == "title"
