"""What enrichment and triage say about an alert.

Plain data: an :class:`Enrichment` is one provider's opinion of one observable, the
context models are what the inventory knows about a host or a user, and a
:class:`Triage` is the score and verdict of a whole alert with the reasons behind them.
Every model travels through the pydantic data converter unchanged.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from soar.alerts.models import Observable


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
        return list(Tlp).index(self)


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
    """What the store keeps of a triage: the score, the verdict and why."""

    score: int = Field(ge=0, le=100)
    verdict: Verdict
    reasons: list[str] = Field(default_factory=list)


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

    def summary(self) -> TriageSummary:
        return TriageSummary(score=self.score, verdict=self.verdict, reasons=self.reasons[:20])
