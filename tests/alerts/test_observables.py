"""Observable extraction: validation, refanging, text scanning and its bounds."""

from __future__ import annotations

import ipaddress
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soar.alerts.models import Observable, ObservableRole, ObservableType
from soar.alerts.observables import (
    MAX_OBSERVABLES,
    MAX_TEXT_CHARS,
    collect_observables,
    domain_observable,
    email_observable,
    email_or_user,
    hash_observable,
    host_observable,
    ip_observable,
    keyed_observable,
    keyed_observables,
    refang,
    strip_port,
    text_observables,
    url_observable,
    url_observables,
    user_observable,
)

IP = ObservableType.IP
DOMAIN = ObservableType.DOMAIN
URL = ObservableType.URL
HASH = ObservableType.HASH
EMAIL = ObservableType.EMAIL
Role = ObservableRole

MD5 = "44d88612fea8a8f36de82e1278abb02f"
SHA1 = "3395856ce81f2b7382dee72602f798b642f14140"
SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"


def pairs(observables: list[Observable]) -> list[tuple[str, str]]:
    return [(o.type.value, o.value) for o in observables]


@pytest.mark.parametrize(
    ("defanged", "refanged"),
    [
        ("hxxp://evil[.]com/a", "http://evil.com/a"),
        ("hXXps://evil(.)com", "https://evil.com"),
        ("evil[dot]example[dot]org", "evil.example.org"),
        ("http[:]//10[.]0[.]0[.]1", "http://10.0.0.1"),
        ("bad[@]evil[.]com and x[at]y{.}io", "bad@evil.com and x@y.io"),
        ("plain text stays", "plain text stays"),
    ],
)
def test_refang(defanged: str, refanged: str) -> None:
    assert refang(defanged) == refanged


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7 ", "203.0.113.7"),
        ("2001:DB8::1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("10[.]0[.]0[.]1", "10.0.0.1"),
        ("999.1.1.1", None),
        ("1.2.3", None),
        ("01.2.3.4", None),
        ("0.0.0.0", None),  # noqa: S104 - an address under test, not a bind
        ("::", None),
        ("10.0.0.0/8", None),
        ("web-02", None),
        ("-", None),
        (3232235777, None),
        (True, None),
        (None, None),
        (["1.2.3.4"], None),
    ],
)
def test_ip_observable_validates(value: object, expected: str | None) -> None:
    observable = ip_observable(value, Role.SOURCE)
    if expected is None:
        assert observable is None
    else:
        assert observable == Observable(type=IP, value=expected, role=Role.SOURCE)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Example.COM", "example.com"),
        ("evil[.]example[.]org.", "evil.example.org"),
        ("xn--80ak6aa92e.com", "xn--80ak6aa92e.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("invoice.pdf.exe", None),
        ("report.docx", None),
        ("v1.2", None),
        ("localhost", None),
        ("a..b.com", None),
        ("-bad.com", None),
        ("1.2.3.4", None),
        ("x" * 64 + ".com", None),
    ],
)
def test_domain_observable_validates(value: str, expected: str | None) -> None:
    observable = domain_observable(value)
    assert (observable.value if observable else None) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (MD5.upper(), MD5),
        (SHA1, SHA1),
        (SHA256, SHA256),
        ("a" * 48, None),
        ("g" * 32, None),
        ("1" * 32, None),
        ("0" * 64, None),
        ("12345678901234567890123456789012", None),
    ],
)
def test_hash_observable_by_length(value: str, expected: str | None) -> None:
    observable = hash_observable(value)
    assert (observable.value if observable else None) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://shop.example.com/login", "https://shop.example.com/login"),
        ("hxxps://evil[.]com/x?a=1", "https://evil.com/x?a=1"),
        ("ldap://203.0.113.66/a", "ldap://203.0.113.66/a"),
        ("/login", None),
        ("javascript:alert(1)", None),
        ("http://", None),
        ("http://a b.com/", None),
        ("http://[::1", None),
        ("file:///etc/passwd", None),
    ],
)
def test_url_observable(value: str, expected: str | None) -> None:
    observable = url_observable(value)
    assert (observable.value if observable else None) == expected


def test_url_observables_add_the_host() -> None:
    assert pairs(url_observables("https://shop.example.com/login")) == [
        ("url", "https://shop.example.com/login"),
        ("domain", "shop.example.com"),
    ]
    assert pairs(url_observables("http://203.0.113.5:8080/x")) == [
        ("url", "http://203.0.113.5:8080/x"),
        ("ip", "203.0.113.5"),
    ]
    assert url_observables("not a url") == []


def test_users_emails_and_hosts() -> None:
    assert email_or_user("A.Smith@Example.com") == Observable(
        type=EMAIL, value="a.smith@example.com", role=Role.ACTOR
    )
    assert email_or_user("CORP\\svc", Role.TARGET) == Observable(
        type=ObservableType.USER, value="CORP\\svc", role=Role.TARGET
    )
    assert email_observable("not-an-email") is None
    assert email_observable("a@b.exe") is None
    assert user_observable("line\nbreak") is None
    assert user_observable("n/a") is None
    assert host_observable("10.20.3.12") == Observable(type=IP, value="10.20.3.12", role=Role.HOST)
    assert host_observable("web-02") == Observable(
        type=ObservableType.HOSTNAME, value="web-02", role=Role.HOST
    )
    assert host_observable("C:\\Windows") is None
    assert host_observable("two words") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sensor-1:9100", "sensor-1"),
        ("[2001:db8::1]:9100", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("plain", "plain"),
    ],
)
def test_strip_port(value: str, expected: str) -> None:
    assert strip_port(value) == expected


def test_text_finds_defanged_indicators() -> None:
    found = text_observables(
        "Beacon to hxxps://c2[.]evil[.]example/gate.php?id=1). "
        "Phish from bad[at]evil[.]example, also 198[.]51[.]100[.]9 and "
        f"drop.evil.example; hash {MD5} / {SHA1} / {SHA256}",
        role=Role.RELATED,
    )
    assert pairs(found) == [
        ("url", "https://c2.evil.example/gate.php?id=1"),
        ("domain", "c2.evil.example"),
        ("email", "bad@evil.example"),
        ("ip", "198.51.100.9"),
        ("domain", "drop.evil.example"),
        ("hash", MD5),
        ("hash", SHA1),
        ("hash", SHA256),
    ]
    assert {o.role for o in found} == {Role.RELATED}


def test_text_rejects_lookalikes() -> None:
    text = (
        "C:\\Users\\j.doe\\Downloads\\invoice.pdf.exe ran; version 2.4.1 of app.js; "
        "999.1.1.1 and 1.2.3.4.5 are no IPs; at 09:20:10 on 00:1a:2b:3c:4d:5e; "
        "e.g. sshd[20117]; see /home/john.smith/notes; " + "ab" * 24
    )
    assert text_observables(text) == []


def test_text_reports_url_host_but_not_url_path_or_email_domain() -> None:
    found = text_observables("see https://x.example/u/john.smith and mail ops@corp.example")
    assert pairs(found) == [
        ("url", "https://x.example/u/john.smith"),
        ("domain", "x.example"),
        ("email", "ops@corp.example"),
    ]


def test_text_finds_ipv6_and_exploit_urls() -> None:
    found = text_observables("from 2001:db8::5 payload /?x=${jndi:ldap://203.0.113.66/a}")
    assert pairs(found) == [
        ("url", "ldap://203.0.113.66/a"),
        ("ip", "203.0.113.66"),
        ("ip", "2001:db8::5"),
    ]


def test_text_ignores_non_strings_and_dedupes_across_texts() -> None:
    found = text_observables(None, 42, {"ip": "1.1.1.1"}, "8.8.8.8", "again 8.8.8.8")
    assert pairs(found) == [("ip", "8.8.8.8")]


def test_text_is_capped_per_text_and_per_alert() -> None:
    many = " ".join(f"10.0.{i // 250}.{i % 250 + 1}" for i in range(1000))
    assert len(text_observables(many)) == MAX_OBSERVABLES
    hidden = "x" * MAX_TEXT_CHARS + " 203.0.113.1"
    assert text_observables(hidden) == []


@pytest.mark.parametrize(
    "hostile",
    [
        "a." * 60_000,
        "1." * 60_000,
        "a" * 200_000,
        "a@" * 60_000,
        "a" * 100_000 + "@",
        ":" * 100_000,
        "1:" * 60_000,
        "http://" * 20_000,
        "http://a/" + ")" * 100_000,
        "[.]" * 40_000,
        "a-" * 60_000,
        "f" * 200_000,
        "a.b-" * 30_000,
        "x@a." * 30_000,
    ],
)
def test_hostile_text_is_fast(hostile: str) -> None:
    started = time.perf_counter()
    text_observables(hostile)
    assert time.perf_counter() - started < 1.0


def test_keyed_observable_reads_field_names() -> None:
    assert pairs(keyed_observable("src_ip", "203.0.113.9")) == [("ip", "203.0.113.9")]
    assert keyed_observable("srcIp", "203.0.113.9")[0].role is Role.SOURCE
    assert keyed_observable("dstip", "10.0.0.1")[0].role is Role.DESTINATION
    assert keyed_observable("instance", "sensor-1:9100") == [
        Observable(type=ObservableType.HOSTNAME, value="sensor-1", role=Role.HOST)
    ]
    assert keyed_observable("instance", "10.0.0.5:9100")[0].type is IP
    assert keyed_observable("dst_user", "root")[0].role is Role.TARGET
    assert keyed_observable("user", "a@example.com")[0].type is EMAIL
    assert keyed_observable("src", "web-01") == []
    assert keyed_observable("http_user_agent", "Mozilla/5.0") == []
    assert keyed_observable("user_count", "12") == []
    assert keyed_observable("src_ip", 12) == []
    assert keyed_observable("alertname", "PortScan") == []
    assert keyed_observable("description", "zip 10.0.0.1") == []


def test_keyed_observables_handle_lists() -> None:
    found = keyed_observables({"ips": ["1.1.1.1", "8.8.8.8"], "ip": ["1.1.1.1", None]})
    assert pairs(found) == [("ip", "1.1.1.1"), ("ip", "8.8.8.8")]


def test_collect_keeps_first_role_and_caps() -> None:
    first = Observable(type=IP, value="1.1.1.1", role=Role.SOURCE)
    again = Observable(type=IP, value="1.1.1.1", role=Role.RELATED)
    assert collect_observables(None, first, [None, again]) == [first]
    flood = [Observable(type=IP, value=f"10.0.{i // 250}.{i % 250}", role=Role.RELATED)
             for i in range(1, 500)]  # fmt: skip
    assert len(collect_observables(flood)) == MAX_OBSERVABLES


@settings(max_examples=300, database=None, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from("0123456789abcdefx.:/@[]()-_ hxtp\n"),
        max_size=300,
    )
)
def test_text_findings_are_always_valid(text: str) -> None:
    for observable in text_observables(text):
        if observable.type is IP:
            ipaddress.ip_address(observable.value)
        elif observable.type is DOMAIN:
            assert domain_observable(observable.value) is not None
        elif observable.type is HASH:
            assert len(observable.value) in (32, 40, 64)
        elif observable.type is URL:
            assert url_observable(observable.value) is not None
