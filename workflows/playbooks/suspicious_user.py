"""Built-in playbook: lock a suspicious account out.

enrich → approval → disable the account → revoke its sessions. Runs for alerts about a
user that look like a sign-in problem (rule or title), or of high severity or more.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from soar.alerts.models import Alert, Observable, ObservableType, Severity
    from soar.containment.models import (
        ContainmentCommand,
        ContainmentTarget,
        ContainmentVerb,
        TargetType,
    )
    from soar.enrichment.models import IdentityContext, Triage
    from soar.enrichment.names import account_matches

from workflows.sdk import PlaybookContext, Trigger, playbook

SIGN_IN_RULE = (
    r"re:sign[\s_-]?in|log[\s_-]?[io]n|logon|authenticat|credential|password|"
    r"brute|mfa|impossible travel"
)
USERS = frozenset({ObservableType.USER})


def user_of(alert: Alert) -> Observable | None:
    """The first user the alert names."""
    return next((o for o in alert.observables if o.type is ObservableType.USER), None)


def identity_of(triage: Triage | None, user: str) -> IdentityContext | None:
    """What the inventory (through the triage) knows about the user."""
    identities = triage.identities if triage else []
    return next((i for i in identities if account_matches(user, i.user)), None)


def account(action: ContainmentVerb, user: str) -> ContainmentCommand:
    return ContainmentCommand(
        action=action, target=ContainmentTarget(type=TargetType.ACCOUNT, value=user)
    )


@playbook(
    name="suspicious_user",
    trigger=[
        Trigger(observable_types=USERS, rule=SIGN_IN_RULE),
        Trigger(observable_types=USERS, min_severity=Severity.HIGH),
    ],
)
async def suspicious_user(ctx: PlaybookContext) -> None:
    """Disable a suspicious account and end its sessions, with approval."""
    observable = user_of(ctx.alert)
    if observable is None:
        await ctx.note("No user in the alert: no account to disable.")
        return
    user = observable.value
    await ctx.enrich([observable])
    disable = account(ContainmentVerb.DISABLE, user)
    outcome = await ctx.request_approval(
        action="disable and revoke sessions",
        target=user,
        reason=ctx.alert.title,
        blast_radius=_blast_radius(user, identity_of(ctx.triage, user)),
        command=disable,
    )
    if not outcome.approved:
        return
    await ctx.contain(disable, approval=outcome)
    await ctx.contain(account(ContainmentVerb.REVOKE, user), approval=outcome)


def _blast_radius(user: str, identity: IdentityContext | None) -> str:
    radius = f"{user} cannot sign in and loses every open session"
    if identity is not None and identity.vip:
        radius += "; the inventory lists this user as a VIP"
    if identity is not None and identity.team:
        radius += f"; team {identity.team}"
    return radius
