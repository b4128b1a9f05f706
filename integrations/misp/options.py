"""The options of a MISP enricher: the instance's URL and an API (auth) key."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from integrations.core.enrichment import EnricherOptions
from soar.enrichment.models import Tlp

MAX_LIMIT = 1000


class MispOptions(EnricherOptions):
    """A MISP instance is usually your own (or a sharing community's) and internal, so
    `base_url` has no default; its answers may be AMBER, so observables marked up to
    AMBER are sent by default. The key is a user's auth key (Administration → List Auth
    Keys), sent as `Authorization: <key>`; the user only needs to read events.
    `web_url` is the address analysts open events at, when it differs from the one
    the worker reaches the API at (a reverse proxy, an internal name)."""

    base_url: str = Field(min_length=1, description="The MISP instance's URL.")
    api_key: SecretStr = Field(description="A MISP auth key (40 characters).")
    max_tlp: Tlp = Field(
        default=Tlp.AMBER,
        description="The most restricted marking an observable may carry and still be sent.",
    )
    web_url: str | None = Field(
        default=None,
        min_length=1,
        description="Where analysts open MISP events (default: base_url).",
    )
    limit: int = Field(
        default=100,
        ge=1,
        le=MAX_LIMIT,
        description="Attributes read per lookup; more matches are counted as 'at least'.",
    )

    @field_validator("base_url", "web_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value is not None else None

    @property
    def event_root(self) -> str:
        """The root of event links."""
        return self.web_url or self.base_url
