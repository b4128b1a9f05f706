"""The store's Temporal activities, called directly: idempotent, and their inputs travel
through the pydantic data converter unchanged."""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from temporalio.contrib.pydantic import pydantic_data_converter

from soar.approvals.models import Decision, DecisionKind
from soar.containment.models import ActionState
from soar.store.activities import (
    AlertNotRecordedError,
    AttachAlertInput,
    CaseChanges,
    StoreActivities,
)
from soar.store.db import Store

from . import factories


async def test_activities_write_the_store_and_are_safe_to_repeat(store: Store) -> None:
    activities = StoreActivities(store)
    alert = factories.alert("a1")
    case = factories.case(alert_ids=[alert.id])
    approval = factories.approval(
        decisions=[
            Decision(
                approval_id="appr-1",
                decision=DecisionKind.APPROVE,
                user="alice",
                at=factories.at(3),
            )
        ]
    )
    action = factories.action(state=ActionState.APPLIED, applied_at=factories.at(4))

    for _ in range(2):
        await activities.record_alert(alert)
        await activities.record_case(case)
        await activities.attach_alert_to_case(AttachAlertInput(alert_id=alert.id, case_id=case.id))
        await activities.record_timeline_event(factories.event("e1"))
        await activities.record_approval(approval)
        await activities.record_action(action)

    detail = await store.get_case_detail(case.id)
    assert detail is not None
    assert detail.alert_ids == [alert.id]
    assert [e.id for e in detail.timeline] == ["e1"]
    assert detail.approvals == [approval]
    assert detail.actions == [action]


async def test_all_lists_every_activity(store: Store) -> None:
    names = {fn.__name__ for fn in StoreActivities(store).all()}
    assert names == {
        "record_alert",
        "attach_alert_to_case",
        "record_case",
        "record_case_changes",
        "alerts_to_split",
        "record_timeline_event",
        "record_approval",
        "record_action",
    }


async def test_attaching_an_unrecorded_alert_fails_so_temporal_retries(store: Store) -> None:
    activities = StoreActivities(store)
    with pytest.raises(AlertNotRecordedError) as raised:
        await activities.attach_alert_to_case(AttachAlertInput(alert_id="later", case_id="c1"))
    assert raised.value.non_retryable is False


@pytest.mark.parametrize(
    "value",
    [
        factories.alert("a1"),
        factories.case(alert_ids=["a1"]),
        factories.event("e1", data={"nested": {"at": "2025-03-01T12:00:00Z", "n": [1, 2]}}),
        factories.approval(),
        factories.action(applied_at=factories.at(4), expires_at=factories.at(64)),
        AttachAlertInput(alert_id="a1", case_id="c1"),
    ],
    ids=lambda value: type(value).__name__,
)
def test_inputs_survive_the_pydantic_data_converter(value: BaseModel) -> None:
    converter = pydantic_data_converter.payload_converter
    [decoded] = converter.from_payloads(converter.to_payloads([value]), [type(value)])
    assert decoded == value


async def test_case_changes_are_recorded_in_one_call(store: Store) -> None:
    alert = factories.alert("batch-1")
    await store.upsert_alert(alert)
    case = factories.case("case-batch")
    events = [factories.event(f"ev-{n}", case.id, minutes=n) for n in range(3)]
    changes = CaseChanges(case=case, events=events, alert_ids=[alert.id])
    activities = StoreActivities(store)
    await activities.record_case_changes(changes)
    await activities.record_case_changes(changes)
    detail = await store.get_case_detail(case.id)
    assert detail is not None
    assert [e.id for e in detail.timeline] == [e.id for e in events]
    assert [a.id for a in detail.alerts] == [alert.id]


async def test_case_changes_with_an_unrecorded_alert_write_nothing(store: Store) -> None:
    case = factories.case("case-early")
    changes = CaseChanges(
        case=case, events=[factories.event("ev-early", case.id)], alert_ids=["not-yet"]
    )
    with pytest.raises(AlertNotRecordedError):
        await StoreActivities(store).record_case_changes(changes)
    assert await store.get_case_detail(case.id) is None
