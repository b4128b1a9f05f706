"""AlienVault OTX: how many community pulses list an IP, domain, host name, URL or file
hash, which malware families OTX relates to it, and whether OTX vouches for it."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.otx.client import check
from integrations.otx.enricher import OtxEnricher
from integrations.otx.options import OtxOptions

INTEGRATION = Integration(
    vendor="AlienVault OTX",
    handles="counts the OTX pulses that list IPs, domains, host names, URLs and file hashes",
    options=OtxOptions,
    enricher=OtxEnricher,
    check=check,
)

__all__ = ["INTEGRATION", "OtxEnricher", "OtxOptions"]
