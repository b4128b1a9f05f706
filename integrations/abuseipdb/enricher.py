"""AbuseIPDB's opinion of an IP address: how confident its community is that the
address is abusive, from the reports of the last `max_age_days`.

The score is AbuseIPDB's `abuseConfidenceScore` (0-100) as it is. From `malicious_at`
(75 by default) the address is malicious, from `suspicious_at` (25) suspicious. An
address on AbuseIPDB's allow list (`isWhitelisted`: a well-known service) is benign.
Below the thresholds it is unknown: a few reports with a low confidence say too little
either way, and no reports at all means AbuseIPDB knows nothing — not that the address
is harmless.
"""

from __future__ import annotations

from typing import Any

from integrations.abuseipdb.client import AbuseIpdbClient, DailyQuota
from integrations.abuseipdb.options import AbuseIpdbOptions
from soar.alerts.models import Observable, ObservableType
from soar.alerts.observables import ip_observable
from soar.enrichment.models import Enrichment, Verdict
from soar.integrations.errors import RequestRejected

LINK = "https://www.abuseipdb.com/check/{address}"


class AbuseIpdbEnricher:
    """Looks IP addresses (IPv4 and IPv6) up in AbuseIPDB; see the module docstring."""

    def __init__(self, name: str, options: AbuseIpdbOptions) -> None:
        self.name = name
        self.options = options
        """Read by the engine: the marking limit, the time-to-live, the rate, the quota."""
        self.client = AbuseIpdbClient(name, options)

    @property
    def quota(self) -> DailyQuota | None:
        """The day's allowance of checks as AbuseIPDB last reported it."""
        return self.client.quota

    async def aclose(self) -> None:
        await self.client.aclose()

    def supports(self, observable: Observable) -> bool:
        return observable.type is ObservableType.IP and ip_observable(observable.value) is not None

    async def enrich(self, observable: Observable) -> Enrichment:
        """AbuseIPDB's report on the address; a value that is no IP address is refused
        before any call."""
        address = ip_observable(observable.value) if observable.type is ObservableType.IP else None
        if address is None:
            raise RequestRejected(
                self.name, f"AbuseIPDB looks up IP addresses only, not {observable.type.value}s"
            )
        report = await self.client.check_address(address.value)
        return self._read(observable, address.value, report)

    def _read(self, observable: Observable, address: str, report: dict[str, Any]) -> Enrichment:
        confidence = _number(report.get("abuseConfidenceScore"))
        reports = _number(report.get("totalReports"))
        users = _number(report.get("numDistinctUsers"))
        days = self.options.max_age_days
        if confidence >= self.options.malicious_at:
            verdict = Verdict.MALICIOUS
        elif confidence >= self.options.suspicious_at:
            verdict = Verdict.SUSPICIOUS
        elif report.get("isWhitelisted") is True:
            verdict = Verdict.BENIGN
        else:
            verdict = Verdict.UNKNOWN
        if reports == 0:
            first = f"AbuseIPDB: no reports of {address} in the last {days} days"
        else:
            by = f" by {users} users" if users else ""
            last = report.get("lastReportedAt")
            when = f", last on {str(last)[:10]}" if last else ""
            first = (
                f"AbuseIPDB: {address} was reported {reports} times{by} in the last {days} "
                f"days{when} (abuse confidence {confidence}%)"
            )
        return Enrichment(
            provider=self.name,
            observable=observable,
            verdict=verdict,
            score=max(0, min(100, confidence)),
            reasons=[first, *_context(report)],
            data={
                "abuse_confidence": confidence,
                "total_reports": reports,
                "country": report.get("countryCode"),
                "isp": report.get("isp"),
                "usage_type": report.get("usageType"),
                "tor": report.get("isTor") is True,
                "raw": report,
            },
            link=LINK.format(address=address),
        )


def _number(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _context(report: dict[str, Any]) -> list[str]:
    """What else AbuseIPDB says about the address, one fact a line."""
    lines = []
    if report.get("isWhitelisted") is True:
        lines.append("AbuseIPDB lists it as a well-known service (allow list)")
    if report.get("isTor") is True:
        lines.append("it is a Tor exit node")
    owner = ", ".join(
        str(part)
        for part in (report.get("isp"), report.get("usageType"), report.get("countryCode"))
        if part
    )
    if owner:
        lines.append(f"network: {owner}")
    return lines
