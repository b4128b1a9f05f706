"""What enrichment and triage say about an alert.

Plain data: an :class:`Enrichment` is one provider's opinion of one observable, the
context models are what the inventory knows about a host or a user, and a
:class:`Triage` is the score and verdict of a whole alert with the reasons behind them.
Every model travels through the pydantic data converter unchanged.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from soar.alerts.models import Observable

MAX_STORED_VERDICTS = 50
"""Combined verdicts kept with an alert's triage in the store."""


class Verdict(StrEnum):
    """An opinion on an observable or an alert. `unknown` is an answer, not a failure."""

    MALICIOUS = "malicious"
    SUSPICIOUS = "suspicious"
    BENIGN = "benign"
    UNKNOWN = "unknown"


class Tlp(StrEnum):
    """A Traffic Light Protocol 2.0 marking, from least to most restricted."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"

    @property
    def rank(self) -> int:
        """0 for clear up to 4 for red, for comparisons."""
        return TLP_RANKS[self]

    @property
    def label(self) -> str:
        """How people write it: `TLP:AMBER+STRICT`."""
        return f"TLP:{self.value.upper()}"


TLP_RANKS = {tlp: rank for rank, tlp in enumerate(Tlp)}
"""Each marking's rank (every lookup compares markings: kept, not recomputed)."""


class Criticality(StrEnum):
    """How much an asset matters to the business, from least to most."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for low up to 3 for critical, for comparisons."""
        return list(Criticality).index(self)


class AddressClass(StrEnum):
    """Where an IP address lives (see :func:`soar.enrichment.addresses.classify`)."""

    PUBLIC = "public"
    PRIVATE = "private"
    DOCUMENTATION = "documentation"
    LOOPBACK = "loopback"
    LINK_LOCAL = "link-local"
    MULTICAST = "multicast"
    RESERVED = "reserved"


class Enrichment(BaseModel):
    """One provider's answer about one observable."""

    model_config = ConfigDict(frozen=True)

    provider: str = Field(min_length=1)
    observable: Observable
    verdict: Verdict = Verdict.UNKNOWN
    score: int = Field(default=0, ge=0, le=100, description="0 harmless to 100 malicious.")
    reasons: list[str] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)
    link: str | None = Field(default=None, description="The source's own page about it.")


class SourceStatus(StrEnum):
    """What became of one source's lookup of one observable."""

    ANSWERED = "answered"
    SKIPPED = "skipped"
    FAILED = "failed"


class SkipKind(StrEnum):
    """Why a source was not asked (see :mod:`soar.enrichment.engine`)."""

    INTERNAL = "internal"
    MARKING = "marking"
    UNSUPPORTED = "unsupported"
    NO_KEY = "no_key"
    CREDENTIALS = "credentials"
    RATE_LIMITED = "rate_limited"
    QUOTA = "quota"


class SourceResult(BaseModel):
    """One source's part in an observable's verdict: its answer in a line, or why it
    has none. `reason` is the answer's first reason, or why it was skipped or failed."""

    model_config = ConfigDict(frozen=True)

    provider: str
    status: SourceStatus
    verdict: Verdict | None = None
    score: int | None = Field(default=None, ge=0, le=100)
    reason: str | None = None
    link: str | None = None
    cached: bool = Field(default=False, description="Served from the cache, not asked now.")
    fetched_at: datetime | None = Field(default=None, description="When the source answered.")
    skip: SkipKind | None = None


class ObservableVerdict(BaseModel):
    """Every source's opinion of one observable, combined into one verdict and score
    with the reasons that drove it (:func:`soar.enrichment.combine.combine`)."""

    model_config = ConfigDict(frozen=True)

    observable: Observable
    tlp: Tlp = Tlp.AMBER
    verdict: Verdict = Verdict.UNKNOWN
    score: int = Field(default=0, ge=0, le=100)
    reasons: list[str] = Field(default_factory=list)
    by: list[str] = Field(
        default_factory=list, description="The sources whose answers decided the verdict."
    )
    sources: list[SourceResult] = Field(default_factory=list)
    internal: str | None = Field(
        default=None, description="Why it never leaves (a private address, an internal name)."
    )
    refused: str | None = Field(
        default=None, description="Why it was looked up nowhere (not a valid IP, an empty hash)."
    )

    def with_status(self, status: SourceStatus) -> list[SourceResult]:
        """The sources that answered, were skipped or failed."""
        return [source for source in self.sources if source.status is status]

    def line(self) -> str:
        """The observable's verdict in one line: "45.1.2.3: malicious (95/100) according
        to abuseipdb, greynoise", or "… suspicious (48/100): abuseipdb says malicious,
        greynoise says benign" when the deciding sources disagree."""
        said = {
            source.provider: source.verdict
            for source in self.sources
            if source.provider in self.by and source.verdict is not None
        }
        head = f"{self.observable.value}: {self.verdict.value} ({self.score}/100)"
        if not said:
            return head
        if len(set(said.values())) == 1:
            return f"{head} according to {', '.join(said)}"
        return f"{head}: " + ", ".join(f"{who} says {v.value}" for who, v in said.items())


class AssetContext(BaseModel):
    """What the inventory knows about a host. Tags are stored lower-case."""

    model_config = ConfigDict(frozen=True)

    hostname: str = Field(min_length=1)
    owner: str | None = None
    criticality: Criticality = Criticality.MEDIUM
    tags: list[str] = Field(default_factory=list)


class IdentityContext(BaseModel):
    """What the inventory knows about a user."""

    model_config = ConfigDict(frozen=True)

    user: str = Field(min_length=1)
    team: str | None = None
    manager: str | None = None
    vip: bool = False


class TriageSummary(BaseModel):
    """What the store keeps of a triage: the score, the verdict and why, and the
    combined verdict of each observable looked up."""

    score: int = Field(ge=0, le=100)
    verdict: Verdict
    reasons: list[str] = Field(default_factory=list)
    observables: list[ObservableVerdict] = Field(default_factory=list)


class Triage(BaseModel):
    """The triage of one alert: a score, a verdict and why, with the evidence used."""

    alert_id: str
    score: int = Field(ge=0, le=100)
    verdict: Verdict
    reasons: list[str] = Field(default_factory=list)
    enrichments: list[Enrichment] = Field(default_factory=list)
    assets: list[AssetContext] = Field(default_factory=list)
    identities: list[IdentityContext] = Field(default_factory=list)
    address_classes: dict[str, AddressClass] = Field(
        default_factory=dict, description="Each IP observable of the alert and its class."
    )
    observables: list[ObservableVerdict] = Field(
        default_factory=list,
        description="Each observable's combined verdict across sources, with the sources "
        "that were skipped or failed and why.",
    )

    def verdict_of(self, value: str) -> ObservableVerdict | None:
        """The combined verdict of the observable with this value (for playbooks)."""
        wanted = value.strip().lower()
        return next(
            (found for found in self.observables if found.observable.value.lower() == wanted),
            None,
        )

    def summary(self) -> TriageSummary:
        return TriageSummary(
            score=self.score,
            verdict=self.verdict,
            reasons=self.reasons[:20],
            observables=self.observables[:MAX_STORED_VERDICTS],
        )
