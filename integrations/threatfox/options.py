"""The options of a ThreatFox enricher: an abuse.ch Auth-Key and the confidence that
makes an IOC malicious."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from integrations.core.enrichment import EnricherOptions
from soar.enrichment.models import Tlp

THREATFOX_API = "https://threatfox-api.abuse.ch"
THREATFOX_WEB = "https://threatfox.abuse.ch"


class ThreatfoxOptions(EnricherOptions):
    """ThreatFox is a public community service: only observables marked up to GREEN are
    sent by default. abuse.ch requires an Auth-Key on every call (free, from
    https://auth.abuse.ch/); the same key serves URLhaus. An IOC reported with
    `malicious_confidence` percent or more is malicious, with less suspicious."""

    base_url: str = Field(
        default=THREATFOX_API, min_length=1, description="The ThreatFox API root."
    )
    api_key: SecretStr = Field(description="An abuse.ch Auth-Key.")
    max_tlp: Tlp = Field(
        default=Tlp.GREEN,
        description="The most restricted marking an observable may carry and still be sent.",
    )
    web_url: str = Field(
        default=THREATFOX_WEB, min_length=1, description="Where analysts open ThreatFox pages."
    )
    malicious_confidence: int = Field(
        default=75,
        ge=0,
        le=100,
        description="The reporter's confidence (percent) that makes an IOC malicious.",
    )

    @field_validator("base_url", "web_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")
