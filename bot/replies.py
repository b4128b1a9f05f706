"""Renderers of the bot's private answers to `/soar`: help, case lists, pending approvals."""

from __future__ import annotations

from collections.abc import Sequence

from bot import blocks as kit
from bot.command_parser import USAGE
from bot.ids import SLASH_COMMAND
from bot.links import Links
from bot.messages import SEVERITY_MARK, Rendered
from bot.mrkdwn import code, date, escape, link, oneline
from bot.people import People
from soar.approvals.models import ApprovalRequest, DecisionKind
from soar.store.views import CaseSummary

LIST_LIMIT = 20


def text_reply(text: str) -> Rendered:
    """A reply of one section of safe mrkdwn."""
    return Rendered(kit.fallback(text), kit.message_blocks([kit.section(text)]))


def help_reply(problem: str | None = None) -> Rendered:
    """Every command, after what was wrong with the last one (if anything)."""
    lines = [f"*{SLASH_COMMAND} commands*", *(f"• {usage}" for usage in USAGE.values())]
    if problem:
        lines.insert(0, f":warning: {escape(problem)}\n")
    return text_reply("\n".join(lines))


def cases_reply(title: str, cases: Sequence[CaseSummary], links: Links) -> Rendered:
    """A list of cases, most recently updated first."""
    lines = [
        f"{SEVERITY_MARK[c.severity]} {code(c.id)} *{oneline(c.title, 150)}* · "
        f"{c.state.value.replace('_', ' ')} · {c.alert_count} alerts · "
        f"updated {date(c.updated_at)} {link(links.case(c.id), 'API') or ''}"
        for c in cases[:LIST_LIMIT]
    ]
    body = [kit.section(f"*{escape(title)}*"), *(kit.section(line) for line in lines)]
    if not lines:
        body.append(kit.section("_No cases._"))
    return Rendered(kit.fallback(f"{title}: {len(cases)}"), kit.message_blocks(body))


def approvals_reply(approvals: Sequence[ApprovalRequest], people: People) -> Rendered:
    """Pending approval requests, oldest first, with their progress and expiry."""
    lines = []
    for approval in approvals[:LIST_LIMIT]:
        approved = sum(d.decision is DecisionKind.APPROVE for d in approval.decisions)
        lines.append(
            f"*{oneline(approval.action, 100)}* {code(approval.target)} · "
            f"{approved} of {approval.quorum} · expires {date(approval.expires_at)} · "
            f"requested by {people.show(approval.requested_by)} · case {code(approval.case_id)}"
        )
    body = [kit.section("*Pending approvals*"), *(kit.section(line) for line in lines)]
    if not lines:
        body.append(kit.section("_Nothing waits for a decision._"))
    return Rendered(kit.fallback(f"Pending approvals: {len(approvals)}"), kit.message_blocks(body))
