"""Address classes, with the documentation ranges never reported as private or reserved."""

from __future__ import annotations

import pytest

from soar.enrichment.addresses import classify, describe
from soar.enrichment.models import AddressClass


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("8.8.8.8", AddressClass.PUBLIC),
        ("2606:4700:4700::1111", AddressClass.PUBLIC),
        ("10.1.2.3", AddressClass.PRIVATE),
        ("172.16.0.1", AddressClass.PRIVATE),
        ("192.168.1.10", AddressClass.PRIVATE),
        ("100.64.0.1", AddressClass.PRIVATE),
        ("fd12:3456::1", AddressClass.PRIVATE),
        ("192.0.2.1", AddressClass.DOCUMENTATION),
        ("198.51.100.7", AddressClass.DOCUMENTATION),
        ("203.0.113.9", AddressClass.DOCUMENTATION),
        ("2001:db8::1", AddressClass.DOCUMENTATION),
        ("127.0.0.1", AddressClass.LOOPBACK),
        ("::1", AddressClass.LOOPBACK),
        ("224.0.0.251", AddressClass.MULTICAST),
        ("ff02::1", AddressClass.MULTICAST),
        ("169.254.10.1", AddressClass.LINK_LOCAL),
        ("fe80::1", AddressClass.LINK_LOCAL),
        ("0.1.2.3", AddressClass.RESERVED),
        ("240.0.0.1", AddressClass.RESERVED),
        ("255.255.255.255", AddressClass.RESERVED),
        ("198.18.0.1", AddressClass.RESERVED),
        ("::", AddressClass.RESERVED),
    ],
)
def test_classify(address: str, expected: AddressClass) -> None:
    assert classify(address) is expected


def test_ipv4_mapped_ipv6_is_classified_as_its_ipv4_address() -> None:
    assert classify("::ffff:10.0.0.1") is AddressClass.PRIVATE
    assert classify("::ffff:203.0.113.5") is AddressClass.DOCUMENTATION


def test_not_an_address_is_an_error() -> None:
    with pytest.raises(ValueError):
        classify("999.1.1.1")


def test_describe_reads_as_a_reason() -> None:
    assert describe("203.0.113.9", AddressClass.DOCUMENTATION) == (
        "203.0.113.9 is a documentation address"
    )
