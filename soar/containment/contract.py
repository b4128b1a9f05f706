"""The contract of the workflows around containment actions: undoing one (names, ids,
the `revert_now` Update, what reverting by hand carries, the one wording of a refused
revert) and asking for one (the input of the playbook a person's request starts).

An action with a time-to-live is owned by its expiry workflow (`<action id>/expiry`),
which sleeps until the action expires and then reverts it; a person who reverts it
sooner asks that workflow, through the `revert_now` Update, so the revert and the
expiry can never both happen. An action without a running expiry workflow is reverted
by a small workflow of its own (`<action id>/revert`). The service
(:mod:`soar.containment.service`) and the workflows take every name from here. Plain
constants, models and pure functions: workflow code may import this module.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from soar.cases.contract import PlaybookStart
from soar.containment.models import ActionState, ContainmentAction

CONTAINMENT_EXPIRY_WORKFLOW = "ContainmentExpiry"
"""The workflow that reverts a containment when its time-to-live is up."""

CONTAINMENT_REVERT_WORKFLOW = "ContainmentRevert"
"""The workflow that reverts, at a person's request, an action no expiry workflow owns."""

REVERT_NOW_UPDATE = "revert_now"
"""Update of the expiry workflow: revert the action now, for a person
(:class:`RevertRequest`); answers the action as it ended."""


def expiry_workflow_id(action_id: str) -> str:
    """The id of the workflow that reverts the action `action_id` when it expires."""
    return f"{action_id}/expiry"


def revert_workflow_id(action_id: str) -> str:
    """The id of the workflow that reverts `action_id` for a person when no expiry
    workflow owns it; one at a time, so two people asking at once share one revert."""
    return f"{action_id}/revert"


class RevertRequest(BaseModel):
    """A person asks to revert an action now, and why.

    `back_to_triaged` is decided by the service from the store: the case is told it is
    no longer contained only when it is marked contained and no other action of it is in
    force.
    """

    user: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)
    back_to_triaged: bool = False


class RevertInput(BaseModel):
    """What the `<action id>/revert` workflow starts with: the action as stored, the
    request, and where to say so (the case's workflow, the notification channels)."""

    action: ContainmentAction
    request: RevertRequest
    case_workflow_id: str = ""
    channels: list[str] = Field(default_factory=list)


ALREADY_REVERTED = "it is already reverted"
BEING_REVERTED_AT_EXPIRY = "its time-to-live is up and it is being reverted"
REVERT_UNDER_WAY = "a revert of it is already under way"


def cannot_revert(action_id: str, why: str) -> str:
    """The one wording of a refused revert, whichever client asked."""
    return f"action {action_id} cannot be reverted: {why}"


def revert_refusal(action: ContainmentAction) -> str | None:
    """Why `action` cannot be reverted as it stands (in :func:`cannot_revert`'s words),
    or None when it can: it must be in force and its verb one that can be undone."""
    if action.state is ActionState.REVERTED:
        why = ALREADY_REVERTED
    elif not action.command.action.revertible:
        why = f"{action.command.action.value} cannot be undone"
    elif action.state is ActionState.DRY_RUN:
        why = "it was a dry run: nothing was changed"
    elif not action.in_effect:
        why = f"it ended {action.state.value}: nothing is in effect"
    else:
        return None
    return cannot_revert(action.id, why)


def playbook_type(playbook: str) -> str:
    """The workflow type of a playbook, `playbook:<name>`, as the playbook SDK registers
    every playbook (`workflows.sdk.models.playbook_workflow_type`)."""
    return f"playbook:{playbook}"


class RequestedPlaybookStart(PlaybookStart):
    """The input of a containment playbook started because a person asked for it: a
    :class:`PlaybookStart` that names who asked (the playbook reads it as its input, and
    the requester may not approve their own request)."""

    requested_by: str = Field(min_length=1, max_length=200)
