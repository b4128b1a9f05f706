"""Built-in playbook: lock a suspicious account out.

enrich → approval → disable the account → revoke its sessions.

It runs on alerts that name a user, when either holds:

- the rule or title says the account is in someone else's hands
  (:data:`~workflows.playbooks.evidence.TAKEOVER`: impossible or atypical travel,
  anomalous sign-ins or tokens, session hijacking, MFA fatigue or push bombing, leaked
  or stolen credentials, inbox forwarding rules, admin or OAuth consent grants, a
  success after a brute force, a spray or credential stuffing);
- a user is in the `actor` role and the triage is bad (a `malicious` verdict, or a
  score of at least :data:`~workflows.playbooks.evidence.BAD_SCORE`), unless the alert
  is only an attempt on accounts (:data:`~workflows.playbooks.evidence.ATTEMPT`: a
  brute force, a spray, a failed sign-in, a scan).

Failed sign-ins and guessing at an account do not justify locking its owner out: that
would hand the attacker a denial of service. Only a sign of success does.
"""

from __future__ import annotations

from workflows.playbooks.evidence import ATTEMPT, TAKEOVER, bad_triage
from workflows.sdk import (
    Alert,
    IdentityContext,
    Observable,
    ObservableMatch,
    ObservableRole,
    ObservableType,
    PlaybookContext,
    Triage,
    Trigger,
    account_matches,
    disable_account,
    playbook,
    revoke_sessions,
)

A_USER = ObservableMatch(type=ObservableType.USER)
AN_ACTING_USER = ObservableMatch(type=ObservableType.USER, roles=frozenset({ObservableRole.ACTOR}))


def user_of(alert: Alert) -> Observable | None:
    """The alert's user: the first in the `actor` role, else the first user it names."""
    users = [o for o in alert.observables if o.type is ObservableType.USER]
    return next((o for o in users if o.role is ObservableRole.ACTOR), users[0] if users else None)


def identity_of(triage: Triage | None, user: str) -> IdentityContext | None:
    """What the inventory (through the triage) knows about the user."""
    identities = triage.identities if triage else []
    return next((i for i in identities if account_matches(user, i.user)), None)


@playbook(
    name="suspicious_user",
    trigger=[
        Trigger(label="rule names an account takeover", rule=TAKEOVER, observables=(A_USER,)),
        *bad_triage(
            Trigger(label="not an attempt", unless_rule=ATTEMPT, observables=(AN_ACTING_USER,))
        ),
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
