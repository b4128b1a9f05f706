"""The alert workflow's contract: its name, input, signal and queries.

Releases before the batched intake started one per alert, id `alert-<alert id>`;
`workflows/alert.py` still runs those runs to their end and takes the names from here.
"""

from __future__ import annotations

from pydantic import BaseModel

from soar.alerts.models import Alert

ALERT_WORKFLOW = "AlertWorkflow"
"""The workflow type that holds one alert."""

RESOLVE_SIGNAL = "resolve"
"""Signal: the sender says the alert is resolved (an :class:`Alert` with the news)."""

ALERT_QUERY = "alert"
"""Query: the alert as the workflow holds it."""

TRIAGE_QUERY = "triage"
"""Query: the alert's triage, once made."""

CASE_QUERY = "case"
"""Query: the case the alert joined, once correlated."""


class AlertWorkflowInput(BaseModel):
    """What the intake starts an alert workflow with."""

    alert: Alert
    resolve_window_seconds: int = 24 * 3600
    correlate: bool = True
