"""One verdict per observable from every source's answer, with the reasons behind it.

Sources disagree — one has reports of abuse, another knows the address as a public
DNS resolver — and an analyst needs one line that says so. The rule counts the
sources that took a side (an `unknown` answer takes none):

========================================  ===============  ==============================
answers                                   verdict          score
========================================  ===============  ==============================
malicious, more of them than benign       malicious        the highest malicious score
malicious, as many or fewer than benign   suspicious       halfway between the highest
                                                           malicious and lowest benign
suspicious (no malicious), more than      suspicious       the highest suspicious score
benign
suspicious, as many or fewer than benign  unknown          halfway, as above
benign only                               benign           the lowest benign score
none                                      unknown          the highest unknown score (0)
========================================  ===============  ==============================

The reasons name the deciding sources with their own first reason, then any source
that disagrees, then the sources that were skipped or failed, so "unknown" never hides
"nobody was asked".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from soar.alerts.models import Observable
from soar.enrichment.models import (
    Enrichment,
    ObservableVerdict,
    SourceResult,
    SourceStatus,
    Tlp,
    Verdict,
)

MAX_REASONS = 8


def result_of(
    enrichment: Enrichment, *, cached: bool = False, fetched_at: datetime | None = None
) -> SourceResult:
    """A source's answer as a line of the combined verdict."""
    return SourceResult(
        provider=enrichment.provider,
        status=SourceStatus.ANSWERED,
        verdict=enrichment.verdict,
        score=enrichment.score,
        reason=enrichment.reasons[0] if enrichment.reasons else None,
        link=enrichment.link,
        cached=cached,
        fetched_at=fetched_at,
    )


def _halfway(high: int, low: int) -> int:
    return (high + low + 1) // 2


def _said(results: Sequence[SourceResult]) -> str:
    return "; ".join(
        f"{r.provider}: {r.reason}" if r.reason else f"{r.provider} says {r.verdict}"
        for r in results
    )


def combine(
    observable: Observable,
    results: Sequence[SourceResult],
    *,
    tlp: Tlp = Tlp.AMBER,
    internal: str | None = None,
    refused: str | None = None,
) -> ObservableVerdict:
    """The observable's combined verdict (see the module docstring)."""
    answered = [r for r in results if r.status is SourceStatus.ANSWERED]

    def side(verdict: Verdict) -> list[SourceResult]:
        return sorted(
            (r for r in answered if r.verdict is verdict),
            key=lambda r: r.score or 0,
            reverse=verdict is not Verdict.BENIGN,
        )

    malicious, suspicious, benign = (
        side(Verdict.MALICIOUS),
        side(Verdict.SUSPICIOUS),
        side(Verdict.BENIGN),
    )
    unknown_score = max((r.score or 0 for r in side(Verdict.UNKNOWN)), default=0)
    reasons: list[str] = []
    if refused:
        reasons.append(f"not looked up: {refused}")
    if internal:
        reasons.append(f"never sent out: {internal}")
    strongest = malicious or suspicious
    if strongest and len(strongest) > len(benign):
        verdict = Verdict.MALICIOUS if malicious else Verdict.SUSPICIOUS
        score, deciding, dissent = strongest[0].score or 0, strongest, benign
    elif strongest:
        verdict = Verdict.SUSPICIOUS if malicious else Verdict.UNKNOWN
        score = _halfway(strongest[0].score or 0, benign[0].score or 0)
        deciding, dissent = [*strongest, *benign], []
        reasons.append(
            f"sources disagree: {', '.join(r.provider for r in strongest)} "
            f"{'say' if len(strongest) > 1 else 'says'} {strongest[0].verdict}, "
            f"{', '.join(r.provider for r in benign)} "
            f"{'say' if len(benign) > 1 else 'says'} benign"
        )
    elif benign:
        verdict, score, deciding, dissent = Verdict.BENIGN, benign[0].score or 0, benign, []
    else:
        verdict, score, deciding, dissent = Verdict.UNKNOWN, unknown_score, [], []
    if deciding:
        reasons.append(_said(deciding))
    if dissent:
        reasons.append(f"disagreeing: {_said(dissent)}")
    if not deciding and answered:
        reasons.append(f"nothing known to {', '.join(r.provider for r in answered)}")
    others = [r for r in results if r.status is not SourceStatus.ANSWERED]
    if others and not internal:
        reasons.extend(f"{r.provider} {r.status.value}: {r.reason}" for r in others)
    return ObservableVerdict(
        observable=observable,
        tlp=tlp,
        verdict=verdict,
        score=max(0, min(100, score)),
        reasons=reasons[:MAX_REASONS],
        by=[r.provider for r in deciding],
        sources=list(results),
        internal=internal,
        refused=refused,
    )
