"""The case workflow's contract: its name, id scheme, signals, query and input, and the
input of the playbook workflows it starts.

Everyone who talks to a case workflow — correlation, the case service (API, Slack, CLI),
playbooks and the workflow itself — takes these names from here, so none is spelled
twice. Plain constants, models and pure functions: workflow code may import this module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field, model_validator

from soar.alerts.models import Alert
from soar.cases.models import Case, CaseCommand
from soar.enrichment.models import Triage
from soar.escalation.chain import EscalationState
from soar.escalation.models import Policy
from soar.notifications.models import Notification, from_slack_era

CASE_WORKFLOW = "CaseWorkflow"
"""The workflow type that owns one open case per correlation key."""

ATTACH_SIGNAL = "attach"
"""Signal: one triaged alert (:class:`AttachAlert`) joins the case: from a case merged
into it, or from an alert workflow of a release before the batched intake."""

ATTACH_ALERTS_SIGNAL = "attach_alerts"
"""Signal: alerts (:class:`AttachAlerts`) join the case, in the order they came; the
case triages them."""

MAX_ALERTS_PER_SIGNAL = 200
"""The most alerts one `attach_alerts` signal carries (a signal's payload is bounded)."""

PAYLOAD_BYTES = 512 * 1024
"""About the most alert text one payload carries: Temporal refuses payloads over 2 MiB
(and warns from 512 KiB), and a spooled batch of big alerts for one case could reach
that."""

COMMAND_SIGNAL = "command"
"""Signal: a :class:`soar.cases.models.CaseCommand` changes the case."""

PLAYBOOK_ENDED_SIGNAL = "playbook_ended"
"""Signal: a playbook the case started has ended."""

CASE_QUERY = "case"
"""Query: the case the workflow holds now, or None."""

PLAYBOOK_SEPARATOR = "/playbook/"
SPLIT_KEY_PREFIX = "split:"
MAX_MERGE_HOPS = 5
"""How many merged cases a `merge_in` may be passed along before it is dropped (a case
merged into a case that was merged meanwhile forwards it; a cycle must not loop)."""


def case_workflow_id(key: str) -> str:
    """`case-<hash of the key>`: stable, short, and free of attacker-chosen characters."""
    return "case-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def merge_command_id(case_id: str, into: str) -> str:
    """The one id of merging `case_id` into `into`: asking again is the same command."""
    return "merge-" + _digest(f"{case_id}\n{into}")


def merge_in_command_id(case_id: str, into: str) -> str:
    """The id of the `merge_in` the merged case sends its survivor (applied once)."""
    return f"{case_id}:merge-into:{into}"


def split_command_id(case_id: str, alert_ids: list[str]) -> str:
    """The one id of splitting these alerts out of `case_id`, whatever their order."""
    return "split-" + _digest("\n".join([case_id, *sorted(set(alert_ids))]))


def split_key(case_id: str, command_id: str) -> str:
    """The correlation key of the case a split opens: derived from the case the alerts
    left and the split, so it collides with no key correlation makes, nor another split."""
    return f"{SPLIT_KEY_PREFIX}{case_id}:{command_id.removeprefix('split-')[:16]}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def playbook_workflow_id(case_id: str, playbook: str) -> str:
    """`<case id>/playbook/<name>`: a playbook runs at most once per case."""
    return f"{case_id}{PLAYBOOK_SEPARATOR}{playbook}"


def case_of_playbook(workflow_id: str) -> str:
    """The case id of a playbook workflow id (see :func:`playbook_workflow_id`)."""
    return workflow_id.split(PLAYBOOK_SEPARATOR, 1)[0]


def playbook_of(workflow_id: str) -> str:
    """The playbook name of a playbook workflow id (see :func:`playbook_workflow_id`)."""
    return workflow_id.rsplit(PLAYBOOK_SEPARATOR, 1)[-1]


class AttachAlert(BaseModel):
    """The `attach` signal: one alert (without its raw payload) and its triage."""

    alert: Alert
    triage: Triage | None = None


def _size(alert: Alert) -> int:
    """A cheap upper estimate of the alert's size in a payload (its raw is dropped)."""
    text = sum(
        len(part or "")
        for part in (alert.id, alert.dedup_key, alert.title, alert.description, alert.link)
    )
    return 512 + 2 * text + sum(64 + len(o.value) for o in alert.observables)


def alert_chunks(alerts: Sequence[Alert], most: int = MAX_ALERTS_PER_SIGNAL) -> list[list[Alert]]:
    """The alerts in order, cut into payloads of at most `most` alerts and about
    PAYLOAD_BYTES each (an alert bigger than that alone goes in a payload of its own)."""
    chunks: list[list[Alert]] = []
    size = 0
    for alert in alerts:
        cost = _size(alert)
        if not chunks or len(chunks[-1]) >= most or size + cost > PAYLOAD_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(alert)
        size += cost
    return chunks


class AttachAlerts(BaseModel):
    """The `attach_alerts` signal: alerts (without their raw payloads), not triaged yet."""

    alerts: list[Alert]


class Survivor(BaseModel):
    """Where a merged case sends what still reaches it: the case it was merged into and
    that case's workflow."""

    case_id: str
    workflow_id: str


class MergedCase(BaseModel):
    """The `merge_in` command's `data["merged"]`: the merged case as it was when it
    merged, its workflow (which forwards to the survivor), the playbooks it was running
    (the survivor waits for them, and cancels them when it closes) and those it started."""

    case: Case
    workflow_id: str
    running_playbooks: dict[str, str] = Field(default_factory=dict)
    started_playbooks: list[str] = Field(default_factory=list)
    hops: int = 0


class SplitFrom(BaseModel):
    """What a case opened by a split knows of it: the case the alerts left, who split
    them out and why."""

    case_id: str
    actor: str
    reason: str | None = None
    command_id: str


class PlaybookEnded(BaseModel):
    """A playbook child workflow has ended: `failed`, and why. Sent by the playbook
    itself, so a case that continued-as-new since it started the playbook still hears."""

    child_id: str
    playbook: str
    failed: bool = False
    reason: str | None = None


class CaseInput(BaseModel):
    """The case workflow's input: a new case (from correlation, key and window alone), or
    the whole state carried over continue-as-new."""

    _from_slack_era = model_validator(mode="before")(from_slack_era)

    correlation_key: str
    window_seconds: int
    history_limit: int | None = None
    case: Case | None = None
    seen_alert_ids: list[str] = Field(default_factory=list)
    signatures: list[str] = Field(default_factory=list)
    started_playbooks: list[str] = Field(default_factory=list)
    pending_alerts: list[AttachAlert] = Field(default_factory=list)
    pending_commands: list[CaseCommand] = Field(default_factory=list)
    pending_ended: list[PlaybookEnded] = Field(
        default_factory=list, description="Playbook ends heard but not yet taken in."
    )
    seen_command_ids: list[str] = Field(default_factory=list)
    sequence: int = 0
    severity_pinned: bool = False
    channels: list[str] = Field(
        default_factory=list, description="The notification channels that show the case."
    )
    outbox: list[Notification] = Field(default_factory=list)
    running_playbooks: dict[str, str] = Field(
        default_factory=dict, description="Child workflow id → playbook name."
    )
    generation: int = Field(
        default=0, description="Cases this workflow id has held before this one."
    )
    escalation_policy: Policy | None = Field(
        default=None, description="The policy a case opened by this input escalates under."
    )
    escalation_members: list[list[str]] = Field(
        default_factory=list, description="Each level's direct recipients, as configured."
    )
    escalation: EscalationState | None = Field(
        default=None, description="The open case's escalation, carried over."
    )
    survivor: Survivor | None = Field(
        default=None,
        description="Set once the case was merged: alerts, commands and playbook ends "
        "that reach this workflow go on to the survivor.",
    )
    split_from: SplitFrom | None = Field(
        default=None, description="Set when a split opened the case (its alerts pending)."
    )


class PlaybookStart(BaseModel):
    """What the case passes each playbook child workflow it starts: the playbook
    workflow's input."""

    _from_slack_era = model_validator(mode="before")(from_slack_era)

    playbook: str
    case_id: str
    case_workflow_id: str
    alert: Alert
    triage: Triage | None = None
    channels: list[str] = Field(default_factory=list)
    dry_run: bool = False
    options: dict[str, Any] = Field(default_factory=dict)
