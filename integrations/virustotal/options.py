"""The options of a VirusTotal enricher: the API key, the key's quotas, and how many
engines must flag an observable for it to read as malicious or suspicious."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator

from integrations.core.enrichment import EnricherOptions
from soar.enrichment.models import Tlp

VIRUSTOTAL_URL = "https://www.virustotal.com"
API_ROOT = "/api/v3"
PUBLIC_REQUESTS_PER_MINUTE = 4.0
PUBLIC_DAILY_QUOTA = 500


class VirusTotalOptions(EnricherOptions):
    """The key goes in the `x-apikey` header. The defaults are a public key's quotas —
    4 lookups a minute, 500 a day — and a commercial service's marking (amber); a
    premium key raises `requests_per_minute` and `daily_quota` to its contract's."""

    base_url: str = Field(
        default=VIRUSTOTAL_URL, min_length=1, description="VirusTotal's URL (API v3 below it)."
    )
    api_key: SecretStr = Field(description="A VirusTotal API key.")
    max_tlp: Tlp = Field(
        default=Tlp.AMBER,
        description="The most restricted marking an observable may carry and still be sent.",
    )
    requests_per_minute: float | None = Field(
        default=PUBLIC_REQUESTS_PER_MINUTE,
        gt=0,
        description="At most this many lookups a minute (a public key: 4).",
    )
    daily_quota: int | None = Field(
        default=PUBLIC_DAILY_QUOTA,
        ge=1,
        description="Lookups a day the key allows (a public key: 500); VirusTotal resets "
        "it at 00:00 UTC.",
    )
    malicious_at: int = Field(
        default=3, ge=1, description="Engines saying malicious from which it is malicious."
    )
    suspicious_at: int = Field(
        default=1,
        ge=1,
        description="Engines saying malicious or suspicious from which it is suspicious.",
    )

    @field_validator("base_url")
    @classmethod
    def _site_root(cls, value: str) -> str:
        """The site's root: a URL pasted with `/api/v3` on its end still works."""
        return value.rstrip("/").removesuffix(API_ROOT)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.suspicious_at > self.malicious_at:
            raise ValueError("suspicious_at must not be above malicious_at")
        return self
