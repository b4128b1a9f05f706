"""The options of a PagerDuty pager: a service's Events API v2 integration key."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from integrations.core.options import HttpOptions

EVENTS_URL = "https://events.pagerduty.com"
ROUTING_KEY_LENGTH = 32


class PagerDutyOptions(HttpOptions):
    """`routing_key` is the Integration Key of an Events API v2 integration on the
    service to page (or of a ruleset). PagerDuty gives no wait with its 429, so the
    pager waits `rate_limit_wait_seconds` (PagerDuty suggests about 30 s); a longer
    wait than `max_wait_seconds` becomes a retry of the step after that wait."""

    base_url: str = Field(default=EVENTS_URL, min_length=1, description="The Events API.")
    routing_key: SecretStr = Field(description="The Events API v2 integration key.")
    source: str = Field(
        default="soar",
        min_length=1,
        max_length=255,
        description="payload.source: where the alert comes from, as the on-call reads it.",
    )
    client: str = Field(default="SOAR", min_length=1, max_length=255)
    client_url: str | None = Field(
        default=None, description="The product's address, linked as the alert's client."
    )
    requests_per_minute: float | None = Field(
        default=120, gt=0, description="PagerDuty takes about 120 events a minute per key."
    )
    rate_limit_wait_seconds: float = Field(
        default=30.0, gt=0, le=600, description="The wait after a 429 (PagerDuty says none)."
    )

    @field_validator("routing_key")
    @classmethod
    def _thirty_two_characters(cls, key: SecretStr) -> SecretStr:
        value = key.get_secret_value()
        if len(value) != ROUTING_KEY_LENGTH or not value.isalnum():
            raise ValueError(
                f"a routing key is {ROUTING_KEY_LENGTH} letters and digits (the service's "
                "Events API v2 Integration Key)"
            )
        return key

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")
