"""Built-in playbook: block a malicious external address for a while.

enrich → approval → deny the address (an hour unless the `block_seconds` option says
otherwise) → verify → note. Runs for alerts of medium severity or more that carry a
public source address: a private one cannot be blocked at the edge.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from workflows.sdk import (
    ActionState,
    AddressClass,
    Alert,
    ContainmentAction,
    Observable,
    ObservableRole,
    ObservableType,
    PlaybookContext,
    Severity,
    Triage,
    Trigger,
    block_ip,
    classify_address,
    playbook,
)


class MaliciousIpOptions(BaseModel):
    """`[playbooks.malicious_ip] options = {...}`; an unknown key is refused, so a typo
    stops the worker at start-up instead of being ignored."""

    model_config = ConfigDict(extra="forbid")

    block_seconds: int = Field(default=3600, ge=1, le=365 * 86400)
    """How long the address stays blocked."""


SOURCE_ROLES = frozenset({ObservableRole.SOURCE, ObservableRole.ACTOR})


def public_source(alert: Alert) -> Observable | None:
    """The alert's first source address that is public, if any."""
    for observable in alert.observables:
        if (
            observable.type is ObservableType.IP
            and observable.role in SOURCE_ROLES
            and _is_public(observable.value)
        ):
            return observable
    return None


def has_public_source(alert: Alert, triage: Triage | None) -> bool:
    """a public source address."""
    return public_source(alert) is not None


@playbook(
    name="malicious_ip",
    options=MaliciousIpOptions,
    trigger=Trigger(
        observable_types=frozenset({ObservableType.IP}),
        min_severity=Severity.MEDIUM,
        where=has_public_source,
    ),
)
async def malicious_ip(ctx: PlaybookContext[MaliciousIpOptions]) -> None:
    """Block a malicious external address for an hour, with approval."""
    source = public_source(ctx.alert)
    if source is None:
        await ctx.note("No public source address in the alert: nothing to block.")
        return
    address = source.value
    await ctx.enrich([source])
    seconds = ctx.options.block_seconds
    outcome = await ctx.request_approval(
        block_ip(address, seconds),
        reason=_reason(ctx),
        blast_radius=f"all traffic to and from {address} is blocked for {seconds} s",
    )
    if not outcome.approved:
        return
    action = await ctx.contain(outcome)
    if action.carried_out:
        action = await ctx.verify(action)
        await ctx.note(_summary(action, seconds))


def _is_public(value: str) -> bool:
    try:
        return classify_address(value) is AddressClass.PUBLIC
    except ValueError:
        return False


def _reason(ctx: PlaybookContext[MaliciousIpOptions]) -> str:
    triage = ctx.triage
    verdict = f" (triage: {triage.verdict.value}, {triage.score}/100)" if triage else ""
    return f"{ctx.alert.title}{verdict}"


def _summary(action: ContainmentAction, seconds: int) -> str:
    address = action.command.target.value
    if action.state is ActionState.DRY_RUN:
        return f"Dry run: {address} would have been blocked for {seconds} s."
    until = f" until {action.expires_at:%Y-%m-%d %H:%M} UTC" if action.expires_at else ""
    confirmed = "verified" if action.state is ActionState.VERIFIED else "not verified yet"
    return f"{address} is blocked by {action.actuator}{until} ({confirmed})."
