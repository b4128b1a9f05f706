"""Playbooks (and a stand-in case workflow) that exercise the SDK in tests.

Kept apart from the test helpers: the worker's sandbox re-imports this module for every
run, so it imports only what workflow code may.
"""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from soar.alerts.models import Severity
    from soar.cases.models import CaseCommand, Resolution
    from soar.containment.models import (
        ContainmentArgs,
        ContainmentCommand,
        ContainmentTarget,
        ContainmentVerb,
        TargetType,
    )
    from workflows.sdk.models import PlaybookInput, PlaybookResult

from workflows.sdk import PlaybookContext, Trigger, playbook


def deny(address: str, seconds: int = 600) -> ContainmentCommand:
    return ContainmentCommand(
        action=ContainmentVerb.DENY,
        target=ContainmentTarget(type=TargetType.IPV4_NET, value=address),
        args=ContainmentArgs(duration_seconds=seconds),
    )


@playbook(name="sdk_gate", trigger=Trigger(sources=("sdk-test",)))
async def sdk_gate(ctx: PlaybookContext) -> None:
    """One approval per entry of the `expiries` option; contains `address` when approved.

    Options: `expiries` (seconds, default [30]), `quorum`, `deciders`, `address`,
    `duration` of the containment (default 600 s), and `revert` to undo the containment
    straight away.
    """
    address = ctx.option("address", None)
    command = deny(address, ctx.option("duration", 600)) if address else None
    for expiry in ctx.option("expiries", [30]):
        outcome = await ctx.request_approval(
            action="deny",
            target=address or "nothing",
            reason="test gate",
            blast_radius="none: a test",
            deciders=ctx.option("deciders", None),
            quorum=ctx.option("quorum", 1),
            expiry_seconds=expiry,
            command=command,
        )
        if outcome.approved and command is not None:
            action = await ctx.contain(command, approval=outcome)
            if ctx.option("revert", False):
                await ctx.revert(action)


@playbook(name="sdk_steps", trigger=Trigger(sources=("sdk-test",), rule="steps"))
async def sdk_steps(ctx: PlaybookContext) -> None:
    """Every case-changing step once."""
    await ctx.note("a note")
    await ctx.set_severity(Severity.CRITICAL, "worse than it looked")
    await ctx.escalate("needs a lead", to="alice")
    await ctx.notify("heads up", to="team-blue")
    await ctx.close(Resolution.TRUE_POSITIVE, "contained and done")


@playbook(name="sdk_broken", trigger=Trigger(sources=("sdk-test",), rule="broken"))
async def sdk_broken(ctx: PlaybookContext) -> None:
    """A playbook with a bug."""
    raise ValueError("the playbook has a bug")


@playbook(name="sdk_slow_break", trigger=Trigger(sources=("sdk-test",), rule="slow-break"))
async def sdk_slow_break(ctx: PlaybookContext) -> None:
    """Fails once someone decides on its request: as late as the test wants."""
    await ctx.request_approval(
        action="nothing", target="nothing", reason="test", blast_radius="none: a test"
    )
    raise ValueError("failed after the case moved on")


@playbook(name="sdk_configured", trigger=Trigger(sources=("sdk-test",), rule="configured"))
async def sdk_configured(ctx: PlaybookContext) -> None:
    """Says how it was configured."""
    await ctx.note(f"dry run: {ctx.dry_run}, colour: {ctx.option('colour', 'none')}")


@playbook(name="sdk_misuse", trigger=Trigger(sources=("sdk-test",), rule="misuse"))
async def sdk_misuse(ctx: PlaybookContext) -> None:
    """Uses an approval for one address to block another."""
    outcome = await ctx.request_approval(
        deny("45.9.9.9"), reason="test", blast_radius="none: a test"
    )
    await ctx.contain(deny("45.9.9.10"), approval=outcome)


@playbook(name="sdk_vague", trigger=Trigger(sources=("sdk-test",), rule="vague"))
async def sdk_vague(ctx: PlaybookContext) -> None:
    """Asks for an approval without saying of what."""
    await ctx.request_approval(reason="trust me")


@playbook(
    name="sdk_class",
    trigger=Trigger(sources=("sdk-*",), rule="re:^class", min_severity=Severity.HIGH),
)
class SdkClassPlaybook:
    """A playbook written as a class."""

    async def run(self, ctx: PlaybookContext) -> None:
        await ctx.note(f"class playbook saw {ctx.alert.title}")


class FakeCaseInput(BaseModel):
    playbook: str
    input: PlaybookInput


class FakeCaseResult(BaseModel):
    commands: list[CaseCommand]
    playbook: PlaybookResult


@workflow.defn(name="FakeCase")
class FakeCase:
    """Starts one playbook as its child, as the case workflow does, and keeps the
    `command` signals it sends."""

    def __init__(self) -> None:
        self._commands: list[CaseCommand] = []

    @workflow.signal
    def command(self, command: CaseCommand) -> None:
        self._commands.append(command)

    @workflow.run
    async def run(self, input: FakeCaseInput) -> FakeCaseResult:
        child = await workflow.start_child_workflow(
            f"playbook:{input.playbook}",
            input.input.model_copy(update={"case_workflow_id": workflow.info().workflow_id}),
            id=f"{workflow.info().workflow_id}/playbook/{input.playbook}",
            result_type=PlaybookResult,
        )
        result = await child
        await workflow.wait_condition(workflow.all_handlers_finished)
        return FakeCaseResult(commands=self._commands, playbook=result)
