"""The case workflow: one open case per correlation key, id `case-<hash of key>`.

Alerts arrive by the `attach_alerts` signal, a batch in the order they came
(signal-with-start from the intake, so concurrent batches never open two cases; single
triaged alerts come by `attach`, from a case merged into this one or an alert workflow
of an earlier release); people and playbooks
change the case by the `command` signal. The workflow batches what arrived, triages the
new alerts together in one local activity, records it all in the store in one, and
starts each matching playbook once per case as a child workflow, which says when it
ends (`playbook_ended`). It continues-as-new before its history grows too large,
carrying everything over, and ends when the case is closed or when it has been quiet for
its correlation window with no playbook running. Whatever raced the end is not lost:
commands are still recorded on the case, and alerts open the next case of the same key.

A case merged into another (the `merge` command) hands itself to the survivor's workflow
(`merge_in`, carrying its counts and running playbooks) and closes; its workflow then
passes on what still reaches it — alerts of its key, its playbooks' commands and ends —
until it has been quiet for its window with none of its playbooks running. A `split`
starts a new case workflow, as a child left to run on its own, with the alerts named.
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
    from pydantic import ValidationError

    from soar import search_attributes as sa
    from soar.alerts.models import Alert
    from soar.cases.activities import (
        MATCH_PLAYBOOKS,
        CorrelationActivities,
        MatchRequest,
        PlaybookLaunch,
    )
    from soar.cases.contract import (
        ATTACH_ALERTS_SIGNAL,
        ATTACH_SIGNAL,
        CASE_QUERY,
        CASE_WORKFLOW,
        COMMAND_SIGNAL,
        MAX_MERGE_HOPS,
        PLAYBOOK_ENDED_SIGNAL,
        AttachAlert,
        AttachAlerts,
        CaseInput,
        MergedCase,
        PlaybookEnded,
        PlaybookStart,
        SplitFrom,
        Survivor,
        alert_chunks,
        case_workflow_id,
        merge_in_command_id,
        playbook_workflow_id,
        split_key,
    )
    from soar.cases.models import (
        INTERNAL_KINDS,
        Case,
        CaseCommand,
        CaseCommandKind,
        CaseState,
        TimelineEvent,
        TimelineKind,
        describe_command,
    )
    from soar.cases.reducer import (
        Entry,
        apply_command,
        attach_alert,
        kept_observables,
        merge_away,
        split_from,
        split_off,
        take_in,
    )
    from soar.enrichment.activities import TriageActivities
    from soar.escalation.chain import EscalationState
    from soar.escalation.models import Policy
    from soar.heartbeat import BATCH_HEARTBEAT_TIMEOUT
    from soar.notifications.models import CaseMessageRequest, EscalationNotice
    from soar.store.activities import CaseChanges, SplitQuery, StoreActivities

from workflows.escalation import ESCALATION_CHAIN, Escalator
from workflows.notifications import Outbox

STORE_TIMEOUT = timedelta(seconds=60)
RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
MAX_SEEN_ALERT_IDS = 20_000
TERMINAL = (CaseState.CLOSED,)
MERGE_AND_SPLIT = "case-merge-and-split"
"""The patch that taught cases to merge, take in a merged case, and split."""
STORE_RETRIES_ON_TIMERS = "store-retries-on-timers"
"""The patch after which a local activity still failing once its backoff passes
LOCAL_RETRY_THRESHOLD waits for its next attempt on a durable timer: the workflow task
ends in between, so a store that is away (or an alert it never recorded) neither keeps
one task heartbeating for ever nor holds a worker's shutdown."""
LOCAL_RETRY_THRESHOLD = timedelta(seconds=10)
BATCHED_INTAKE = "batched-intake"
"""The patch after which the case takes its alerts in batches of at most
MAX_ALERTS_PER_BATCH, triages those that reach it untriaged (the intake's
`attach_alerts`) and records each batch, each step an activity: the workflow task ends
while they run, so no task runs long in a storm. Before it, the batch was recorded by a
local activity, inside the workflow task."""
MAX_ALERTS_PER_BATCH = 50
"""Alerts triaged and recorded at once: a batch's triages (with every source's answer)
must fit one activity result."""
TRIAGE_TIMEOUT = timedelta(minutes=2)


def _signature(alert: Alert) -> str:
    """What decides which playbooks match: alerts alike in this need no new match."""
    types = ",".join(sorted({o.type.value for o in alert.observables}))
    text = f"{alert.source}|{alert.rule.name}|{alert.title}|{alert.severity.level}|{types}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@workflow.defn(name=CASE_WORKFLOW, sandboxed=False)
class CaseWorkflow:
    """Owns one case; see the module docstring.

    Not sandboxed: a sandbox re-imports the workflow's modules for every run the worker
    loads, which cost a storm a fifth of the worker's CPU and each cached case its own
    copy of those modules. The code is ours and deterministic by construction: time is
    `workflow.now()`, every side effect an activity; `tests/workflows` replays saved
    histories against it."""

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

    @workflow.signal(name=ATTACH_ALERTS_SIGNAL)
    def attach_alerts(self, batch: AttachAlerts) -> None:
        self._alerts.extend(AttachAlert(alert=alert) for alert in batch.alerts)

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
        self._ended = input.pending_ended + self._ended
        self._case = input.case
        self._seen = set(input.seen_alert_ids)
        self._seen_commands = set(input.seen_command_ids)
        self._watchers: set[asyncio.Task[None]] = set()
        self._cancelling: list[asyncio.Task[None]] = []
        self._outbox = Outbox(input.channels, input.outbox)
        self._chain = workflow.patched(ESCALATION_CHAIN)
        self._local_retry = (
            LOCAL_RETRY_THRESHOLD if workflow.patched(STORE_RETRIES_ON_TIMERS) else None
        )
        self._escalator = Escalator(input.escalation, self._outbox)
        self._survivor = input.survivor
        self._survivor_gone = False
        self._merged_from: list[str] = []
        window = timedelta(seconds=input.window_seconds)
        self._quiet_from = workflow.now()
        while self._survivor is None:
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
        if self._survivor is not None:
            await self._forward_until_quiet(window)
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
                "pending_ended": list(self._ended),
                "started_playbooks": list(self._state.started_playbooks),
                "outbox": self._outbox.queued(),
                "escalation": self._escalator.state,
                "survivor": self._survivor,
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
        if self._survivor is not None:
            await self._forward()
            return
        if self._over:
            alerts: list[AttachAlert] = []
        else:
            alerts = await self._triaged(self._take_alerts())
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
                events.extend(self._split_from())
            self._seen.add(alert.id)
            new_alert_ids.append(alert.id)
            events.extend(self._attach(attach))
            signature = _signature(alert)
            if signature not in self._state.signatures:
                self._state.signatures.append(signature)
                to_match.append(attach)
        if self._case is None:
            return
        for index, command in enumerate(commands):
            if self._survivor is not None:  # merged by an earlier command: pass the rest on
                self._commands = commands[index:] + self._commands
                break
            addressed_to = command.data.get("case_id")
            if command.id in self._seen_commands or addressed_to not in (None, self._case.id):
                continue
            self._seen_commands.add(command.id)
            entries = await self._apply(command)
            events.extend(self._entry(entry) for entry in entries)
        if self._survivor is not None:
            self._ended, ended = ended + self._ended, []
        events.extend(self._playbook_failures(ended))
        self._case = self._case.model_copy(update={"updated_at": workflow.now()})
        self._tag()
        await self._record_batch(
            CaseChanges(
                case=self._case,
                events=events,
                alert_ids=new_alert_ids,
                triages={
                    a.alert.id: a.triage.summary()
                    for a in alerts
                    if a.triage is not None and a.alert.id in new_alert_ids
                },
                merged_from=self._merged_from,
            )
        )
        self._merged_from = []
        latest = next((a for a in reversed(alerts) if a.alert.id in new_alert_ids), None)
        self._show(events, latest)
        for attach in to_match:
            await self._start_playbooks(attach)

    def _take_alerts(self) -> list[AttachAlert]:
        """The alerts this batch takes, in order: all of them before the batched intake,
        else at most MAX_ALERTS_PER_BATCH (and one payload's worth); the rest wait for the
        next batch."""
        if not workflow.patched(BATCHED_INTAKE):
            taken, self._alerts = self._alerts, []
            return taken
        head = [attach.alert for attach in self._alerts[:MAX_ALERTS_PER_BATCH]]
        count = len(alert_chunks(head, MAX_ALERTS_PER_BATCH)[0]) if head else 0
        taken, self._alerts = self._alerts[:count], self._alerts[count:]
        return taken

    async def _triaged(self, alerts: list[AttachAlert]) -> list[AttachAlert]:
        """The alerts with a triage each: those not triaged yet (and not on the case
        already) are triaged together, in one activity."""
        untriaged = [
            attach.alert
            for attach in alerts
            if attach.triage is None and attach.alert.id not in self._seen
        ]
        if not untriaged or not workflow.patched(BATCHED_INTAKE):
            return alerts
        triages = await workflow.execute_activity_method(
            TriageActivities.triage_alerts,
            untriaged,
            start_to_close_timeout=TRIAGE_TIMEOUT,
            heartbeat_timeout=BATCH_HEARTBEAT_TIMEOUT,
            retry_policy=RETRY,
        )
        made = {triage.alert_id: triage for triage in triages}
        return [
            attach.model_copy(update={"triage": made[attach.alert.id]})
            if attach.triage is None and attach.alert.id in made
            else attach
            for attach in alerts
        ]

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
        if command.kind in INTERNAL_KINDS:
            return await self._merge_or_split(command) if workflow.patched(MERGE_AND_SPLIT) else []
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

    async def _merge_or_split(self, command: CaseCommand) -> list[Entry]:
        match command.kind:
            case CaseCommandKind.MERGE:
                return await self._merge_into(command)
            case CaseCommandKind.MERGE_IN:
                return self._take_in(command)
            case _:
                return await self._split(command)

    async def _merge_into(self, command: CaseCommand) -> list[Entry]:
        """Hand the case to the survivor (`merge_in`), then close it pointing there. The
        survivor hears first: when its workflow has ended, nothing is merged and the
        timeline says so. The escalation chain stops (pages resolve); the playbooks go on,
        waited for by the survivor and by this workflow, which passes on what they send."""
        assert self._case is not None
        into = str(command.data.get("into") or "")
        into_workflow = str(command.data.get("into_workflow_id") or "")
        if not into or not into_workflow or into == self._case.id:
            return []
        merged = MergedCase(
            case=self._case,
            workflow_id=workflow.info().workflow_id,
            running_playbooks=dict(self._state.running_playbooks),
            started_playbooks=list(self._state.started_playbooks),
        )
        take = CaseCommand(
            id=merge_in_command_id(self._case.id, into),
            kind=CaseCommandKind.MERGE_IN,
            actor=command.actor,
            text=command.text,
            data={"case_id": into, "merged": merged.model_dump(mode="json")},
        )
        try:
            await workflow.get_external_workflow_handle(into_workflow).signal(COMMAND_SIGNAL, take)
        except FailureError as error:
            return [
                Entry(
                    TimelineKind.NOTE,
                    "system",
                    f"Not merged into case {into}: its workflow is not running",
                    reason=str(error)[:500],
                    data={"command_id": command.id},
                )
            ]
        chain_was_active = self._chain and self._escalator.active
        self._case, entry = merge_away(self._case, into, command, workflow.now())
        self._survivor = Survivor(case_id=into, workflow_id=into_workflow)
        entries = [entry]
        if chain_was_active:
            entries.append(
                Entry(
                    TimelineKind.ESCALATION_STOPPED,
                    "system",
                    f"Escalation stopped: merged into case {into}",
                )
            )
        if self._chain:
            entries.extend(await self._escalator.closed(self._case))
        return entries

    def _take_in(self, command: CaseCommand) -> list[Entry]:
        """Take in a case merged into this one: its counts, and its running playbooks to
        wait for (and cancel on close). The store moves its alerts, timeline and open
        approvals here when this batch is recorded."""
        assert self._case is not None
        try:
            merged = MergedCase.model_validate(command.data.get("merged"))
        except ValidationError:
            workflow.logger.warning("merge_in %s without a valid merged case", command.id)
            return []
        if merged.case.id == self._case.id:
            return []
        self._case, entry = take_in(
            self._case, merged.case, command, severity_pinned=self._state.severity_pinned
        )
        for child_id, name in merged.running_playbooks.items():
            self._state.running_playbooks.setdefault(child_id, name)
        self._state.started_playbooks.extend(
            name for name in merged.started_playbooks if name not in self._state.started_playbooks
        )
        self._merged_from.append(merged.case.id)
        return [entry]

    async def _split(self, command: CaseCommand) -> list[Entry]:
        """Move the alerts named out into a new case: its own workflow (a child left to
        run on its own), its own key derived from this case and the split. It takes the
        alerts as the store holds them and starts no playbook for them (they ran here)."""
        assert self._case is not None
        named = [str(alert_id) for alert_id in command.data.get("alert_ids") or []]
        taken = await workflow.execute_local_activity_method(
            StoreActivities.alerts_to_split,
            SplitQuery(case_id=self._case.id, alert_ids=named),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=RETRY,
            local_retry_threshold=self._local_retry,
        )
        moved = [attach.alert.id for attach in taken.alerts]
        refusal = (
            "none of the alerts named is on this case"
            if not moved
            else "it would leave this case without alerts"
            if len(moved) >= self._case.alert_count
            else None
        )
        if refusal is not None:
            return [
                Entry(
                    TimelineKind.NOTE,
                    "system",
                    f"Split refused: {refusal}",
                    reason=command.text,
                    data={"command_id": command.id},
                )
            ]
        key = split_key(self._case.id, command.id)
        try:
            child = await workflow.start_child_workflow(
                CASE_WORKFLOW,
                self._split_input(self._case.id, key, taken.alerts, command),
                id=case_workflow_id(key),
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        except FailureError as error:
            return [
                Entry(
                    TimelineKind.NOTE,
                    "system",
                    "Split failed: the new case did not start",
                    reason=str(error)[:500],
                    data={"command_id": command.id},
                )
            ]
        into = f"{child.id}-{(child.first_execution_run_id or '')[:8]}"
        observables = kept_observables(self._case, taken.alerts, taken.kept_observables)
        self._case, entry = split_off(self._case, moved, into, command, observables=observables)
        return [entry]

    def _split_input(
        self, case_id: str, key: str, alerts: list[AttachAlert], command: CaseCommand
    ) -> CaseInput:
        """The input of the case a split opens: this case's settings and policy, the
        alerts pending, their signatures known (so no playbook starts for them)."""
        return CaseInput(
            correlation_key=key,
            window_seconds=self._state.window_seconds,
            history_limit=self._state.history_limit,
            channels=self._state.channels,
            pending_alerts=alerts,
            signatures=sorted({_signature(attach.alert) for attach in alerts}),
            escalation_policy=self._state.escalation_policy,
            escalation_members=self._state.escalation_members,
            split_from=SplitFrom(
                case_id=case_id,
                actor=command.actor,
                reason=command.text,
                command_id=command.id,
            ),
        )

    def _split_from(self) -> list[TimelineEvent]:
        """The first entry of a case a split opened (none for any other case)."""
        origin = self._state.split_from
        if origin is None:
            return []
        count = len(self._state.pending_alerts)
        return [self._entry(split_from(origin.case_id, count, origin.actor, origin.reason))]

    async def _forward_until_quiet(self, window: timedelta) -> None:
        """After a merge: pass on what reaches this workflow (see :meth:`_forward`) until
        the window passes quietly with none of the case's playbooks running, or the
        survivor's workflow is gone (then alerts open the next case of this key)."""
        while not self._survivor_gone:
            try:
                await workflow.wait_condition(self._has_news, timeout=window)
            except TimeoutError:
                await self._forget_vanished_playbooks()
                if not (self._state.running_playbooks or self._has_news()):
                    return
                continue
            await self._process()
            if self._history_full():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._carry_over())

    async def _forward(self) -> None:
        """A merged case passes on to its survivor what still reaches it: playbook ends,
        commands (readdressed; each once) and alerts (each once, in order). A command the
        survivor's workflow cannot take is recorded here; an alert it cannot take stays
        pending, and forwarding stops."""
        assert self._case is not None and self._survivor is not None
        survivor = workflow.get_external_workflow_handle(self._survivor.workflow_id)
        commands, self._commands = self._commands, []
        ended, self._ended = self._ended, []
        for notice in ended:
            self._state.running_playbooks.pop(notice.child_id, None)
            try:
                await survivor.signal(PLAYBOOK_ENDED_SIGNAL, notice)
            except FailureError as error:
                workflow.logger.info(
                    "survivor did not take the end of %s: %s", notice.child_id, error
                )
        kept: list[TimelineEvent] = []
        for command in commands:
            if command.id in self._seen_commands or command.data.get("case_id") not in (
                None,
                self._case.id,
            ):
                continue
            self._seen_commands.add(command.id)
            why = await self._pass_on(survivor, command)
            if why is not None:
                kind, summary = describe_command(command)
                kept.append(
                    self._event(
                        kind,
                        command.actor,
                        f"{summary} (not passed on to case {self._survivor.case_id})",
                        reason=why,
                        command_id=command.id,
                    )
                )
        if not self._over:
            await self._forward_alerts(survivor)
        if kept:
            await self._record_events(kept)

    async def _forward_alerts(self, survivor: workflow.ExternalWorkflowHandle[Any]) -> None:
        alerts, self._alerts = self._alerts, []
        for index, attach in enumerate(alerts):
            if attach.alert.id in self._seen:
                continue
            try:
                await survivor.signal(ATTACH_SIGNAL, attach)
            except FailureError:
                self._alerts = alerts[index:] + self._alerts
                self._survivor_gone = True
                return
            self._seen.add(attach.alert.id)

    async def _pass_on(
        self, survivor: workflow.ExternalWorkflowHandle[Any], command: CaseCommand
    ) -> str | None:
        """Send the command on, readdressed to the survivor; why it could not be, else
        None. A `merge_in` counts its hops: past MAX_MERGE_HOPS, merges went round in a
        circle, and it stops here."""
        assert self._survivor is not None
        data = {**command.data, "case_id": self._survivor.case_id}
        if command.kind is CaseCommandKind.MERGE_IN:
            merged = dict(data.get("merged") or {})
            hops = int(merged.get("hops") or 0) + 1
            if hops > MAX_MERGE_HOPS:
                return f"passed on {MAX_MERGE_HOPS} times: the merges go round in a circle"
            data["merged"] = merged | {"hops": hops}
        try:
            await survivor.signal(COMMAND_SIGNAL, command.model_copy(update={"data": data}))
        except FailureError as error:
            return str(error)[:500] or "the survivor's workflow is not running"
        return None

    def _entry(self, entry: Entry) -> TimelineEvent:
        event = self._event(entry.kind, entry.actor, entry.summary, entry.reason, **entry.data)
        return event if entry.at is None else event.model_copy(update={"at": entry.at})

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
            local_retry_threshold=self._local_retry,
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
            local_retry_threshold=self._local_retry,
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

    async def _record_batch(self, changes: CaseChanges) -> None:
        """Record a batch in one store transaction: an activity since the batched intake,
        a local activity before it."""
        if workflow.patched(BATCHED_INTAKE):
            await workflow.execute_activity_method(
                StoreActivities.record_case_changes,
                changes,
                start_to_close_timeout=STORE_TIMEOUT,
                heartbeat_timeout=BATCH_HEARTBEAT_TIMEOUT,
                retry_policy=RETRY,
            )
            return
        await workflow.execute_local_activity_method(
            StoreActivities.record_case_changes,
            changes,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=RETRY,
            local_retry_threshold=self._local_retry,
        )

    async def _record_events(self, events: list[TimelineEvent]) -> None:
        assert self._case is not None
        await workflow.execute_local_activity_method(
            StoreActivities.record_case_changes,
            CaseChanges(case=self._case, events=events),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=RETRY,
            local_retry_threshold=self._local_retry,
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
