"""What AlienVault OTX's community knows of an observable: the pulses (community threat
reports) that list it, and whether OTX vouches for it.

Verdict, from the `general` section:

- OTX validates it as harmless — a `whitelist` or `false_positive` validation, or a
  false-positive report OTX accepted → **benign** (0), whatever pulses list it;
- in `malicious_pulses` pulses or more (default 5) → **malicious**, score 75 plus 5
  per pulse beyond, at most 100;
- in fewer → **suspicious**, 30 for one pulse rising evenly to 60 just under the
  threshold;
- in none → **unknown**, "OTX: in no pulse".

A popular domain (an `alexa`, `akamai` or `majestic` validation) is never more than
suspicious: big sites turn up in pulses as noise. The reasons name a few pulses and
the malware families OTX relates to it; the link opens the OTX indicator page.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from integrations.otx.client import OtxClient
from integrations.otx.options import OtxOptions
from soar.alerts.models import Observable, ObservableType
from soar.enrichment.models import Enrichment, Verdict
from soar.integrations.errors import RequestRejected

HASH_LENGTHS = frozenset({32, 40, 64})
"""MD5, SHA-1 and SHA-256: the file hashes OTX indexes."""
HEX = frozenset("0123456789abcdef")
HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
HARMLESS = frozenset({"whitelist", "false_positive"})
POPULAR = frozenset({"alexa", "akamai", "majestic"})
MALICIOUS_SCORE = 75
SUSPICIOUS_LOW, SUSPICIOUS_HIGH = 30, 60
PULSES_NAMED = 3
FAMILIES_NAMED = 5


@dataclass(frozen=True)
class Lookup:
    """What to ask OTX: its section (type) name, the value, and the web page's section."""

    section: str
    value: str
    page: str


def lookup_for(observable: Observable) -> Lookup | None:
    """The OTX indicator for an observable, or None when OTX indexes no such thing (an
    email address, a user, a SHA-512, a malformed value)."""
    value = observable.value.strip()
    kind = observable.type
    if kind is ObservableType.IP:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return None
        section = "IPv4" if address.version == 4 else "IPv6"
        return Lookup(section, str(address), "ip")
    if kind in (ObservableType.DOMAIN, ObservableType.HOSTNAME):
        name = value.lower().rstrip(".")
        if not HOST_NAME.match(name):
            return None
        section = "domain" if kind is ObservableType.DOMAIN else "hostname"
        return Lookup(section, name, section)
    if kind is ObservableType.URL:
        parts = urlsplit(value)
        ok = parts.scheme.lower() in ("http", "https") and bool(parts.netloc)
        return Lookup("url", value, "url") if ok else None
    if kind is ObservableType.HASH:
        digest = value.lower()
        ok = len(digest) in HASH_LENGTHS and HEX.issuperset(digest)
        return Lookup("file", digest, "file") if ok else None
    return None


def _pulse_score(count: int, threshold: int) -> tuple[Verdict, int]:
    if count >= threshold:
        return Verdict.MALICIOUS, min(100, MALICIOUS_SCORE + 5 * (count - threshold))
    steps = max(threshold - 2, 1)
    spread = SUSPICIOUS_HIGH - SUSPICIOUS_LOW
    return Verdict.SUSPICIOUS, SUSPICIOUS_LOW + spread * (count - 1) // steps


def _validations(answer: dict[str, Any]) -> list[dict[str, Any]]:
    found = answer.get("validation")
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def _accepted_false_positive(answer: dict[str, Any]) -> bool:
    reports = answer.get("false_positive")
    return isinstance(reports, list) and any(
        isinstance(report, dict) and report.get("assessment") == "accepted" for report in reports
    )


def _families(pulse_info: dict[str, Any]) -> list[str]:
    names: list[str] = []
    related = pulse_info.get("related")
    for source in related.values() if isinstance(related, dict) else []:
        families = source.get("malware_families") if isinstance(source, dict) else None
        names += [str(family) for family in families or [] if family]
    for pulse in pulse_info.get("pulses") or []:
        for family in pulse.get("malware_families") or [] if isinstance(pulse, dict) else []:
            name = family.get("display_name") if isinstance(family, dict) else family
            if name:
                names.append(str(name))
    return list(dict.fromkeys(names))


class OtxEnricher:
    """Looks observables up in AlienVault OTX; see the module docstring."""

    def __init__(self, name: str, options: OtxOptions) -> None:
        self.name = name
        self.options = options
        self.client = OtxClient(name, options)

    async def aclose(self) -> None:
        await self.client.aclose()

    def supports(self, observable: Observable) -> bool:
        """IPv4 and IPv6 addresses, domains, host names, http(s) URLs and MD5, SHA-1 and
        SHA-256 hashes that are well formed."""
        return lookup_for(observable) is not None

    async def enrich(self, observable: Observable) -> Enrichment:
        lookup = lookup_for(observable)
        if lookup is None:
            raise RequestRejected(
                self.name, f"OTX cannot look up the {observable.type.value} {observable.value!r}"
            )
        answer = await self.client.general(lookup.section, lookup.value)
        pulse_info: dict[str, Any] = answer["pulse_info"]
        pulses = [p for p in pulse_info.get("pulses") or [] if isinstance(p, dict)]
        count = int(pulse_info.get("count") or len(pulses))
        families = _families(pulse_info)
        validations = _validations(answer)
        data: dict[str, Any] = {
            "raw": answer,
            "pulses": count,
            "malware_families": families,
            "validation": [str(v.get("source")) for v in validations],
        }
        link = f"{self.options.web_url}/indicator/{lookup.page}/{quote(lookup.value, safe='')}"
        harmless = [v for v in validations if v.get("source") in HARMLESS]
        if harmless or _accepted_false_positive(answer):
            words = (
                str(harmless[0].get("message") or harmless[0].get("name"))
                if harmless
                else ("a false-positive report OTX accepted")
            )
            return self._answer(
                observable, Verdict.BENIGN, 0, [f"OTX vouches for it: {words}"], data, link
            )
        if count == 0:
            return self._answer(observable, Verdict.UNKNOWN, 0, ["OTX: in no pulse"], data, link)
        verdict, score = _pulse_score(count, self.options.malicious_pulses)
        names = [f'"{p["name"]}"' for p in pulses[:PULSES_NAMED] if p.get("name")]
        first = f"OTX: in {count} pulse{'s' if count > 1 else ''}"
        reasons = [f"{first}, e.g. {', '.join(names)}" if names else first]
        if families:
            reasons.append(f"malware families: {', '.join(families[:FAMILIES_NAMED])}")
        popular = [v for v in validations if v.get("source") in POPULAR]
        if popular and verdict is Verdict.MALICIOUS:
            verdict, score = Verdict.SUSPICIOUS, SUSPICIOUS_HIGH
            words = str(popular[0].get("message") or popular[0].get("name"))
            reasons.append(f"a popular site ({words}): its pulses may be noise")
        return self._answer(observable, verdict, score, reasons, data, link)

    def _answer(
        self,
        observable: Observable,
        verdict: Verdict,
        score: int,
        reasons: list[str],
        data: dict[str, Any],
        link: str,
    ) -> Enrichment:
        return Enrichment(
            provider=self.name,
            observable=observable,
            verdict=verdict,
            score=score,
            reasons=reasons,
            data=data,
            link=link,
        )
