"""ThreatFox (abuse.ch): the IOCs reported for an IP, domain, host name, URL or file
hash — threat type (botnet C&C, payload delivery…), malware family and the
reporter's confidence."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.threatfox.client import check
from integrations.threatfox.enricher import ThreatfoxEnricher
from integrations.threatfox.options import ThreatfoxOptions

INTEGRATION = Integration(
    vendor="ThreatFox (abuse.ch)",
    handles="looks IPs, domains, host names, URLs and hashes up among ThreatFox's IOCs "
    "(threat type, malware family, confidence)",
    options=ThreatfoxOptions,
    enricher=ThreatfoxEnricher,
    check=check,
)

__all__ = ["INTEGRATION", "ThreatfoxEnricher", "ThreatfoxOptions"]
