"""MISP: what your own (or your community's) MISP instance knows of an IP, domain, host
name, URL, email address or file hash — the events holding it, whether they flag it
for detection, their threat level and tags — through the attribute search API."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.misp.client import check
from integrations.misp.enricher import MispEnricher
from integrations.misp.options import MispOptions

INTEGRATION = Integration(
    vendor="MISP",
    handles="looks IPs, domains, host names, URLs, email addresses and hashes up in a MISP "
    "instance's events (IDS flag, threat level, tags, TLP)",
    options=MispOptions,
    enricher=MispEnricher,
    check=check,
)

__all__ = ["INTEGRATION", "MispEnricher", "MispOptions"]
