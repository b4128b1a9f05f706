"""AbuseIPDB: the community's abuse confidence in an IP address (IPv4 and IPv6), from
the reports of the last days, through the APIv2 `check` endpoint."""

from __future__ import annotations

from integrations.abuseipdb.client import check
from integrations.abuseipdb.enricher import AbuseIpdbEnricher
from integrations.abuseipdb.options import AbuseIpdbOptions
from integrations.core.integration import Integration

INTEGRATION = Integration(
    vendor="AbuseIPDB",
    handles="rates IP addresses by the abuse reports of its community",
    options=AbuseIpdbOptions,
    enricher=AbuseIpdbEnricher,
    check=check,
)

__all__ = ["INTEGRATION", "AbuseIpdbEnricher", "AbuseIpdbOptions"]
