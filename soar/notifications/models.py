"""What workflows ask the notification channels to show, and what a channel answers.

Plain pydantic models and activity names, free of I/O and of any chat product: the
workflows queue :class:`Notification` items and call the `notify.*` activities by name;
:mod:`soar.notifications.activities` hands each call to every configured channel (Slack,
from `bot/`, is the first). A new channel is a new implementation of
:class:`~soar.notifications.activities.NotificationChannel`, with no workflow change.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from soar.alerts.models import Alert
from soar.approvals.models import ApprovalRequest
from soar.cases.models import Case, TimelineEvent
from soar.enrichment.models import AssetContext, Enrichment, IdentityContext, Triage, Verdict

CASE_MESSAGE = "notify.case_message"
TIMELINE_REPLY = "notify.timeline_reply"
APPROVAL_REQUEST = "notify.approval_request"
APPROVAL_UPDATE = "notify.approval_update"
ESCALATION = "notify.escalation"
PERSON = "notify.person"

SLACK_ERA_NAMES = {
    CASE_MESSAGE: "slack.post_case_message",
    TIMELINE_REPLY: "slack.post_timeline_reply",
    APPROVAL_REQUEST: "slack.post_approval_message",
    APPROVAL_UPDATE: "slack.update_approval_message",
    ESCALATION: "slack.notify_escalation",
    PERSON: "slack.notify_person",
}
"""The names these activities had when Slack was the only channel: workflow runs that
started then keep calling them (see `workflows.notifications`), so workers answer both."""

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


class SimilarCaseNote(BaseModel):
    """Another open case sharing observables with the case, as its message names it."""

    case_id: str
    values: list[str] = Field(description="The first of the shared values.")
    shared: int = Field(ge=0, description="How many observables the two cases share.")


class CaseContext(BaseModel):
    """What a case message shows beyond the case: the latest alert's origin and triage,
    and the other open cases that share an observable with it.

    Kept with the message, so an update caused by a note (which carries no alert) still
    shows the verdict. `similar` is looked up by the channel each time it shows the case
    (see :func:`soar.cases.similarity.similar_cases`), never carried by a workflow.
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
    similar: list[SimilarCaseNote] = Field(default_factory=list)

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
    """One line per observable that a source judged — its combined verdict, the sources
    that decided it, and why — most alarming first; for a triage made before verdicts
    were combined, the providers' verdicts that say something."""
    if triage is None:
        return []
    judged = [v for v in triage.observables if v.by]
    if judged:
        judged.sort(key=lambda v: (v.verdict is not Verdict.UNKNOWN, v.score), reverse=True)
        return [
            ProviderVerdict(
                provider=", ".join(v.by),
                value=v.observable.value,
                verdict=v.verdict,
                score=v.score,
                reason="; ".join(v.reasons[:2]) or None,
            )
            for v in judged[:MAX_VERDICTS]
        ]
    telling = [e for e in triage.enrichments if e.verdict is not Verdict.UNKNOWN or e.reasons]
    telling.sort(key=lambda e: e.score, reverse=True)
    return [ProviderVerdict.of(e) for e in telling[:MAX_VERDICTS]]


class CaseMessageRequest(BaseModel):
    """Input of `notify.case_message`: the case as it is now, and the alert (without
    its raw payload) and triage that last changed it, when an alert did."""

    case: Case
    alert: Alert | None = None
    triage: Triage | None = None


class TimelineReplyRequest(BaseModel):
    """Input of `notify.timeline_reply`: new timeline entries of one case, posted as
    one reply in the case message's thread. Alert attachments are left out: the case
    message counts them."""

    case_id: str = Field(min_length=1)
    events: list[TimelineEvent] = Field(default_factory=list)


class EscalationNotice(BaseModel):
    """Input of `notify.escalation`. `id` is deterministic (the escalate command's
    id), so each channel announces it once however often it is sent."""

    id: str = Field(min_length=1)
    case_id: str = Field(min_length=1)
    actor: str
    reason: str | None = None
    to: str | None = Field(
        default=None, description="A person's name (or a channel's own id for them)."
    )
    level: str | None = Field(default=None, description="The escalation level, when a policy's.")
    channel: str | None = Field(
        default=None, description="Where to announce it (else the escalation channel)."
    )
    people: list[str] = Field(
        default_factory=list, description="Users told directly, each once (a level's members)."
    )


class PersonNotice(BaseModel):
    """Input of `notify.person`: a playbook telling someone what happened. `to` is a
    product user name (each channel maps it: Slack by `[slack.users]`) or a channel's own
    id of a person or a room; `id` is deterministic (the timeline entry's), so the person
    hears it once."""

    id: str = Field(min_length=1)
    case_id: str = Field(min_length=1)
    to: str = Field(min_length=1)
    text: str


DeliveryOutcome = Literal["posted", "updated", "unchanged", "skipped"]


class Delivery(BaseModel):
    """What one channel did with one notification: `skipped` when the channel has
    nowhere to show it, `unchanged` when a newer or equal version is already shown.
    Channels may add where they showed it."""

    via: str = Field(description="The channel's name.")
    outcome: DeliveryOutcome


NotificationKind = Literal["case", "reply", "approval", "escalation", "person"]


class Notification(BaseModel):
    """One queued notification: exactly the field that matches `kind` is set."""

    kind: NotificationKind
    case: CaseMessageRequest | None = None
    reply: TimelineReplyRequest | None = None
    approval: ApprovalRequest | None = None
    approval_is_new: bool = False
    escalation: EscalationNotice | None = None
    person: PersonNotice | None = None


def from_slack_era(data: Any) -> Any:
    """A workflow input saved when it carried `slack: bool` (and a `slack_queue`): the
    flag becomes the channel list `["Slack"]` or none, the queue the `outbox`, so runs
    started then replay and go on alike. For `mode="before"` validators."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if "slack" in data and "channels" not in data:
        data["channels"] = ["Slack"] if data.pop("slack") else []
    if "slack_queue" in data and "outbox" not in data:
        data["outbox"] = data.pop("slack_queue")
    return data
