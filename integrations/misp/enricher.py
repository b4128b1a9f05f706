"""What your MISP knows of an observable: the attributes with its value, the events
they belong to, and how those events judge it.

Verdict (per matching attribute; the strongest decides):

- flagged for detection (`to_ids`) → **malicious**, score 95 when its event's threat
  level is high, 85 medium, 75 low, undefined or not given;
- not flagged (context: a victim, a reference) → **suspicious** when its event's
  threat level is high (50) or medium (35), else **unknown** (10): MISP holds it, but
  nobody said to detect it;
- tagged `false-positive:confirmed="true"` (on the attribute or its event) → it
  counts for nothing; when every match is, the answer is **benign** (0);
- no attribute → **unknown**, "MISP has no attribute with this value".

The reasons say which events matched (`#id "info"`); the most restricted `tlp:*` tag of
the matching events is `data["tlp"]` (the answer itself is marked that way) and said in
words. MISP compares values case-insensitively and treats `%` as a wildcard, so only
attributes whose value (or one half of a composite value such as `ip-dst|port`)
equals the observable are counted. The link opens the deciding event.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from integrations.misp.client import MispClient
from integrations.misp.options import MispOptions
from soar.alerts.models import Observable, ObservableType
from soar.enrichment.models import Enrichment, Tlp, Verdict
from soar.integrations.errors import RequestRejected

HASH_KINDS = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
HEX = frozenset("0123456789abcdef")
HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")

TYPES: dict[ObservableType, list[str]] = {
    ObservableType.IP: ["ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain|ip"],
    ObservableType.DOMAIN: ["domain", "hostname", "domain|ip"],
    ObservableType.HOSTNAME: ["hostname", "domain", "domain|ip"],
    ObservableType.URL: ["url", "uri", "link"],
    ObservableType.EMAIL: ["email", "email-src", "email-dst", "email-reply-to"],
}
"""The MISP attribute types an observable is searched among (hashes: by their kind)."""

THREAT_LEVELS = {"1": "high", "2": "medium", "3": "low", "4": "undefined"}
IDS_SCORES = {"high": 95, "medium": 85}
IDS_SCORE = 75
CONTEXT_SCORES = {"high": 50, "medium": 35}
CONTEXT_SCORE = 10
FALSE_POSITIVE = 'false-positive:confirmed="true"'

TLP_TAGS = {
    "tlp:white": Tlp.CLEAR,
    "tlp:clear": Tlp.CLEAR,
    "tlp:green": Tlp.GREEN,
    "tlp:amber": Tlp.AMBER,
    "tlp:amber+strict": Tlp.AMBER_STRICT,
    "tlp:red": Tlp.RED,
}
VERDICT_RANK = {Verdict.MALICIOUS: 3, Verdict.SUSPICIOUS: 2, Verdict.UNKNOWN: 1}
EVENTS_LISTED = 5
TAGS_LISTED = 10


@dataclass(frozen=True)
class Lookup:
    """What to ask MISP: the normalised value and the attribute types to search."""

    value: str
    types: list[str]
    is_ip: bool = False


def lookup_for(observable: Observable) -> Lookup | None:
    """The search for an observable, or None when MISP cannot hold such a value (a
    user, an empty or malformed value)."""
    value = observable.value.strip()
    kind = observable.type
    if not value:
        return None
    if kind is ObservableType.IP:
        try:
            return Lookup(str(ipaddress.ip_address(value)), TYPES[kind], is_ip=True)
        except ValueError:
            return None
    if kind in (ObservableType.DOMAIN, ObservableType.HOSTNAME):
        name = value.lower().rstrip(".")
        return Lookup(name, TYPES[kind]) if HOST_NAME.match(name) else None
    if kind is ObservableType.URL:
        parts = urlsplit(value)
        return Lookup(value, TYPES[kind]) if parts.scheme and parts.netloc else None
    if kind is ObservableType.EMAIL:
        local, _, domain = value.lower().rpartition("@")
        return Lookup(value.lower(), TYPES[kind]) if local and HOST_NAME.match(domain) else None
    if kind is ObservableType.HASH:
        digest = value.lower()
        hash_kind = HASH_KINDS.get(len(digest))
        if hash_kind is None or not HEX.issuperset(digest):
            return None
        types = [hash_kind, f"filename|{hash_kind}"]
        return Lookup(digest, [*types, "malware-sample"] if hash_kind == "md5" else types)
    return None


def _same(part: str, lookup: Lookup) -> bool:
    part = part.strip()
    if lookup.is_ip:
        try:
            return str(ipaddress.ip_address(part)) == lookup.value
        except ValueError:
            return False
    return part.casefold() == lookup.value.casefold()


def holds(attribute: dict[str, Any], lookup: Lookup) -> bool:
    """Whether the attribute's value (or one half of a composite one) is the lookup's."""
    value = str(attribute.get("value", ""))
    kind = str(attribute.get("type", ""))
    composite = "|" in kind or kind == "malware-sample"
    parts = value.split("|", 1) if composite else [value]
    return any(_same(part, lookup) for part in parts)


def _truthy(value: object) -> bool:
    """MISP's booleans: `true`, or `"1"` from older instances."""
    return value is True or str(value).lower() in ("1", "true")


def _tag_names(*holders: object) -> tuple[str, ...]:
    names: list[str] = []
    for holder in holders:
        tags = holder.get("Tag") if isinstance(holder, dict) else None
        for tag in tags if isinstance(tags, list) else []:
            name = tag.get("name") if isinstance(tag, dict) else None
            if name and str(name) not in names:
                names.append(str(name))
    return tuple(names)


@dataclass(frozen=True)
class Evidence:
    """One matching attribute, with what its event says."""

    event_id: str
    event_info: str
    to_ids: bool
    threat_level: str | None
    tags: tuple[str, ...]

    @classmethod
    def of(cls, attribute: dict[str, Any]) -> Evidence:
        event = attribute.get("Event")
        event = event if isinstance(event, dict) else {}
        level = event.get("threat_level_id")
        return cls(
            event_id=str(event.get("id") or attribute.get("event_id") or "?"),
            event_info=str(event.get("info") or "").strip(),
            to_ids=_truthy(attribute.get("to_ids")),
            threat_level=THREAT_LEVELS.get(str(level)) if level is not None else None,
            tags=_tag_names(attribute, event),
        )

    @property
    def false_positive(self) -> bool:
        return any(tag.lower().replace(" ", "") == FALSE_POSITIVE for tag in self.tags)

    @property
    def judged(self) -> tuple[Verdict, int]:
        """This match's verdict and score (see the module docstring)."""
        level = self.threat_level or ""
        if self.to_ids:
            return Verdict.MALICIOUS, IDS_SCORES.get(level, IDS_SCORE)
        if level in CONTEXT_SCORES:
            return Verdict.SUSPICIOUS, CONTEXT_SCORES[level]
        return Verdict.UNKNOWN, CONTEXT_SCORE

    def strength(self) -> tuple[int, int]:
        verdict, score = self.judged
        return VERDICT_RANK[verdict], score

    def event_words(self) -> str:
        info = f' "{self.event_info}"' if self.event_info else ""
        level = f" (threat level {self.threat_level})" if self.threat_level else ""
        return f"#{self.event_id}{info}{level}"


def _events(evidence: list[Evidence]) -> list[Evidence]:
    """The strongest match of each event, strongest first."""
    best: dict[str, Evidence] = {}
    for item in sorted(evidence, key=Evidence.strength, reverse=True):
        best.setdefault(item.event_id, item)
    return list(best.values())


def _in_events(events: list[Evidence]) -> str:
    first = f"event {events[0].event_words()}"
    more = len(events) - 1
    return first if not more else f"{first} and {more} more event{'s' if more > 1 else ''}"


def _marking(evidence: list[Evidence]) -> Tlp | None:
    tags = {tag.lower() for item in evidence for tag in item.tags}
    markings = [TLP_TAGS[tag] for tag in tags if tag in TLP_TAGS]
    return max(markings, key=lambda tlp: tlp.rank) if markings else None


class MispEnricher:
    """Looks observables up in one MISP instance; see the module docstring."""

    def __init__(self, name: str, options: MispOptions) -> None:
        self.name = name
        self.options = options
        self.client = MispClient(name, options)

    async def aclose(self) -> None:
        await self.client.aclose()

    def supports(self, observable: Observable) -> bool:
        """IPs, domains, host names, URLs, email addresses and MD5/SHA-1/SHA-256/SHA-512
        hashes that are well formed."""
        return lookup_for(observable) is not None

    async def enrich(self, observable: Observable) -> Enrichment:
        lookup = lookup_for(observable)
        if lookup is None:
            raise RequestRejected(
                self.name, f"MISP cannot look up the {observable.type.value} {observable.value!r}"
            )
        found = await self.client.search_attributes(lookup.value, lookup.types)
        attributes = [attribute for attribute in found if holds(attribute, lookup)]
        evidence = [Evidence.of(attribute) for attribute in attributes]
        real = [item for item in evidence if not item.false_positive]
        data: dict[str, Any] = {
            "raw": {"Attribute": attributes},
            "attributes": len(attributes),
            "events": [
                {
                    "id": item.event_id,
                    "info": item.event_info,
                    "threat_level": item.threat_level,
                    "to_ids": item.to_ids,
                    "false_positive": item.false_positive,
                }
                for item in _events(evidence)
            ],
        }
        marking = _marking(evidence)
        data["tlp"] = marking.value if marking else None
        if not evidence:
            return Enrichment(
                provider=self.name,
                observable=observable,
                verdict=Verdict.UNKNOWN,
                reasons=["MISP has no attribute with this value"],
                data=data,
            )
        if real:
            events = _events(real)
            verdict, score = events[0].judged
            first = _first_reason(verdict, events)
        else:
            events = _events(evidence)
            verdict, score = Verdict.BENIGN, 0
            first = f"MISP: a confirmed false positive in {_in_events(events)}"
        reasons = [first, *self._details(evidence, events, len(found), marking)]
        return Enrichment(
            provider=self.name,
            observable=observable,
            verdict=verdict,
            score=score,
            reasons=reasons,
            data=data,
            link=f"{self.options.event_root}/events/view/{events[0].event_id}",
        )

    def _details(
        self, evidence: list[Evidence], events: list[Evidence], read: int, marking: Tlp | None
    ) -> list[str]:
        details: list[str] = []
        if len(events) > 1:
            listed = ", ".join(
                f"{item.event_words()}{' IDS' if item.to_ids else ''}"
                for item in events[:EVENTS_LISTED]
            )
            details.append(f"matching events: {listed}")
        tags = sorted({tag for item in evidence for tag in item.tags})
        tags = [tag for tag in tags if tag.lower() not in TLP_TAGS]
        if tags:
            details.append(f"tags: {', '.join(tags[:TAGS_LISTED])}")
        if marking is not None:
            details.append(f"the matching events are marked TLP:{marking.value.upper()}")
        if read >= self.options.limit:
            details.append(f"only the first {read} matching attributes were read")
        return details


def _first_reason(verdict: Verdict, events: list[Evidence]) -> str:
    where = _in_events(events)
    if verdict is Verdict.MALICIOUS:
        return f"MISP: flagged for detection (IDS) in {where}"
    if verdict is Verdict.SUSPICIOUS:
        return f"MISP: in {where}, though not flagged for detection"
    return f"MISP: only context, not flagged for detection, in {where}"
