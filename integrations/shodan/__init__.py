"""Shodan: an IP address's exposed services, their software and known vulnerabilities,
and Shodan's tags, through the host lookup."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.shodan.client import check
from integrations.shodan.enricher import ShodanEnricher
from integrations.shodan.options import ShodanOptions

INTEGRATION = Integration(
    vendor="Shodan",
    handles="describes IP addresses by their exposed services, known vulnerabilities and "
    "tags (compromised, C2, Tor…)",
    options=ShodanOptions,
    enricher=ShodanEnricher,
    check=check,
)

__all__ = ["INTEGRATION", "ShodanEnricher", "ShodanOptions"]
