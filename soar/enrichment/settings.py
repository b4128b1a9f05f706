"""Enrichment settings: which providers run on each alert, and how long each may take.

No vendor is configured by default; triage then relies on the internal address
classifier and the inventory. A provider is configured by name::

    [enrichment.providers.abuseipdb]
    type = "abuseipdb"
    options = { max_age_days = 90 }

`type` names an integration that registers a factory for it; `options` are handed to
that factory, which validates them into its own typed model (secrets as `SecretStr`).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from soar.integrations.registry import IntegrationSettings

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
