"""The options of a URLhaus enricher: an abuse.ch Auth-Key."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from integrations.core.enrichment import EnricherOptions
from soar.enrichment.models import Tlp

URLHAUS_API = "https://urlhaus-api.abuse.ch"
URLHAUS_WEB = "https://urlhaus.abuse.ch"


class UrlhausOptions(EnricherOptions):
    """URLhaus is a public community service: only observables marked up to GREEN are
    sent by default. abuse.ch requires an Auth-Key on every call (free, from
    https://auth.abuse.ch/); the same key serves ThreatFox."""

    base_url: str = Field(default=URLHAUS_API, min_length=1, description="The URLhaus API root.")
    api_key: SecretStr = Field(description="An abuse.ch Auth-Key.")
    max_tlp: Tlp = Field(
        default=Tlp.GREEN,
        description="The most restricted marking an observable may carry and still be sent.",
    )
    web_url: str = Field(
        default=URLHAUS_WEB, min_length=1, description="Where analysts open URLhaus pages."
    )

    @field_validator("base_url", "web_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")
