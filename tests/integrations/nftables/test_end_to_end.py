"""The product end to end on a real firewall: an alert starts the built-in
`malicious_ip` playbook on the product's own worker (on the session's Temporal dev
server) with the nftables actuator configured as `[actuators.edge]`; a person approves
through the approvals service; the attacker's TCP connections are then dropped by the
lab's gateway, and pass again once a person reverts the block through the containment
service.

The playbook blocks public source addresses only, so the attacker here is
192.88.99.66 — public to the product, real only inside the lab (see the lab module).
The guardrails keep their defaults, which allow it, and name the lab's gateway and its
management addresses as never to be blocked.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from soar.alerts.models import (
    Observable,
    ObservableRole,
    ObservableType,
    Rule,
    Severity,
    SeverityInfo,
    make_alert,
)
from soar.approvals.models import ApprovalRequest, ApprovalSettings, DecisionKind, DecisionRequest
from soar.approvals.service import decide
from soar.cases.contract import playbook_workflow_id
from soar.containment import service as containment
from soar.containment.contract import RevertRequest
from soar.containment.models import ActionState
from soar.guardrails.settings import DEFAULT_NEVER_BLOCK, GuardrailSettings
from soar.runtime.services import build_delivery
from soar.runtime.worker import build_worker
from soar.settings import TemporalSettings
from soar.store.db import Store
from soar.testing.playbook_runner import pending_approvals
from tests.conftest import make_settings, unique
from tests.integrations.nftables.lab import PUBLIC_ATTACKER, Host, Lab
from workflows.sdk.models import PlaybookResult

WITHIN = 30.0


async def approval_of(client: Client, store: Store, key: str) -> tuple[str, ApprovalRequest]:
    """The case of `key` and its playbook's first pending approval, once there."""
    async with asyncio.timeout(WITHIN):
        while True:
            cases = [c for c in await store.list_cases(limit=500) if c.correlation_key == key]
            if cases:
                handle = client.get_workflow_handle(
                    playbook_workflow_id(cases[0].id, "malicious_ip")
                )
                try:
                    pending = await pending_approvals(handle)
                except (RPCError, WorkflowQueryFailedError):  # not started yet
                    pending = []
                if pending:
                    return cases[0].id, pending[0]
            await asyncio.sleep(0.1)


async def test_an_approved_block_drops_the_attacker_at_the_gateway_until_reverted(
    temporal_client: Client,
    store: Store,
    tmp_path: Path,
    lab: Lab,
    gateway: Host,
    known_hosts: Path,
) -> None:
    options = lab.options(gateway, known_hosts)
    settings = make_settings(
        tmp_path,
        temporal=TemporalSettings(task_queue=f"nft-e2e-{unique()}", rpc_timeout_seconds=5.0),
        approvals=ApprovalSettings(deciders=["alice"]),
        actuators={"edge": {"type": "nftables", "options": options}},
        guardrails=GuardrailSettings(
            gateways=[gateway.address, lab.ip(65), "192.88.99.65"],
            never_block=[*DEFAULT_NEVER_BLOCK, *options["management"]],
        ),
    )
    alert = make_alert(
        source="nft-e2e",
        native_key=unique(),
        title="SSH brute force from the internet",
        rule=Rule(name="SSH brute force"),
        severity=SeverityInfo(level=Severity.HIGH),
        time=datetime.now(UTC),
        observables=[
            Observable(type=ObservableType.IP, value=PUBLIC_ATTACKER, role=ObservableRole.SOURCE)
        ],
    )
    assert await lab.connects(PUBLIC_ATTACKER) == "connected"

    async with build_worker(temporal_client, settings, store):
        await build_delivery(temporal_client, settings, store).deliver([alert])
        case_id, approval = await approval_of(
            temporal_client, store, f"ip:{PUBLIC_ATTACKER}|ssh brute force"
        )
        assert gateway.listing("table inet soar") is None, "nothing is blocked before approval"

        await decide(
            temporal_client,
            store,
            DecisionRequest(approval_id=approval.id, decision=DecisionKind.APPROVE, user="alice"),
        )
        playbook = temporal_client.get_workflow_handle(
            playbook_workflow_id(case_id, "malicious_ip"), result_type=PlaybookResult
        )
        result = await asyncio.wait_for(playbook.result(), WITHIN)

        [action] = result.actions
        assert action.state is ActionState.VERIFIED, action.detail
        assert action.actuator == "edge"
        assert await lab.connects(PUBLIC_ATTACKER) == "dropped"
        assert await lab.connects(lab.bystander) == "connected"
        [element] = gateway.set_elements("soar", "blocklist4")
        assert element["elem"]["val"] == PUBLIC_ATTACKER
        assert element["elem"]["comment"] == case_id
        assert element["elem"]["timeout"] == 3600

        reverted = await containment.revert(
            temporal_client,
            store,
            action.id,
            RevertRequest(user="alice", reason="the scanner is ours"),
            task_queue=settings.temporal.task_queue,
            channels=[],
        )

        assert reverted.done, reverted.action.detail
        assert await lab.connects(PUBLIC_ATTACKER) == "connected"
        assert gateway.set_elements("soar", "blocklist4") == []
