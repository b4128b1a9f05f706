"""Merging and splitting in the store: what a merged case holds moves to its survivor
(alerts, containment actions, open approvals; its timeline copied, marked as from it),
once however often either side records it; later writes for the merged case land on the
survivor; what a split takes and what the case keeps. On SQLite and PostgreSQL."""

from __future__ import annotations

from soar.alerts.models import Observable, ObservableRole, ObservableType
from soar.approvals.models import ApprovalState
from soar.cases.models import CaseState, TimelineKind
from soar.enrichment.models import TriageSummary, Verdict
from soar.store.db import Store
from soar.store.repository import merged_event_id

from . import factories

MERGED = "case-a"
SURVIVOR = "case-b"


def address(value: str) -> Observable:
    return Observable(type=ObservableType.IP, value=value, role=ObservableRole.SOURCE)


async def two_cases(store: Store) -> None:
    """Case A with two alerts, two timeline entries, an open and a settled approval and
    an action; case B with one alert."""
    for key in ("a1", "a2", "b1"):
        await store.upsert_alert(factories.alert(key))
    a1, a2, b1 = (factories.alert(key).id for key in ("a1", "a2", "b1"))
    await store.record_case_changes(
        factories.case(MERGED, alert_count=2),
        [factories.event("a:1", MERGED, 1), factories.event("a:2", MERGED, 2)],
        [a1, a2],
    )
    await store.record_case_changes(
        factories.case(SURVIVOR), [factories.event("b:1", SURVIVOR, 1)], [b1]
    )
    await store.upsert_approval(factories.approval("open", MERGED))
    await store.upsert_approval(
        factories.approval(
            "settled",
            MERGED,
            state=ApprovalState.EXPIRED,
            settled_at=factories.at(70),
            settled_by="system",
        )
    )
    await store.upsert_action(factories.action("act", MERGED))


async def merge(store: Store) -> None:
    """Both sides of a merge record their batch, the merged case first."""
    await store.record_case_changes(
        factories.case(
            MERGED,
            state=CaseState.CLOSED,
            merged_into=SURVIVOR,
            alert_count=0,
            updated_at=factories.at(5),
        ),
        [factories.event("a:3", MERGED, 3, kind=TimelineKind.CASE_MERGED)],
        [],
    )
    await store.record_case_changes(
        factories.case(SURVIVOR, alert_count=3, updated_at=factories.at(5)),
        [factories.event("b:2", SURVIVOR, 4, kind=TimelineKind.CASE_MERGED)],
        [],
        merged_from=[MERGED],
    )


async def test_a_merge_moves_alerts_actions_open_approvals_and_copies_the_timeline(
    store: Store,
) -> None:
    await two_cases(store)
    await merge(store)

    survivor = await store.get_case_detail(SURVIVOR)
    merged = await store.get_case_detail(MERGED)
    assert survivor is not None and merged is not None
    assert sorted(survivor.alert_ids) == sorted(factories.alert(k).id for k in ("a1", "a2", "b1"))
    assert merged.alert_ids == [] and merged.merged_into == SURVIVOR
    assert [a.id for a in survivor.approvals] == ["open"]
    assert [a.id for a in merged.approvals] == ["settled"]
    assert [a.id for a in survivor.actions] == ["act"]
    copied = {e.id: e for e in survivor.timeline if e.data.get("merged_from") == MERGED}
    assert sorted(copied) == sorted(merged_event_id(SURVIVOR, i) for i in ("a:1", "a:2", "a:3"))
    assert {e.case_id for e in copied.values()} == {SURVIVOR}
    assert [e.id for e in merged.timeline] == ["a:1", "a:2", "a:3"]
    assert (await store.list_cases(state=CaseState.CLOSED))[0].merged_into == SURVIVOR


async def test_recording_the_merge_again_changes_nothing(store: Store) -> None:
    await two_cases(store)
    await merge(store)
    before = await store.get_case_detail(SURVIVOR)
    await merge(store)
    await merge(store)
    after = await store.get_case_detail(SURVIVOR)
    assert before is not None and after is not None
    assert after.timeline == before.timeline
    assert sorted(after.alert_ids) == sorted(before.alert_ids)
    assert after.approvals == before.approvals


async def test_the_survivor_recording_first_moves_everything_too(store: Store) -> None:
    await two_cases(store)
    await store.record_case_changes(
        factories.case(SURVIVOR, alert_count=3, updated_at=factories.at(5)),
        [],
        [],
        merged_from=[MERGED],
    )
    survivor = await store.get_case_detail(SURVIVOR)
    assert survivor is not None
    assert len(survivor.alert_ids) == 3
    assert [a.id for a in survivor.approvals] == ["open"]
    assert (await store.get_case_detail(MERGED)) is not None
    assert await store.survivor_of(MERGED) == SURVIVOR


async def test_later_writes_for_the_merged_case_land_on_the_survivor(store: Store) -> None:
    await two_cases(store)
    await merge(store)

    await store.add_timeline_event(factories.event("late", MERGED, 9))
    await store.upsert_approval(
        factories.approval("open", MERGED, state=ApprovalState.APPROVED, settled_by="alice")
    )
    await store.upsert_action(factories.action("act", MERGED))
    await store.upsert_action(factories.action("act-2", MERGED))

    survivor = await store.get_case_detail(SURVIVOR)
    assert survivor is not None
    [late] = [e for e in survivor.timeline if e.id == "late"]
    assert (late.case_id, late.data["merged_from"]) == (SURVIVOR, MERGED)
    [approval] = survivor.approvals
    assert (approval.id, approval.case_id, approval.state) == (
        "open",
        SURVIVOR,
        ApprovalState.APPROVED,
    )
    assert sorted(a.id for a in survivor.actions) == ["act", "act-2"]
    merged = await store.get_case_detail(MERGED)
    assert merged is not None and "late" not in [e.id for e in merged.timeline]


async def test_a_chain_of_merges_ends_at_the_last_survivor(store: Store) -> None:
    await two_cases(store)
    await merge(store)
    await store.record_case_changes(
        factories.case(
            SURVIVOR, state=CaseState.CLOSED, merged_into="case-c", updated_at=factories.at(8)
        ),
        [],
        [],
    )
    assert await store.survivor_of(MERGED) == "case-c"
    assert await store.survivor_of("case-c") == "case-c"
    await store.add_timeline_event(factories.event("later", MERGED, 10))
    [later] = [e for e in await store.get_timeline("case-c") if e.id == "later"]
    assert later.data["merged_from"] == MERGED
    holders = await store.cases_of_alerts([factories.alert("a1").id, "unknown"])
    assert holders == {factories.alert("a1").id: "case-c"}


async def test_a_snapshot_without_the_link_does_not_undo_a_merge(store: Store) -> None:
    await two_cases(store)
    await merge(store)
    await store.upsert_case(factories.case(MERGED, updated_at=factories.at(20)))
    assert (await store.survivor_of(MERGED)) == SURVIVOR


async def test_what_a_split_takes_and_what_the_case_keeps(store: Store) -> None:
    shared, only_split, only_kept = address("45.1.1.1"), address("45.2.2.2"), address("45.3.3.3")
    taken = factories.alert("s1", minutes=1, observables=[shared, only_split])
    kept = factories.alert("s2", minutes=2, observables=[only_kept, shared])
    elsewhere = factories.alert("s3", minutes=3)
    for alert in (taken, kept, elsewhere):
        await store.upsert_alert(alert)
    triage = TriageSummary(score=70, verdict=Verdict.MALICIOUS, reasons=["listed"])
    await store.record_case_changes(
        factories.case(MERGED, alert_count=2), [], [taken.id, kept.id], {taken.id: triage}
    )
    await store.record_case_changes(factories.case(SURVIVOR), [], [elsewhere.id])

    split = await store.alerts_to_split(MERGED, [taken.id, elsewhere.id, "unknown"])

    assert [(alert.id, summary) for alert, summary in split.alerts] == [(taken.id, triage)]
    assert split.alerts[0][0].observables == [shared, only_split]
    assert split.kept_observables == [only_kept, shared]
    assert await store.count_case_alerts(MERGED) == 2
