"""Renderers of the messages the bot posts: the case message, approval requests, timeline
replies and escalation notices.

Pure functions from models to Block Kit JSON. Every string that comes from an alert, a
note or a person is escaped here (see :mod:`bot.mrkdwn`) and never used as a template:
formats are the bot's own and values are only ever inserted into them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot import blocks as kit
from bot.ids import ActionId
from bot.links import Links
from bot.mrkdwn import code, date, escape, link, oneline, quoted
from bot.people import People
from soar.alerts.models import Severity
from soar.approvals.models import ApprovalRequest, ApprovalState, DecisionKind
from soar.cases.contract import case_workflow_id
from soar.cases.models import Case, CaseState, TimelineEvent, TimelineKind
from soar.containment.models import ActionState, ContainmentVerb
from soar.notifications.models import CaseContext, ProviderVerdict

MAX_OBSERVABLES = 10
MAX_SIMILAR_SHOWN = 3
"""Similar cases named on the case message's line (the rest are counted)."""
IN_FORCE = frozenset({ActionState.APPLIED.value, ActionState.VERIFIED.value})
REVERTIBLE_VERBS = frozenset(verb.value for verb in ContainmentVerb if verb.revertible)
MAX_TIMELINE_EVENTS = 40
SEVERITY_MARK = {
    Severity.INFORMATIONAL: ":white_circle:",
    Severity.LOW: ":large_blue_circle:",
    Severity.MEDIUM: ":large_yellow_circle:",
    Severity.HIGH: ":large_orange_circle:",
    Severity.CRITICAL: ":red_circle:",
}
DESTRUCTIVE_ACTIONS = frozenset(
    {
        "block",
        "contain",
        "delete",
        "deny",
        "disable",
        "isolate",
        "kill",
        "lock",
        "quarantine",
        "remove",
        "reset",
        "revoke",
        "shutdown",
        "suspend",
        "wipe",
    }
)


@dataclass(frozen=True)
class Rendered:
    """A message ready for `chat.postMessage` or `chat.update`."""

    text: str
    blocks: kit.JsonBlocks


def is_destructive(action: str) -> bool:
    """Whether approving `action` changes something people depend on (confirm first)."""
    return any(word in DESTRUCTIVE_ACTIONS for word in action.lower().replace("_", " ").split())


def case_message(case: Case, context: CaseContext, links: Links, people: People) -> Rendered:
    """The one message of a case: what it is, what triage said, where to look, and the
    buttons to document or escalate it. Re-rendered in place as the case changes."""
    revision = f"{case.updated_at.isoformat()}|{case.alert_count}"
    alerts = f"{case.alert_count} alert{'s' if case.alert_count != 1 else ''}"
    state = case.state.value.replace("_", " ")
    if case.resolution:
        state += f" ({case.resolution.value.replace('_', ' ')})"
    facts = [
        ("Severity", f"{SEVERITY_MARK[case.severity]} {case.severity.value}"),
        ("State", state),
        ("Alerts", alerts),
        ("Assignee", people.show(case.assignee) if case.assignee else "nobody"),
        (
            "Acknowledged",
            people.show(case.acknowledged_by) if case.acknowledged_by else "not yet",
        ),
        ("Source", oneline(context.source, 200) if context.source else "—"),
        ("Rule", oneline(context.rule, 300) if context.rule else "—"),
    ]
    if context.verdict is not None:
        facts.append(("Triage", f"{context.verdict.value} ({context.score}/100)"))
    body: list[Block] = [kit.header(f"{case.title}"), kit.fields(facts)]
    if case.escalated:
        body.append(kit.section(":rotating_light: *Escalated*"))
    body.extend(_observables(case))
    body.extend(_similar(context))
    if context.reasons:
        body.append(
            kit.section("*Why*\n" + "\n".join(f"• {oneline(r, 500)}" for r in context.reasons))
        )
    if context.verdicts:
        body.append(kit.section("*Enrichment*\n" + "\n".join(map(_verdict_line, context.verdicts))))
    body.extend(_surroundings(context))
    body.append(kit.context(_case_links(case, context, links)))
    body.append(
        kit.actions(
            "case.actions",
            revision,
            _case_buttons(case),
        )
    )
    text = (
        f"{case.severity.value.capitalize()} case: {oneline(case.title, 500)} ({alerts}, {state})"
    )
    return Rendered(kit.fallback(text), kit.message_blocks(body))


def _case_buttons(case: Case) -> list[ButtonElement]:
    """Acknowledge (until someone has, or the case is closed), Add note, Escalate."""
    buttons = [
        kit.button("Add note", ActionId.CASE_NOTE, case.id),
        kit.button("Escalate", ActionId.CASE_ESCALATE, case.id, style="danger"),
    ]
    if case.acknowledged_by is None and case.state is not CaseState.CLOSED:
        ack = kit.button("Acknowledge", ActionId.CASE_ACKNOWLEDGE, case.id, style="primary")
        buttons.insert(0, ack)
    return buttons


def _observables(case: Case) -> list[Block]:
    if not case.observables:
        return []
    shown = case.observables[:MAX_OBSERVABLES]
    lines = [f"• {o.type.value} {code(o.value)} ({o.role.value})" for o in shown]
    if len(case.observables) > len(shown):
        lines.append(f"• … and {len(case.observables) - len(shown)} more")
    return [kit.section("*Key observables*\n" + "\n".join(lines))]


def _similar(context: CaseContext) -> list[Block]:
    """One line naming the other open cases that share an observable with this one."""
    if not context.similar:
        return []
    named = []
    for similar in context.similar[:MAX_SIMILAR_SHOWN]:
        shares = code(similar.values[0], 100) if similar.values else "an observable"
        if similar.shared > 1:
            shares += f" and {similar.shared - 1} more"
        named.append(f"{code(similar.case_id, 100)} shares {shares}")
    others = len(context.similar) - len(named)
    tail = f"; {others} other case{'s' if others != 1 else ''}" if others > 0 else ""
    return [kit.section(f"*Similar open cases:* {'; '.join(named)}{tail}")]


def _surroundings(context: CaseContext) -> list[Block]:
    """What the inventory knows of the hosts and people involved."""
    lines = []
    for asset in context.assets:
        owner = f", owner {oneline(asset.owner, 100)}" if asset.owner else ""
        tags = f", tags {oneline(', '.join(asset.tags), 200)}" if asset.tags else ""
        lines.append(
            f"• host {code(asset.hostname)}: {asset.criticality.value} criticality{owner}{tags}"
        )
    for identity in context.identities:
        team = f", team {oneline(identity.team, 100)}" if identity.team else ""
        vip = ", *VIP*" if identity.vip else ""
        lines.append(f"• user {code(identity.user)}{team}{vip}")
    return [kit.section("*Context*\n" + "\n".join(lines))] if lines else []


def _case_links(case: Case, context: CaseContext, links: Links) -> list[str]:
    found = [
        f"Case {code(case.id)}",
        link(context.link, "SIEM"),
        link(links.workflow(case_workflow_id(case.correlation_key)), "Temporal"),
        link(links.case(case.id), "API"),
    ]
    return [piece for piece in found if piece]


def approval_message(approval: ApprovalRequest, links: Links, people: People) -> Rendered:
    """An approval request: what, on what, why, what else it affects, until when, who may
    decide and how far the quorum is. Buttons only while it is pending; afterwards, who
    settled it and when."""
    what = f"{approval.action} {approval.target}"
    approvers = [d for d in approval.decisions if d.decision is DecisionKind.APPROVE]
    progress = f"{len(approvers)} of {approval.quorum} approval{'s' if approval.quorum > 1 else ''}"
    title = {
        ApprovalState.PENDING: "Approval needed",
        ApprovalState.APPROVED: "Approved",
        ApprovalState.DENIED: "Denied",
        ApprovalState.EXPIRED: "Expired",
        ApprovalState.CANCELLED: "Cancelled",
    }[approval.state]
    facts = [
        ("Action", oneline(approval.action, 200)),
        ("Target", code(approval.target, 300)),
        ("Requested by", people.show(approval.requested_by)),
        ("Expires", date(approval.expires_at)),
        ("Who may decide", _deciders(approval.deciders, people)),
        ("Progress", progress),
    ]
    body: list[Block] = [
        kit.header(f"{title}: {what}"),
        kit.section(f"*Reason*\n{quoted(approval.reason, 1400)}"),
        kit.section(f"*Blast radius*\n{quoted(approval.blast_radius, 1400)}"),
        kit.fields(facts),
    ]
    if approval.decisions:
        body.append(kit.section("*Decisions*\n" + "\n".join(_decision_lines(approval, people))))
    body.append(kit.context(_approval_links(approval, links)))
    revision = f"{approval.state.value}|{len(approval.decisions)}"
    if approval.state is ApprovalState.PENDING:
        body.append(_decision_buttons(approval, revision))
    else:
        body.append(kit.section(_settlement(approval, people), name="approval.settled"))
    text = f"{title}: {oneline(what, 500)} ({progress})"
    return Rendered(kit.fallback(text), kit.message_blocks(body))


def _deciders(references: Sequence[str], people: People) -> str:
    shown = []
    for reference in references[:20]:
        kind, _, name = reference.partition(":")
        shown.append(
            f"{kind} {oneline(name, 80)}"
            if kind in ("group", "role") and name
            else people.show(reference)
        )
    more = f" and {len(references) - 20} more" if len(references) > 20 else ""
    return ", ".join(shown) + more


def _decision_lines(approval: ApprovalRequest, people: People) -> list[str]:
    lines = []
    for decision in approval.decisions[:20]:
        verb = "approved" if decision.decision is DecisionKind.APPROVE else "denied"
        reason = f": {oneline(decision.reason, 300)}" if decision.reason else ""
        lines.append(f"• {people.show(decision.user)} {verb} {date(decision.at)}{reason}")
    return lines


def _approval_links(approval: ApprovalRequest, links: Links) -> list[str]:
    found = [
        f"Case {code(approval.case_id)} · playbook {code(approval.playbook)}",
        link(links.workflow(approval.workflow_id), "Temporal"),
        link(links.approval(approval.id), "API"),
    ]
    return [piece for piece in found if piece]


def _decision_buttons(approval: ApprovalRequest, revision: str) -> Block:
    what = f"{approval.action} {approval.target}"
    check = (
        kit.confirm(
            "Approve this action?",
            f"*{oneline(what, 200)}*\n{quoted(approval.blast_radius, 200)}",
            "Approve",
        )
        if is_destructive(approval.action)
        else None
    )
    return kit.actions(
        "approval.actions",
        revision,
        [
            kit.button("Approve", ActionId.APPROVE, approval.id, style="primary", confirm=check),
            kit.button("Approve with reason…", ActionId.APPROVE_WITH_REASON, approval.id),
            kit.button("Deny", ActionId.DENY, approval.id, style="danger"),
        ],
    )


def _settlement(approval: ApprovalRequest, people: People) -> str:
    at = date(approval.settled_at) if approval.settled_at else "an earlier time"
    match approval.state:
        case ApprovalState.APPROVED:
            return f":white_check_mark: Approved by {_settled_by(approval, people)} at {at}"
        case ApprovalState.DENIED:
            denial = next((d for d in approval.decisions if d.decision is DecisionKind.DENY), None)
            reason = f"\n{quoted(denial.reason, 1000)}" if denial and denial.reason else ""
            return f":no_entry: Denied by {_settled_by(approval, people)} at {at}{reason}"
        case ApprovalState.EXPIRED:
            return f":hourglass: Expired at {date(approval.expires_at)} without a decision"
        case _:
            return f":heavy_multiplication_x: Cancelled at {at}"


def _settled_by(approval: ApprovalRequest, people: People) -> str:
    """Who settled the request: every approver of an approved one, else whoever denied."""
    if approval.state is ApprovalState.APPROVED:
        return ", ".join(
            people.show(d.user) for d in approval.decisions if d.decision is DecisionKind.APPROVE
        )
    return people.show(approval.settled_by) if approval.settled_by else "someone"


def _verdict_line(verdict: ProviderVerdict) -> str:
    line = (
        f"• {oneline(verdict.provider, 60)} on {code(verdict.value)}: "
        f"{verdict.verdict.value} ({verdict.score}/100)"
    )
    return line + (f" — {oneline(verdict.reason, 300)}" if verdict.reason else "")


def timeline_reply(events: Sequence[TimelineEvent], people: People) -> Rendered | None:
    """One thread reply for new timeline entries; `None` when nothing is worth a reply
    (alert attachments are counted on the case message instead). A reply that says a
    containment took effect gets an Undo button for it (checked on the server when
    clicked, against `slack.permissions.contain`)."""
    shown = [e for e in events if e.kind != TimelineKind.ALERT_ATTACHED]
    if not shown:
        return None
    body: list[Block] = [
        kit.section(_timeline_line(e, people)) for e in shown[:MAX_TIMELINE_EVENTS]
    ]
    if len(shown) > MAX_TIMELINE_EVENTS:
        body.append(kit.context([f"… and {len(shown) - MAX_TIMELINE_EVENTS} more entries"]))
    undo = _undo_buttons(shown)
    if undo is not None:
        body.append(undo)
    first = shown[0]
    text = f"{first.kind.replace('_', ' ')}: {oneline(first.summary, 500)}"
    return Rendered(kit.fallback(text), kit.message_blocks(body))


def _undo_buttons(events: Sequence[TimelineEvent]) -> ActionsBlock | None:
    """One Undo button per action these entries say is in force and can be undone."""
    undoable: dict[str, dict[str, Any]] = {}
    for event in events:
        action_id, command = event.data.get("action_id"), event.data.get("command")
        if (
            event.kind == TimelineKind.CONTAINMENT
            and isinstance(action_id, str)
            and isinstance(command, dict)
            and event.data.get("state") in IN_FORCE
            and command.get("action") in REVERTIBLE_VERBS
        ):
            undoable.setdefault(action_id, command)
    if not undoable:
        return None
    buttons = [
        kit.button(
            f"Undo {command['action']} {(command.get('target') or {}).get('value', '')}",
            ActionId.UNDO,
            action_id,
            style="danger",
        )
        for action_id, command in undoable.items()
    ]
    return kit.actions("containment.undo", "\n".join(undoable), buttons)


def _timeline_line(event: TimelineEvent, people: People) -> str:
    kind = escape(event.kind.replace("_", " ").capitalize())
    line = f"{date(event.at, '{time}')} *{kind}* · {people.show(event.actor)}\n"
    line += (
        oneline(event.summary, 1000)
        if event.kind != TimelineKind.NOTE
        else quoted(event.summary, 2000)
    )
    if event.reason:
        line += f"\n_{oneline(event.reason, 800)}_"
    ticket = event.data.get("url") if event.kind == TimelineKind.TICKET_OPENED else None
    shown = link(ticket, f"Open {event.data.get('key', 'the ticket')}") if ticket else None
    if shown:
        line += f"\n{shown}"
    return line


def escalation_message(
    case: Case | None,
    case_id: str,
    actor: str,
    reason: str | None,
    to: str | None,
    people: People,
    links: Links,
    *,
    permalink: str | None = None,
    level: str | None = None,
) -> Rendered:
    """The notice in the escalation channel (or a level's channel or recipient): which
    case, by whom, to whom, why, and a link to the case's own message."""
    title = oneline(case.title, 200) if case else code(case_id)
    severity = f"{SEVERITY_MARK[case.severity]} {case.severity.value} · " if case else ""
    target = f" to {people.show(to)}" if to else ""
    if level:
        target += f" ({oneline(level, 80)})"
    body: list[Block] = [
        kit.section(
            f":rotating_light: *Escalated{target}* by {people.show(actor)}\n{severity}{title}"
        )
    ]
    if reason:
        body.append(kit.section(f"*Why*\n{quoted(reason, 2000)}"))
    pieces = [
        f"Case {code(case_id)}",
        link(permalink, "case message"),
        link(links.case(case_id), "API"),
    ]
    if case is not None:
        pieces.append(link(links.workflow(case_workflow_id(case.correlation_key)), "Temporal"))
    body.append(kit.context([piece for piece in pieces if piece]))
    text = f"Case escalated{target}: {title}"
    return Rendered(kit.fallback(text), kit.message_blocks(body))


def person_notice(text: str, case_id: str, links: Links, permalink: str | None) -> Rendered:
    """A playbook's message to one person or channel, with where to read more."""
    pieces = [
        f"Case {code(case_id)}",
        link(permalink, "case message"),
        link(links.case(case_id), "API"),
    ]
    body: list[Block] = [
        kit.section(f":mega: {quoted(text, 2500)}"),
        kit.context([piece for piece in pieces if piece]),
    ]
    return Rendered(kit.fallback(oneline(text, 300)), kit.message_blocks(body))
