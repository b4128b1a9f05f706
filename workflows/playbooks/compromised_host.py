"""Built-in playbook: isolate a compromised host.

enrich → approval (two approvers when the inventory rates the host critical) → isolate
the host → notify its owner.

It runs only on evidence that the host itself fell, with a hostname in the alert that
is not merely the destination or target of the activity, when any of these holds:

- the rule or title names a compromise (:data:`~workflows.playbooks.evidence.COMPROMISE`:
  malware, ransomware, trojan, rootkit or Wazuh rootcheck, C2 / command and control,
  beacon, credential theft or dumping, web or reverse shell…), severity high or more;
- the alert comes from an EDR (:data:`~workflows.playbooks.evidence.EDR_SOURCES`:
  `crowdstrike*`, `defender*`, `sentinelone*`…), severity high or more;
- a hostname is in the `actor` role and the triage is bad (a `malicious` verdict, or a
  score of at least :data:`~workflows.playbooks.evidence.BAD_SCORE`).

Never on an attempt against the host — a brute force, a password spray, a scan, a
failed sign-in (:data:`~workflows.playbooks.evidence.ATTEMPT`) — whatever its severity
or verdict: those make the host a victim, and isolating it would do the attacker's work.
"""

from __future__ import annotations

from workflows.playbooks.evidence import ATTEMPT, COMPROMISE, EDR_SOURCES, bad_triage
from workflows.sdk import (
    ActionState,
    Alert,
    AssetContext,
    Criticality,
    Observable,
    ObservableMatch,
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


HOST_ROLES = (
    ObservableRole.ACTOR,
    ObservableRole.HOST,
    ObservableRole.SOURCE,
    ObservableRole.RELATED,
)
"""The roles in which a hostname can be the compromised one, in the order the playbook
prefers them; a host that is only the destination or target of the activity is not."""

A_HOST = ObservableMatch(type=ObservableType.HOSTNAME, roles=frozenset(HOST_ROLES))
AN_ACTING_HOST = ObservableMatch(
    type=ObservableType.HOSTNAME, roles=frozenset({ObservableRole.ACTOR})
)


def host_of(alert: Alert) -> Observable | None:
    """The alert's host: the first hostname in the `actor` role, else in the `host`
    role, else `source`, else `related`; None when every hostname is a destination or
    a target."""
    hosts = [o for o in alert.observables if o.type is ObservableType.HOSTNAME]
    for role in HOST_ROLES:
        found = next((o for o in hosts if o.role is role), None)
        if found is not None:
            return found
    return None


def asset_of(triage: Triage | None, host: str) -> AssetContext | None:
    """What the inventory (through the triage) knows about the host: the same full name
    first, else the same short name."""
    assets = triage.assets if triage else []
    full = normalise_host(host)
    exact = next((a for a in assets if normalise_host(a.hostname) == full), None)
    return exact or next((a for a in assets if short_host(a.hostname) == short_host(full)), None)


@playbook(
    name="compromised_host",
    trigger=[
        Trigger(
            label="rule names a compromise, not an attempt",
            rule=COMPROMISE,
            unless_rule=ATTEMPT,
            min_severity=Severity.HIGH,
            observables=(A_HOST,),
        ),
        Trigger(
            label="from an EDR, not an attempt",
            sources=EDR_SOURCES,
            unless_rule=ATTEMPT,
            min_severity=Severity.HIGH,
            observables=(A_HOST,),
        ),
        *bad_triage(
            Trigger(label="not an attempt", unless_rule=ATTEMPT, observables=(AN_ACTING_HOST,))
        ),
    ],
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
