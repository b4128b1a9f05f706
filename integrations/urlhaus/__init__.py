"""URLhaus (abuse.ch): whether a URL, a host (IPv4 address, domain, host name) or a
file (MD5, SHA-256) is known for malware distribution, and whether it is online."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.urlhaus.client import check
from integrations.urlhaus.enricher import UrlhausEnricher
from integrations.urlhaus.options import UrlhausOptions

INTEGRATION = Integration(
    vendor="URLhaus (abuse.ch)",
    handles="looks URLs, hosts (IPv4, domains) and payload hashes (MD5, SHA-256) up in "
    "URLhaus's malware distribution database",
    options=UrlhausOptions,
    enricher=UrlhausEnricher,
    check=check,
)

__all__ = ["INTEGRATION", "UrlhausEnricher", "UrlhausOptions"]
