"""The options of a TheHive 5 ticket system: the instance, an API key, and how a case's
alert is labelled."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from integrations.core.options import HttpOptions
from soar.enrichment.models import Tlp

API_ROOT = "/api/v1"


def tlp_2_0() -> dict[Tlp, int]:
    """TheHive 5's TLP 2.0 numbers."""
    return {Tlp.CLEAR: 0, Tlp.GREEN: 1, Tlp.AMBER: 2, Tlp.AMBER_STRICT: 3, Tlp.RED: 4}


class TheHiveOptions(HttpOptions):
    """`base_url` is the instance (`https://thehive.example.org`); the key is a user's API
    key (sent as `Authorization: Bearer`), the user an analyst of `organisation` (sent as
    `X-Organisation` when set) who may manage alerts and comments.

    A case's alert is unique in TheHive by (`alert_type`, `source`, case id as
    `sourceRef`), which is how it is found again. `tlp` maps markings to TheHive's
    numbers: the default is TLP 2.0 (red 4); an instance on the older scale wants red 3
    and no amber+strict."""

    base_url: str = Field(min_length=1, description="The TheHive instance's URL.")
    api_key: SecretStr = Field(description="The user's API key.")
    organisation: str | None = Field(default=None, min_length=1)
    source: str = Field(default="soar", min_length=1, max_length=200)
    alert_type: str = Field(default="soar-case", min_length=1, max_length=200)
    tags: list[str] = Field(default_factory=lambda: ["soar"])
    pap: int = Field(default=2, ge=0, le=3, description="PAP: 0 clear, 1 green, 2 amber, 3 red.")
    tlp: dict[Tlp, int] = Field(default_factory=tlp_2_0)
    web_url: str | None = Field(
        default=None, min_length=1, description="Where people open alerts (default: base_url)."
    )

    @field_validator("base_url", "web_url")
    @classmethod
    def _instance_root(cls, value: str | None) -> str | None:
        """The instance's root: a URL pasted with `/api/v1` on its end still works."""
        return value.rstrip("/").removesuffix(API_ROOT) if value is not None else None

    @field_validator("tlp")
    @classmethod
    def _every_marking(cls, numbers: dict[Tlp, int]) -> dict[Tlp, int]:
        missing = [tlp.value for tlp in Tlp if tlp not in numbers]
        if missing:
            raise ValueError(f"every marking needs a number (missing: {', '.join(missing)})")
        return numbers
