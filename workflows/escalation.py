"""The case workflow's escalation: its chain climbing on durable timers.

The :class:`Escalator` holds the case's :class:`EscalationState` and turns what falls
due (`soar.escalation.chain`) into timeline entries, notices through the case's outbox
(a channel, people, a group's members), pages and tickets. The case workflow tells it
what happened — an acknowledgement, a decision awaited or taken, the case closed, a
manual escalation — and sleeps until :meth:`Escalator.wake`. Everything it has done is
in its state, which the case carries over continue-as-new, so a restarted worker neither
repeats nor skips a level; pages and tickets are idempotent at the vendor (the case id
is the dedup key and the correlation id).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from soar.cases.models import Case, CaseCommand, CaseState, TimelineKind
    from soar.cases.reducer import Entry
    from soar.escalation.chain import (
        BreachDue,
        Due,
        EscalationState,
        ReminderDue,
        breach_key,
        due,
        level_times,
        new_episode,
        next_level,
        next_wake,
    )
    from soar.escalation.chain import active as chain_active
    from soar.escalation.models import Condition
    from soar.notifications.models import EscalationNotice
    from soar.paging.models import PAGE, PageAction, PageRequest
    from soar.tickets.models import (
        COMMENT_TICKET,
        MAX_OBSERVABLES,
        OPEN_TICKET,
        OpenTicket,
        TicketComment,
        TicketRef,
    )

from workflows.notifications import Outbox

ESCALATION_CHAIN = "escalation-chain"
"""The patch that gave cases their escalation chain (timers, pages, tickets)."""
ATTEMPT_TIMEOUT = timedelta(seconds=75)
"""One attempt may wait out a vendor's rate limit (`max_wait_seconds`) plus its timeout."""
DELIVERY_TIMEOUT = timedelta(minutes=3)
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=20)
)
"""A level's page or ticket is retried for up to `DELIVERY_TIMEOUT`, then recorded as
failed and the chain goes on: a vendor that is down must not stop the climb. (Commands
that arrive meanwhile — an acknowledgement — are applied right after.)"""


def _why(error: ActivityError) -> str:
    cause = error.cause
    return (getattr(cause, "message", None) or str(cause or error))[:500]


class Escalator:
    """See the module docstring. `state` is None for a case without a policy."""

    def __init__(self, state: EscalationState | None, outbox: Outbox) -> None:
        self.state = state
        self._outbox = outbox

    @property
    def active(self) -> bool:
        """Whether a level or a breach is still to come (the case stays open for it)."""
        return self.state is not None and chain_active(self.state)

    def wake(self) -> datetime | None:
        """When something next falls due."""
        return next_wake(self.state) if self.state is not None else None

    async def run_due(self, case: Case) -> list[Entry]:
        """Carry out everything due now, in order; the timeline entries it makes."""
        if self.state is None:
            return []
        entries: list[Entry] = []
        for step in due(self.state, workflow.now()):
            entries.extend(await self._carry_out(case, step))
        return entries

    async def _carry_out(self, case: Case, step: Due) -> list[Entry]:
        assert self.state is not None
        if isinstance(step, BreachDue):
            self.state.breached.append(breach_key(self.state, step))
            wanted = "acknowledged" if step.sla == "acknowledge" else "decided"
            return [
                Entry(
                    TimelineKind.SLA_BREACHED,
                    "system",
                    f"Not {wanted} in time (due {step.due.isoformat(timespec='seconds')})",
                    data={"sla": step.sla, "due": step.due.isoformat()},
                )
            ]
        if isinstance(step, ReminderDue):
            self.state.reminded_at = workflow.now()
            waited = int((workflow.now() - self.state.started_at).total_seconds() // 60)
            return [
                Entry(
                    TimelineKind.NOTE,
                    "system",
                    f"Reminder: nobody has acknowledged this case ({waited} min)",
                    data={"reminder": True},
                )
            ]
        self.state.fired.append(step.key(self.state.episode))
        return await self._fire(case, step.index, "system", None, step.key(self.state.episode))

    async def escalate_by_hand(self, case: Case, command: CaseCommand) -> list[Entry] | None:
        """A person's escalation through the same path: the level named by `to` (a name
        or a number), else the next one due. None when the case has no policy or `to`
        names no level (a person): the escalation is announced the old way."""
        if self.state is None or not self.state.policy.levels:
            return None
        wanted = command.data.get("to")
        policy = self.state.policy
        if isinstance(wanted, str) and wanted.strip():
            index = policy.find_level(wanted)
            if index is None:
                return None  # not a level: a person, announced the old way
        else:
            upcoming = next_level(self.state)
            index = upcoming.index if upcoming is not None else len(policy.levels) - 1
            if upcoming is not None:
                self.state.fired.append(upcoming.key(self.state.episode))
        return await self._fire(case, index, command.actor, command.text, f"manual:{command.id}")

    async def _fire(
        self, case: Case, index: int, actor: str, reason: str | None, key: str
    ) -> list[Entry]:
        """Notify every target of level `index`; one entry for the level, one per ticket."""
        assert self.state is not None
        fired = workflow.now()  # the entry says when the level fired, not when its page answered
        policy = self.state.policy
        level = policy.levels[index]
        name = policy.level_name(index)
        notice_id = f"{case.id}:escalation:{key}"
        outcomes: list[str] = []
        entries: list[Entry] = []
        members = self.state.members[index] if index < len(self.state.members) else []
        if level.channel or members:
            self._outbox.escalation(
                EscalationNotice(
                    id=notice_id,
                    case_id=case.id,
                    actor=actor,
                    reason=reason,
                    level=name,
                    channel=level.channel,
                    people=members,
                )
            )
            outcomes.append("announced")
        if level.page:
            outcomes.append(await self._page(case, level.page, PageAction.TRIGGER))
        if level.ticket:
            ticket_entry = await self._ticket(case, level.ticket)
            outcomes.append(ticket_entry.data.get("outcome", "ticket"))
            entries.append(ticket_entry)
        targets = ", ".join(level.targets())
        summary = f"Escalated to {name} ({targets}): {'; '.join(outcomes)}"
        entries.insert(
            0,
            Entry(
                TimelineKind.ESCALATION_LEVEL,
                actor,
                summary,
                reason=reason,
                data={
                    "level": name,
                    "index": index,
                    "targets": level.targets(),
                    "outcome": outcomes,
                    "episode": self.state.episode,
                    "key": key,
                },
                at=fired,
            ),
        )
        return entries

    async def _page(self, case: Case, pager: str, action: PageAction) -> str:
        assert self.state is not None
        try:
            await workflow.execute_activity(
                PAGE,
                PageRequest(
                    pager=pager,
                    action=action,
                    case_id=case.id,
                    summary=f"[{case.severity.value}] {case.title}"[:1024],
                    severity=case.severity,
                    details={"alerts": str(case.alert_count), "state": case.state.value},
                ),
                start_to_close_timeout=ATTEMPT_TIMEOUT,
                schedule_to_close_timeout=DELIVERY_TIMEOUT,
                retry_policy=DELIVERY_RETRY,
            )
        except ActivityError as error:
            return f"{pager}: page failed: {_why(error)}"
        if action is PageAction.TRIGGER and pager not in self.state.paged:
            self.state.paged.append(pager)
        return f"{pager}: {action.value}"

    async def _ticket(self, case: Case, system: str) -> Entry:
        assert self.state is not None
        try:
            link: TicketRef = await workflow.execute_activity(
                OPEN_TICKET,
                OpenTicket(
                    system=system,
                    case_id=case.id,
                    title=case.title or case.id,
                    description=_description(case),
                    severity=case.severity,
                    observables=case.observables[:MAX_OBSERVABLES],
                ),
                result_type=TicketRef,
                start_to_close_timeout=ATTEMPT_TIMEOUT,
                schedule_to_close_timeout=DELIVERY_TIMEOUT,
                retry_policy=DELIVERY_RETRY,
            )
        except ActivityError as error:
            why = _why(error)
            return Entry(
                TimelineKind.TICKET_FAILED,
                "system",
                f"No {system} ticket: {why}",
                reason=why,
                data={"system": system, "outcome": f"{system}: ticket failed"},
            )
        if (system, link.key) not in self.state.tickets:
            self.state.tickets.append((system, link.key))
        return Entry(
            TimelineKind.TICKET_OPENED,
            "system",
            f"Ticket {link.key} in {system}" + ("" if link.created else " (already open)"),
            data={
                "system": system,
                "vendor": link.vendor,
                "key": link.key,
                "url": link.url,
                "outcome": f"{system}: {link.key}",
            },
        )

    async def open_ticket_by_hand(self, case: Case, command: CaseCommand) -> list[Entry]:
        """`soar cases ticket ID SYSTEM`: the same ticket a level opens, once."""
        system = str(command.data.get("system", "")).strip()
        entry = await self._ticket(case, system)
        return [
            Entry(entry.kind, command.actor, entry.summary, entry.reason, entry.data),
        ]

    async def acknowledged(self, case: Case) -> list[Entry]:
        """Someone took the case on: the "not acknowledged" levels stop; pages follow."""
        if self.state is None or self.state.acknowledged:
            return []
        waiting = _waiting_for_acknowledgement(self.state)
        self.state.acknowledged = True
        for pager in self.state.paged:
            await self._page(case, pager, PageAction.ACKNOWLEDGE)
        if not waiting:
            return []
        return [self._stopped(f"acknowledged by {case.acknowledged_by or 'someone'}")]

    async def state_changed(self, case: Case, before: CaseState) -> list[Entry]:
        """A decision became awaited (a new call for attention once the last was
        answered) or was taken (which answers it)."""
        if self.state is None:
            return []
        now = workflow.now()
        if case.state is CaseState.AWAITING_DECISION and before is not CaseState.AWAITING_DECISION:
            self.state.awaiting_since = now
            if self.state.acknowledged or not chain_active(self.state):
                self.state = new_episode(self.state, now)
            return []
        if before is CaseState.AWAITING_DECISION and case.state is not CaseState.AWAITING_DECISION:
            self.state.awaiting_since = None
            was_waiting = _waiting_for_acknowledgement(self.state)
            self.state.acknowledged = True
            if was_waiting and case.state is not CaseState.CLOSED:
                return [self._stopped("a decision was taken")]
        return []

    async def closed(self, case: Case) -> list[Entry]:
        """The case closed: every level stops, pages resolve, tickets get a closing comment."""
        if self.state is None or self.state.closed:
            return []
        self.state.closed = True
        entries: list[Entry] = []
        for pager in self.state.paged:
            await self._page(case, pager, PageAction.RESOLVE)
        for system, key in self.state.tickets:
            try:
                await workflow.execute_activity(
                    COMMENT_TICKET,
                    TicketComment(
                        system=system,
                        key=key,
                        case_id=case.id,
                        text=_closing_text(case),
                    ),
                    start_to_close_timeout=ATTEMPT_TIMEOUT,
                    schedule_to_close_timeout=DELIVERY_TIMEOUT,
                    retry_policy=DELIVERY_RETRY,
                )
            except ActivityError as error:
                entries.append(
                    Entry(
                        TimelineKind.TICKET_FAILED,
                        "system",
                        f"No closing comment on {system} {key}: {_why(error)}",
                        data={"system": system, "key": key},
                    )
                )
        return entries

    def _stopped(self, why: str) -> Entry:
        assert self.state is not None
        return Entry(
            TimelineKind.ESCALATION_STOPPED,
            "system",
            f"Escalation stopped: {why}",
            data={"episode": self.state.episode},
        )


def _waiting_for_acknowledgement(state: EscalationState) -> bool:
    """Whether a "not acknowledged" level is still to come in the episode."""
    levels = state.policy.levels
    return any(
        levels[step.index].when is Condition.NOT_ACKNOWLEDGED for step, _ in level_times(state)
    )


def _description(case: Case) -> str:
    """The ticket's description: the case in plain words (every vendor shows it as text)."""
    shown = ", ".join(f"{o.type.value} {o.value}" for o in case.observables[:20])
    lines = [
        f"SOAR case {case.id}, opened {case.created_at.isoformat(timespec='seconds')}.",
        f"Severity {case.severity.value}; {case.alert_count} alert(s); state {case.state.value}.",
        f"Observables: {shown or 'none'}.",
    ]
    if case.assignee:
        lines.append(f"Assigned to {case.assignee}.")
    return "\n".join(lines)


def _closing_text(case: Case) -> str:
    """The ticket's closing comment: how the case ended (merged cases say where to)."""
    if case.merged_into:
        return f"Case {case.id} was merged into case {case.merged_into}."
    resolution = case.resolution.value if case.resolution else "no resolution"
    return f"Case {case.id} closed as {resolution}."
