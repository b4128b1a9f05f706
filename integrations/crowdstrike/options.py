"""Options of a CrowdStrike Falcon actuator (`type = "crowdstrike"`)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from integrations.core.options import HttpOptions


class CrowdStrikeOptions(HttpOptions):
    """An API client of the Falcon console with the "Hosts: read and write" scopes.

    `settle_seconds` bounds how long `verify` (and an `apply` or `revert` that finds
    the opposite change in flight) polls a `*_pending` status, every `poll_seconds`.
    """

    base_url: str = Field(
        default="https://api.crowdstrike.com",
        min_length=1,
        description="The cloud's API root: api.crowdstrike.com (US-1), "
        "api.us-2.crowdstrike.com, api.eu-1.crowdstrike.com, api.laggar.gcw.crowdstrike.com.",
    )
    client_id: str = Field(min_length=1, description="The API client's id.")
    client_secret: SecretStr = Field(description="The API client's secret.")
    requests_per_minute: float | None = Field(
        default=6000, gt=0, description="Falcon allows 6000 calls a minute per customer."
    )
    settle_seconds: float = Field(default=20.0, ge=0, le=300)
    poll_seconds: float = Field(default=2.0, gt=0, le=60)
