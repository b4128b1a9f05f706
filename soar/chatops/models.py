"""What workflows send the Slack activities, and what they get back.

Plain pydantic models and activity names, free of I/O: workflow code imports this
module through `workflow.unsafe.imports_passed_through()` and calls the activities by
name, so the sandbox never imports `slack_sdk`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from soar.alerts.models import Alert
from soar.cases.models import Case, TimelineEvent
from soar.enrichment.models import AssetContext, Enrichment, IdentityContext, Triage, Verdict

POST_CASE_MESSAGE = "slack.post_case_message"
POST_TIMELINE_REPLY = "slack.post_timeline_reply"
POST_APPROVAL_MESSAGE = "slack.post_approval_message"
UPDATE_APPROVAL_MESSAGE = "slack.update_approval_message"
NOTIFY_ESCALATION = "slack.notify_escalation"
NOTIFY_PERSON = "slack.notify_person"

MAX_REASONS = 5
MAX_CONTEXTS = 5
MAX_VERDICTS = 5


class ProviderVerdict(BaseModel):
    """What one enrichment provider said about one observable, in a line."""

    provider: str
    value: str
    verdict: Verdict
    score: int
    reason: str | None = None

    @classmethod
    def of(cls, enrichment: Enrichment) -> ProviderVerdict:
        return cls(
            provider=enrichment.provider,
            value=enrichment.observable.value,
            verdict=enrichment.verdict,
            score=enrichment.score,
            reason=enrichment.reasons[0] if enrichment.reasons else None,
        )


class CaseContext(BaseModel):
    """What a case message shows beyond the case: the latest alert's origin and triage.

    Kept with the message, so an update caused by a note (which carries no alert) still
    shows the verdict.
    """

    source: str | None = None
    rule: str | None = None
    link: str | None = None
    verdict: Verdict | None = None
    score: int | None = None
    reasons: list[str] = Field(default_factory=list)
    verdicts: list[ProviderVerdict] = Field(default_factory=list)
    assets: list[AssetContext] = Field(default_factory=list)
    identities: list[IdentityContext] = Field(default_factory=list)

    @classmethod
    def of(cls, alert: Alert, triage: Triage | None) -> CaseContext:
        """The context of one alert and its triage, trimmed to what the message shows."""
        return cls(
            source=alert.source,
            rule=alert.rule.name or alert.rule.id,
            link=alert.link,
            verdict=triage.verdict if triage else None,
            score=triage.score if triage else None,
            reasons=triage.reasons[:MAX_REASONS] if triage else [],
            verdicts=_strongest_verdicts(triage),
            assets=triage.assets[:MAX_CONTEXTS] if triage else [],
            identities=triage.identities[:MAX_CONTEXTS] if triage else [],
        )


def _strongest_verdicts(triage: Triage | None) -> list[ProviderVerdict]:
    """The providers' verdicts that say something, most malicious first."""
    if triage is None:
        return []
    telling = [e for e in triage.enrichments if e.verdict is not Verdict.UNKNOWN or e.reasons]
    telling.sort(key=lambda e: e.score, reverse=True)
    return [ProviderVerdict.of(e) for e in telling[:MAX_VERDICTS]]


class CaseMessageRequest(BaseModel):
    """Input of `slack.post_case_message`: the case as it is now, and the alert (without
    its raw payload) and triage that last changed it, when an alert did."""

    case: Case
    alert: Alert | None = None
    triage: Triage | None = None


class TimelineReplyRequest(BaseModel):
    """Input of `slack.post_timeline_reply`: new timeline entries of one case, posted as
    one reply in the case message's thread. Alert attachments are left out: the case
    message counts them."""

    case_id: str = Field(min_length=1)
    events: list[TimelineEvent] = Field(default_factory=list)


class EscalationNotice(BaseModel):
    """Input of `slack.notify_escalation`. `id` is deterministic (the escalate command's
    id), so the escalation channel hears of it once however often it is sent."""

    id: str = Field(min_length=1)
    case_id: str = Field(min_length=1)
    actor: str
    reason: str | None = None
    to: str | None = Field(default=None, description="A Slack user id or a person's name.")


class PersonNotice(BaseModel):
    """Input of `slack.notify_person`: a playbook telling someone what happened. `to` is a
    product user name (mapped to Slack by `[slack.users]`), a Slack user id or a channel
    id; `id` is deterministic (the timeline entry's), so the person hears it once."""

    id: str = Field(min_length=1)
    case_id: str = Field(min_length=1)
    to: str = Field(min_length=1)
    text: str


PostOutcome = Literal["posted", "updated", "unchanged", "skipped"]


class SlackPost(BaseModel):
    """What a Slack activity did: `skipped` when Slack or the channel is not configured,
    `unchanged` when a newer or equal version is already shown."""

    outcome: PostOutcome
    channel: str | None = None
    ts: str | None = None
