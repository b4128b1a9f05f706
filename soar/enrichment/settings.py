"""Enrichment settings: which providers run on each alert, and how long each may take.

No vendor is configured by default; triage then relies on the internal address
classifier and the inventory. A provider is configured by name::

    [enrichment.providers.abuseipdb]
    type = "abuseipdb"
    options = { max_age_days = 90 }

`type` names an integration that registers a factory for it; `options` are handed to
that factory, which validates them into its own typed model (secrets as `SecretStr`).

What never leaves: non-public addresses, names without a dot, names under one of
`internal_suffixes`, names the inventory knows, and user names. An observable's marking
is its alert's (`[sources.<name>] tlp`, or the alert's own), else `default_tlp`.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from soar.enrichment.markings import TlpSetting
from soar.enrichment.models import Tlp
from soar.integrations.registry import IntegrationSettings

DEFAULT_INTERNAL_SUFFIXES = (
    "local",
    "localdomain",
    "localhost",
    "lan",
    "home",
    "home.arpa",
    "internal",
    "intranet",
    "corp",
    "private",
    "arpa",
    "test",
    "example",
    "invalid",
)
"""Names under these are never public: mDNS and home networks, the usual internal zones,
reverse-lookup zones, and the names RFC 2606/6761 reserve."""

EnricherSettings = IntegrationSettings
"""`[enrichment.providers.<name>]`: the integration `type` and its `options`."""


class EnrichmentSettings(BaseModel):
    """Every enrichment setting."""

    providers: dict[str, EnricherSettings] = Field(default_factory=dict)
    address_classifier: bool = Field(
        default=True, description="Run the internal address classifier on IP observables."
    )
    timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long one provider may take on one observable."
    )
    max_concurrency: int = Field(
        default=8, ge=1, description="Provider calls in flight at once for one alert."
    )
    max_in_flight: int = Field(
        default=16, ge=1, description="Provider calls in flight at once across the worker."
    )
    max_wait_seconds: float = Field(
        default=20.0,
        ge=0,
        description="The longest a lookup waits for a provider's rate limit (a provider's "
        "own max_wait_seconds may shorten it); past it the provider is skipped for that "
        "observable.",
    )
    internal_suffixes: list[str] = Field(
        default_factory=lambda: list(DEFAULT_INTERNAL_SUFFIXES),
        description="Domains whose names are internal and never sent to a provider "
        "(`corp.example.com` covers `db.corp.example.com`); names without a dot always are.",
    )
    default_tlp: TlpSetting = Field(
        default=Tlp.AMBER,
        description="The marking of an observable whose source and alert give none.",
    )
    cache_entries: int = Field(
        default=10_000,
        ge=0,
        description="Answers each process also keeps in memory in front of the store's cache.",
    )

    @field_validator("internal_suffixes")
    @classmethod
    def _plain_suffixes(cls, suffixes: list[str]) -> list[str]:
        """`.corp.example.`, `Corp.Example` and `corp.example` are the same suffix."""
        return [s.strip().strip(".").lower() for s in suffixes if s.strip().strip(".")]
