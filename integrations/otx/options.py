"""The options of an AlienVault OTX enricher: an OTX API key and the pulse count that
makes an indicator malicious."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from integrations.core.enrichment import EnricherOptions
from soar.enrichment.models import Tlp

OTX = "https://otx.alienvault.com"


class OtxOptions(EnricherOptions):
    """OTX is a public community service: only observables marked up to GREEN are sent
    by default. The key is on the OTX settings page (`X-OTX-API-KEY`). An indicator in
    `malicious_pulses` pulses or more is malicious, in fewer suspicious."""

    base_url: str = Field(default=OTX, min_length=1, description="The OTX API root.")
    api_key: SecretStr = Field(description="An OTX API key (X-OTX-API-KEY).")
    max_tlp: Tlp = Field(
        default=Tlp.GREEN,
        description="The most restricted marking an observable may carry and still be sent.",
    )
    web_url: str = Field(
        default=OTX, min_length=1, description="Where analysts open OTX indicator pages."
    )
    malicious_pulses: int = Field(
        default=5,
        ge=1,
        description="Pulses that make an indicator malicious (fewer: suspicious).",
    )

    @field_validator("base_url", "web_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")
