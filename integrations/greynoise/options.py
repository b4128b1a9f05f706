"""The options of a GreyNoise enricher: the Community API, with or without a key."""

from __future__ import annotations

from pydantic import Field, SecretStr

from integrations.core.enrichment import EnricherOptions
from soar.enrichment.models import Tlp

GREYNOISE_URL = "https://api.greynoise.io"


class GreyNoiseOptions(EnricherOptions):
    """The Community API answers without a key on a small daily allowance; a free
    account's key (sent in the `key` header) raises it. A public service: only
    observables marked green or clear are sent by default."""

    base_url: str = Field(
        default=GREYNOISE_URL, min_length=1, description="The GreyNoise API's root URL."
    )
    api_key: SecretStr | None = Field(
        default=None, description="A GreyNoise key; without one, the unauthenticated plan."
    )
    max_tlp: Tlp = Field(
        default=Tlp.GREEN,
        description="The most restricted marking an observable may carry and still be sent.",
    )
