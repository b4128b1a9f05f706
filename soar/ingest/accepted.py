"""Read an accepted alert back before its workflow has recorded it (read your writes).

The webhook answers 202 only once each alert is held durably, in one of two places:
the spool of the API process that took it (queued while Temporal is away, or parked
when Temporal refused it), or Temporal itself, whose alert workflow
`alert-<alert id>` was started with the alert as its input. The workflow records the
alert in the case store a moment later; until then this module reads it from where
the intake put it, so the intake writes nothing more per alert than it already did.

Where each reader looks, in order, after the case store:

- the spool file of this data directory: alerts not handed to Temporal yet. API
  processes that share a data directory share the file; one on another machine does
  not see them until its peer's forwarder has handed them to Temporal;
- the first event of the alert workflow's history (`WorkflowExecutionStarted`, its
  input): every alert Temporal took, whichever API process started it, and every
  spooled one the forwarder has forwarded — the forwarder deletes a spool entry only
  after the workflow exists, so an alert is always in one place or the next.

A Temporal history is served by the Temporal server alone (no worker, no query), so
the read stays fast while workers are busy with a storm.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from soar.alerts.contract import AlertWorkflowInput
from soar.alerts.models import Alert, alert_workflow_id
from soar.errors import UnavailableError
from soar.ingest.spool import Spool

MAX_ALERT_ID = 300
"""Alert ids are a source name and 24 hex digits; anything far longer names no alert."""

NOT_THERE = frozenset({RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT})
"""Temporal's answers that mean "no such workflow" (an id it cannot hold is invalid)."""


async def started_alert(client: Client, alert_id: str, *, rpc_timeout: timedelta) -> Alert | None:
    """The alert its workflow was started with, read from the workflow's first history
    event; None when Temporal has no such workflow.

    Raises :class:`UnavailableError` when Temporal cannot be asked.
    """
    handle = client.get_workflow_handle(alert_workflow_id(alert_id))
    try:
        events = handle.fetch_history_events(page_size=1, rpc_timeout=rpc_timeout)
        async for event in events:
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            if not payloads:
                return None
            [started] = await client.data_converter.decode(payloads[:1], [AlertWorkflowInput])
            return started.alert if isinstance(started, AlertWorkflowInput) else None
    except RPCError as error:
        if error.status in NOT_THERE:
            return None
        raise UnavailableError(
            f"alert {alert_id!r} is not recorded yet and Temporal cannot be asked: "
            f"{error.status.name}"
        ) from error
    except RuntimeError as error:  # the lazy client has not connected yet
        raise UnavailableError(
            f"alert {alert_id!r} is not recorded yet and Temporal cannot be reached"
        ) from error
    return None


async def accepted_alert(
    spool: Spool, client: Client, alert_id: str, *, rpc_timeout: timedelta
) -> Alert | None:
    """An alert the intake accepted and no workflow has recorded yet: from the spool,
    else from its workflow's start. None when neither holds it.

    Raises :class:`UnavailableError` when the spool does not hold it and Temporal
    cannot be asked (then nobody can tell whether it exists)."""
    if len(alert_id) > MAX_ALERT_ID:
        return None
    return await spool.find(alert_id) or await started_alert(
        client, alert_id, rpc_timeout=rpc_timeout
    )
