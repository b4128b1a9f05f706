"""Recording what a webhook took (`Repository.receive_alerts`): each alert id once, the
first delivery wins, a resolution marks its alert, and the answer says what goes to a
case. On SQLite, and on PostgreSQL when SOAR_TEST_DATABASE_URL is set."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from soar.alerts.models import AlertStatus
from soar.cases.models import Case, CaseState
from soar.store.db import Store
from tests.store import factories


def case_for(case_id: str) -> Case:
    now = datetime.now(UTC)
    return Case(
        id=case_id,
        correlation_key=f"ip:{case_id}",
        title="t",
        state=CaseState.NEW,
        severity=factories.alert().severity.level,
        created_at=now,
        updated_at=now,
    )


async def test_a_batch_is_recorded_once_and_says_what_goes_to_a_case(store: Store) -> None:
    first, second = factories.alert("in-1"), factories.alert("in-2")

    intake = await store.receive_alerts([first, second, first])

    assert (intake.new, intake.unattached) == (frozenset({first.id, second.id}), frozenset())
    assert intake.to_deliver([first, second, first]) == [first, second], "each once, in order"
    stored = await store.get_alert(first.id)
    assert stored is not None and stored.raw == first.raw
    assert [o.value for o in stored.observables] == [o.value for o in first.observables]


async def test_a_redelivery_changes_nothing_and_goes_again_only_while_on_no_case(
    store: Store,
) -> None:
    alert = factories.alert("again-1")
    await store.receive_alerts([alert])
    changed = alert.model_copy(update={"title": "a different title"})

    pending = await store.receive_alerts([changed])
    assert (pending.new, pending.unattached) == (frozenset(), frozenset({alert.id}))
    stored = await store.get_alert(alert.id)
    assert stored is not None and stored.title == alert.title, "the first delivery wins"

    await store.record_case_changes(case_for("case-again"), [], [alert.id])
    attached = await store.receive_alerts([changed])
    assert (attached.new, attached.unattached) == (frozenset(), frozenset())
    assert attached.to_deliver([changed]) == []


async def test_a_resolution_marks_its_alert_and_goes_to_no_case(store: Store) -> None:
    alert = factories.alert("res-1")
    await store.receive_alerts([alert])
    await store.record_case_changes(case_for("case-res"), [], [alert.id])
    resolution = alert.model_copy(update={"status": AlertStatus.RESOLVED, "raw": {"ended": True}})

    intake = await store.receive_alerts([resolution])

    assert intake.to_deliver([resolution]) == []
    detail = await store.get_alert_detail(alert.id)
    assert detail is not None
    assert (detail.status, detail.case_id, detail.raw) == (
        AlertStatus.RESOLVED,
        "case-res",
        {"ended": True},
    )
    unseen = factories.alert("res-2").model_copy(update={"status": AlertStatus.RESOLVED})
    first_news = await store.receive_alerts([unseen])
    assert first_news.new == {unseen.id} and first_news.to_deliver([unseen]) == []
    assert await store.unattached_alerts(datetime.now(UTC) + timedelta(minutes=1), 10) == []


async def test_a_resolution_in_the_same_batch_as_its_alert_resolves_it(store: Store) -> None:
    alert = factories.alert("res-3")
    resolution = alert.model_copy(update={"status": AlertStatus.RESOLVED})

    intake = await store.receive_alerts([alert, resolution])

    assert intake.to_deliver([alert, resolution]) == [alert], "it fired: its case hears of it"
    stored = await store.get_alert(alert.id)
    assert stored is not None and stored.status is AlertStatus.RESOLVED


async def test_concurrent_batches_with_the_same_alerts_record_each_once(store: Store) -> None:
    alerts = [factories.alert(f"race-{n}") for n in range(50)]

    answers = await asyncio.gather(*(store.receive_alerts(alerts) for _ in range(4)))

    news = [alert_id for intake in answers for alert_id in intake.new]
    assert sorted(news) == sorted(a.id for a in alerts), "each id new to exactly one batch"
    for intake in answers:
        assert intake.new | intake.unattached == {a.id for a in alerts}


async def test_unattached_alerts_are_found_oldest_first_once_old_enough(store: Store) -> None:
    alerts = [factories.alert(f"left-{n}") for n in range(3)]
    for alert in alerts:
        await store.receive_alerts([alert])
    await store.record_case_changes(case_for("case-left"), [], [alerts[1].id])

    assert await store.unattached_alerts(datetime.now(UTC) - timedelta(minutes=1), 10) == []
    left = await store.unattached_alerts(datetime.now(UTC) + timedelta(seconds=1), 10)
    assert [a.id for a in left] == [alerts[0].id, alerts[2].id]
    assert left[0].observables == alerts[0].observables
    assert [
        a.id for a in await store.unattached_alerts(datetime.now(UTC) + timedelta(seconds=1), 1)
    ] == [alerts[0].id]
