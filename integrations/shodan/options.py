"""The options of a Shodan enricher: the API key, and which of Shodan's findings make a
host read as malicious or suspicious."""

from __future__ import annotations

from pydantic import Field, SecretStr

from integrations.core.enrichment import EnricherOptions
from soar.enrichment.models import Tlp

SHODAN_URL = "https://api.shodan.io"
MALICIOUS_TAGS = frozenset({"c2", "compromised", "doublepulsar", "malware"})
SUSPICIOUS_TAGS = frozenset({"proxy", "scanner", "tor"})


class ShodanOptions(EnricherOptions):
    """Shodan takes its key as the `key` query parameter of every call — it is in every
    URL, so it is masked in every log line and message like any secret. Host lookups
    cost no query credits; Shodan allows about one call a second."""

    base_url: str = Field(default=SHODAN_URL, min_length=1, description="The Shodan API's URL.")
    api_key: SecretStr = Field(description="A Shodan API key.")
    max_tlp: Tlp = Field(
        default=Tlp.AMBER,
        description="The most restricted marking an observable may carry and still be sent.",
    )
    requests_per_minute: float | None = Field(
        default=60.0, gt=0, description="At most this many calls a minute (Shodan: 1 a second)."
    )
    malicious_tags: frozenset[str] = Field(
        default=MALICIOUS_TAGS, description="Shodan tags that make a host malicious."
    )
    suspicious_tags: frozenset[str] = Field(
        default=SUSPICIOUS_TAGS, description="Shodan tags that make a host suspicious."
    )
    vulnerable_is_suspicious: bool = Field(
        default=True,
        description="Whether a host running software with known vulnerabilities (CVEs) is "
        "suspicious: it may well be compromised.",
    )
