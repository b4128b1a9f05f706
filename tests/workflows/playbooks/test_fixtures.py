"""The pytest plugin engineers use for their own playbooks, used here as they would."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from soar.approvals.models import ApprovalState, DecisionResult
from soar.cases.models import TimelineKind
from soar.containment.models import ActionState
from soar.testing.playbook_runner import TEST_DECIDERS, PlaybookRunner
from tests.workflows.playbooks.scenarios import SCENARIOS
from tests.workflows.sdk_support import triaged
from workflows.playbooks.compromised_host import compromised_host
from workflows.playbooks.malicious_ip import malicious_ip

pytest_plugins = ["soar.testing.fixtures"]

Approve = Callable[..., Awaitable[DecisionResult]]


async def test_a_run_is_dry_and_approved_by_the_test_deciders(
    playbook_runner: PlaybookRunner,
) -> None:
    item = SCENARIOS["malicious_ip"].alert
    run = await playbook_runner.run(malicious_ip, item, triage=triaged(item))

    assert run.error is None
    assert TimelineKind.DRY_RUN in run.kinds()
    assert not playbook_runner.actuator.called
    assert [d.user for d in run.approvals[0].decisions] == [TEST_DECIDERS[0]]
    assert run.actions[0].state is ActionState.DRY_RUN


async def test_approve_decides_a_started_run_one_decider_at_a_time(
    playbook_runner: PlaybookRunner, approve: Approve
) -> None:
    item = SCENARIOS["compromised_host"].alert
    handle = await playbook_runner.start(compromised_host, item, triage=triaged(item))

    first = await approve(handle)
    assert (first.state, first.approvals, first.quorum) == (ApprovalState.PENDING, 1, 2)
    second = await approve(handle, as_user=TEST_DECIDERS[1], reason="checked with the owner")
    assert second.state is ApprovalState.APPROVED
    run = await playbook_runner.finish(handle)
    assert run.error is None and not playbook_runner.actuator.called


async def test_approve_can_deny(playbook_runner: PlaybookRunner, approve: Approve) -> None:
    item = SCENARIOS["malicious_ip"].alert
    handle = await playbook_runner.start(malicious_ip, item)
    denied = await approve(handle, decision="deny", reason="a pentest")
    assert denied.state is ApprovalState.DENIED
    run = await playbook_runner.finish(handle)
    assert run.actions == []
