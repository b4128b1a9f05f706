"""Gather what a case summary needs from the case store and the inventory.

One read of the case (alerts, observables, timeline, approvals with their decisions,
containment actions, enrichment verdicts) plus the full record of its most recent
alerts (for their descriptions), turned into a :class:`CaseReport`: impact with
criticality, escalation status and tickets read from the timeline, and the next steps
and open risks the facts imply. Every value is cleaned and clipped here, once, so no
template can be handed a 100 KB field or a bidirectional override.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from soar.alerts.models import Observable, ObservableType
from soar.approvals.models import ApprovalRequest
from soar.cases.models import CaseState, TimelineEvent, TimelineKind
from soar.containment.models import ActionState, ContainmentAction, ContainmentVerb
from soar.enrichment.inventory import Inventory
from soar.enrichment.models import ObservableVerdict, Verdict
from soar.errors import NotFoundError
from soar.reports.case_context import (
    ActionEntry,
    AlertLine,
    ApprovalEntry,
    AssetImpact,
    CaseReport,
    DecisionEntry,
    EscalationStatus,
    EscalationStep,
    Finding,
    SlaBreach,
    TicketEntry,
    TimelineEntry,
    UserImpact,
)
from soar.reports.text import line, paragraph, safe_url, utc
from soar.store.repository import Repository
from soar.store.views import CaseDetail

TITLE = 200
NAME = 200
DESCRIPTION = 1500
SUMMARY = 500
REASON = 300
MAX_REASONS = 3
MAX_ALERTS = 10
MAX_TIMELINE = 30
MAX_FINDINGS = 25
MAX_PEOPLE_OR_HOSTS = 20
MAX_ACTIONS = 30
MAX_APPROVALS = 20

STATE_WORDS = {
    CaseState.NEW: "new",
    CaseState.TRIAGED: "triaged",
    CaseState.AWAITING_DECISION: "waiting for a decision",
    CaseState.CONTAINED: "contained",
    CaseState.RESOLVED: "resolved",
    CaseState.CLOSED: "closed",
}
VERB_WORDS = {
    ContainmentVerb.DENY: "block",
    ContainmentVerb.CONTAIN: "isolate",
    ContainmentVerb.DISABLE: "disable",
    ContainmentVerb.REVOKE: "end the sessions of",
}
ALARM = {Verdict.MALICIOUS: 0, Verdict.SUSPICIOUS: 1, Verdict.BENIGN: 2, Verdict.UNKNOWN: 3}
FAILED = frozenset(
    state.value.replace("_", " ")
    for state in (ActionState.FAILED, ActionState.REFUSED, ActionState.NO_ACTUATOR)
)
"""Action states (in words) that leave the target uncontained."""
RETRYABLE = frozenset(
    state.value.replace("_", " ") for state in (ActionState.FAILED, ActionState.NO_ACTUATOR)
)
"""Of those, the ones a person can still carry out (a guardrail's refusal stands)."""
HOST_TYPES = (ObservableType.HOSTNAME,)
USER_TYPES = (ObservableType.USER, ObservableType.EMAIL)


async def gather_case_report(
    store: Repository, case_id: str, *, inventory: Inventory, now: datetime
) -> CaseReport:
    """The report context of case `case_id`, or :class:`NotFoundError` naming the id."""
    wanted = case_id.strip()
    detail = await store.get_case_detail(wanted, alert_limit=MAX_ALERTS)
    if detail is None:
        raise NotFoundError(f"no case with id {wanted!r}")
    alerts = await _alerts(store, detail)
    findings = _findings(detail.observables, detail.enrichment)
    actions = [_action(action) for action in detail.actions[-MAX_ACTIONS:]]
    approvals = [_approval(approval) for approval in detail.approvals[-MAX_APPROVALS:]]
    escalation = _escalation(detail.timeline, detail)
    timeline, left_out = _timeline(detail.timeline)
    latest = next((alert for alert in detail.alerts if alert.triage is not None), None)
    report = CaseReport(
        case_id=line(detail.id, NAME),
        title=line(detail.title, TITLE),
        severity=detail.severity,
        state=STATE_WORDS[detail.state],
        open=detail.state not in (CaseState.RESOLVED, CaseState.CLOSED),
        resolution=detail.resolution.value.replace("_", " ") if detail.resolution else None,
        correlation_key=line(detail.correlation_key, NAME),
        tags=[line(tag, NAME) for tag in detail.tags[:MAX_PEOPLE_OR_HOSTS]],
        created_at=detail.created_at,
        updated_at=detail.updated_at,
        generated_at=now,
        alert_count=detail.alert_count,
        sources=_distinct(line(alert.source, NAME) for alert in detail.alerts),
        rules=_distinct(line(alert.rule_name, NAME) for alert in detail.alerts if alert.rule_name),
        what_happened="",
        description=alerts[0].description if alerts else "",
        verdict=latest.triage.verdict if latest and latest.triage else None,
        score=latest.triage.score if latest and latest.triage else None,
        assets=_assets(detail.observables, inventory),
        users=_users(detail.observables, inventory),
        findings=findings[:MAX_FINDINGS],
        findings_left_out=max(len(findings) - MAX_FINDINGS, 0),
        alerts=alerts,
        timeline=timeline,
        timeline_left_out=left_out,
        actions=actions,
        approvals=approvals,
        assignee=line(detail.assignee, NAME) or None,
        escalation=escalation,
        tickets=_tickets(detail.timeline),
        next_steps=[],
        open_risks=[],
    )
    return report.model_copy(
        update={
            "what_happened": _what_happened(report),
            "next_steps": _next_steps(report),
            "open_risks": _open_risks(report, findings),
        }
    )


def _distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


async def _alerts(store: Repository, detail: CaseDetail) -> list[AlertLine]:
    """The most recent alerts, newest first, with their descriptions (which only the
    full alert record holds)."""
    shown: list[AlertLine] = []
    for summary in detail.alerts[:MAX_ALERTS]:
        full = await store.get_alert(summary.id)
        triage = summary.triage
        shown.append(
            AlertLine(
                time=summary.time,
                source=line(summary.source, NAME),
                severity=summary.severity,
                title=line(summary.title, TITLE),
                rule=line(summary.rule_name, NAME),
                description=paragraph(full.description if full else None, DESCRIPTION),
                link=safe_url(summary.link),
                verdict=triage.verdict if triage else None,
                score=triage.score if triage else None,
                reasons=[line(reason, REASON) for reason in (triage.reasons if triage else [])][
                    :MAX_REASONS
                ],
            )
        )
    return shown


def _roles(observables: Sequence[Observable]) -> dict[tuple[str, str], list[str]]:
    """Each distinct (type, value) with the roles it plays, in first-seen order."""
    roles: dict[tuple[str, str], list[str]] = {}
    for observable in observables:
        found = roles.setdefault((observable.type.value, observable.value), [])
        if observable.role.value not in found:
            found.append(observable.role.value)
    return roles


def _findings(
    observables: Sequence[Observable], verdicts: Sequence[ObservableVerdict]
) -> list[Finding]:
    """Every observable with its combined verdict, most alarming first."""
    by_value = {(v.observable.type.value, v.observable.value): v for v in verdicts}
    roles = _roles(observables)
    for key, known in by_value.items():
        roles.setdefault(key, [known.observable.role.value])
    findings = []
    for (kind, value), played in roles.items():
        verdict = by_value.get((kind, value))
        reason = None
        if verdict is not None:
            reason = verdict.reasons[0] if verdict.reasons else verdict.internal
        findings.append(
            Finding(
                type=kind,
                value=line(value, NAME),
                roles=played,
                verdict=verdict.verdict if verdict else None,
                score=verdict.score if verdict else None,
                reason=line(reason, REASON) or None,
            )
        )
    return sorted(
        findings, key=lambda f: (ALARM[f.verdict] if f.verdict else len(ALARM), -(f.score or 0))
    )


def _assets(observables: Sequence[Observable], inventory: Inventory) -> list[AssetImpact]:
    """The hosts involved, most critical first."""
    assets = []
    for (kind, name), played in _roles(observables).items():
        if kind not in HOST_TYPES:
            continue
        known = inventory.host(name)
        assets.append(
            AssetImpact(
                name=line(name, NAME),
                roles=played,
                in_inventory=known is not None,
                criticality=known.criticality if known else None,
                owner=(line(known.owner, NAME) or None) if known else None,
                tags=[line(tag, NAME) for tag in known.tags] if known else [],
            )
        )
    assets.sort(key=lambda a: -(a.criticality.rank if a.criticality else -1))
    return assets[:MAX_PEOPLE_OR_HOSTS]


def _users(observables: Sequence[Observable], inventory: Inventory) -> list[UserImpact]:
    """The accounts involved, VIPs first."""
    users = []
    for (kind, name), played in _roles(observables).items():
        if kind not in USER_TYPES:
            continue
        known = inventory.user(name)
        users.append(
            UserImpact(
                name=line(name, NAME),
                roles=played,
                in_inventory=known is not None,
                team=(line(known.team, NAME) or None) if known else None,
                manager=(line(known.manager, NAME) or None) if known else None,
                vip=known.vip if known else False,
            )
        )
    users.sort(key=lambda u: not u.vip)
    return users[:MAX_PEOPLE_OR_HOSTS]


def _action(action: ContainmentAction) -> ActionEntry:
    return ActionEntry(
        verb=VERB_WORDS[action.command.action],
        target=line(action.command.target.value, NAME),
        state=action.state.value.replace("_", " "),
        in_effect=action.in_effect and action.reverted_at is None,
        actuators=[line(outcome.actuator, NAME) for outcome in action.outcomes]
        or ([line(action.actuator, NAME)] if action.actuator else []),
        created_at=action.created_at,
        applied_at=action.applied_at,
        expires_at=action.expires_at,
        reverted_at=action.reverted_at,
        detail=line(action.detail, REASON) or None,
    )


def _approval(request: ApprovalRequest) -> ApprovalEntry:
    return ApprovalEntry(
        action=line(request.action, NAME),
        target=line(request.target, NAME),
        state=request.state.value,
        reason=line(request.reason, REASON),
        blast_radius=line(request.blast_radius, REASON),
        requested_by=line(request.requested_by, NAME),
        requested_at=request.requested_at,
        expires_at=request.expires_at,
        quorum=request.quorum,
        deciders=[line(who, NAME) for who in request.deciders[:MAX_PEOPLE_OR_HOSTS]],
        decisions=[
            DecisionEntry(
                user=line(decision.user, NAME),
                decision=decision.decision.value,
                at=decision.at,
                reason=line(decision.reason, REASON) or None,
            )
            for decision in request.decisions[:MAX_PEOPLE_OR_HOSTS]
        ],
        settled_by=line(request.settled_by, NAME) or None,
        settled_at=request.settled_at,
    )


def _text(data: dict[str, Any], *keys: str) -> str:
    """The first of `keys` that `data` has, in words (a list joined), on one line."""
    for key in keys:
        value = data.get(key)
        if isinstance(value, list | tuple):
            value = "; ".join(str(item) for item in value)
        if value is not None and value != "":
            return line(str(value), NAME)
    return ""


STOPPED_PREFIX = "Escalation stopped: "


def _escalation(events: Sequence[TimelineEvent], detail: CaseDetail) -> EscalationStatus:
    """Escalation as the case and its timeline tell it: levels fired (with their targets
    and outcomes), escalations by hand, who acknowledged, SLA breaches, and why the
    chain stopped (unless a level fired again since)."""
    steps: list[EscalationStep] = []
    breaches: list[SlaBreach] = []
    acknowledged: TimelineEvent | None = None
    stopped: str | None = None
    for event in events:
        if event.kind == TimelineKind.ESCALATION_LEVEL:
            steps.append(
                EscalationStep(
                    at=event.at,
                    level=_text(event.data, "level", "index"),
                    target=_text(event.data, "target", "targets"),
                    outcome=_text(event.data, "outcome") or line(event.summary, SUMMARY),
                )
            )
            stopped = None
        elif event.kind == TimelineKind.ESCALATED:
            steps.append(
                EscalationStep(
                    at=event.at,
                    level="by hand",
                    target=line(event.actor, NAME),
                    outcome=line(event.reason or event.summary, SUMMARY),
                )
            )
        elif event.kind == TimelineKind.ACKNOWLEDGED and acknowledged is None:
            acknowledged = event
        elif event.kind == TimelineKind.SLA_BREACHED:
            breaches.append(
                SlaBreach(at=event.at, sla=_text(event.data, "sla"), due=_text(event.data, "due"))
            )
        elif event.kind == TimelineKind.ESCALATION_STOPPED:
            why = event.reason or event.summary.removeprefix(STOPPED_PREFIX)
            stopped = line(why, SUMMARY)
    acknowledged_by = (
        line(detail.acknowledged_by or (acknowledged.actor if acknowledged else None), NAME) or None
    )
    acknowledged_at = detail.acknowledged_at or (acknowledged.at if acknowledged else None)
    if stopped:
        summary = f"stopped: {stopped}"
    elif acknowledged_by:
        summary = f"acknowledged by {acknowledged_by}"
    elif steps:
        last = steps[-1]
        summary = f"at level {last.level} ({last.target}), not acknowledged"
    else:
        summary = "escalated" if detail.escalated else "not escalated"
    return EscalationStatus(
        summary=summary,
        policy=line(detail.escalation_policy, NAME) or None,
        escalated=detail.escalated or bool(steps),
        acknowledged_by=acknowledged_by,
        acknowledged_at=acknowledged_at,
        stopped=stopped,
        steps=steps[-MAX_TIMELINE:],
        breaches=breaches[-MAX_TIMELINE:],
    )


def _tickets(events: Sequence[TimelineEvent]) -> list[TicketEntry]:
    """Each ticket once, from the `ticket_opened` entries."""
    tickets: dict[tuple[str, str], TicketEntry] = {}
    for event in events:
        if event.kind != TimelineKind.TICKET_OPENED:
            continue
        ticket = TicketEntry(
            system=_text(event.data, "system"),
            vendor=_text(event.data, "vendor"),
            key=_text(event.data, "key"),
            url=safe_url(str(event.data.get("url") or "")),
            opened_at=event.at,
        )
        if ticket.key:  # a ticket asked for by hand shows once it is opened
            tickets.setdefault((ticket.system, ticket.key), ticket)
    return list(tickets.values())


def _timeline(events: Sequence[TimelineEvent]) -> tuple[list[TimelineEntry], int]:
    """The entries worth reading, the most recent `MAX_TIMELINE` of them: of the alerts
    attached, only the first and the last. Also how many were left out."""
    attached = [i for i, e in enumerate(events) if e.kind == TimelineKind.ALERT_ATTACHED]
    kept_attached = {attached[0], attached[-1]} if attached else set()
    worth = [
        event
        for i, event in enumerate(events)
        if event.kind != TimelineKind.ALERT_ATTACHED or i in kept_attached
    ]
    shown = worth[-MAX_TIMELINE:]
    entries = [
        TimelineEntry(
            at=event.at,
            kind=line(event.kind, NAME).replace("_", " "),
            actor=line(event.actor, NAME),
            summary=line(event.summary, SUMMARY),
            reason=line(event.reason, REASON) or None,
        )
        for event in shown
    ]
    return entries, len(events) - len(shown)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _what_happened(report: CaseReport) -> str:
    """The case in a few plain sentences."""
    sources = ", ".join(report.sources) or "its sources"
    sentences = [
        f"{_plural(report.alert_count, 'alert')} from {sources} since "
        f"{utc(report.created_at)}, the last at {utc(report.updated_at)}"
        + (f", on {', '.join(report.rules[:3])}" if report.rules else "")
        + "."
    ]
    involved = [f"{f.value} ({', '.join(f.roles)})" for f in report.findings[:5]]
    if involved:
        more = len(report.findings) + report.findings_left_out - len(involved)
        tail = f" and {more} more" if more > 0 else ""
        sentences.append(f"It involves {', '.join(involved)}{tail}.")
    if report.verdict is not None:
        reasons = report.alerts[0].reasons if report.alerts else []
        why = f": {reasons[0]}" if reasons else ""
        sentences.append(
            f"Triage judged the latest alert {report.verdict.value} ({report.score}/100){why}."
        )
    owner = f", assigned to {report.assignee}" if report.assignee else ", with no one assigned"
    resolution = f" as {report.resolution}" if report.resolution else ""
    sentences.append(
        f"The case is {report.severity.value} severity and {report.state}{resolution}{owner}."
    )
    in_effect = report.actions_in_effect
    if in_effect:
        what = ", ".join(f"{a.verb} {a.target}" for a in in_effect[:3])
        sentences.append(f"{_plural(len(in_effect), 'containment')} in effect: {what}.")
    return " ".join(sentences)


def _next_steps(report: CaseReport) -> list[str]:
    """What someone has to do next, most urgent first."""
    steps = [
        f"{', '.join(a.deciders)} to decide whether to {a.action} {a.target} "
        f"(requested by {a.requested_by}, expires {utc(a.expires_at)})"
        for a in report.pending_approvals
    ]
    escalation = report.escalation
    climbing = escalation.escalated and not escalation.acknowledged_by and not escalation.stopped
    if report.open and climbing:
        steps.append("Acknowledge the case to stop the escalation")
    if report.open and report.assignee is None:
        steps.append("Assign an owner: nobody is assigned")
    for action in report.actions:
        if action.in_effect and action.expires_at is not None:
            steps.append(
                f"{action.verb.capitalize()} {action.target} lapses {utc(action.expires_at)}: "
                "extend it, or let it lapse once the threat is gone"
            )
        elif action.in_effect:
            steps.append(
                f"{action.verb.capitalize()} {action.target} stays until reverted: revert it "
                "when it is no longer needed"
            )
        elif action.state in RETRYABLE:
            steps.append(f"Carry out by hand or retry: {action.verb} {action.target}")
    if report.open and not steps:
        steps.append(
            "Review the alerts and decide on containment, or close the case with its resolution"
        )
    return steps


def _covered(finding: Finding, in_effect: Sequence[ActionEntry]) -> bool:
    """Whether an action in effect contains this observable (an address inside a
    blocked network counts)."""
    for action in in_effect:
        if action.target.lower() == finding.value.lower():
            return True
        if finding.type == ObservableType.IP.value:
            try:
                if ipaddress.ip_address(finding.value) in ipaddress.ip_network(
                    action.target, strict=False
                ):
                    return True
            except ValueError:
                continue
    return False


def _open_risks(report: CaseReport, findings: Sequence[Finding]) -> list[str]:
    """What could still hurt: bad observables not contained, containment that failed,
    missed SLAs, important hosts and people involved."""
    risks = []
    in_effect = report.actions_in_effect
    if report.open:
        for finding in findings:
            if finding.verdict is Verdict.MALICIOUS and not _covered(finding, in_effect):
                risks.append(
                    f"{finding.value} is judged malicious ({finding.score}/100) and is not "
                    "contained"
                )
    for action in report.actions:
        if action.state in FAILED:
            detail = f": {action.detail}" if action.detail else ""
            risks.append(f"{action.verb.capitalize()} {action.target} {action.state}{detail}")
    for breach in report.escalation.breaches:
        due = f" (due {breach.due})" if breach.due else ""
        risks.append(f"The time to {breach.sla or 'act'} ran out{due}")
    for asset in report.critical_assets:
        owner = f", owned by {asset.owner}" if asset.owner else ""
        criticality = asset.criticality.value if asset.criticality else ""
        risks.append(f"{criticality.capitalize()} host {asset.name} is involved{owner}")
    for user in report.vip_users:
        risks.append(f"VIP user {user.name} is involved")
    if report.open:
        for approval in report.pending_approvals:
            if approval.expires_at <= report.generated_at:
                risks.append(
                    f"The request to {approval.action} {approval.target} is past its expiry "
                    f"({utc(approval.expires_at)}) without a decision"
                )
    return risks[:MAX_FINDINGS]
