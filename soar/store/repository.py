"""Reads and idempotent writes of the case store.

Writes are upserts keyed by the deterministic ids the workflows choose, so a retried
activity changes nothing the second time. Each write is one short transaction that
starts with a write statement, so SQLite takes its lock up front and waits (busy
timeout) rather than failing on a lock upgrade.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, delete, func, select, text, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from soar.alerts.models import (
    Alert,
    AlertStatus,
    Observable,
    ObservableRole,
    ObservableType,
    Severity,
)
from soar.approvals.models import ApprovalRequest, ApprovalState
from soar.cases.models import Case, CaseState, TimelineEvent
from soar.containment.models import ActionState, ContainmentAction
from soar.enrichment.models import TriageSummary
from soar.store import mapping
from soar.store.schema import (
    AlertObservableRow,
    AlertRow,
    ApprovalRow,
    CaseObservableRow,
    CaseRow,
    ContainmentActionRow,
    ContainmentSlotRow,
    DecisionRow,
    EnrichmentAnswerRow,
    EnrichmentQuotaRow,
    SimilarityIgnoreRow,
    TimelineEventRow,
)
from soar.store.upsert import Excluded, insert_missing, insert_new, upsert
from soar.store.views import (
    AlertDetail,
    CaseDetail,
    CaseSummary,
    IgnoredObservable,
    SharedObservable,
    SimilarCase,
    StoredAnswer,
    case_tickets,
)
from soar.store.write_turns import WriteTurns

# Declarative classes type `__table__` as a FromClause; each is a Table at run time.
ALERTS = cast(Table, AlertRow.__table__)
ALERT_OBSERVABLES = cast(Table, AlertObservableRow.__table__)
CASES = cast(Table, CaseRow.__table__)
CASE_OBSERVABLES = cast(Table, CaseObservableRow.__table__)
TIMELINE = cast(Table, TimelineEventRow.__table__)
APPROVALS = cast(Table, ApprovalRow.__table__)
DECISIONS = cast(Table, DecisionRow.__table__)
ACTIONS = cast(Table, ContainmentActionRow.__table__)
SLOTS = cast(Table, ContainmentSlotRow.__table__)
ANSWERS = cast(Table, EnrichmentAnswerRow.__table__)
QUOTAS = cast(Table, EnrichmentQuotaRow.__table__)
IGNORED = cast(Table, SimilarityIgnoreRow.__table__)

ENDED_STATES = (CaseState.RESOLVED.value, CaseState.CLOSED.value)
"""A case in neither of these states is open (as the reports count them)."""
MATCHES_SHOWN = 5
"""Shared observables listed per similar case (`shared` counts them all)."""

MAX_MERGE_CHAIN = 10
"""How many `merged_into` links a redirect follows (a chain of merges is short)."""
SPLIT_SCAN_ROWS = 20_000
"""Observable rows read to work out what a case keeps after a split."""

CONTAINMENT_SLOTS_LOCK_KEY = 0x50A125107
"""PostgreSQL advisory lock held while a containment slot is reserved, so concurrent
reservations count and insert one after the other."""


@dataclass(frozen=True)
class SplitAlerts:
    """What a split takes from a case: the alerts named that are on it (each with its
    stored triage), and the observables of the alerts it keeps (first seen first)."""

    alerts: list[tuple[Alert, TriageSummary | None]]
    kept_observables: list[Observable]


def merged_event_id(into: str, event_id: str) -> str:
    """The id of a merged case's timeline entry copied onto its survivor."""
    return f"{event_id}@{into}"


@dataclass(frozen=True)
class SlotReservation:
    """The answer to a slot reservation: `granted`, and how many slots other actions
    held in the window at that moment (the count a refusal reports)."""

    granted: bool
    held: int


@dataclass(frozen=True)
class Intake:
    """What recording a batch of alerts found: `new` were recorded now; `unattached` were
    recorded before but are on no case yet (in flight, or left by a crash), so they go to
    their case again; the rest were on a case already, or are resolutions (which mark
    their alert resolved and go to no case)."""

    new: frozenset[str]
    unattached: frozenset[str]

    def to_deliver(self, alerts: Sequence[Alert]) -> list[Alert]:
        """The firing alerts of `alerts` that go to their case, in order, each once."""
        chosen: list[Alert] = []
        taken: set[str] = set()
        for alert in alerts:
            if alert.status is AlertStatus.RESOLVED or alert.id in taken:
                continue
            if alert.id in self.new or alert.id in self.unattached:
                taken.add(alert.id)
                chosen.append(alert)
        return chosen


def _not_older(excluded: Excluded) -> ColumnElement[bool]:
    """A case snapshot replaces the stored one unless it is older."""
    condition: ColumnElement[bool] = excluded.updated_at >= CASES.c.updated_at
    return condition


def _not_reopened(excluded: Excluded) -> ColumnElement[bool]:
    """A settled approval stays settled; a late `pending` snapshot does not undo it."""
    condition: ColumnElement[bool] = (APPROVALS.c.state == ApprovalState.PENDING.value) | (
        excluded.state != ApprovalState.PENDING.value
    )
    return condition


class Repository:
    """The case store's operations over a session factory.

    :class:`soar.store.db.Store` is a `Repository` bound to its own engine; use this
    class directly to run the same operations over another session factory.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._write_turns = WriteTurns()

    @contextlib.asynccontextmanager
    async def _writing(self, *, urgent: bool = True) -> AsyncIterator[AsyncSession]:
        """A write transaction. On SQLite, writers of this process take turns (see
        :mod:`soar.store.write_turns`): SQLite has one writer at a time, and a deferred
        transaction that must upgrade to a write lock fails at once with "database is
        locked" instead of waiting. Writes somebody waits for are `urgent` (the default);
        the batches of cases already open are not, and let them go first."""
        bind = self._sessions.kw.get("bind")
        serial = bind is not None and bind.dialect.name == "sqlite"
        async with contextlib.AsyncExitStack() as stack:
            if serial:
                await stack.enter_async_context(self._write_turns.turn(urgent=urgent))
            session = await stack.enter_async_context(self._sessions.begin())
            yield session

    # Writes

    async def receive_alerts(self, alerts: Sequence[Alert]) -> Intake:
        """Record the alerts a webhook took, in ONE transaction: each alert id once (the
        first delivery wins; a redelivery changes nothing), a resolution marks its alert
        resolved. What the intake then hands to cases is read off the answer."""
        now = datetime.now(UTC)
        firsts: dict[str, Alert] = {}
        for alert in alerts:
            firsts.setdefault(alert.id, alert)
        async with self._writing() as session:
            stored = {
                row.id: row
                for chunk in _chunks(list(firsts))
                for row in (
                    await session.execute(
                        select(ALERTS.c.id, ALERTS.c.case_id, ALERTS.c.status).where(
                            ALERTS.c.id.in_(chunk)
                        )
                    )
                ).all()
            }
            fresh = [alert for alert_id, alert in firsts.items() if alert_id not in stored]
            new = await insert_new(
                session, ALERTS, [mapping.alert_row(alert, None, now) for alert in fresh]
            )
            await insert_missing(
                session,
                ALERT_OBSERVABLES,
                [
                    row
                    for alert in fresh
                    if alert.id in new
                    for row in mapping.alert_observable_rows(alert)
                ],
            )
            firing_now = {
                alert_id for alert_id in new if firsts[alert_id].status is AlertStatus.FIRING
            }
            resolutions = [
                alert
                for alert in alerts
                if alert.status is AlertStatus.RESOLVED
                and (
                    alert.id in firing_now  # fired and resolved in this same batch
                    or (
                        alert.id in stored and stored[alert.id].status != AlertStatus.RESOLVED.value
                    )
                )
            ]
            for alert in resolutions:
                await session.execute(
                    update(ALERTS)
                    .where(ALERTS.c.id == alert.id)
                    .values(
                        status=AlertStatus.RESOLVED.value,
                        raw=mapping.alert_row(alert, None, now)["raw"],
                        updated_at=now,
                    )
                )
        unattached = {
            alert_id
            for alert_id in firsts
            if alert_id not in new
            and (
                alert_id not in stored  # recorded a moment ago by another API process
                or (
                    stored[alert_id].case_id is None
                    and stored[alert_id].status != AlertStatus.RESOLVED.value
                )
            )
        }
        return Intake(new=frozenset(new), unattached=frozenset(unattached))

    async def unattached_alerts(self, received_before: datetime, limit: int) -> list[Alert]:
        """Firing alerts recorded before `received_before` that are on no case: what a
        crash between recording and delivery left behind, oldest first."""
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(AlertRow)
                    .where(
                        AlertRow.case_id.is_(None),
                        AlertRow.status != AlertStatus.RESOLVED.value,
                        AlertRow.received_at < received_before,
                    )
                    .order_by(AlertRow.received_at, AlertRow.id)
                    .limit(limit)
                )
            ).all()
            observables = await _alert_observables(session, [row.id for row in rows])
        return [mapping.alert_from_row(row, observables.get(row.id, [])) for row in rows]

    async def upsert_alert(self, alert: Alert, case_id: str | None = None) -> None:
        """Record an alert; a redelivery updates it and keeps its case unless `case_id` is given."""
        now = datetime.now(UTC)
        observables = mapping.alert_observable_rows(alert)
        async with self._writing() as session:
            await upsert(
                session,
                ALERTS,
                [mapping.alert_row(alert, case_id, now)],
                insert_only={"received_at"},
                keep_if_null={"case_id"},
            )
            await upsert(session, ALERT_OBSERVABLES, observables)
            await session.execute(
                delete(ALERT_OBSERVABLES).where(
                    ALERT_OBSERVABLES.c.alert_id == alert.id,
                    ALERT_OBSERVABLES.c.position >= len(observables),
                )
            )

    async def attach_alert(self, alert_id: str, case_id: str) -> bool:
        """Link a recorded alert to a case. False when the alert is not recorded (yet)."""
        async with self._writing() as session:
            result = await session.execute(
                update(ALERTS)
                .where(ALERTS.c.id == alert_id)
                .values(case_id=case_id, updated_at=datetime.now(UTC))
            )
        # An UPDATE answers with a cursor result, which counts the rows it matched.
        return bool(cast(CursorResult[Any], result).rowcount)

    async def upsert_case(self, case: Case) -> None:
        """Record a case snapshot unless a newer one is stored; add its observables."""
        async with self._writing() as session:
            await upsert(
                session,
                CASES,
                [mapping.case_row(case)],
                keep_if_null={"merged_into"},
                only_if=_not_older,
            )
            await insert_missing(session, CASE_OBSERVABLES, mapping.case_observable_rows(case))

    async def record_case_changes(
        self,
        case: Case,
        events: list[TimelineEvent],
        alert_ids: list[str],
        triages: Mapping[str, TriageSummary] | None = None,
        merged_from: Sequence[str] = (),
    ) -> list[str]:
        """Attach alerts (with their triage), add timeline entries and record the case
        snapshot in ONE transaction (an alert storm makes many small batches). Returns the
        alert ids that are not recorded yet; then nothing is written. The batch that
        opens a case, and entries without alerts, are urgent writes; later batches wait
        for those.

        A merge is carried out here too, by both cases (whichever writes last finds
        nothing left to do): a snapshot with `merged_into` moves what the case holds to
        its survivor, and the survivor's batch moves each case in `merged_from` (see
        :meth:`_move_merged`)."""
        now = datetime.now(UTC)
        opening = case.alert_count <= len(alert_ids)
        async with self._writing(urgent=not alert_ids or opening) as session:
            if alert_ids:
                found = set(
                    (
                        await session.execute(select(ALERTS.c.id).where(ALERTS.c.id.in_(alert_ids)))
                    ).scalars()
                )
                missing = [alert_id for alert_id in alert_ids if alert_id not in found]
                if missing:
                    await session.rollback()
                    return missing
                await session.execute(
                    update(ALERTS)
                    .where(ALERTS.c.id.in_(alert_ids))
                    .values(case_id=case.id, updated_at=now)
                )
                if triages:
                    await session.execute(
                        update(ALERTS)
                        .where(ALERTS.c.id == bindparam("alert_id"))
                        .values(
                            triage_score=bindparam("score"),
                            triage_verdict=bindparam("verdict"),
                            triage_reasons=bindparam("reasons"),
                            triage_observables=bindparam("observables"),
                        ),
                        [mapping.triage_params(alert_id, t) for alert_id, t in triages.items()],
                    )
            if events:
                await insert_missing(session, TIMELINE, [mapping.timeline_row(e) for e in events])
            await upsert(
                session,
                CASES,
                [mapping.case_row(case)],
                keep_if_null={"merged_into"},
                only_if=_not_older,
            )
            await insert_missing(session, CASE_OBSERVABLES, mapping.case_observable_rows(case))
            if case.merged_into is not None:
                await _move_merged(session, case.id, case.merged_into, now)
            for merged in merged_from:
                await _move_merged(session, merged, case.id, now)
        return []

    async def add_timeline_event(self, event: TimelineEvent) -> None:
        """Record a timeline entry once; an entry with the same id is left as first written.

        An entry for a case that was merged lands on its survivor, marked with the case
        it was meant for (`data["merged_from"]`): a playbook of the merged case goes on
        writing under the id it was started with."""
        async with self._writing() as session:
            row = mapping.timeline_row(event)
            target = await _redirected(session, event.case_id)
            if target != event.case_id:
                row |= {"case_id": target, "data": {**row["data"], "merged_from": event.case_id}}
            await insert_missing(session, TIMELINE, [row])

    async def upsert_approval(self, request: ApprovalRequest) -> None:
        """Record an approval request and its decisions.

        A decision, once recorded, is never rewritten: there is at most one per
        (approval, user), and the first one written stands. A request of a case that was
        merged is kept under its survivor.
        """
        async with self._writing() as session:
            row = mapping.approval_row(request)
            row["case_id"] = await _redirected(session, request.case_id)
            await upsert(session, APPROVALS, [row], only_if=_not_reopened)
            await insert_missing(session, DECISIONS, mapping.decision_rows(request))

    async def upsert_action(self, action: ContainmentAction) -> None:
        """Record the latest state of a containment action (under the survivor of a case
        that was merged)."""
        async with self._writing() as session:
            row = mapping.action_row(action)
            row["case_id"] = await _redirected(session, action.case_id)
            await upsert(session, ACTIONS, [row])

    async def reserve_containment_slot(
        self, action_id: str, *, at: datetime, since: datetime, ceiling: int
    ) -> SlotReservation:
        """Take a slot of the containment ceiling for `action_id` at `at`, unless other
        actions hold `ceiling` slots reserved at or after `since`.

        An action that holds a slot in the window keeps it: a retried activity is granted
        again without taking a second one. Counting and inserting happen in one
        transaction that holds the store's write lock from its first statement (SQLite)
        or an advisory lock (PostgreSQL), so concurrent reservations, from this process
        or another, never both take the last slot. Slots older than `since` are dropped
        on the way: they no longer count.
        """
        async with self._writing() as session:
            if session.get_bind().dialect.name == "postgresql":
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": CONTAINMENT_SLOTS_LOCK_KEY}
                )
            await session.execute(delete(SLOTS).where(SLOTS.c.reserved_at < since))
            held = await _count_slots(session, since, excluding=action_id)
            own = await session.scalar(
                select(SLOTS.c.action_id).where(SLOTS.c.action_id == action_id)
            )
            if own is not None:
                return SlotReservation(granted=True, held=held)
            if held >= ceiling:
                return SlotReservation(granted=False, held=held)
            await session.execute(SLOTS.insert().values(action_id=action_id, reserved_at=at))
        return SlotReservation(granted=True, held=held)

    async def release_containment_slot(self, action_id: str) -> None:
        """Give back the slot of an action whose actuator changed nothing."""
        async with self._writing() as session:
            await session.execute(delete(SLOTS).where(SLOTS.c.action_id == action_id))

    async def save_enrichment_answers(self, answers: Sequence[StoredAnswer]) -> None:
        """Cache providers' answers in one transaction, each replacing the one its
        provider gave before about the same observable."""
        latest = {(a.provider, a.digest): mapping.answer_row(a) for a in answers}
        async with self._writing() as session:
            await upsert(session, ANSWERS, list(latest.values()))

    async def take_enrichment_quota(self, provider: str, day: str, limit: int) -> tuple[bool, int]:
        """Count one lookup against `provider`'s quota of `limit` on `day`, unless it is
        used up. Returns whether it was granted and how many are used now. The count
        is one conditional UPDATE, so concurrent workers never both take the last one."""
        async with self._writing() as session:
            await insert_missing(session, QUOTAS, [{"provider": provider, "day": day, "used": 0}])
            taken = await session.execute(
                update(QUOTAS)
                .where(QUOTAS.c.provider == provider, QUOTAS.c.day == day, QUOTAS.c.used < limit)
                .values(used=QUOTAS.c.used + 1)
            )
            used = await session.scalar(
                select(QUOTAS.c.used).where(QUOTAS.c.provider == provider, QUOTAS.c.day == day)
            )
        return bool(cast(CursorResult[Any], taken).rowcount), int(used or 0)

    async def forget_enrichment(self, *, expired_before: datetime, days_before: str) -> None:
        """Drop cached answers that expired before `expired_before` and quota counts of
        days before `days_before` (`YYYY-MM-DD`): nothing reads them any more."""
        async with self._writing() as session:
            await session.execute(delete(ANSWERS).where(ANSWERS.c.expires_at < expired_before))
            await session.execute(delete(QUOTAS).where(QUOTAS.c.day < days_before))

    # Reads

    async def get_enrichment_answers(self, digest: str) -> list[StoredAnswer]:
        """Every provider's cached answer about the observable with this digest, expired
        or not."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(EnrichmentAnswerRow).where(EnrichmentAnswerRow.digest == digest)
            )
            return [mapping.answer_from_row(row) for row in rows]

    async def enrichment_quota_used(self, provider: str, day: str) -> int:
        """Lookups counted against `provider`'s quota on `day`."""
        async with self._sessions() as session:
            used = await session.scalar(
                select(QUOTAS.c.used).where(QUOTAS.c.provider == provider, QUOTAS.c.day == day)
            )
        return int(used or 0)

    async def get_alert(self, alert_id: str) -> Alert | None:
        """The alert as recorded, observables and raw payload included."""
        async with self._sessions() as session:
            row = await session.get(AlertRow, alert_id)
            if row is None:
                return None
            observables = await session.scalars(
                select(AlertObservableRow).where(AlertObservableRow.alert_id == alert_id)
            )
            return mapping.alert_from_row(row, observables.all())

    async def get_alert_detail(self, alert_id: str) -> AlertDetail | None:
        """The alert as recorded, with its state, case and triage."""
        async with self._sessions() as session:
            row = await session.get(AlertRow, alert_id)
            if row is None:
                return None
            observables = await session.scalars(
                select(AlertObservableRow).where(AlertObservableRow.alert_id == alert_id)
            )
            return mapping.alert_detail(row, observables.all())

    async def list_alerts(
        self,
        *,
        source: str | None = None,
        severity: Severity | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Alert]:
        """Recorded alerts, newest first: by alert time, then by when they were recorded."""
        query = select(AlertRow).order_by(
            AlertRow.time.desc(), AlertRow.received_at.desc(), AlertRow.id
        )
        if source is not None:
            query = query.where(AlertRow.source == source)
        if severity is not None:
            query = query.where(AlertRow.severity == severity.value)
        async with self._sessions() as session:
            rows = (await session.scalars(query.limit(limit).offset(offset))).all()
            observables = await _alert_observables(session, [row.id for row in rows])
        return [mapping.alert_from_row(row, observables[row.id]) for row in rows]

    async def list_cases(
        self,
        *,
        state: CaseState | None = None,
        severity: Severity | None = None,
        assignee: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[CaseSummary]:
        """Cases, most recently updated first."""
        query = select(CaseRow).order_by(CaseRow.updated_at.desc(), CaseRow.id)
        if state is not None:
            query = query.where(CaseRow.state == state.value)
        if severity is not None:
            query = query.where(CaseRow.severity == severity.value)
        if assignee is not None:
            query = query.where(CaseRow.assignee == assignee)
        async with self._sessions() as session:
            rows = await session.scalars(query.limit(limit).offset(offset))
            return [mapping.case_summary(row) for row in rows]

    async def get_case_detail(
        self, case_id: str, *, alert_limit: int | None = 100
    ) -> CaseDetail | None:
        """A case with its alerts (the `alert_limit` most recent; None for all),
        observables, timeline, approvals with their decisions, and containment actions."""
        async with self._sessions() as session:
            row = await session.get(CaseRow, case_id)
            if row is None:
                return None
            observables = await session.scalars(
                select(CaseObservableRow)
                .where(CaseObservableRow.case_id == case_id)
                .order_by(CaseObservableRow.type, CaseObservableRow.value, CaseObservableRow.role)
            )
            alerts = await session.scalars(
                select(AlertRow)
                .where(AlertRow.case_id == case_id)
                .order_by(AlertRow.time.desc(), AlertRow.id)
                .limit(alert_limit)
            )
            timeline = await session.scalars(
                select(TimelineEventRow)
                .where(TimelineEventRow.case_id == case_id)
                .order_by(TimelineEventRow.at, TimelineEventRow.id)
            )
            approvals = await _approvals(session, ApprovalRow.case_id == case_id)
            actions = await session.scalars(
                select(ContainmentActionRow)
                .where(ContainmentActionRow.case_id == case_id)
                .order_by(ContainmentActionRow.created_at, ContainmentActionRow.id)
            )
            alert_rows = alerts.all()
            events = [mapping.timeline_from_row(event) for event in timeline]
            alert_summaries = [mapping.alert_summary(alert) for alert in alert_rows]
            return CaseDetail(
                **mapping.case_fields(row, observables.all()),
                alert_ids=[alert.id for alert in alert_summaries],
                alerts=alert_summaries,
                timeline=events,
                tickets=case_tickets(events),
                approvals=approvals,
                actions=[mapping.action_from_row(action) for action in actions],
                enrichment=mapping.case_enrichment(alert_rows),
            )

    async def similar_cases(
        self,
        case_id: str,
        *,
        key_of: Callable[[str], str],
        ignored: Collection[str] = (),
        limit: int = 10,
    ) -> list[SimilarCase]:
        """Open cases holding an observable `case_id` holds, most shared first, then the
        most recently updated. A value whose `key_of` is in `ignored` or marked in the
        store never counts."""
        own = CASE_OBSERVABLES.alias("own")
        other = CASE_OBSERVABLES.alias("other")
        async with self._sessions() as session:
            held = (
                await session.execute(
                    select(own.c.digest, own.c.value).where(own.c.case_id == case_id)
                )
            ).all()
            skipped = set(ignored) | set(await session.scalars(select(IGNORED.c.key)))
            digests = sorted({digest for digest, value in held if key_of(value) not in skipped})
            if not digests:
                return []
            shared = func.count(func.distinct(other.c.digest)).label("shared")
            columns = (CASES.c.id, CASES.c.title, CASES.c.state, CASES.c.severity)
            ranked = (
                await session.execute(
                    select(*columns, CASES.c.updated_at, shared)
                    .select_from(CASES.join(other, other.c.case_id == CASES.c.id))
                    .where(
                        other.c.digest.in_(digests),
                        CASES.c.id != case_id,
                        CASES.c.state.not_in(ENDED_STATES),
                    )
                    .group_by(*columns, CASES.c.updated_at)
                    .order_by(shared.desc(), CASES.c.updated_at.desc(), CASES.c.id)
                    .limit(limit)
                )
            ).all()
            matches: dict[str, list[SharedObservable]] = defaultdict(list)
            if ranked:
                found = await session.execute(
                    select(other.c.case_id, other.c.type, other.c.value)
                    .distinct()
                    .where(
                        other.c.case_id.in_([row.id for row in ranked]),
                        other.c.digest.in_(digests),
                    )
                    .order_by(other.c.case_id, other.c.type, other.c.value)
                )
                for other_id, type_, value in found:
                    if len(matches[other_id]) < MATCHES_SHOWN:
                        matches[other_id].append(
                            SharedObservable(type=ObservableType(type_), value=value)
                        )
        return [
            SimilarCase(
                id=row.id,
                title=row.title,
                state=CaseState(row.state),
                severity=Severity(row.severity),
                updated_at=row.updated_at,
                shared=row.shared,
                matched=matches[row.id],
            )
            for row in ranked
        ]

    async def ignore_for_similarity(
        self, key: str, value: str, *, added_by: str, reason: str | None
    ) -> None:
        """Mark a value "ignore for similarity" under `key`; the first mark stands."""
        row = {
            "key": key,
            "value": value,
            "added_by": added_by,
            "reason": reason,
            "added_at": datetime.now(UTC),
        }
        async with self._writing() as session:
            await insert_missing(session, IGNORED, [row])

    async def unignore_for_similarity(self, key: str) -> bool:
        """Take the mark under `key` off; False when there was none."""
        async with self._writing() as session:
            result = await session.execute(delete(IGNORED).where(IGNORED.c.key == key))
        return bool(cast(CursorResult[Any], result).rowcount)

    async def get_similarity_ignored(self, key: str) -> IgnoredObservable | None:
        async with self._sessions() as session:
            row = await session.get(SimilarityIgnoreRow, key)
        return mapping.ignored_observable(row) if row is not None else None

    async def list_similarity_ignored(self) -> list[IgnoredObservable]:
        """The values marked at run time, oldest mark first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(SimilarityIgnoreRow).order_by(
                    SimilarityIgnoreRow.added_at, SimilarityIgnoreRow.key
                )
            )
            return [mapping.ignored_observable(row) for row in rows]

    async def survivor_of(self, case_id: str) -> str:
        """The case that holds what `case_id` held: itself, unless it was merged (then
        the end of its chain of merges)."""
        async with self._sessions() as session:
            return await _redirected(session, case_id, lock=False)

    async def cases_of_alerts(self, alert_ids: Collection[str]) -> dict[str, str | None]:
        """The case each recorded alert is on (None: on none yet); unknown ids are left out."""
        if not alert_ids:
            return {}
        async with self._sessions() as session:
            rows = await session.execute(
                select(ALERTS.c.id, ALERTS.c.case_id).where(ALERTS.c.id.in_(list(alert_ids)))
            )
            return {alert_id: case_id for alert_id, case_id in rows}

    async def count_case_alerts(self, case_id: str) -> int:
        """How many recorded alerts are on the case."""
        async with self._sessions() as session:
            counted = await session.scalar(
                select(func.count()).select_from(ALERTS).where(ALERTS.c.case_id == case_id)
            )
        return int(counted or 0)

    async def alerts_to_split(self, case_id: str, alert_ids: Collection[str]) -> SplitAlerts:
        """Those of `alert_ids` that are on `case_id`, in alert time order, and the
        observables the case keeps without them (see :class:`SplitAlerts`)."""
        wanted = list(alert_ids)
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(AlertRow)
                    .where(AlertRow.case_id == case_id, AlertRow.id.in_(wanted))
                    .order_by(AlertRow.time, AlertRow.id)
                )
            ).all()
            observables = await _alert_observables(session, [row.id for row in rows])
            kept = await session.execute(
                select(
                    ALERT_OBSERVABLES.c.type, ALERT_OBSERVABLES.c.value, ALERT_OBSERVABLES.c.role
                )
                .select_from(
                    ALERT_OBSERVABLES.join(ALERTS, ALERTS.c.id == ALERT_OBSERVABLES.c.alert_id)
                )
                .where(ALERTS.c.case_id == case_id, ALERTS.c.id.not_in(wanted))
                .order_by(ALERTS.c.time, ALERTS.c.id, ALERT_OBSERVABLES.c.position)
                .limit(SPLIT_SCAN_ROWS)
            )
            seen: dict[tuple[str, str], Observable] = {}
            for type_, value, role in kept:
                seen.setdefault(
                    (type_, value),
                    Observable(type=ObservableType(type_), value=value, role=ObservableRole(role)),
                )
        return SplitAlerts(
            alerts=[
                (mapping.alert_from_row(row, observables[row.id]), mapping.triage_summary(row))
                for row in rows
            ],
            kept_observables=list(seen.values()),
        )

    async def get_approval(self, approval_id: str) -> ApprovalRequest | None:
        """One approval request with its decisions, for example to find its workflow."""
        async with self._sessions() as session:
            found = await _approvals(session, ApprovalRow.id == approval_id)
        return found[0] if found else None

    async def list_approvals(
        self, *, state: ApprovalState | None = None, limit: int = 100, offset: int = 0
    ) -> list[ApprovalRequest]:
        """Approval requests with their decisions, oldest request first."""
        condition = ApprovalRow.state == state.value if state is not None else None
        async with self._sessions() as session:
            return await _approvals(session, condition, limit=limit, offset=offset)

    async def get_timeline(self, case_id: str) -> list[TimelineEvent]:
        """The timeline recorded under `case_id`, oldest first, whether or not the store
        holds the case itself (a playbook run on its own records only its timeline)."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(TimelineEventRow)
                .where(TimelineEventRow.case_id == case_id)
                .order_by(TimelineEventRow.at, TimelineEventRow.id)
            )
            return [mapping.timeline_from_row(row) for row in rows]

    async def get_action(self, action_id: str) -> ContainmentAction | None:
        """One containment action as last recorded."""
        async with self._sessions() as session:
            row = await session.get(ContainmentActionRow, action_id)
        return mapping.action_from_row(row) if row is not None else None

    async def list_actions(
        self, *, active: bool = False, limit: int = 100, offset: int = 0
    ) -> list[ContainmentAction]:
        """Containment actions of every case: newest first, or (`active`) only those in
        force — applied or verified, not reverted — soonest expiry first, the ones that
        never expire last."""
        row = ContainmentActionRow
        query = select(row)
        if active:
            query = query.where(
                row.state.in_([ActionState.APPLIED.value, ActionState.VERIFIED.value]),
                row.reverted_at.is_(None),
            ).order_by(row.expires_at.is_(None), row.expires_at, row.id)
        else:
            query = query.order_by(row.created_at.desc(), row.id)
        async with self._sessions() as session:
            rows = await session.scalars(query.limit(limit).offset(offset))
            return [mapping.action_from_row(found) for found in rows]

    async def count_containment_slots_since(
        self, since: datetime, *, excluding: str | None = None
    ) -> int:
        """How many containment slots were reserved at or after `since`, not counting
        the one `excluding` (an action id) holds."""
        async with self._sessions() as session:
            return await _count_slots(session, since, excluding=excluding)


async def _redirected(session: AsyncSession, case_id: str, *, lock: bool = True) -> str:
    """Where a write for `case_id` lands: the case itself, or the survivor it was merged
    into (through a chain of merges). `lock` takes a shared lock on each case row read
    (PostgreSQL), so a write racing a merge waits for it and then follows it."""
    current = case_id
    for _ in range(MAX_MERGE_CHAIN):
        query = select(CASES.c.merged_into).where(CASES.c.id == current)
        if lock:
            query = query.with_for_update(read=True)
        merged = await session.scalar(query)
        if merged is None or merged == current:
            return current
        current = merged
    return current


async def _move_merged(session: AsyncSession, case_id: str, into: str, now: datetime) -> None:
    """Move what the merged case `case_id` holds to its survivor (`into`, or the case
    `into` was merged into since): its alerts and containment actions, its open approval
    requests, and a copy of each of its timeline entries, marked as from it
    (`data["merged_from"]`), so its own timeline stays readable. Idempotent."""
    await session.execute(update(CASES).where(CASES.c.id == case_id).values(merged_into=into))
    target = await _redirected(session, into)
    if target == case_id:
        return  # a cycle of merges: nothing sensible to move
    await session.execute(
        update(ALERTS).where(ALERTS.c.case_id == case_id).values(case_id=target, updated_at=now)
    )
    await session.execute(
        update(ACTIONS).where(ACTIONS.c.case_id == case_id).values(case_id=target)
    )
    await session.execute(
        update(APPROVALS)
        .where(APPROVALS.c.case_id == case_id, APPROVALS.c.state == ApprovalState.PENDING.value)
        .values(case_id=target)
    )
    events = (
        await session.execute(select(TIMELINE).where(TIMELINE.c.case_id == case_id))
    ).mappings()
    copies = [
        {
            **event,
            "id": merged_event_id(target, event["id"]),
            "case_id": target,
            "data": {"merged_from": case_id, **(event["data"] or {})},
        }
        for event in events
    ]
    await insert_missing(session, TIMELINE, copies)


async def _count_slots(session: AsyncSession, since: datetime, *, excluding: str | None) -> int:
    query = select(func.count()).select_from(SLOTS).where(SLOTS.c.reserved_at >= since)
    if excluding is not None:
        query = query.where(SLOTS.c.action_id != excluding)
    return await session.scalar(query) or 0


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    """`IN` lists of a size every database takes."""
    return [ids[start : start + size] for start in range(0, len(ids), size)]


async def _alert_observables(
    session: AsyncSession, alert_ids: Sequence[str]
) -> dict[str, list[AlertObservableRow]]:
    found: dict[str, list[AlertObservableRow]] = defaultdict(list)
    if alert_ids:
        rows = await session.scalars(
            select(AlertObservableRow).where(AlertObservableRow.alert_id.in_(alert_ids))
        )
        for row in rows:
            found[row.alert_id].append(row)
    return found


async def _approvals(
    session: AsyncSession,
    condition: ColumnElement[bool] | None,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> list[ApprovalRequest]:
    query = select(ApprovalRow).order_by(ApprovalRow.requested_at, ApprovalRow.id)
    if condition is not None:
        query = query.where(condition)
    rows = (await session.scalars(query.limit(limit).offset(offset))).all()
    decisions: dict[str, list[DecisionRow]] = defaultdict(list)
    if rows:
        found = await session.scalars(
            select(DecisionRow)
            .where(DecisionRow.approval_id.in_([row.id for row in rows]))
            .order_by(DecisionRow.at, DecisionRow.user)
        )
        for decision in found:
            decisions[decision.approval_id].append(decision)
    return [mapping.approval_from_row(row, decisions[row.id]) for row in rows]
