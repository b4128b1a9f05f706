"""What Shodan's scans say of an IP address: its open services, the software they run
and its known vulnerabilities, and Shodan's tags.

Shodan describes hosts rather than judging them, so the verdict is read from a few of
its findings (all options):

=====================================================  ==========  =====
what Shodan found                                      verdict     score
=====================================================  ==========  =====
a tag of `malicious_tags` (c2, compromised,            malicious   80
doublepulsar, malware)
a tag of `suspicious_tags` (proxy, scanner, tor), or   suspicious  40
known vulnerabilities (`vulnerable_is_suspicious`):
a vulnerable exposed host may well be compromised
open services only                                     unknown     0
no information (404)                                   unknown     0
=====================================================  ==========  =====

Open ports never make a host benign: that a server answers on 443 says nothing of who
runs it. The raw answer is kept without Shodan's banners (`data`: every service's full
response, often hundreds of kilobytes); `services` keeps each one's port, transport,
product and version.
"""

from __future__ import annotations

from typing import Any

from integrations.shodan.client import ShodanClient
from integrations.shodan.options import ShodanOptions
from soar.alerts.models import Observable, ObservableType
from soar.alerts.observables import ip_observable
from soar.enrichment.models import Enrichment, Verdict
from soar.integrations.errors import RequestRejected

LINK = "https://www.shodan.io/host/{address}"
MALICIOUS_SCORE = 80
SUSPICIOUS_SCORE = 40
MAX_LISTED = 10


class ShodanEnricher:
    """Looks IP addresses (IPv4 and IPv6) up in Shodan; see the module docstring."""

    def __init__(self, name: str, options: ShodanOptions) -> None:
        self.name = name
        self.options = options
        """Read by the engine: the marking limit, the time-to-live, the rate."""
        self.client = ShodanClient(name, options)

    async def aclose(self) -> None:
        await self.client.aclose()

    def supports(self, observable: Observable) -> bool:
        return observable.type is ObservableType.IP and ip_observable(observable.value) is not None

    async def enrich(self, observable: Observable) -> Enrichment:
        """Shodan's view of the host; a value that is no IP address is refused before
        any call."""
        address = ip_observable(observable.value) if observable.type is ObservableType.IP else None
        if address is None:
            raise RequestRejected(
                self.name, f"Shodan looks up IP addresses only, not {observable.type.value}s"
            )
        host = await self.client.host(address.value)
        link = LINK.format(address=address.value)
        if host is None:
            return Enrichment(
                provider=self.name,
                observable=observable,
                verdict=Verdict.UNKNOWN,
                reasons=[f"Shodan has no information about {address.value}"],
                data={"found": False},
                link=link,
            )
        return self._read(observable, address.value, host, link)

    def _read(
        self, observable: Observable, address: str, host: dict[str, Any], link: str
    ) -> Enrichment:
        tags = sorted({str(tag) for tag in host.get("tags") or []})
        vulns = sorted({str(cve) for cve in host.get("vulns") or []})
        ports = sorted({port for port in host.get("ports") or [] if isinstance(port, int)})
        bad = [tag for tag in tags if tag in self.options.malicious_tags]
        odd = [tag for tag in tags if tag in self.options.suspicious_tags]
        vulnerable = bool(vulns) and self.options.vulnerable_is_suspicious
        reasons = []
        if bad:
            verdict, score = Verdict.MALICIOUS, MALICIOUS_SCORE
            reasons.append(f"Shodan tags {address} as {', '.join(bad)}")
        elif odd or vulnerable:
            verdict, score = Verdict.SUSPICIOUS, SUSPICIOUS_SCORE
            if odd:
                reasons.append(f"Shodan tags {address} as {', '.join(odd)}")
        else:
            verdict, score = Verdict.UNKNOWN, 0
        if vulns:
            listed = ", ".join(vulns[:MAX_LISTED]) + (", …" if len(vulns) > MAX_LISTED else "")
            reasons.append(
                f"Shodan: {address} runs software with {len(vulns)} known "
                f"vulnerabilit{'y' if len(vulns) == 1 else 'ies'} ({listed})"
            )
        exposed = ", ".join(str(port) for port in ports[:MAX_LISTED]) or "no port"
        scanned = host.get("last_update")
        when = f", last scanned {str(scanned)[:10]}" if scanned else ""
        reasons.append(f"Shodan: {address} exposes {exposed}{when}")
        reasons.extend(_context(host, tags, bad + odd))
        raw = {key: value for key, value in host.items() if key != "data"}
        return Enrichment(
            provider=self.name,
            observable=observable,
            verdict=verdict,
            score=score,
            reasons=reasons,
            data={
                "found": True,
                "ports": ports,
                "tags": tags,
                "vulns": vulns,
                "services": _services(host),
                "raw": raw,
            },
            link=link,
        )


def _context(host: dict[str, Any], tags: list[str], said: list[str]) -> list[str]:
    """Who runs the host and what else Shodan says, one fact a line."""
    lines = []
    owner = ", ".join(
        str(part) for part in (host.get("org"), host.get("asn"), host.get("country_name")) if part
    )
    if owner:
        lines.append(f"network: {owner}")
    names = host.get("hostnames") or []
    if names:
        lines.append("hostnames: " + ", ".join(str(name) for name in names[:MAX_LISTED]))
    if host.get("os"):
        lines.append(f"operating system: {host['os']}")
    others = [tag for tag in tags if tag not in said]
    if others:
        lines.append("tags: " + ", ".join(others))
    return lines


def _services(host: dict[str, Any]) -> list[dict[str, Any]]:
    """Each banner's port, transport, product and version."""
    return [
        {key: banner.get(key) for key in ("port", "transport", "product", "version")}
        for banner in host.get("data") or []
        if isinstance(banner, dict)
    ]
