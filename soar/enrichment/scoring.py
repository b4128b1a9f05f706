"""Triage scoring: from an alert, what the providers said and the inventory, a score
(0-100), a verdict, and the reasons an analyst reads to agree or disagree.

The score starts from the alert's severity and moves by fixed, documented steps so
that every point can be explained:

=====================================================  ======
evidence                                               points
=====================================================  ======
severity informational / low / medium / high / crit.  5 / 20 / 40 / 55 / 70 (start)
an observable's combined verdict is malicious (once)   +25
else one's combined verdict is suspicious (once)       +10
else one's combined verdict is benign                  -15
the most critical host involved is critical / high     +15 / +8
a VIP user is involved                                 +10
the alert's source addresses are all non-public        -15
=====================================================  ======

An observable's combined verdict weighs every source that answered about it
(:mod:`soar.enrichment.combine`: two sources saying malicious outweigh one saying
benign; one against one is only suspicious). The result is clamped to 0-100. The
verdict is `malicious` when an observable's combined verdict is or the score reaches
75; `suspicious` when one's is or the score reaches 50; `benign` only when one's is and
nothing above applies; otherwise `unknown`.
A source address is an IP observable in the `source` or `actor` role — or every IP
observable, when the alert names none in those roles. An alert whose sources are all
private or documentation addresses has no outside attacker a playbook could block.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from soar.alerts.models import Alert, ObservableRole, ObservableType, Severity
from soar.enrichment.addresses import classify, describe
from soar.enrichment.combine import combine, result_of
from soar.enrichment.inventory import Inventory
from soar.enrichment.models import (
    AddressClass,
    AssetContext,
    Criticality,
    Enrichment,
    IdentityContext,
    ObservableVerdict,
    Triage,
    Verdict,
)

SEVERITY_POINTS: dict[Severity, int] = {
    Severity.INFORMATIONAL: 5,
    Severity.LOW: 20,
    Severity.MEDIUM: 40,
    Severity.HIGH: 55,
    Severity.CRITICAL: 70,
}
VERDICT_POINTS: dict[Verdict, int] = {
    Verdict.MALICIOUS: 25,
    Verdict.SUSPICIOUS: 10,
    Verdict.BENIGN: -15,
}
CRITICALITY_POINTS: dict[Criticality, int] = {Criticality.CRITICAL: 15, Criticality.HIGH: 8}
VIP_POINTS = 10
NO_PUBLIC_SOURCE_POINTS = -15
MALICIOUS_AT = 75
SUSPICIOUS_AT = 50

SOURCE_ROLES = frozenset({ObservableRole.SOURCE, ObservableRole.ACTOR})
USER_TYPES = frozenset({ObservableType.USER, ObservableType.EMAIL})

T = TypeVar("T")


class _Tally:
    """The running score and its reasons, in the order they were found."""

    def __init__(self) -> None:
        self.score = 0
        self.reasons: list[str] = []

    def add(self, points: int, *reasons: str) -> None:
        self.score += points
        self.note(*reasons)

    def note(self, *reasons: str) -> None:
        for reason in reasons:
            if reason not in self.reasons:
                self.reasons.append(reason)


def triage(
    alert: Alert,
    enrichments: Sequence[Enrichment],
    inventory: Inventory,
    verdicts: Sequence[ObservableVerdict] | None = None,
) -> Triage:
    """Score an alert. Pure: the same inputs always give the same triage. `verdicts` are
    the observables' combined verdicts (the engine's, with the sources skipped and
    failed); without them they are combined from `enrichments`."""
    tally = _Tally()
    severity = alert.severity.level
    tally.add(SEVERITY_POINTS[severity], f"alert severity is {severity.value}")
    verdicts = list(verdicts) if verdicts is not None else combined(enrichments)
    _weigh_enrichments(tally, enrichments, verdicts)
    assets = _assets(alert, inventory)
    _weigh_assets(tally, assets)
    identities = _identities(alert, inventory)
    _weigh_identities(tally, identities)
    address_classes = _weigh_addresses(tally, alert)
    score = max(0, min(100, tally.score))
    return Triage(
        alert_id=alert.id,
        score=score,
        verdict=_verdict(score, verdicts),
        reasons=tally.reasons,
        enrichments=list(enrichments),
        assets=assets,
        identities=identities,
        address_classes=address_classes,
        observables=verdicts,
    )


def combined(enrichments: Sequence[Enrichment]) -> list[ObservableVerdict]:
    """Each observable's combined verdict from the answers about it, in the order the
    observables first appear."""
    by_observable: dict[tuple[ObservableType, str], list[Enrichment]] = {}
    for enrichment in enrichments:
        key = (enrichment.observable.type, enrichment.observable.value)
        by_observable.setdefault(key, []).append(enrichment)
    return [
        combine(answers[0].observable, [result_of(answer) for answer in answers])
        for answers in by_observable.values()
        if any(answer.verdict is not Verdict.UNKNOWN for answer in answers)
    ]


def _weigh_enrichments(
    tally: _Tally, enrichments: Sequence[Enrichment], verdicts: Sequence[ObservableVerdict]
) -> None:
    tally.note(*(v.line() for v in verdicts if v.verdict is not Verdict.UNKNOWN or v.by))
    for enrichment in enrichments:
        opinion = []
        if enrichment.verdict is not Verdict.UNKNOWN:
            opinion.append(
                f"{enrichment.provider} rates {enrichment.observable.value} "
                f"{enrichment.verdict.value} ({enrichment.score}/100)"
            )
        tally.note(*opinion, *enrichment.reasons)
    found = {verdict.verdict for verdict in verdicts}
    for verdict, points in VERDICT_POINTS.items():
        if verdict in found:
            tally.add(points)
            return


def _assets(alert: Alert, inventory: Inventory) -> list[AssetContext]:
    names = (o.value for o in alert.observables if o.type is ObservableType.HOSTNAME)
    return _unique(asset for name in names if (asset := inventory.host(name)) is not None)


def _identities(alert: Alert, inventory: Inventory) -> list[IdentityContext]:
    names = (o.value for o in alert.observables if o.type in USER_TYPES)
    return _unique(user for name in names if (user := inventory.user(name)) is not None)


def _unique(items: Iterable[T]) -> list[T]:
    kept: list[T] = []
    for item in items:
        if item not in kept:
            kept.append(item)
    return kept


def _weigh_assets(tally: _Tally, assets: Sequence[AssetContext]) -> None:
    for asset in assets:
        owner = f"owner {asset.owner}" if asset.owner else "no owner on record"
        if asset.criticality in CRITICALITY_POINTS:
            tally.note(f"host {asset.hostname} is {asset.criticality.value} ({owner})")
        if asset.tags:
            tally.note(f"host {asset.hostname} is tagged {', '.join(asset.tags)}")
    points = [CRITICALITY_POINTS.get(asset.criticality, 0) for asset in assets]
    tally.add(max(points, default=0))


def _weigh_identities(tally: _Tally, identities: Sequence[IdentityContext]) -> None:
    vips = [identity for identity in identities if identity.vip]
    for vip in vips:
        team = f"team {vip.team}" if vip.team else "no team on record"
        manager = f", manager {vip.manager}" if vip.manager else ""
        tally.note(f"user {vip.user} is a VIP ({team}{manager})")
    if vips:
        tally.add(VIP_POINTS)


def _weigh_addresses(tally: _Tally, alert: Alert) -> dict[str, AddressClass]:
    """Classify every IP observable; lower the score when no source is public."""
    ips = [o for o in alert.observables if o.type is ObservableType.IP]
    classes: dict[str, AddressClass] = {}
    for observable in ips:
        try:
            classes[observable.value] = classify(observable.value)
        except ValueError:
            tally.note(f"{observable.value} is not a valid IP address")
    sources = [o.value for o in ips if o.role in SOURCE_ROLES and o.value in classes]
    sources = sources or list(classes)
    tally.note(*(describe(source, classes[source]) for source in sources))
    if sources and AddressClass.PUBLIC not in {classes[source] for source in sources}:
        tally.add(NO_PUBLIC_SOURCE_POINTS, "no source address is public: nothing outside to block")
    return classes


def _verdict(score: int, combined_verdicts: Sequence[ObservableVerdict]) -> Verdict:
    verdicts = {verdict.verdict for verdict in combined_verdicts}
    if Verdict.MALICIOUS in verdicts or score >= MALICIOUS_AT:
        return Verdict.MALICIOUS
    if Verdict.SUSPICIOUS in verdicts or score >= SUSPICIOUS_AT:
        return Verdict.SUSPICIOUS
    if Verdict.BENIGN in verdicts:
        return Verdict.BENIGN
    return Verdict.UNKNOWN
