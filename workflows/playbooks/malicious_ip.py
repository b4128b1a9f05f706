"""Built-in playbook: block a malicious external address for a while.

enrich → approval → deny the address (an hour unless the `block_seconds` option says
otherwise) → verify → note.

It runs on alerts of medium severity or more with a public address in the `source` or
`actor` role (:data:`~workflows.playbooks.evidence.PUBLIC_SOURCE`), when either holds:

- the triage is bad: a `malicious` verdict, or a score of at least
  :data:`~workflows.playbooks.evidence.BAD_SCORE` (a `suspicious` verdict alone is not
  enough: every high alert starts there);
- the rule or title names an attack worth blocking its source for
  (:data:`~workflows.playbooks.evidence.ATTACK`: brute force, password spray, credential
  stuffing, scan or sweep, exploit, injection, JNDI, command and control, DDoS…).

A private, shared (CGNAT), documentation, loopback, link-local or reserved source never
triggers it: such an address is an internal host or test data, not something the edge
can block.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from workflows.playbooks.evidence import ATTACK, PUBLIC_SOURCE, bad_triage
from workflows.sdk import (
    ActionState,
    AddressClass,
    Alert,
    ContainmentAction,
    Observable,
    ObservableType,
    PlaybookContext,
    Severity,
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


def public_source(alert: Alert) -> Observable | None:
    """The alert's first source address that is public, if any."""
    for observable in alert.observables:
        if (
            observable.type is ObservableType.IP
            and observable.role in PUBLIC_SOURCE.roles
            and _is_public(observable.value)
        ):
            return observable
    return None


@playbook(
    name="malicious_ip",
    options=MaliciousIpOptions,
    trigger=[
        *bad_triage(Trigger(min_severity=Severity.MEDIUM, observables=(PUBLIC_SOURCE,))),
        Trigger(
            label="rule names an attack",
            rule=ATTACK,
            min_severity=Severity.MEDIUM,
            observables=(PUBLIC_SOURCE,),
        ),
    ],
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
