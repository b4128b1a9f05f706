"""Options of a SentinelOne actuator (`type = "sentinelone"`)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from integrations.core.options import HttpOptions


class SentinelOneOptions(HttpOptions):
    """A management console's API, reached with an API token of a user (or service
    user) whose role may disconnect endpoints from the network.

    `settle_seconds` bounds how long `verify` (and a change that finds the opposite one
    in flight) polls a `connecting` / `disconnecting` agent, every `poll_seconds`.
    """

    base_url: str = Field(
        min_length=1,
        description="The console's API root, e.g. https://<tenant>.sentinelone.net/web/api/v2.1",
    )
    api_token: SecretStr = Field(description="Sent as `Authorization: ApiToken <token>`.")
    settle_seconds: float = Field(default=20.0, ge=0, le=300)
    poll_seconds: float = Field(default=2.0, gt=0, le=60)
