"""The playbook SDK: write a response as typed Python; it runs as a durable workflow.

Everything a playbook author needs is imported from here::

    from workflows.sdk import PlaybookContext, Trigger, block_ip, playbook

    @playbook(name="block_scanner", trigger=Trigger(rule="*scan*", min_severity="medium"))
    async def block_scanner(ctx: PlaybookContext) -> None:
        \"\"\"Block a scanning address for a day.\"\"\"
        outcome = await ctx.request_approval(block_ip("203.0.113.7", 86400), reason="scan")
        if outcome.approved:
            action = await ctx.contain(outcome)

A playbook is deterministic workflow code: it does its work through the step helpers
of :class:`PlaybookContext` (activities underneath), never I/O of its own. The worker
runs it in the sandbox of :mod:`workflows.sdk.sandbox`, which passes the product's
models through, so no `imports_passed_through()` block is needed.
"""

from soar.alerts.models import Alert, Observable, ObservableRole, ObservableType, Severity
from soar.containment.models import (
    ActionState,
    ContainmentAction,
    ContainmentCommand,
    block_ip,
    disable_account,
    isolate,
    revoke_sessions,
)
from soar.enrichment.addresses import classify as classify_address
from soar.enrichment.models import (
    AddressClass,
    AssetContext,
    Criticality,
    IdentityContext,
    Triage,
    Verdict,
)
from soar.enrichment.names import account_matches, normalise_host, short_host
from workflows.sdk.containment_step import PlaybookError
from workflows.sdk.context import PlaybookContext
from workflows.sdk.discovery import discover_playbooks, playbook_workflows
from workflows.sdk.models import (
    ApprovalOutcome,
    PlaybookInput,
    PlaybookResult,
    playbook_workflow_type,
)
from workflows.sdk.registry import PlaybookDefinitionError, is_playbook, playbook, spec_of
from workflows.sdk.spec import PlaybookSpec
from workflows.sdk.trigger import ObservableMatch, Trigger

__all__ = [
    "ActionState",
    "AddressClass",
    "Alert",
    "ApprovalOutcome",
    "AssetContext",
    "ContainmentAction",
    "ContainmentCommand",
    "Criticality",
    "IdentityContext",
    "Observable",
    "ObservableMatch",
    "ObservableRole",
    "ObservableType",
    "PlaybookContext",
    "PlaybookDefinitionError",
    "PlaybookError",
    "PlaybookInput",
    "PlaybookResult",
    "PlaybookSpec",
    "Severity",
    "Triage",
    "Trigger",
    "Verdict",
    "account_matches",
    "block_ip",
    "classify_address",
    "disable_account",
    "discover_playbooks",
    "is_playbook",
    "isolate",
    "normalise_host",
    "playbook",
    "playbook_workflow_type",
    "playbook_workflows",
    "revoke_sessions",
    "short_host",
    "spec_of",
]
