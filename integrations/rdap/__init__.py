"""RDAP: who holds an IP address or a domain (network, holder, country; registrar,
registrant, registration date), from the registries' RDAP servers."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.rdap.client import check
from integrations.rdap.enricher import RdapEnricher
from integrations.rdap.options import RdapOptions

INTEGRATION = Integration(
    vendor="RDAP",
    handles="says who holds IP addresses and domains, and flags domains registered days ago",
    options=RdapOptions,
    enricher=RdapEnricher,
    check=check,
)

__all__ = ["INTEGRATION", "RdapEnricher", "RdapOptions"]
