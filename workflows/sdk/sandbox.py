"""The workflow sandbox every worker and replayer of the product uses.

Temporal re-imports a workflow's modules for each run to keep workflow code
deterministic. The product's models and integrations' options carry no workflow logic,
so they are passed through once instead: a playbook imports `soar`, `integrations` and
the SDK's data modules normally, with no `imports_passed_through()` block, and a model
decoded by the data converter is the same class the playbook compares against.
Workflow code itself — the case workflow, the SDK's steps, every playbook — stays
sandboxed, so its restrictions still catch non-deterministic calls.
"""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

PASSED_THROUGH = ("soar", "integrations", "workflows.sdk.models", "workflows.sdk.trigger")
"""Modules (and their submodules) imported once, outside the sandbox."""


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandboxed runner with :data:`PASSED_THROUGH` passed through."""
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH)
    return SandboxedWorkflowRunner(restrictions=restrictions)
