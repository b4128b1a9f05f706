"""Built-in playbook: lock a suspicious account out.

enrich → approval → disable the account → revoke its sessions. Runs for alerts about a
user that look like a sign-in problem (rule or title), or of high severity or more.
"""

from __future__ import annotations

from workflows.sdk import (
    Alert,
    IdentityContext,
    Observable,
    ObservableType,
    PlaybookContext,
    Severity,
    Triage,
    Trigger,
    account_matches,
    disable_account,
    playbook,
    revoke_sessions,
)

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
    outcome = await ctx.request_approval(
        disable_account(user),
        action="disable and revoke sessions",
        reason=ctx.alert.title,
        blast_radius=_blast_radius(user, identity_of(ctx.triage, user)),
    )
    if not outcome.approved:
        return
    await ctx.contain(outcome)
    await ctx.contain(revoke_sessions(user), approval=outcome)


def _blast_radius(user: str, identity: IdentityContext | None) -> str:
    radius = f"{user} cannot sign in and loses every open session"
    if identity is not None and identity.vip:
        radius += "; the inventory lists this user as a VIP"
    if identity is not None and identity.team:
        radius += f"; team {identity.team}"
    return radius
