"""Containment, written once for the API, the Slack bot and the CLI: list the actions,
revert one, and ask for a containment.

**Reverting** goes through Temporal, never straight to an actuator from the process that
was asked, so it is durable and recorded. An action with a time-to-live belongs to its
expiry workflow (`<action id>/expiry`): the revert is that workflow's `revert_now`
Update, so the expiry can neither fire in the middle of it nor revert a second time
afterwards — the workflow ends once a person has reverted the action. An action no
expiry workflow owns (no time-to-live, or its expiry is over) is reverted by a small
workflow of its own, `<action id>/revert`, one at a time. Either way the actuators undo
it, the stored action becomes `reverted`, the timeline says "<user> reverted <what>:
<reason>", and a case marked contained with nothing else in force goes back to
`triaged`. An unknown action is :class:`NotFoundError`; one that cannot be reverted
(reverted already, a revoke, a dry run, refused, without an actuator) is
:class:`ConflictError`, always in :func:`soar.containment.contract.cannot_revert`'s
words. Who may revert is the caller's check (Slack: `slack.permissions.contain`; the
operator API: its token).

**Asking for containment** starts the same playbook an alert would
(`playbook:malicious_ip`, `playbook:compromised_host`, `playbook:suspicious_user`) with
a synthetic alert naming the target and the person asking as `requested_by` — so it
goes through the playbook's guardrails and its approval (the requester may not approve
their own request), never around them. One workflow per target and client at a time:
asking again while a request is open joins it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from soar.alerts.models import (
    Observable,
    ObservableRole,
    ObservableType,
    Severity,
    SeverityInfo,
    make_alert,
)
from soar.approvals.models import APPROVALS_QUERY, ApprovalRequest
from soar.cases.contract import case_workflow_id, playbook_workflow_id
from soar.cases.models import CaseState
from soar.containment.contract import (
    CONTAINMENT_REVERT_WORKFLOW,
    REVERT_NOW_UPDATE,
    RequestedPlaybookStart,
    RevertInput,
    RevertRequest,
    expiry_workflow_id,
    playbook_type,
    revert_refusal,
    revert_workflow_id,
)
from soar.containment.models import ActionState, ContainmentAction
from soar.durations import seconds_in
from soar.errors import ConflictError, NotFoundError, TimedOutError, UnavailableError
from soar.store.repository import Repository

RPC_WAIT = timedelta(seconds=5)
REVERT_WAIT = timedelta(seconds=20)
"""How long one revert waits for the actuators (a worker must be up); under the CLI's
own 30 s, so it always hears the answer or the timeout."""
APPROVAL_WAIT = timedelta(seconds=10)
"""How long a containment request waits for its playbook to open the approval."""
APPROVAL_POLL_SECONDS = 0.2


# Listing and reverting


async def list_actions(
    store: Repository, *, active: bool = False, limit: int = 100, offset: int = 0
) -> list[ContainmentAction]:
    """Every case's actions, newest first; `active`: only those in force, soonest expiry
    first."""
    return await store.list_actions(active=active, limit=limit, offset=offset)


async def find_action(store: Repository, action_id: str) -> ContainmentAction:
    """The stored action, or :class:`NotFoundError` saying which id is unknown."""
    action = await store.get_action(action_id.strip())
    if action is None:
        raise NotFoundError(f"no containment action with id {action_id.strip()!r}")
    return action


@dataclass(frozen=True)
class Reverted:
    """How a revert ended: the action as it is now, and the workflow that reverted it.
    `action.state` is `reverted` unless an actuator could not undo it (its detail says
    why, and the timeline too)."""

    action: ContainmentAction
    workflow_id: str

    @property
    def done(self) -> bool:
        return self.action.state is ActionState.REVERTED


async def revert(
    client: Client,
    store: Repository,
    action_id: str,
    request: RevertRequest,
    *,
    task_queue: str,
    channels: Sequence[str],
) -> Reverted:
    """Revert the stored action `action_id` for `request.user`; see the module docstring.

    `channels` are the notification channels that show the case (for an action no expiry
    workflow owns). Raises :class:`NotFoundError`, :class:`ConflictError`, and
    :class:`UnavailableError` / :class:`TimedOutError` when Temporal did not answer.
    """
    action = await _revertible(store, action_id)
    request = request.model_copy(update={"back_to_triaged": await _back_to_triaged(store, action)})
    if action.expires_at is not None:
        reverted = await _ask_expiry(client, action, request)
        if reverted is not None:
            return Reverted(reverted, expiry_workflow_id(action.id))
        # Its expiry is over: the store says whether it reverted the action just now.
        action = await _revertible(store, action_id)
    return Reverted(
        await _run_revert(client, store, action, request, task_queue, list(channels)),
        revert_workflow_id(action.id),
    )


async def _revertible(store: Repository, action_id: str) -> ContainmentAction:
    action = await find_action(store, action_id)
    refusal = revert_refusal(action)
    if refusal is not None:
        raise ConflictError(refusal)
    return action


async def _back_to_triaged(store: Repository, action: ContainmentAction) -> bool:
    """Whether the case goes back to `triaged` once this action is reverted: it is
    marked contained, and nothing else of it is in force."""
    case = await store.get_case_detail(action.case_id, alert_limit=0)
    if case is None or case.state is not CaseState.CONTAINED:
        return False
    return not any(other.in_effect for other in case.actions if other.id != action.id)


def revert_update_id(action_id: str, request: RevertRequest) -> str:
    """The same person asking the same again (a retried call, a double click) gets the
    first answer instead of a second revert."""
    material = f"{action_id}\n{request.user}\n{request.reason}"
    return "revert-" + hashlib.sha256(material.encode()).hexdigest()[:32]


async def _ask_expiry(
    client: Client, action: ContainmentAction, request: RevertRequest
) -> ContainmentAction | None:
    """The `revert_now` Update of the action's expiry workflow; None when that workflow
    does not run (it never started, or its expiry is over)."""
    handle = client.get_workflow_handle(expiry_workflow_id(action.id))
    try:
        reverted: ContainmentAction = await handle.execute_update(
            REVERT_NOW_UPDATE,
            request,
            id=revert_update_id(action.id, request),
            result_type=ContainmentAction,
            rpc_timeout=REVERT_WAIT,
        )
        return reverted
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        raise ConflictError(getattr(cause, "message", None) or str(cause)) from error
    except WorkflowUpdateRPCTimeoutOrCancelledError as error:
        raise _no_answer(action) from error
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise UnavailableError(f"Temporal did not take the revert: {error.message}") from error


async def _run_revert(
    client: Client,
    store: Repository,
    action: ContainmentAction,
    request: RevertRequest,
    task_queue: str,
    channels: list[str],
) -> ContainmentAction:
    """Start (or join) the action's `<action id>/revert` workflow and wait for it."""
    case = await store.get_case_detail(action.case_id, alert_limit=0)
    input = RevertInput(
        action=action,
        request=request,
        case_workflow_id=case_workflow_id(case.correlation_key) if case else "",
        channels=channels,
    )
    try:
        handle = await client.start_workflow(
            CONTAINMENT_REVERT_WORKFLOW,
            input,
            id=revert_workflow_id(action.id),
            task_queue=task_queue,
            result_type=ContainmentAction,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            rpc_timeout=RPC_WAIT,
        )
        async with asyncio.timeout(REVERT_WAIT.total_seconds()):
            reverted: ContainmentAction = await handle.result()
        return reverted
    except TimeoutError as error:
        raise _no_answer(action) from error
    except WorkflowFailureError as error:
        raise UnavailableError(f"the revert failed: {error.cause or error}") from error
    except RPCError as error:
        raise UnavailableError(f"Temporal did not take the revert: {error.message}") from error


def _no_answer(action: ContainmentAction) -> TimedOutError:
    return TimedOutError(
        f"the revert of action {action.id} did not finish in time (is a worker running?); "
        "it may still be applied, and asking again is safe"
    )


# Asking for containment


class ContainmentAsk(StrEnum):
    """What a person may ask for (the CLI's and Slack's verbs)."""

    BLOCK_IP = "block-ip"
    ISOLATE = "isolate"
    DISABLE_ACCOUNT = "disable-account"


@dataclass(frozen=True)
class ContainmentKind:
    """Which playbook a request starts, and how its alert names the target."""

    playbook: str
    observable_type: ObservableType
    role: ObservableRole
    verb: str


KINDS: dict[ContainmentAsk, ContainmentKind] = {
    ContainmentAsk.BLOCK_IP: ContainmentKind(
        "malicious_ip", ObservableType.IP, ObservableRole.SOURCE, "block"
    ),
    ContainmentAsk.ISOLATE: ContainmentKind(
        "compromised_host", ObservableType.HOSTNAME, ObservableRole.HOST, "isolate"
    ),
    ContainmentAsk.DISABLE_ACCOUNT: ContainmentKind(
        "suspicious_user", ObservableType.USER, ObservableRole.ACTOR, "disable"
    ),
}

HOSTNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*$")
ACCOUNT = re.compile(r"^[^\s<>|`]{1,256}$")
MAX_TTL_SECONDS = 30 * 86400


def check_target(ask: ContainmentAsk, target: str) -> str:
    """`target` when it is something `ask` can act on; else :class:`ValueError` saying
    why (only a public address can be blocked at the edge)."""
    if ask is ContainmentAsk.BLOCK_IP:
        try:
            network = ipaddress.ip_network(target, strict=False)
        except ValueError:
            raise ValueError(f"{target!r} is not an IP address or network") from None
        if not network.is_global:
            raise ValueError(f"{target} is not a public address; only public ones can be blocked")
    elif ask is ContainmentAsk.ISOLATE:
        if not HOSTNAME.match(target) or len(target) > 253:
            raise ValueError(f"{target!r} is not a host name")
    elif not ACCOUNT.match(target):
        raise ValueError(f"{target!r} is not an account name")
    return target


def parse_duration(text: str) -> int:
    """Seconds in `3600`, `90s`, `30m`, `2h` or `1d` (at most 30 days); else
    :class:`ValueError`."""
    seconds = seconds_in(text)
    if not 1 <= seconds <= MAX_TTL_SECONDS:
        raise ValueError("a TTL is between 1 second and 30 days")
    return seconds


@dataclass(frozen=True)
class ContainmentRequest:
    """What a person asks for: `ask` on `target`, by `requested_by`, through a client
    (`source`: `slack`, `api`). `ttl_seconds` bounds a block (the playbook's own default
    otherwise); `dry_run` runs the playbook without calling an actuator; `reason` is
    shown to the deciders."""

    ask: ContainmentAsk
    target: str
    requested_by: str
    source: str
    request_id: str
    ttl_seconds: int | None = None
    dry_run: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class ContainmentStarted:
    """Where the request went: the playbook workflow, the case it records on, and (once
    the playbook has opened it) the approval request — or why there is none, and whether
    the playbook `ended` without one."""

    workflow_id: str
    case_id: str
    playbook: str
    approval_id: str | None = None
    detail: str | None = None
    ended: bool = False


def requested_case_id(source: str, playbook: str, target: str) -> str:
    """`<source>-<playbook>-<hash of the target>`: asking again joins the open request."""
    digest = hashlib.sha256(f"{playbook}:{target.lower()}".encode()).hexdigest()[:20]
    return f"{source}-{playbook}-{digest}"


async def request_containment(
    client: Client, task_queue: str, request: ContainmentRequest, channels: Sequence[str]
) -> ContainmentStarted:
    """Start the playbook for the request (or join the one already open for its target).

    The target is checked (:func:`check_target`, a :class:`ValueError`); Temporal not
    taking the start is :class:`UnavailableError`."""
    kind = KINDS[request.ask]
    target = check_target(request.ask, request.target.strip())
    case_id = requested_case_id(request.source, kind.playbook, target)
    title = f"{kind.verb.capitalize()} {target}: requested by {request.requested_by}"
    if request.reason:
        title += f": {request.reason}"
    alert = make_alert(
        source=request.source,
        native_key=request.request_id,
        title=title,
        severity=SeverityInfo(level=Severity.HIGH, original=f"{request.source} request"),
        time=datetime.now(UTC),
        observables=[Observable(type=kind.observable_type, value=target, role=kind.role)],
    )
    workflow_id = playbook_workflow_id(case_id, kind.playbook)
    options = {"block_seconds": request.ttl_seconds} if request.ttl_seconds else {}
    try:
        await client.start_workflow(
            playbook_type(kind.playbook),
            RequestedPlaybookStart(
                playbook=kind.playbook,
                case_id=case_id,
                case_workflow_id="",
                alert=alert,
                requested_by=request.requested_by,
                options=options,
                dry_run=request.dry_run,
                channels=list(channels),
            ),
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            rpc_timeout=RPC_WAIT,
        )
    except RPCError as error:
        raise UnavailableError(f"Temporal did not take the request: {error.message}") from error
    return ContainmentStarted(workflow_id=workflow_id, case_id=case_id, playbook=kind.playbook)


async def await_approval(
    client: Client, store: Repository, started: ContainmentStarted
) -> ContainmentStarted:
    """`started` with the approval request its playbook opened, waiting up to
    :data:`APPROVAL_WAIT` for it; when the playbook ended without one (a guardrail
    refused, nobody may decide), the detail is the last word of its timeline."""
    handle = client.get_workflow_handle(started.workflow_id)
    try:
        async with asyncio.timeout(APPROVAL_WAIT.total_seconds()):
            while True:
                approvals = await _approvals(handle)
                if approvals:
                    latest = approvals[-1]
                    return _with(started, latest.id, f"approval {latest.state.value}")
                description = await handle.describe(rpc_timeout=RPC_WAIT)
                if description.status is not WorkflowExecutionStatus.RUNNING:
                    word = await _last_word(store, started.case_id)
                    return _with(started, None, word, ended=True)
                await asyncio.sleep(APPROVAL_POLL_SECONDS)
    except TimeoutError:
        return _with(started, None, "the playbook has not asked for approval yet")
    except RPCError as error:
        raise UnavailableError(f"Temporal did not answer: {error.message}") from error


async def _approvals(handle: WorkflowHandle[Any, Any]) -> list[ApprovalRequest]:
    """The run's approval requests; none while it cannot answer yet."""
    try:
        found: list[ApprovalRequest] = await handle.query(
            APPROVALS_QUERY, result_type=list[ApprovalRequest], rpc_timeout=RPC_WAIT
        )
    except WorkflowQueryFailedError:
        return []
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return []
        raise
    return found


async def _last_word(store: Repository, case_id: str) -> str:
    """What the run said last: why it ended without an approval request."""
    timeline = await store.get_timeline(case_id)
    if not timeline:
        return "the playbook ended without asking for approval"
    last = timeline[-1]
    return "; ".join(part for part in (last.summary, last.reason) if part)


def _with(
    started: ContainmentStarted, approval_id: str | None, detail: str, *, ended: bool = False
) -> ContainmentStarted:
    return dataclasses.replace(started, approval_id=approval_id, detail=detail, ended=ended)
