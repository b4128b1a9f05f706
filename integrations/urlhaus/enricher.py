"""What URLhaus (abuse.ch) knows of a URL, a host or a file: malware distribution.

Verdict:

- a URL URLhaus lists → **malicious** (90) while it is `online`, **suspicious** when
  `offline` (60) or of unknown status (50): an offline URL may come back, but it
  serves nothing now;
- a host (IPv4 address, domain or host name) → **malicious** (90) when any of its
  malware URLs is online, **suspicious** (60) when all are offline; a host Spamhaus
  DBL calls `abused_legit_*` (a legitimate site abused to serve malware: a file
  sharing or code hosting service) is never more than **suspicious** (50), since
  blocking it would block the legitimate site;
- a payload (MD5 or SHA-256) → **malicious** (90): URLhaus lists only malware;
- `no_results` → **unknown**, "not listed in URLhaus".

The link is URLhaus's own page (`urlhaus_reference`), or its search for a payload or
for what it does not list.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from integrations.urlhaus.client import UrlhausClient
from integrations.urlhaus.options import UrlhausOptions
from soar.alerts.models import Observable, ObservableType
from soar.enrichment.models import Enrichment, Verdict
from soar.integrations.errors import RequestRejected

HASH_FIELDS = {32: "md5_hash", 64: "sha256_hash"}
HEX = frozenset("0123456789abcdef")
HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
ONLINE, OFFLINE = "online", "offline"
URL_SCORES = {ONLINE: (Verdict.MALICIOUS, 90), OFFLINE: (Verdict.SUSPICIOUS, 60)}
UNKNOWN_STATUS = (Verdict.SUSPICIOUS, 50)
ABUSED_LEGIT = "abused_legit"
PAYLOAD_SCORE = 90
TAGS_LISTED = 8


@dataclass(frozen=True)
class Lookup:
    """What to ask URLhaus: which endpoint (`url`, `host`, `payload`), the form field
    and the value."""

    endpoint: str
    field: str
    value: str


def lookup_for(observable: Observable) -> Lookup | None:
    """The query for an observable, or None when URLhaus cannot answer for it (an IPv6
    address, a SHA-1, an email address, a malformed value)."""
    value = observable.value.strip()
    kind = observable.type
    if kind is ObservableType.URL:
        parts = urlsplit(value)
        ok = parts.scheme.lower() in ("http", "https") and bool(parts.netloc)
        return Lookup("url", "url", value) if ok else None
    if kind is ObservableType.IP:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return None
        return Lookup("host", "host", str(address)) if address.version == 4 else None
    if kind in (ObservableType.DOMAIN, ObservableType.HOSTNAME):
        name = value.lower().rstrip(".")
        return Lookup("host", "host", name) if HOST_NAME.match(name) else None
    if kind is ObservableType.HASH:
        digest = value.lower()
        field = HASH_FIELDS.get(len(digest))
        return Lookup("payload", field, digest) if field and HEX.issuperset(digest) else None
    return None


def _words(value: object) -> str:
    return str(value).replace("_", " ") if value else ""


def _tags(answer: dict[str, Any]) -> list[str]:
    tags = answer.get("tags")
    return [str(tag) for tag in tags if tag] if isinstance(tags, list) else []


def _urls(answer: dict[str, Any]) -> list[dict[str, Any]]:
    urls = answer.get("urls")
    return [url for url in urls if isinstance(url, dict)] if isinstance(urls, list) else []


class UrlhausEnricher:
    """Looks URLs, hosts and payloads up in URLhaus; see the module docstring."""

    def __init__(self, name: str, options: UrlhausOptions) -> None:
        self.name = name
        self.options = options
        self.client = UrlhausClient(name, options)

    async def aclose(self) -> None:
        await self.client.aclose()

    def supports(self, observable: Observable) -> bool:
        """http(s) URLs, IPv4 addresses, domains, host names and MD5 or SHA-256 hashes
        that are well formed."""
        return lookup_for(observable) is not None

    async def enrich(self, observable: Observable) -> Enrichment:
        lookup = lookup_for(observable)
        if lookup is None:
            raise RequestRejected(
                self.name,
                f"URLhaus cannot look up the {observable.type.value} {observable.value!r}",
            )
        if lookup.endpoint == "url":
            answer = await self.client.url(lookup.value)
        elif lookup.endpoint == "host":
            answer = await self.client.host(lookup.value)
        else:
            answer = await self.client.payload(lookup.field, lookup.value)
        search = f"{self.options.web_url}/browse.php?search={quote(lookup.value, safe='')}"
        if answer["query_status"] == "no_results":
            return Enrichment(
                provider=self.name,
                observable=observable,
                verdict=Verdict.UNKNOWN,
                reasons=["not listed in URLhaus"],
                data={"raw": answer},
                link=search,
            )
        if lookup.endpoint == "url":
            verdict, score, reasons = self._url(answer)
        elif lookup.endpoint == "host":
            verdict, score, reasons = self._host(answer)
        else:
            verdict, score, reasons = self._payload(answer)
        reference = answer.get("urlhaus_reference")
        return Enrichment(
            provider=self.name,
            observable=observable,
            verdict=verdict,
            score=score,
            reasons=reasons,
            data={"raw": answer},
            link=str(reference) if reference else search,
        )

    @staticmethod
    def _url(answer: dict[str, Any]) -> tuple[Verdict, int, list[str]]:
        status = str(answer.get("url_status") or "unknown")
        verdict, score = URL_SCORES.get(status, UNKNOWN_STATUS)
        threat = _words(answer.get("threat")) or "malware"
        state = {ONLINE: "online now", OFFLINE: "offline now"}.get(status, "of unknown status")
        reasons = [f"URLhaus: a {threat} URL, {state}"]
        tags = _tags(answer)
        if tags:
            reasons.append(f"tags: {', '.join(tags[:TAGS_LISTED])}")
        if answer.get("date_added"):
            reasons.append(f"listed since {answer['date_added']}")
        return verdict, score, reasons

    @staticmethod
    def _host(answer: dict[str, Any]) -> tuple[Verdict, int, list[str]]:
        urls = _urls(answer)
        count = int(answer.get("url_count") or len(urls))
        online = sum(1 for url in urls if url.get("url_status") == ONLINE)
        blacklists = answer.get("blacklists")
        dbl = str(blacklists.get("spamhaus_dbl") or "") if isinstance(blacklists, dict) else ""
        listed = f"URLhaus: {count} malware URL{'s' if count != 1 else ''} on this host"
        first = f"{listed}, {online} online now" if online else f"{listed}, none online now"
        reasons = [first]
        if dbl.startswith(ABUSED_LEGIT):
            reasons.append(
                f"Spamhaus DBL: {_words(dbl)} — a legitimate site abused to serve malware"
            )
            return Verdict.SUSPICIOUS, 50, reasons
        tags = sorted({tag for url in urls for tag in _tags(url)})
        if tags:
            reasons.append(f"tags: {', '.join(tags[:TAGS_LISTED])}")
        if online:
            return Verdict.MALICIOUS, 90, reasons
        return Verdict.SUSPICIOUS, 60, reasons

    @staticmethod
    def _payload(answer: dict[str, Any]) -> tuple[Verdict, int, list[str]]:
        facts = [
            f"{label} {answer[key]}"
            for key, label in (("signature", "signature"), ("file_type", "file type"))
            if answer.get(key)
        ]
        count = int(answer.get("url_count") or len(_urls(answer)))
        served = f", served from {count} URL{'s' if count != 1 else ''}" if count else ""
        about = f" ({', '.join(facts)})" if facts else ""
        return Verdict.MALICIOUS, PAYLOAD_SCORE, [f"URLhaus: a malware payload{about}{served}"]
