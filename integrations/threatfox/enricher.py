"""What ThreatFox (abuse.ch) knows of an observable: the IOCs reported for it, their
threat type, malware family and the reporter's confidence.

Verdict:

- an IOC equal to the observable — for an IP also its `ip:port` IOCs — reported with
  a confidence of `malicious_confidence` percent or more (default 75) →
  **malicious**; with less → **suspicious**; the score is the highest confidence (at
  least 1);
- `no_result`, or only IOCs that merely contain the value (a longer URL, another IP
  sharing the digits) → **unknown**, "not listed in ThreatFox".

The reasons say what the strongest IOC is (a botnet C&C of Cobalt Strike…), how many
IOCs matched, when it was seen and its tags; the link opens the IOC's ThreatFox page.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from integrations.threatfox.client import ThreatfoxClient
from integrations.threatfox.options import ThreatfoxOptions
from soar.alerts.models import Observable, ObservableType
from soar.enrichment.models import Enrichment, Verdict
from soar.integrations.errors import RequestRejected

HASH_LENGTHS = frozenset({32, 40, 64})
HEX = frozenset("0123456789abcdef")
HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
THREATS = {
    "botnet_cc": "a botnet C&C",
    "payload_delivery": "a payload delivery site",
    "payload": "a malware payload",
    "cc_skimming": "a card-skimming C&C",
}
IOCS_LISTED = 5
TAGS_LISTED = 8


@dataclass(frozen=True)
class Lookup:
    """What to search ThreatFox for, and whether it is an IP (matched with its ports)."""

    term: str
    is_ip: bool = False


def lookup_for(observable: Observable) -> Lookup | None:
    """The search for an observable, or None when ThreatFox holds no such IOC type (an
    email address, a user, a SHA-512, a malformed value)."""
    value = observable.value.strip()
    kind = observable.type
    if kind is ObservableType.IP:
        try:
            return Lookup(str(ipaddress.ip_address(value)), is_ip=True)
        except ValueError:
            return None
    if kind in (ObservableType.DOMAIN, ObservableType.HOSTNAME):
        name = value.lower().rstrip(".")
        return Lookup(name) if HOST_NAME.match(name) else None
    if kind is ObservableType.URL:
        parts = urlsplit(value)
        return Lookup(value) if parts.scheme and parts.netloc else None
    if kind is ObservableType.HASH:
        digest = value.lower()
        return Lookup(digest) if len(digest) in HASH_LENGTHS and HEX.issuperset(digest) else None
    return None


def _host_of(ioc: str) -> str:
    """The address of an `ip:port` IOC (`[v6]:port` too), or the IOC itself."""
    if ioc.startswith("["):
        return ioc[1:].split("]", 1)[0]
    if ioc.count(":") == 1:
        return ioc.split(":", 1)[0]
    return ioc


def equals(ioc: dict[str, Any], lookup: Lookup) -> bool:
    """Whether an IOC is the looked-up value (an IP with any port)."""
    value = str(ioc.get("ioc") or "").strip()
    if not lookup.is_ip:
        return value.casefold() == lookup.term.casefold()
    try:
        return str(ipaddress.ip_address(_host_of(value))) == lookup.term
    except ValueError:
        return False


def _confidence(ioc: dict[str, Any]) -> int:
    try:
        return max(0, min(100, int(ioc.get("confidence_level") or 0)))
    except (TypeError, ValueError):
        return 0


def _threat(ioc: dict[str, Any]) -> str:
    """The threat type in words (a type this enricher does not know by its name)."""
    kind = str(ioc.get("threat_type") or "").strip()
    return THREATS.get(kind) or (f"a {kind.replace('_', ' ')} IOC" if kind else "an IOC")


def _malware(ioc: dict[str, Any]) -> str:
    name = ioc.get("malware_printable") or ioc.get("malware")
    return str(name) if name and str(name).lower() != "unknown malware" else ""


class ThreatfoxEnricher:
    """Looks observables up in ThreatFox; see the module docstring."""

    def __init__(self, name: str, options: ThreatfoxOptions) -> None:
        self.name = name
        self.options = options
        self.client = ThreatfoxClient(name, options)

    async def aclose(self) -> None:
        await self.client.aclose()

    def supports(self, observable: Observable) -> bool:
        """IP addresses, domains, host names, URLs and MD5, SHA-1 and SHA-256 hashes that
        are well formed."""
        return lookup_for(observable) is not None

    async def enrich(self, observable: Observable) -> Enrichment:
        lookup = lookup_for(observable)
        if lookup is None:
            raise RequestRejected(
                self.name,
                f"ThreatFox cannot look up the {observable.type.value} {observable.value!r}",
            )
        answer = await self.client.search_ioc(lookup.term)
        found = answer.get("data") if answer["query_status"] == "ok" else None
        iocs = [ioc for ioc in found if isinstance(ioc, dict)] if isinstance(found, list) else []
        matches = sorted(
            (ioc for ioc in iocs if equals(ioc, lookup)), key=_confidence, reverse=True
        )
        data: dict[str, Any] = {"raw": answer, "iocs": len(matches)}
        if not matches:
            reasons = ["not listed in ThreatFox"]
            if iocs:
                some = f"{len(iocs)} IOCs contain" if len(iocs) > 1 else "1 IOC contains"
                reasons.append(f"{some} it but none is it")
            return Enrichment(
                provider=self.name,
                observable=observable,
                verdict=Verdict.UNKNOWN,
                reasons=reasons,
                data=data,
                link=f"{self.options.web_url}/browse.php?search="
                f"{quote('ioc:' + lookup.term, safe='')}",
            )
        best = matches[0]
        confidence = _confidence(best)
        verdict = (
            Verdict.MALICIOUS
            if confidence >= self.options.malicious_confidence
            else Verdict.SUSPICIOUS
        )
        malware = _malware(best)
        first = f"ThreatFox: {_threat(best)}{f' of {malware}' if malware else ''}"
        reasons = [f"{first} (confidence {confidence}%)", *self._details(matches)]
        data["confidence"] = confidence
        data["threat_type"] = best.get("threat_type")
        data["malware"] = malware or None
        return Enrichment(
            provider=self.name,
            observable=observable,
            verdict=verdict,
            score=max(confidence, 1),
            reasons=reasons,
            data=data,
            link=f"{self.options.web_url}/ioc/{best.get('id')}/",
        )

    @staticmethod
    def _details(matches: list[dict[str, Any]]) -> list[str]:
        best = matches[0]
        details: list[str] = []
        if len(matches) > 1:
            listed = ", ".join(
                f"{ioc.get('ioc')} ({_malware(ioc) or 'unknown malware'}, {_confidence(ioc)}%)"
                for ioc in matches[:IOCS_LISTED]
            )
            details.append(f"{len(matches)} IOCs: {listed}")
        seen = [
            f"{label} {best[key]}"
            for key, label in (("first_seen", "first seen"), ("last_seen", "last seen"))
            if best.get(key)
        ]
        if seen:
            details.append(", ".join(seen))
        tags = sorted({str(tag) for ioc in matches for tag in ioc.get("tags") or [] if tag})
        if tags:
            details.append(f"tags: {', '.join(tags[:TAGS_LISTED])}")
        return details
