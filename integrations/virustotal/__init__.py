"""VirusTotal: what the engines of its last analysis say of an IP address, a domain, a
file hash or a URL, through the API v3 object reports."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.virustotal.client import check
from integrations.virustotal.enricher import VirusTotalEnricher
from integrations.virustotal.options import VirusTotalOptions

INTEGRATION = Integration(
    vendor="VirusTotal",
    handles="rates IP addresses, domains, file hashes and URLs by its engines' detections",
    options=VirusTotalOptions,
    enricher=VirusTotalEnricher,
    check=check,
)

__all__ = ["INTEGRATION", "VirusTotalEnricher", "VirusTotalOptions"]
