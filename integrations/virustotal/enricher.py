"""VirusTotal's opinion of an IP address, a domain, a file hash (MD5, SHA-1, SHA-256) or
a URL: what the engines of its last analysis said.

Only reports are read; nothing is submitted (a URL sent for scanning becomes visible
to VirusTotal's customers). A URL's report is asked by its id, the URL in base64url
without padding.

Verdicts and scores, with `m` engines saying malicious and `s` suspicious (the score
bands are AbuseIPDB's, used by every source here: 75-100 malicious, 25-74 suspicious):

======================================================  ==========  =================
the last analysis                                       verdict     score
======================================================  ==========  =================
`m` >= `malicious_at` (3)                               malicious   75, and 5 more a
                                                                    further engine,
                                                                    at most 100
`m + s` >= `suspicious_at` (1)                          suspicious  25 + 15 m + 5 s,
                                                                    at most 74
no engine flags it and at least one rates it harmless   benign      0
no engine flags it and none rates it harmless (a        unknown     0
file's engines say "undetected", not "harmless")
no report (`NotFoundError`) or no analysis yet          unknown     0
======================================================  ==========  =================

The community's reputation, the tags, the threat label and what the object is
(owner, registrar, file name) follow the first reason as context; they do not move the
verdict.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from integrations.virustotal.client import VirusTotalClient
from integrations.virustotal.options import VirusTotalOptions
from soar.alerts.models import Observable, ObservableType
from soar.alerts.observables import (
    domain_observable,
    hash_observable,
    ip_observable,
    url_observable,
)
from soar.enrichment.models import Enrichment, Verdict
from soar.integrations.errors import RequestRejected

GUI = "https://www.virustotal.com/gui"

COLLECTIONS = {
    ObservableType.IP: ("ip_addresses", "ip-address", ip_observable),
    ObservableType.DOMAIN: ("domains", "domain", domain_observable),
    ObservableType.HASH: ("files", "file", hash_observable),
    ObservableType.URL: ("urls", "url", url_observable),
}
"""Per observable type: the API collection, the GUI's page kind, and the validation."""


def url_id(url: str) -> str:
    """VirusTotal's identifier of a URL: the URL in base64url without padding."""
    return base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


class VirusTotalEnricher:
    """Looks observables up in VirusTotal; see the module docstring."""

    def __init__(self, name: str, options: VirusTotalOptions) -> None:
        self.name = name
        self.options = options
        """Read by the engine: the marking limit, the time-to-live, the rate, the quota."""
        self.client = VirusTotalClient(name, options)

    async def aclose(self) -> None:
        await self.client.aclose()

    def supports(self, observable: Observable) -> bool:
        return self._canonical(observable) is not None

    async def enrich(self, observable: Observable) -> Enrichment:
        """VirusTotal's report; an observable of another type, or a value that is not
        what its type says (a hash of another length), is refused before any call."""
        value = self._canonical(observable)
        if value is None:
            raise RequestRejected(
                self.name,
                f"VirusTotal looks up IP addresses, domains, URLs and MD5, SHA-1 or SHA-256 "
                f"hashes; this {observable.type.value} is none of them",
            )
        collection, page, _ = COLLECTIONS[observable.type]
        identifier = url_id(value) if observable.type is ObservableType.URL else value
        data = await self.client.report(collection, identifier, f"look up {value}")
        if data is None:
            return Enrichment(
                provider=self.name,
                observable=observable,
                verdict=Verdict.UNKNOWN,
                reasons=[f"VirusTotal has no report on {value}"],
                data={"found": False},
                link=_link(page, value, None),
            )
        return self._read(observable, value, page, data)

    @staticmethod
    def _canonical(observable: Observable) -> str | None:
        kind = COLLECTIONS.get(observable.type)
        if kind is None:
            return None
        valid = kind[2](observable.value)
        return valid.value if valid is not None else None

    def _read(
        self, observable: Observable, value: str, page: str, data: dict[str, Any]
    ) -> Enrichment:
        attributes: dict[str, Any] = data["attributes"]
        raw_stats = attributes.get("last_analysis_stats")
        stats = {
            key: count
            for key, count in (raw_stats.items() if isinstance(raw_stats, dict) else ())
            if isinstance(count, int) and not isinstance(count, bool)
        }
        malicious, suspicious = stats.get("malicious", 0), stats.get("suspicious", 0)
        harmless, engines = stats.get("harmless", 0), sum(stats.values())
        when = _date(attributes.get("last_analysis_date"))
        analysed = f" (last analysed {when})" if when else ""
        if malicious >= self.options.malicious_at:
            verdict = Verdict.MALICIOUS
            score = min(100, 75 + 5 * (malicious - self.options.malicious_at))
        elif malicious + suspicious >= self.options.suspicious_at:
            verdict = Verdict.SUSPICIOUS
            score = min(74, 25 + 15 * malicious + 5 * suspicious)
        else:
            verdict = Verdict.BENIGN if harmless else Verdict.UNKNOWN
            score = 0
        if malicious + suspicious:
            also = f" and {suspicious} as suspicious" if suspicious else ""
            first = (
                f"VirusTotal: {malicious} of {engines} engines flag {value} as malicious"
                f"{also}{analysed}"
            )
        elif engines == 0:
            first = f"VirusTotal has no analysis of {value} yet"
        elif harmless:
            first = (
                f"VirusTotal: none of {engines} engines flags {value}; {harmless} rate it "
                f"harmless{analysed}"
            )
        else:
            first = f"VirusTotal: none of {engines} engines detects {value}{analysed}"
        return Enrichment(
            provider=self.name,
            observable=observable,
            verdict=verdict,
            score=score,
            reasons=[first, *_context(attributes)],
            data={
                "found": True,
                "last_analysis_stats": stats,
                "reputation": attributes.get("reputation"),
                "tags": attributes.get("tags") or [],
                "raw": data,
            },
            link=_link(page, value, str(data.get("id") or "") or None),
        )


def _link(page: str, value: str, object_id: str | None) -> str:
    """VirusTotal's page on the object: by its id when known (a URL's is a SHA-256 of
    the URL as VirusTotal normalised it), else a search for the value."""
    if page == "url" and object_id is None:
        return f"{GUI}/search/{quote(value, safe='')}"
    return f"{GUI}/{page}/{quote(object_id or value, safe='')}"


def _date(epoch: Any) -> str | None:
    if not isinstance(epoch, int | float) or isinstance(epoch, bool):
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")


def _context(attributes: dict[str, Any]) -> list[str]:
    """What else the report says, one fact a line."""
    lines = []
    label = (attributes.get("popular_threat_classification") or {}).get("suggested_threat_label")
    if label:
        lines.append(f"VirusTotal's threat label: {label}")
    name, kind = attributes.get("meaningful_name"), attributes.get("type_description")
    if name or kind:
        lines.append("file: " + " ".join(filter(None, [name, f"({kind})" if kind else None])))
    owner = attributes.get("as_owner")
    if owner:
        asn, country = attributes.get("asn"), attributes.get("country")
        where = f" ({country})" if country else ""
        lines.append(f"network: {'AS' + str(asn) + ' ' if asn else ''}{owner}{where}")
    registrar = attributes.get("registrar")
    created = _date(attributes.get("creation_date"))
    if registrar or created:
        parts = [
            f"registrar {registrar}" if registrar else "",
            f"created {created}" if created else "",
        ]
        lines.append("domain: " + ", ".join(part for part in parts if part))
    final = attributes.get("last_final_url")
    if final and final != attributes.get("url"):
        lines.append(f"it leads to {final}")
    reputation = attributes.get("reputation")
    if isinstance(reputation, int) and reputation:
        lines.append(f"community reputation {reputation}")
    tags = attributes.get("tags")
    if isinstance(tags, list) and tags:
        lines.append("tags: " + ", ".join(str(tag) for tag in tags[:10]))
    return lines
