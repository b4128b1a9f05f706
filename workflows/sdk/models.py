"""The data of the playbook SDK: what a playbook is started with, what its steps return,
the names of the activities and handlers it uses.

Plain pydantic models and constants, free of I/O, so workflow code imports this module
through `workflow.unsafe.imports_passed_through()` and the case workflow can too.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from soar.alerts.models import Observable
from soar.approvals.models import ApprovalRequest, ApprovalSettings, ApprovalState, Decision
from soar.cases.contract import PlaybookStart

# Re-exported: the containment service, which may not import workflows, shares them.
from soar.containment.contract import CONTAINMENT_EXPIRY_WORKFLOW as CONTAINMENT_EXPIRY_WORKFLOW
from soar.containment.contract import expiry_workflow_id as expiry_workflow_id
from soar.containment.models import ContainmentAction, ContainmentCommand
from soar.enrichment.models import Enrichment
from soar.guardrails.models import GuardrailDecision

APPROVAL_POLICY = "playbooks.approval_policy"
"""Activity: who may decide a request naming some decider references (`alice`,
`group:x`, `role:y`), and the configured approval defaults."""

ENRICH_OBSERVABLES = "playbooks.enrich"
"""Activity: run the configured enrichers on some observables."""

ENRICHMENT = "enrichment"
NOTIFY = "notify"
PLAYBOOK_FINISHED = "playbook_finished"
"""Timeline kinds the SDK writes beyond :class:`soar.cases.models.TimelineKind`."""

OnExpiry = Literal["escalate", "stop"]


def playbook_workflow_type(name: str) -> str:
    """The Temporal workflow type of a playbook: `playbook:<name>`."""
    return f"playbook:{name}"


class PlaybookInput(PlaybookStart):
    """What a playbook run starts with.

    The case workflow sends the fields of :class:`PlaybookStart`. The approval fields
    override the `[approvals]` configuration for this run when set; left `None`, the
    configuration decides, read when each request is made. An empty `case_workflow_id`
    means the playbook runs on its own (`soar playbooks test`, the test fixtures): its
    case changes are written to the timeline instead of signalled. `options` are
    playbook-specific settings (`{"block_seconds": 7200}`).
    """

    expiry_seconds: int | None = Field(default=None, ge=1)
    on_expiry: OnExpiry | None = None
    forbid_self_approval: bool | None = None
    requested_by: str = ""

    @model_validator(mode="after")
    def _default_requester(self) -> PlaybookInput:
        if not self.requested_by:
            self.requested_by = f"playbook:{self.playbook}"
        return self


class ApprovalPolicy(BaseModel):
    """What the configuration says about one approval request: the user ids allowed to
    decide it (empty: nobody is), and the defaults a playbook input may override."""

    deciders: list[str]
    expiry_seconds: int = Field(ge=1)
    on_expiry: OnExpiry
    forbid_self_approval: bool

    @classmethod
    def from_settings(cls, approvals: ApprovalSettings, references: list[str]) -> ApprovalPolicy:
        return cls(
            deciders=approvals.resolve(references),
            expiry_seconds=approvals.expiry_seconds,
            on_expiry=approvals.on_expiry,
            forbid_self_approval=approvals.forbid_self_approval,
        )


class ApprovalOutcome(BaseModel):
    """How an approval step ended.

    `approval_id` is `None` when no request was made: a guardrail refused the command
    first (`guardrail` says why), or nobody is configured to decide. `command` is the
    containment command the approval covers, when the request named one.
    """

    approval_id: str | None
    state: ApprovalState
    detail: str
    command: ContainmentCommand | None = None
    decisions: list[Decision] = Field(default_factory=list)
    guardrail: GuardrailDecision | None = None

    @property
    def approved(self) -> bool:
        return self.state is ApprovalState.APPROVED


class EnrichRequest(BaseModel):
    """Input of the `playbooks.enrich` activity: the observables, and the source and own
    marking of the alert they come from, which say how far they may be sent."""

    observables: list[Observable] = Field(default_factory=list)
    source: str | None = None
    marking: str | None = None


class EnrichResult(BaseModel):
    """What the enrichers said, and a line for each provider that failed."""

    enrichments: list[Enrichment] = Field(default_factory=list)
    failures: list[str] = Field(default_factory=list)


class PlaybookResult(BaseModel):
    """What a playbook run did: its approval requests and containment actions."""

    playbook: str
    case_id: str
    dry_run: bool
    approvals: list[ApprovalRequest] = Field(default_factory=list)
    actions: list[ContainmentAction] = Field(default_factory=list)


class ExpiryInput(BaseModel):
    """What a containment expiry starts with: the playbook run that contained (whose case
    it writes to) and the action as it was applied."""

    playbook: PlaybookInput
    action: ContainmentAction
