"""The Sentinel parser: Logic App incident bodies and Graph alerts_v2."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from soar.alerts.models import Alert, AlertStatus, Rule, Severity, SeverityInfo
from soar.ingest.parsers.base import ParseError

Parse = Callable[..., Any]
NAME = "e4b1c9d2-8a7f-4e36-b5c0-2d9e8f7a6b51"
SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
SHA1 = "3395856ce81f2b7382dee72602f798b642f14140"


def test_sample(sample: Callable[[str], Any], parse_one: Parse, triples: Parse) -> None:
    document = sample("sentinel.json")
    alert = parse_one("sentinel", document)
    assert alert.title == "Anomalous token use followed by inbox forwarding rule"
    assert alert.severity == SeverityInfo(level=Severity.HIGH, original="High")
    assert alert.rule == Rule(
        id="/subscriptions/sub-example/providers/Microsoft.SecurityInsights/alertRules/token-anomaly"
    )
    assert alert.time == datetime(2026, 3, 14, 5, 50, tzinfo=UTC)
    assert alert.dedup_key == f"sentinel:{NAME}"
    assert alert.link == document["object"]["properties"]["incidentUrl"]
    assert alert.status is AlertStatus.FIRING
    assert triples(alert) == [
        ("user", "d.silva@example.org", "related"),
        ("email", "d.silva@example.org", "related"),
        ("ip", "203.0.113.174", "related"),
    ]
    assert parse_one("sentinel", sample("sentinel.json")).id == alert.id


ENTITIES = [
    {"kind": "Host", "properties": {"hostName": "fin-pc-3", "dnsDomain": "corp.example"}},
    {"kind": "Host", "properties": {"hostName": "db-1"}},
    {"kind": "Account", "properties": {"accountName": "svc-backup", "ntDomain": "CORP"}},
    {"kind": "FileHash", "properties": {"algorithm": "SHA256", "hashValue": SHA256}},
    {"kind": "Url", "properties": {"url": "https://login.evil.example/o365"}},
    {"kind": "DnsResolution", "properties": {"domainName": "drop.evil.example"}},
    {"kind": "Ip", "properties": {"address": "999.1.1.1"}},
    {"kind": "Ip", "Address": "203.0.113.77"},
    {"kind": "Mailbox", "properties": {"mailboxPrimaryAddress": "ceo@corp.example"}},
    {"kind": "CloudApplication", "properties": {"appId": 1}},
    "junk",
]


def test_entities_without_object_wrapper(parse_one: Parse, triples: Parse) -> None:
    alert = parse_one(
        "sentinel",
        {
            "name": "inc-2",
            "properties": {
                "title": "Credential theft",
                "severity": "Medium",
                "status": "Closed",
                "firstActivityTimeUtc": "2026-11-22T07:30:00Z",
                "relatedEntities": ENTITIES,
            },
        },
    )
    assert alert.dedup_key == "sentinel:inc-2"
    assert alert.status is AlertStatus.RESOLVED
    assert alert.severity == SeverityInfo(level=Severity.MEDIUM, original="Medium")
    assert alert.time == datetime(2026, 11, 22, 7, 30, tzinfo=UTC)
    assert triples(alert) == [
        ("hostname", "fin-pc-3.corp.example", "host"),
        ("hostname", "db-1", "host"),
        ("user", "svc-backup", "related"),
        ("hash", SHA256, "related"),
        ("url", "https://login.evil.example/o365", "related"),
        ("domain", "login.evil.example", "related"),
        ("domain", "drop.evil.example", "related"),
        ("ip", "203.0.113.77", "related"),
        ("email", "ceo@corp.example", "related"),
    ]


def test_properties_at_top_level(parse_one: Parse) -> None:
    alert = parse_one(
        "sentinel",
        {"name": "inc-3", "title": "Flat incident", "severity": "Informational"},
    )
    assert alert.title == "Flat incident"
    assert alert.dedup_key == "sentinel:inc-3"
    assert alert.severity.level is Severity.INFORMATIONAL


GRAPH_ALERT = {
    "@odata.type": "#microsoft.graph.security.alert",
    "id": "da637551227677560813_-961444813",
    "title": "Suspicious execution of hidden file",
    "description": "A hidden file has been launched.",
    "severity": "high",
    "status": "new",
    "createdDateTime": "2026-11-22T06:00:00Z",
    "alertWebUrl": "https://security.microsoft.com/alerts/da637551227677560813",
    "detectorId": "7863ff1a",
    "evidence": [
        {
            "@odata.type": "#microsoft.graph.security.ipEvidence",
            "roles": ["attacker"],
            "ipAddress": "203.0.113.90",
        },
        {
            "@odata.type": "#microsoft.graph.security.deviceEvidence",
            "deviceDnsName": "tempDns.corp.example",
            "ipInterfaces": ["10.1.2.3", "fe80::1"],
        },
        {
            "@odata.type": "#microsoft.graph.security.userEvidence",
            "userAccount": {"accountName": "jdoe", "userPrincipalName": "jdoe@corp.example"},
        },
        {
            "@odata.type": "#microsoft.graph.security.urlEvidence",
            "roles": ["destination"],
            "url": "hxxp://pay.evil[.]example/",
        },
        {
            "@odata.type": "#microsoft.graph.security.fileEvidence",
            "fileDetails": {"fileName": "a.exe", "sha1": SHA1, "sha256": SHA256},
        },
        {"@odata.type": "#microsoft.graph.security.mailboxEvidence", "primaryAddress": "x"},
    ],
}


def test_graph_alerts_v2_evidence(parse_one: Parse, triples: Parse) -> None:
    alert = parse_one("sentinel", GRAPH_ALERT)
    assert alert.title == "Suspicious execution of hidden file"
    assert alert.rule == Rule(id="7863ff1a")
    assert alert.severity == SeverityInfo(level=Severity.HIGH, original="high")
    assert alert.dedup_key == "sentinel:da637551227677560813_-961444813"
    assert alert.link == "https://security.microsoft.com/alerts/da637551227677560813"
    assert alert.time == datetime(2026, 11, 22, 6, tzinfo=UTC)
    assert triples(alert) == [
        ("ip", "203.0.113.90", "source"),
        ("hostname", "tempDns.corp.example", "host"),
        ("ip", "10.1.2.3", "host"),
        ("ip", "fe80::1", "host"),
        ("user", "jdoe@corp.example", "related"),
        ("email", "jdoe@corp.example", "related"),
        ("url", "http://pay.evil.example/", "destination"),
        ("domain", "pay.evil.example", "related"),
        ("hash", SHA256, "related"),
        ("hash", SHA1, "related"),
    ]


def test_graph_list_response_is_a_batch(parse: Parse) -> None:
    resolved = {**GRAPH_ALERT, "id": "second", "status": "resolved"}
    first, second, third = parse("sentinel", {"value": [GRAPH_ALERT, resolved, {"id": "x"}]})
    assert isinstance(first, Alert)
    assert isinstance(second, Alert)
    assert second.status is AlertStatus.RESOLVED
    assert isinstance(third, ParseError)
    assert third.field == "value[2].title"


def test_unmappable(parse: Parse) -> None:
    with pytest.raises(ParseError) as wrapped:
        parse("sentinel", {"object": {"name": "x", "properties": {"severity": "High"}}})
    assert wrapped.value.field == "object.properties.title"
    with pytest.raises(ParseError) as flat:
        parse("sentinel", {"severity": "High"})
    assert flat.value.field == "title"
