"""GreyNoise: whether an IPv4 address is internet background noise (and of what
intent) or a common business service, through the Community API."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.greynoise.client import check
from integrations.greynoise.enricher import GreyNoiseEnricher
from integrations.greynoise.options import GreyNoiseOptions

INTEGRATION = Integration(
    vendor="GreyNoise",
    handles="tells internet scanners (and their intent) and common business services "
    "apart, for IPv4 addresses",
    options=GreyNoiseOptions,
    enricher=GreyNoiseEnricher,
    check=check,
)

__all__ = ["INTEGRATION", "GreyNoiseEnricher", "GreyNoiseOptions"]
