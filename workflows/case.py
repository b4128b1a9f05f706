"""The case workflow: one open case per correlation key, id `case-<hash of key>`.

Alerts arrive by the `attach` signal (signal-with-start from correlation, so concurrent
alerts never open two cases); people and playbooks change the case by the `command`
signal. The workflow batches what arrived, records it in the store in one activity, and
starts each matching playbook once per case as a child workflow, which says when it
ends (`playbook_ended`). It continues-as-new before its history grows too large,
carrying everything over, and ends when the case is closed or when it has been quiet for
its correlation window with no playbook running. Whatever raced the end is not lost:
commands are still recorded on the case, and alerts open the next case of the same key.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from soar import search_attributes as sa
    from soar.alerts.models import Alert
    from soar.cases.activities import (
        MATCH_PLAYBOOKS,
        CorrelationActivities,
        MatchRequest,
        PlaybookLaunch,
    )
    from soar.cases.contract import (
        ATTACH_SIGNAL,
        CASE_QUERY,
        CASE_WORKFLOW,
        COMMAND_SIGNAL,
        PLAYBOOK_ENDED_SIGNAL,
        AttachAlert,
        CaseInput,
        PlaybookEnded,
        PlaybookStart,
        playbook_workflow_id,
    )
    from soar.cases.models import (
        Case,
        CaseCommand,
        CaseState,
        TimelineEvent,
        TimelineKind,
    )
    from soar.cases.reducer import Entry, apply_command, attach_alert
    from soar.escalation.chain import EscalationState
    from soar.escalation.models import Policy
    from soar.notifications.models import CaseMessageRequest, EscalationNotice
    from soar.store.activities import CaseChanges, StoreActivities

from workflows.escalation import ESCALATION_CHAIN, Escalator
from workflows.notifications import Outbox

STORE_TIMEOUT = timedelta(seconds=60)
RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
MAX_SEEN_ALERT_IDS = 20_000
TERMINAL = (CaseState.CLOSED,)


def _signature(alert: Alert) -> str:
    """What decides which playbooks match: alerts alike in this need no new match."""
    types = ",".join(sorted({o.type.value for o in alert.observables}))
    text = f"{alert.source}|{alert.rule.name}|{alert.title}|{alert.severity.level}|{types}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@workflow.defn(name=CASE_WORKFLOW)
class CaseWorkflow:
    """Owns one case; see the module docstring."""

    def __init__(self) -> None:
        self._alerts: list[AttachAlert] = []
        self._commands: list[CaseCommand] = []
        self._ended: list[PlaybookEnded] = []
        self._case: Case | None = None
        self._over = False
        self._tagged: tuple[str, str, str] | None = None

    @workflow.signal(name=ATTACH_SIGNAL)
    def attach(self, attach: AttachAlert) -> None:
        self._alerts.append(attach)

    @workflow.signal(name=COMMAND_SIGNAL)
    def command(self, command: CaseCommand) -> None:
        self._commands.append(command)

    @workflow.signal(name=PLAYBOOK_ENDED_SIGNAL)
    def playbook_ended(self, ended: PlaybookEnded) -> None:
        self._ended.append(ended)

    @workflow.query(name=CASE_QUERY)
    def case(self) -> Case | None:
        return self._case

    @workflow.run
    async def run(self, input: CaseInput) -> Case | None:
        self._state = input
        self._alerts = input.pending_alerts + self._alerts
        self._commands = input.pending_commands + self._commands
        self._case = input.case
        self._seen = set(input.seen_alert_ids)
        self._seen_commands = set(input.seen_command_ids)
        self._watchers: set[asyncio.Task[None]] = set()
        self._cancelling: list[asyncio.Task[None]] = []
        self._outbox = Outbox(input.channels, input.outbox)
        self._chain = workflow.patched(ESCALATION_CHAIN)
        self._escalator = Escalator(input.escalation, self._outbox)
        window = timedelta(seconds=input.window_seconds)
        self._quiet_from = workflow.now()
        while True:
            if self._chain:
                await self._escalate_due()
            try:
                await workflow.wait_condition(self._has_news, timeout=self._timeout(window))
            except TimeoutError:
                if self._chain and workflow.now() < self._quiet_from + window:
                    continue  # woken for the escalation chain, not by the quiet window
                await self._forget_vanished_playbooks()
                if not (self._state.running_playbooks or self._has_news()):
                    if self._escalator.active:
                        self._quiet_from = workflow.now()
                        continue  # a case nobody answered does not end quietly
                    await self._end_quiet()
                    break
                continue
            await self._process()
            self._quiet_from = workflow.now()
            if self._case is not None and self._case.state in TERMINAL:
                break
            if self._history_full():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._carry_over())
        await self._finish()
        return self._case

    def _has_news(self) -> bool:
        return bool(self._alerts or self._commands or self._ended)

    def _timeout(self, window: timedelta) -> timedelta:
        """How long to wait for news: the correlation window, or less when the
        escalation chain has something due sooner (runs without the chain: the window)."""
        if not self._chain:
            return window
        now = workflow.now()
        wait = self._quiet_from + window - now
        wake = self._escalator.wake()
        if wake is not None:
            wait = min(wait, wake - now)
        return max(wait, timedelta(milliseconds=1))

    async def _escalate_due(self) -> None:
        """Fire what the escalation chain has due now, and record it."""
        if self._case is None:
            return
        entries = await self._escalator.run_due(self._case)
        if entries:
            self._note_escalation(entries)
            await self._record_events([self._entry(entry) for entry in entries])

    def _note_escalation(self, entries: list[Entry]) -> None:
        """A level that fired marks the case escalated."""
        assert self._case is not None
        if any(e.kind == TimelineKind.ESCALATION_LEVEL for e in entries):
            self._case = self._case.model_copy(update={"escalated": True})

    async def _finish(self) -> None:
        """End the case: record the commands that raced its end, leave unsent notifications
        to a delivery workflow, and hand alerts that arrived meanwhile to the next case."""
        self._over = True
        await asyncio.gather(*self._cancelling)
        while self._commands or self._ended or self._outbox.pending:
            if self._commands or self._ended:
                await self._process()
            else:
                await self._outbox.hand_off()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._alerts:
            workflow.continue_as_new(
                CaseInput(
                    correlation_key=self._state.correlation_key,
                    window_seconds=self._state.window_seconds,
                    history_limit=self._state.history_limit,
                    channels=self._state.channels,
                    generation=self._state.generation + 1,
                    pending_alerts=list(self._alerts),
                    escalation_policy=self._state.escalation_policy,
                    escalation_members=self._state.escalation_members,
                )
            )

    def _history_full(self) -> bool:
        info = workflow.info()
        limit = self._state.history_limit
        if limit is not None and info.get_current_history_length() >= limit:
            return True
        return info.is_continue_as_new_suggested()

    def _carry_over(self) -> CaseInput:
        seen = list(self._seen)[-MAX_SEEN_ALERT_IDS:]
        return self._state.model_copy(
            update={
                "case": self._case,
                "seen_alert_ids": seen,
                "seen_command_ids": list(self._seen_commands)[-MAX_SEEN_ALERT_IDS:],
                "pending_alerts": list(self._alerts),
                "pending_commands": list(self._commands),
                "started_playbooks": list(self._state.started_playbooks),
                "outbox": self._outbox.queued(),
                "escalation": self._escalator.state,
            }
        )

    def _event(
        self, kind: str, actor: str, summary: str, reason: str | None = None, **data: object
    ) -> TimelineEvent:
        assert self._case is not None
        self._state.sequence += 1
        return TimelineEvent(
            id=f"{self._case.id}:{self._state.sequence}",
            case_id=self._case.id,
            at=workflow.now(),
            kind=kind,
            actor=actor,
            summary=summary[:1000],
            reason=reason,
            data=dict(data),
        )

    def _open_case(self, first: Alert) -> Case:
        now = workflow.now()
        info = workflow.info()
        run = info.run_id if self._state.generation else info.first_execution_run_id
        policy = self._state.escalation_policy
        if self._chain:
            self._escalator.state = EscalationState(
                policy=policy or Policy(),
                members=self._state.escalation_members,
                started_at=now,
            )
        return Case(
            id=f"{workflow.info().workflow_id}-{run[:8]}",
            correlation_key=self._state.correlation_key,
            title=first.title[:300],
            state=CaseState.NEW,
            severity=first.severity.level,
            created_at=now,
            updated_at=now,
            escalation_policy=policy.name if policy and self._chain else None,
        )

    async def _process(self) -> None:
        if self._over:
            alerts: list[AttachAlert] = []
        else:
            alerts, self._alerts = self._alerts, []
        commands, self._commands = self._commands, []
        ended, self._ended = self._ended, []
        events: list[TimelineEvent] = []
        new_alert_ids: list[str] = []
        to_match: list[AttachAlert] = []
        for attach in alerts:
            alert = attach.alert
            if alert.id in self._seen:
                continue
            if self._case is None:
                self._case = self._open_case(alert)
            self._seen.add(alert.id)
            new_alert_ids.append(alert.id)
            events.extend(self._attach(attach))
            signature = _signature(alert)
            if signature not in self._state.signatures:
                self._state.signatures.append(signature)
                to_match.append(attach)
        if self._case is None:
            return
        for command in commands:
            addressed_to = command.data.get("case_id")
            if command.id in self._seen_commands or addressed_to not in (None, self._case.id):
                continue
            self._seen_commands.add(command.id)
            entries = await self._apply(command)
            events.extend(self._entry(entry) for entry in entries)
        events.extend(self._playbook_failures(ended))
        self._case = self._case.model_copy(update={"updated_at": workflow.now()})
        self._tag()
        await workflow.execute_local_activity_method(
            StoreActivities.record_case_changes,
            CaseChanges(
                case=self._case,
                events=events,
                alert_ids=new_alert_ids,
                triages={
                    a.alert.id: a.triage.summary()
                    for a in alerts
                    if a.triage is not None and a.alert.id in new_alert_ids
                },
            ),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=RETRY,
        )
        latest = next((a for a in reversed(alerts) if a.alert.id in new_alert_ids), None)
        self._show(events, latest)
        for attach in to_match:
            await self._start_playbooks(attach)

    def _attach(self, attach: AttachAlert) -> list[TimelineEvent]:
        """Count the alert on the case (see :func:`attach_alert`); the timeline entries
        that makes, the alert's first."""
        assert self._case is not None
        change = attach_alert(self._case, attach, severity_pinned=self._state.severity_pinned)
        self._case = change.case
        raised = [self._entry(change.severity_raised)] if change.severity_raised else []
        return [self._entry(change.attached), *raised]

    async def _apply(self, command: CaseCommand) -> list[Entry]:
        """Apply one command to the case (see :func:`apply_command`) and carry out what it
        asks for — the escalation chain hears of acknowledgements, decisions awaited and
        taken, closing, manual escalations and tickets; returns the timeline entries."""
        assert self._case is not None
        change = apply_command(self._case, command, workflow.now())
        if change.ticket is not None and self._chain:
            return await self._escalator.open_ticket_by_hand(self._case, command)
        if change.entry is None:
            return []
        if change.pins_severity:
            self._state.severity_pinned = True
        before = self._case.state
        self._case = change.case
        entries = [change.entry]
        if change.escalates:
            by_policy = (
                await self._escalator.escalate_by_hand(self._case, command) if self._chain else None
            )
            if by_policy is None:
                self._outbox.escalation(
                    EscalationNotice(
                        id=command.id,
                        case_id=self._case.id,
                        actor=command.actor,
                        reason=command.text,
                        to=command.data.get("to"),
                    )
                )
            else:
                entries.extend(by_policy)
        if change.closes:
            self._cancel_playbooks()
        if self._chain:
            if change.acknowledges:
                entries.extend(await self._escalator.acknowledged(self._case))
            if self._case.state is not before:
                entries.extend(await self._escalator.state_changed(self._case, before))
            if change.closes:
                entries.extend(await self._escalator.closed(self._case))
        return entries

    def _entry(self, entry: Entry) -> TimelineEvent:
        return self._event(entry.kind, entry.actor, entry.summary, entry.reason, **entry.data)

    def _tag(self) -> None:
        """Upsert the search attributes when they change (each upsert is a visibility
        write on the server; an alert storm changes them rarely)."""
        assert self._case is not None
        key = self._case.correlation_key
        kind, _, value = key.partition(":")
        shown = (
            key
            if kind in ("ip", "host")
            else f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:12]}"
        )
        tags = (self._case.state.value, self._case.severity.value, shown)
        if tags == self._tagged:
            return
        self._tagged = tags
        workflow.upsert_search_attributes(
            [
                sa.CASE_STATE.value_set(self._case.state.value),
                sa.SEVERITY.value_set(self._case.severity.value),
                sa.CORRELATION_KEY.value_set(sa.keyword(shown)),
            ]
        )

    async def _start_playbooks(self, attach: AttachAlert) -> None:
        assert self._case is not None
        launches = await workflow.execute_local_activity(
            MATCH_PLAYBOOKS,
            MatchRequest(alert=attach.alert, triage=attach.triage),
            result_type=list[PlaybookLaunch],
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RETRY,
        )
        for launch in launches:
            name = launch.name
            if name in self._state.started_playbooks:
                continue
            self._state.started_playbooks.append(name)
            child_id = playbook_workflow_id(self._case.id, name)
            handle = await workflow.start_child_workflow(
                f"playbook:{name}",
                self._playbook_input(launch, attach),
                id=child_id,
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
            self._state.running_playbooks[child_id] = name
            started = self._event(
                TimelineKind.PLAYBOOK_STARTED, "system", f"Playbook {name} started", playbook=name
            )
            await self._record_events([started])
            self._watchers.add(asyncio.create_task(self._watch(name, child_id, handle)))

    def _playbook_input(self, launch: PlaybookLaunch, attach: AttachAlert) -> PlaybookStart:
        assert self._case is not None
        return PlaybookStart(
            playbook=launch.name,
            dry_run=launch.dry_run,
            options=launch.options,
            case_id=self._case.id,
            case_workflow_id=workflow.info().workflow_id,
            alert=attach.alert,
            triage=attach.triage,
            channels=self._state.channels,
        )

    async def _watch(
        self, name: str, child_id: str, handle: workflow.ChildWorkflowHandle[Any, Any]
    ) -> None:
        """Note how a playbook this run started ended, even if it could not say so itself
        (terminated, timed out); its own `playbook_ended` signal covers later runs."""
        try:
            await handle
        except Exception as error:
            cause = getattr(error, "cause", None) or error
            self._ended.append(
                PlaybookEnded(child_id=child_id, playbook=name, failed=True, reason=str(cause))
            )
        else:
            self._ended.append(PlaybookEnded(child_id=child_id, playbook=name))

    async def _forget_vanished_playbooks(self) -> None:
        """Stop waiting for playbooks that ended without saying so (terminated by hand)."""
        if not self._state.running_playbooks:
            return
        running = await workflow.execute_local_activity_method(
            CorrelationActivities.still_running,
            list(self._state.running_playbooks),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RETRY,
        )
        for child_id in list(self._state.running_playbooks):
            if child_id not in running:
                del self._state.running_playbooks[child_id]

    def _cancel_playbooks(self) -> None:
        """Cancel the playbooks still running: a closed case asks nobody to decide."""
        for child_id in self._state.running_playbooks:
            handle = workflow.get_external_workflow_handle(child_id)
            self._cancelling.append(asyncio.create_task(self._cancel(handle)))

    @staticmethod
    async def _cancel(handle: workflow.ExternalWorkflowHandle[Any]) -> None:
        try:
            await handle.cancel()
        except FailureError as error:
            workflow.logger.info("playbook %s already over: %s", handle.id, error)

    def _playbook_failures(self, ended: list[PlaybookEnded]) -> list[TimelineEvent]:
        """Forget the playbooks that ended (each once, whoever said so first); a failure
        goes on the timeline, and the case carries on."""
        events: list[TimelineEvent] = []
        for notice in ended:
            if self._state.running_playbooks.pop(notice.child_id, None) is None:
                continue
            if notice.failed:
                events.append(
                    self._event(
                        TimelineKind.PLAYBOOK_FAILED,
                        "system",
                        f"Playbook {notice.playbook} failed",
                        reason=(notice.reason or "no reason given")[:500],
                        playbook=notice.playbook,
                    )
                )
        return events

    async def _record_events(self, events: list[TimelineEvent]) -> None:
        assert self._case is not None
        await workflow.execute_local_activity_method(
            StoreActivities.record_case_changes,
            CaseChanges(case=self._case, events=events),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=RETRY,
        )
        self._show(events, None)

    def _show(self, events: list[TimelineEvent], latest: AttachAlert | None) -> None:
        """Queue the case message as the case is now, and the new entries as a thread
        reply (alert attachments are counted on the message instead)."""
        assert self._case is not None
        self._outbox.case_message(
            CaseMessageRequest(
                case=self._case,
                alert=latest.alert if latest else None,
                triage=latest.triage if latest else None,
            )
        )
        shown = [e for e in events if e.kind != TimelineKind.ALERT_ATTACHED]
        self._outbox.replies(self._case.id, shown)

    async def _end_quiet(self) -> None:
        if self._case is None:
            return
        quiet = self._event(
            TimelineKind.STATE_CHANGED,
            "system",
            "No new alerts for the correlation window: the next alert opens a new case",
        )
        await self._record_events([quiet])
