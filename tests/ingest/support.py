"""What the intake tests read back from Temporal: the alerts each case workflow was
signalled with."""

from __future__ import annotations

from temporalio.client import Client

from soar.cases.contract import ATTACH_ALERTS_SIGNAL, AttachAlerts


async def attached_signals(client: Client, workflow_id: str) -> list[list[str]]:
    """The alert ids of each `attach_alerts` signal in the history of the case
    workflow's latest run, in the order the server took them."""
    signals: list[list[str]] = []
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        attributes = event.workflow_execution_signaled_event_attributes
        if attributes.signal_name == ATTACH_ALERTS_SIGNAL:
            [batch] = await client.data_converter.decode(attributes.input.payloads, [AttachAlerts])
            signals.append([alert.id for alert in batch.alerts])
    return signals
