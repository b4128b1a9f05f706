"""The options of an RDAP enricher: the RDAP server to ask, and how young a domain must
be to read as suspicious."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from integrations.core.enrichment import EnricherOptions
from soar.enrichment.models import Tlp

RDAP_ORG = "https://rdap.org"


class RdapOptions(EnricherOptions):
    """`base_url` is an RDAP server's root: rdap.org (the default) redirects each query
    to the registry that holds the record (a regional internet registry for addresses,
    the TLD's registry for domains), so no bootstrap is kept here. RDAP is public and
    takes no key. Only observables marked green or clear are sent by default."""

    base_url: str = Field(default=RDAP_ORG, min_length=1, description="An RDAP server's root.")
    max_tlp: Tlp = Field(
        default=Tlp.GREEN,
        description="The most restricted marking an observable may carry and still be sent.",
    )
    young_domain_days: int | None = Field(
        default=30,
        ge=1,
        description="A domain registered fewer days ago than this reads as suspicious "
        "(None: never).",
    )

    @field_validator("api_key")
    @classmethod
    def _no_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raise ValueError("RDAP takes no API key")
        return value

    @field_validator("base_url")
    @classmethod
    def _root(cls, value: str) -> str:
        return value.rstrip("/")
