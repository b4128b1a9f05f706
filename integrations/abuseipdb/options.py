"""The options of an AbuseIPDB enricher: the API key, how far back reports count, and
the abuse confidence at which an address reads as malicious or suspicious."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator

from integrations.core.enrichment import EnricherOptions
from soar.enrichment.models import Tlp

ABUSEIPDB_URL = "https://api.abuseipdb.com"
API_ROOT = "/api/v2"


class AbuseIpdbOptions(EnricherOptions):
    """AbuseIPDB is a public, community-fed service: only observables marked green or
    clear are sent by default. The key goes in the `Key` header. The free plan allows
    1000 checks a day; AbuseIPDB reports the limit and what is left on every answer, so
    `daily_quota` needs no setting."""

    base_url: str = Field(
        default=ABUSEIPDB_URL, min_length=1, description="The AbuseIPDB API's root URL."
    )
    api_key: SecretStr = Field(description="An AbuseIPDB APIv2 key.")
    max_tlp: Tlp = Field(
        default=Tlp.GREEN,
        description="The most restricted marking an observable may carry and still be sent.",
    )
    max_age_days: int = Field(
        default=90, ge=1, le=365, description="Only reports of the last this many days count."
    )
    malicious_at: int = Field(
        default=75, ge=1, le=100, description="Abuse confidence (%) from which it is malicious."
    )
    suspicious_at: int = Field(
        default=25, ge=1, le=100, description="Abuse confidence (%) from which it is suspicious."
    )

    @field_validator("base_url")
    @classmethod
    def _api_host(cls, value: str) -> str:
        """The host's root: a URL pasted with `/api/v2` on its end still works."""
        return value.rstrip("/").removesuffix(API_ROOT)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.suspicious_at > self.malicious_at:
            raise ValueError("suspicious_at must not be above malicious_at")
        return self
