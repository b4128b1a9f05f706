"""Asking for containment from Slack: `/soar block-ip` and `/soar isolate`.

The request starts the same containment playbook an alert would (`playbook:malicious_ip`,
`playbook:compromised_host`) with a synthetic alert from source `slack`, and the person
asking as `requested_by` — so it goes through the playbook's guardrails and its approval
(the requester may not approve their own request), never around them. One workflow
per target at a time: asking again while a request is open joins it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from soar.alerts.models import (
    Observable,
    ObservableRole,
    ObservableType,
    Severity,
    SeverityInfo,
    make_alert,
)
from soar.cases.contract import playbook_workflow_id
from workflows.sdk.models import PlaybookInput, playbook_workflow_type

SOURCE = "slack"


@dataclass(frozen=True)
class ContainmentKind:
    """A containment request that Slack can make: which playbook, on what."""

    playbook: str
    observable_type: ObservableType
    role: ObservableRole
    verb: str


BLOCK_IP = ContainmentKind("malicious_ip", ObservableType.IP, ObservableRole.SOURCE, "block")
ISOLATE = ContainmentKind(
    "compromised_host", ObservableType.HOSTNAME, ObservableRole.HOST, "isolate"
)


@dataclass(frozen=True)
class ContainmentRequest:
    """Where the request went: the playbook workflow and the case it records on."""

    workflow_id: str
    case_id: str


async def request_containment(
    temporal: Client,
    task_queue: str,
    kind: ContainmentKind,
    target: str,
    requested_by: str,
    *,
    request_id: str,
    options: dict[str, int] | None = None,
) -> ContainmentRequest:
    """Start the playbook for `target` (or join the one already open for it)."""
    digest = hashlib.sha256(f"{kind.playbook}:{target.lower()}".encode()).hexdigest()[:20]
    case_id = f"slack-{kind.playbook}-{digest}"
    alert = make_alert(
        source=SOURCE,
        native_key=request_id,
        title=f"{kind.verb.capitalize()} {target}: requested in Slack by {requested_by}",
        severity=SeverityInfo(level=Severity.HIGH, original="slack request"),
        time=datetime.now(UTC),
        observables=[Observable(type=kind.observable_type, value=target, role=kind.role)],
    )
    workflow_id = playbook_workflow_id(case_id, kind.playbook)
    await temporal.start_workflow(
        playbook_workflow_type(kind.playbook),
        PlaybookInput(
            playbook=kind.playbook,
            case_id=case_id,
            case_workflow_id="",
            alert=alert,
            requested_by=requested_by,
            options=options or {},
            slack=True,  # its approval request is posted for Slack's deciders to click
        ),
        id=workflow_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    return ContainmentRequest(workflow_id=workflow_id, case_id=case_id)
