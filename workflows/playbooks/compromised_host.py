"""Built-in playbook: isolate a compromised host.

enrich → approval (two approvers when the inventory rates the host critical) → isolate
the host → notify its owner. Runs for alerts of high severity or more about a host.
"""

from __future__ import annotations

from workflows.sdk import (
    ActionState,
    Alert,
    AssetContext,
    Criticality,
    Observable,
    ObservableRole,
    ObservableType,
    PlaybookContext,
    Severity,
    Triage,
    Trigger,
    isolate,
    normalise_host,
    playbook,
    short_host,
)

CRITICAL_QUORUM = 2


def host_of(alert: Alert) -> Observable | None:
    """The alert's host: the first hostname in the `host` role, else the first hostname."""
    hosts = [o for o in alert.observables if o.type is ObservableType.HOSTNAME]
    return next((o for o in hosts if o.role is ObservableRole.HOST), hosts[0] if hosts else None)


def asset_of(triage: Triage | None, host: str) -> AssetContext | None:
    """What the inventory (through the triage) knows about the host: the same full name
    first, else the same short name."""
    assets = triage.assets if triage else []
    full = normalise_host(host)
    exact = next((a for a in assets if normalise_host(a.hostname) == full), None)
    return exact or next((a for a in assets if short_host(a.hostname) == short_host(full)), None)


@playbook(
    name="compromised_host",
    trigger=Trigger(
        observable_types=frozenset({ObservableType.HOSTNAME}), min_severity=Severity.HIGH
    ),
)
async def compromised_host(ctx: PlaybookContext) -> None:
    """Isolate a compromised host, with two approvers when it is critical, and tell its owner."""
    observable = host_of(ctx.alert)
    if observable is None:
        await ctx.note("No host in the alert: nothing to isolate.")
        return
    host = observable.value
    await ctx.enrich([observable])
    asset = asset_of(ctx.triage, host)
    critical = asset is not None and asset.criticality is Criticality.CRITICAL
    owner = asset.owner if asset else None
    outcome = await ctx.request_approval(
        isolate(host),
        action="isolate",
        reason=ctx.alert.title,
        blast_radius=_blast_radius(host, owner, critical),
        quorum=CRITICAL_QUORUM if critical else 1,
    )
    if not outcome.approved:
        return
    action = await ctx.contain(outcome)
    if not action.carried_out:
        return
    if owner is None:
        await ctx.note(f"{host} has no owner in the inventory: nobody was notified.")
        return
    done = "would have been" if action.state is ActionState.DRY_RUN else "was"
    await ctx.notify(
        f"Your host {host} {done} isolated from the network: {ctx.alert.title}. "
        "The security team will contact you.",
        to=owner,
    )


def _blast_radius(host: str, owner: str | None, critical: bool) -> str:
    who = f"its owner {owner}" if owner else "whoever uses it"
    importance = "; the inventory rates it critical" if critical else ""
    return f"{host} loses its network access and {who} cannot work on it{importance}"
