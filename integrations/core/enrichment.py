"""What every threat-intel enricher shares: its options and the rules of an answer.

A vendor's enricher (`integrations/<vendor>/enricher.py`) knows only its vendor: which
observables it can look up (`supports`), how to ask, and how to read the answer into an
:class:`~soar.enrichment.models.Enrichment` — a verdict, a score 0 to 100, one reason in
plain words first, a `link` to the vendor's page, and the raw answer in `data["raw"]`.
Everything around it is the engine's (soar/enrichment): what may leave (internal
observables and markings above `max_tlp` are never sent), the cache and its
time-to-live per verdict, coalescing of identical lookups, the rate limit and the daily
quota.

Rules of an answer:
- A "not found" the vendor uses to mean "nothing known" (GreyNoise 404, URLhaus
  `no_results`, ThreatFox `no_result`) is an Enrichment with verdict `unknown` and a
  reason saying so — not None, not an error.
- An observable the vendor cannot look up (not an IP, an empty hash) is refused before
  any call: `supports` says False, or `enrich` raises
  :class:`~soar.integrations.errors.RequestRejected` without calling.
- Bad credentials are :class:`~soar.integrations.errors.CredentialsRejected` (raised
  once, not retried); a rate limit is
  :class:`~soar.integrations.errors.RateLimited` with the vendor's own wait; quota
  exhaustion is RateLimited with the wait until the quota resets.
- Nothing secret in the Enrichment (raw answers included).
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from integrations.core.options import HttpOptions
from soar.enrichment.models import Tlp, Verdict

DAY = 24 * 3600


def default_ttls() -> dict[Verdict, int]:
    """How long an answer is kept, by verdict: a malicious one changes slowly, an
    unknown one may become known soon."""
    return {
        Verdict.MALICIOUS: 7 * DAY,
        Verdict.SUSPICIOUS: DAY,
        Verdict.BENIGN: DAY,
        Verdict.UNKNOWN: 6 * 3600,
    }


class EnricherOptions(HttpOptions):
    """Options every enricher takes (vendors add their own and set their defaults)."""

    api_key: SecretStr | None = Field(default=None, description="The vendor's API key.")
    max_tlp: Tlp = Field(
        default=Tlp.AMBER,
        description="The most restricted marking an observable may carry and still be "
        "sent here (community and public services default to green).",
    )
    ttl_seconds: dict[Verdict, int] = Field(default_factory=default_ttls)
    daily_quota: int | None = Field(
        default=None, ge=1, description="Lookups a day the key allows (VirusTotal public: 500)."
    )
