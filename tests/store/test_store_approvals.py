"""Approvals: idempotent requests, decisions recorded once per person, settled stays settled."""

from __future__ import annotations

from soar.approvals.models import ApprovalState, Decision, DecisionKind
from soar.store.db import Store

from . import factories


def _decision(user: str, kind: DecisionKind = DecisionKind.APPROVE, minutes: float = 5) -> Decision:
    return Decision(
        approval_id="appr-1",
        decision=kind,
        user=user,
        reason=f"{user} says so",
        at=factories.at(minutes),
    )


async def test_upsert_approval_twice_keeps_one_row_with_the_latest_values(store: Store) -> None:
    pending = factories.approval(quorum=2, decisions=[_decision("alice")])
    approved = pending.model_copy(
        update={
            "state": ApprovalState.APPROVED,
            "decisions": [_decision("alice"), _decision("bob", minutes=6)],
            "settled_at": factories.at(6),
            "settled_by": "bob",
        }
    )
    await store.upsert_approval(pending)
    await store.upsert_approval(pending)
    await store.upsert_approval(approved)
    assert await store.list_approvals() == [approved]
    assert await store.get_approval("appr-1") == approved


async def test_decisions_are_unique_per_approval_and_user(store: Store) -> None:
    first = _decision("alice", DecisionKind.APPROVE, minutes=5)
    second_by_same_user = _decision("alice", DecisionKind.DENY, minutes=7)
    await store.upsert_approval(factories.approval(decisions=[first]))
    await store.upsert_approval(factories.approval(decisions=[first, second_by_same_user]))
    stored = await store.get_approval("appr-1")
    assert stored is not None
    assert stored.decisions == [first]


async def test_a_settled_approval_is_not_reopened_by_a_late_pending_snapshot(store: Store) -> None:
    expired = factories.approval(
        state=ApprovalState.EXPIRED, settled_at=factories.at(62), settled_by="system"
    )
    await store.upsert_approval(expired)
    await store.upsert_approval(factories.approval())
    assert await store.get_approval("appr-1") == expired


async def test_list_approvals_filters_by_state(store: Store) -> None:
    await store.upsert_approval(factories.approval("appr-1", requested_at=factories.at(3)))
    await store.upsert_approval(factories.approval("appr-2", requested_at=factories.at(1)))
    await store.upsert_approval(
        factories.approval(
            "appr-3",
            state=ApprovalState.DENIED,
            decisions=[
                _decision("alice", DecisionKind.DENY).model_copy(update={"approval_id": "appr-3"})
            ],
            settled_at=factories.at(5),
            settled_by="alice",
        )
    )
    pending = await store.list_approvals(state=ApprovalState.PENDING)
    assert [a.id for a in pending] == ["appr-2", "appr-1"]
    [denied] = await store.list_approvals(state=ApprovalState.DENIED)
    assert [d.user for d in denied.decisions] == ["alice"]
    assert await store.get_approval("missing") is None
