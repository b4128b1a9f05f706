"""The normalised alert model, aligned with OCSF Detection Finding (class 2004).

Every parser turns its vendor's payload into :class:`Alert`. The model is what
workflows, the store and the bot see; vendor quirks end at the parser.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    """Normalised severity, ordered from least to most severe (OCSF severity_id 1-5)."""

    INFORMATIONAL = "informational"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for informational up to 4 for critical, for comparisons and sorting."""
        return list(Severity).index(self)


class SeverityInfo(BaseModel):
    """The normalised level plus the sender's own value, kept for the analyst."""

    model_config = ConfigDict(frozen=True)

    level: Severity
    original: str | None = None


class ObservableType(StrEnum):
    IP = "ip"
    DOMAIN = "domain"
    URL = "url"
    HASH = "hash"
    HOSTNAME = "hostname"
    USER = "user"
    EMAIL = "email"


class ObservableRole(StrEnum):
    """What part an observable plays in the alert."""

    SOURCE = "source"
    DESTINATION = "destination"
    HOST = "host"
    ACTOR = "actor"
    TARGET = "target"
    RELATED = "related"


class Observable(BaseModel):
    """One indicator or entity found in an alert: `{type, value, role}`."""

    model_config = ConfigDict(frozen=True)

    type: ObservableType
    value: str
    role: ObservableRole = ObservableRole.RELATED


class Rule(BaseModel):
    """The detection rule that fired."""

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    id: str | None = None


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Alert(BaseModel):
    """A normalised alert. `id` derives from `dedup_key`, so a redelivery maps to the same id."""

    id: str
    dedup_key: str
    source: str
    title: str
    description: str | None = None
    rule: Rule = Field(default_factory=Rule)
    severity: SeverityInfo
    status: AlertStatus = AlertStatus.FIRING
    time: datetime
    link: str | None = None
    observables: list[Observable] = Field(default_factory=list)
    marking: str | None = Field(
        default=None,
        description="The sender's own TLP marking of the alert (clear, green, amber, "
        "amber+strict, red), when it sends one; enrichment sends nothing above a "
        "provider's limit.",
    )
    raw: Any = None


def alert_id_for(source: str, dedup_key: str) -> str:
    """A short, URL-safe, stable id: the source name and a hash of the dedup key."""
    digest = hashlib.sha256(dedup_key.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return f"{source}-{digest}"


def content_dedup_key(
    *,
    title: str,
    rule: Rule,
    severity: SeverityInfo,
    time: datetime | None,
    observables: list[Observable],
    description: str | None,
) -> str:
    """Dedup key for senders with no id of their own: a hash of the normalised content.

    The sender's time is part of the content; an alert with no time is identified by the
    rest, so that a redelivery of it (which is received later) is still recognised."""
    canonical = json.dumps(
        {
            "title": title,
            "rule": rule.model_dump(mode="json"),
            "severity": severity.level.value,
            "time": time.astimezone(UTC).isoformat() if time else None,
            "observables": sorted((o.type.value, o.value, o.role.value) for o in observables),
            "description": description,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return "content:" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def make_alert(
    *,
    source: str,
    native_key: str | None,
    title: str,
    severity: SeverityInfo,
    time: datetime | None,
    rule: Rule | None = None,
    description: str | None = None,
    status: AlertStatus = AlertStatus.FIRING,
    link: str | None = None,
    observables: list[Observable] | None = None,
    marking: str | None = None,
    raw: Any = None,
) -> Alert:
    """Build an alert, deriving its dedup key (the sender's own id, else a content hash).

    `time` is when the sender says the alert happened; `None` when it does not say, and
    the alert is then stamped with the time it was received."""
    rule = rule or Rule()
    observables = dedupe_observables(observables or [])
    if time is not None and time.tzinfo is None:
        time = time.replace(tzinfo=UTC)
    dedup_key = (
        f"{source}:{native_key}"
        if native_key
        else content_dedup_key(
            title=title,
            rule=rule,
            severity=severity,
            time=time,
            observables=observables,
            description=description,
        )
    )
    return Alert(
        id=alert_id_for(source, dedup_key),
        dedup_key=dedup_key,
        source=source,
        title=title,
        description=description,
        rule=rule,
        severity=severity,
        status=status,
        time=time or datetime.now(UTC),
        link=link,
        observables=observables,
        marking=marking,
        raw=raw,
    )


def dedupe_observables(observables: list[Observable]) -> list[Observable]:
    """Drop repeats of the same (type, value), keeping the first, most specific role."""
    seen: set[tuple[ObservableType, str]] = set()
    kept: list[Observable] = []
    for observable in observables:
        key = (observable.type, observable.value)
        if key not in seen:
            seen.add(key)
            kept.append(observable)
    return kept
