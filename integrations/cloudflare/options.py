"""The options of a Cloudflare actuator: an API token and the zone whose IP Access rules
hold the blocks."""

from __future__ import annotations

from pydantic import ConfigDict, Field, SecretStr

from integrations.core.options import HttpOptions

CLOUDFLARE_API = "https://api.cloudflare.com/client/v4"
REQUESTS_PER_MINUTE = 240.0
"""Cloudflare allows 1200 requests per five minutes per token."""


class CloudflareOptions(HttpOptions):
    """IP Access rules are created in one zone (`zone_id`, the 32-hex-digit id on the
    zone's overview page), so a block covers that site; an account-wide rule is not
    made. The token needs the zone's *Firewall Services: Edit* permission. Calls are
    spread to at most `requests_per_minute`, Cloudflare's 1200 per five minutes by
    default, since the limit counts every call the token makes."""

    model_config = ConfigDict(hide_input_in_errors=True)
    """A validation error never repeats what was given (a token)."""

    base_url: str = Field(
        default=CLOUDFLARE_API, min_length=1, description="The Cloudflare API root."
    )
    api_token: SecretStr = Field(description="A Cloudflare API token (Bearer).")
    zone_id: str = Field(
        pattern=r"^[0-9a-f]{32}$", description="The zone's id (32 hexadecimal digits)."
    )
    requests_per_minute: float | None = Field(
        default=REQUESTS_PER_MINUTE,
        gt=0,
        description="At most this many calls a minute (Cloudflare: 1200 per 5 minutes).",
    )
