"""The playbook SDK: write a response as typed Python; it runs as a durable workflow.

::

    from workflows.sdk import PlaybookContext, Trigger, playbook

    @playbook(name="block_scanner", trigger=Trigger(rule="*scan*", min_severity="medium"))
    async def block_scanner(ctx: PlaybookContext) -> None:
        \"\"\"Block a scanning address for a day.\"\"\"
        ...

A playbook is deterministic workflow code: it does its work through the step helpers
of :class:`PlaybookContext` (activities underneath), never I/O of its own. The worker
registers :func:`playbook_workflows` and the activities of
:class:`workflows.sdk.activities.PlaybookActivities`.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.sdk.models import (
        ApprovalOutcome,
        PlaybookInput,
        PlaybookResult,
        playbook_workflow_type,
    )
    from workflows.sdk.trigger import Trigger

from workflows.sdk.containment_step import PlaybookError
from workflows.sdk.context import PlaybookContext
from workflows.sdk.discovery import discover_playbooks, playbook_workflows
from workflows.sdk.registry import PlaybookDefinitionError, is_playbook, playbook, spec_of
from workflows.sdk.spec import PlaybookSpec

__all__ = [
    "ApprovalOutcome",
    "PlaybookContext",
    "PlaybookDefinitionError",
    "PlaybookError",
    "PlaybookInput",
    "PlaybookResult",
    "PlaybookSpec",
    "Trigger",
    "discover_playbooks",
    "is_playbook",
    "playbook",
    "playbook_workflow_type",
    "playbook_workflows",
    "spec_of",
]
