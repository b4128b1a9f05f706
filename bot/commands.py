"""The `/soar` slash command: acknowledge at once, then answer privately through the
command's `response_url`.

Each verb checks its permission on the server; changes to a case become `command`
signals with an id derived from the command's `trigger_id` (a merge's id is derived from
the two cases, so asking twice merges once).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.cases import change_case
from bot.channel import SlackChannel
from bot.command_parser import SoarCommand, UsageError, Verb, parse
from bot.context import Bot
from bot.ids import SLASH_COMMAND
from bot.messages import Rendered, case_message
from bot.mrkdwn import code, escape
from bot.permissions import refusal
from bot.publisher import case_key
from bot.replies import approvals_reply, cases_reply, help_reply, text_reply
from bot.settings import Permission
from soar.approvals.models import ApprovalState
from soar.cases import service
from soar.cases.models import CaseCommand, CaseCommandKind, CaseState
from soar.containment import service as containment
from soar.containment.service import ContainmentAsk, ContainmentRequest
from soar.errors import NotFoundError, OperationError
from soar.notifications.models import CaseContext
from soar.reports.kinds import ReportFormat, ReportKind
from soar.reports.service import ReportConfigError, render_case_report

RECENT = 50
NEEDS = {
    Verb.ASSIGN: Permission.TRIAGE,
    Verb.SEVERITY: Permission.TRIAGE,
    Verb.ACK: Permission.TRIAGE,
    Verb.TICKET: Permission.TRIAGE,
    Verb.CLOSE: Permission.CLOSE,
    Verb.MERGE: Permission.CLOSE,
    Verb.BLOCK_IP: Permission.CONTAIN,
    Verb.ISOLATE: Permission.CONTAIN,
}
"""Verbs needing more than `read`, which every verb needs."""
KINDS = {
    Verb.ASSIGN: CaseCommandKind.ASSIGN,
    Verb.SEVERITY: CaseCommandKind.SET_SEVERITY,
    Verb.NOTE: CaseCommandKind.NOTE,
    Verb.ESCALATE: CaseCommandKind.ESCALATE,
    Verb.ACK: CaseCommandKind.ACKNOWLEDGE,
    Verb.TICKET: CaseCommandKind.TICKET,
    Verb.CLOSE: CaseCommandKind.CLOSE,
}


def register(app: AsyncApp, bot: Bot) -> None:
    """Add the `/soar` handler to the app."""

    @app.command(SLASH_COMMAND)
    async def soar(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        reply = await answer(bot, command)
        await respond(
            text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False
        )


async def answer(bot: Bot, command: dict[str, Any]) -> Rendered:
    """The private answer to one `/soar` command line."""
    user = command["user_id"]
    try:
        parsed = parse(command.get("text") or "")
    except UsageError as error:
        return help_reply(str(error))
    for permission in (Permission.READ, NEEDS.get(parsed.verb)):
        if permission is not None and not await bot.permissions.allows(user, permission):
            return text_reply(f":no_entry: {refusal(permission)}")
    request_id = f"slack:{command.get('trigger_id') or command.get('command_ts') or user}"
    match parsed.verb:
        case Verb.HELP:
            return help_reply()
        case Verb.CASE:
            return await _show_case(bot, parsed.case_id or "")
        case Verb.CASES:
            return await _list_cases(bot, user, parsed.scope)
        case Verb.REPORT:
            return await _report(bot, parsed.case_id or "", parsed.report)
        case Verb.APPROVALS:
            pending = await bot.store.list_approvals(state=ApprovalState.PENDING, limit=RECENT)
            return approvals_reply(pending, bot.people)
        case Verb.BLOCK_IP | Verb.ISOLATE:
            return await _contain(bot, user, parsed, request_id)
        case Verb.MERGE:
            return await _merge(bot, user, parsed)
        case _:
            order = _case_command(bot, user, parsed, request_id, KINDS[parsed.verb])
            permission = NEEDS.get(parsed.verb, Permission.READ)
            return text_reply(
                (await change_case(bot, user, parsed.case_id, order, permission)).text
            )


def _case_command(
    bot: Bot, user: str, parsed: SoarCommand, request_id: str, kind: CaseCommandKind
) -> CaseCommand:
    return CaseCommand(
        id=request_id,
        kind=kind,
        actor=bot.people.name(user),
        text=parsed.text,
        assignee=bot.people.name(parsed.user) if parsed.user else None,
        severity=parsed.severity,
        resolution=parsed.resolution,
        data={
            key: value
            for key, value in (("to", parsed.level), ("system", parsed.system))
            if value is not None
        },
    )


async def _merge(bot: Bot, user: str, parsed: SoarCommand) -> Rendered:
    """Merge one case into another, as the API and the CLI do (a merged case closes)."""
    try:
        sent = await service.merge_cases(
            bot.temporal,
            bot.store,
            parsed.case_id or "",
            parsed.into or "",
            actor=bot.people.name(user),
            reason=parsed.text,
        )
    except OperationError as error:
        return text_reply(f":warning: {escape(error.message)}")
    if sent.already:
        return text_reply(f"Case {code(sent.case.id)} was merged into {code(sent.into)} already.")
    return text_reply(
        f":white_check_mark: Merging case {code(sent.case.id)} into {code(sent.into)}: its "
        "alerts, timeline and open approvals move there, and it closes."
    )


async def _show_case(bot: Bot, case_id: str) -> Rendered:
    try:
        case = await service.find_case(bot.store, case_id)
    except NotFoundError as error:
        return text_reply(f":warning: {escape(str(error))}")
    shown = await bot.publisher.messages.get(case_key(case.id))
    context = CaseContext.model_validate(shown.context) if shown and shown.context else None
    return case_message(case, context or CaseContext(), bot.links, bot.people)


async def _report(bot: Bot, case_id: str, kind: ReportKind) -> Rendered:
    """The case's summary as Block Kit, the same report `soar report case` and the API
    render (:func:`soar.reports.service.render_case_report`)."""
    try:
        report = await render_case_report(
            bot.store, case_id, kind, ReportFormat.SLACK, bot.settings
        )
    except NotFoundError as error:
        return text_reply(f":warning: {escape(error.message)}")
    except ReportConfigError as error:
        return text_reply(f":warning: The report cannot be made: {escape(error.message)}")
    return Rendered(report.text, report.blocks or [])


async def _list_cases(bot: Bot, user: str, scope: str) -> Rendered:
    if scope == "mine":
        cases = await bot.store.list_cases(assignee=bot.people.name(user), limit=RECENT)
        return cases_reply("Your cases", cases, bot.links)
    cases = await bot.store.list_cases(limit=RECENT)
    if scope == "open":
        closed = (CaseState.RESOLVED, CaseState.CLOSED)
        cases = [case for case in cases if case.state not in closed]
    return cases_reply("Open cases" if scope == "open" else "Recent cases", cases, bot.links)


async def _contain(bot: Bot, user: str, parsed: SoarCommand, request_id: str) -> Rendered:
    """Start the containment playbook with its approval, as the CLI and the API do."""
    ask = ContainmentAsk.BLOCK_IP if parsed.verb is Verb.BLOCK_IP else ContainmentAsk.ISOLATE
    target = parsed.target or ""
    try:
        started = await containment.request_containment(
            bot.temporal,
            bot.settings.temporal.task_queue,
            ContainmentRequest(
                ask=ask,
                target=target,
                requested_by=bot.people.name(user),
                source="slack",
                request_id=request_id,
                ttl_seconds=parsed.ttl_seconds,
            ),
            [SlackChannel.name],  # its approval request is posted for Slack's deciders
        )
    except OperationError as error:
        return text_reply(f":warning: {escape(error.message)}")
    verb = containment.KINDS[ask].verb
    return text_reply(
        f":hourglass_flowing_sand: Asked to {verb} {code(target)}: playbook "
        f"{code(started.playbook)} is running ({code(started.workflow_id)}) and will ask for "
        "approval before acting. You cannot approve your own request."
    )
