"""Disabling Okta accounts (suspend) and ending their sessions (revoke).

`disable` suspends the user: a suspended user cannot sign in, and unsuspending gives the
account back as it was (groups, apps, factors). Okta suspends only ACTIVE users, so the
user is read first: SUSPENDED already is done without a call, and any other status
(deactivated, staged, locked out…) is a definitive no in plain words — a person decides
what to do with such an account. `revoke` ends every Okta session of the user and
revokes the OAuth tokens it was issued; nothing can give them back, so its revert does
nothing and says so.

The account is named by its login (usually an email) or its Okta id. Okta keeps no note
on a lifecycle change, so the case id is not written at Okta; it is in the timeline.
"""

from __future__ import annotations

from integrations.okta.client import OktaClient, OktaUser
from integrations.okta.options import OktaOptions
from soar.containment.actuators import ActuatorResult
from soar.containment.models import ContainmentCommand, ContainmentVerb, TargetType
from soar.integrations.errors import RequestRejected, TargetNotFound

ACTIVE = "ACTIVE"
SUSPENDED = "SUSPENDED"

STATUS_WORDS = {
    "STAGED": "staged, never activated",
    "PROVISIONED": "provisioned, not yet activated",
    "RECOVERY": "in password recovery",
    "LOCKED_OUT": "locked out",
    "PASSWORD_EXPIRED": "waiting for a new password",
    "DEPROVISIONED": "deactivated",
}
"""The statuses Okta refuses to suspend, in words."""

HANDLED = frozenset({ContainmentVerb.DISABLE, ContainmentVerb.REVOKE})


class OktaActuator:
    """`disable` and `revoke` of `account` targets in one Okta org."""

    def __init__(self, name: str, options: OktaOptions) -> None:
        self.name = name
        self.client = OktaClient(name, options)

    async def aclose(self) -> None:
        await self.client.aclose()

    def handles(self, command: ContainmentCommand) -> bool:
        return command.action in HANDLED and command.target.type is TargetType.ACCOUNT

    async def apply(self, command: ContainmentCommand) -> ActuatorResult:
        """Suspend the user, or end its sessions; a user Okta does not know is a
        :class:`TargetNotFound`."""
        account = command.target.value
        user = await self.client.find_user(account)
        if user is None:
            raise TargetNotFound(self.name, f"Okta has no user {account}", status=404)
        if command.action is ContainmentVerb.REVOKE:
            await self.client.end_sessions(user.id)
            return _result(True, f"ended every Okta session and OAuth token of {user.login}", user)
        return await self._suspend(user)

    async def verify(self, command: ContainmentCommand) -> bool:
        """`disable`: whether Okta has the user SUSPENDED now. `revoke`: Okta lists no
        sessions of a user to read back, so its 204 to the revoke is the confirmation;
        this only checks the user still exists."""
        user = await self.client.find_user(command.target.value)
        if user is None:
            return False
        if command.action is ContainmentVerb.REVOKE:
            return True
        return user.status == SUSPENDED

    async def revert(self, command: ContainmentCommand) -> ActuatorResult:
        """Unsuspend a suspended user; sessions ended by `revoke` cannot be given back."""
        if command.action is ContainmentVerb.REVOKE:
            return ActuatorResult(
                ok=True,
                detail="ended sessions cannot be given back; the user signs in again",
            )
        account = command.target.value
        user = await self.client.find_user(account)
        if user is None:
            return ActuatorResult(ok=True, detail=f"Okta has no user {account}; nothing to undo")
        if user.status != SUSPENDED:
            return _result(True, f"{user.login} is not suspended ({user.status})", user)
        try:
            await self.client.unsuspend(user.id)
        except RequestRejected as rejected:
            now = await self.client.find_user(user.id)
            if now is None:
                return ActuatorResult(ok=True, detail=f"Okta has no user {account} any more")
            if now.status != SUSPENDED:
                return _result(True, f"{now.login} is no longer suspended ({now.status})", now)
            return _result(False, rejected.reason, now)
        return _result(True, f"unsuspended {user.login}", user, now=ACTIVE)

    async def _suspend(self, user: OktaUser) -> ActuatorResult:
        if user.status == SUSPENDED:
            return _result(True, f"{user.login} is already suspended", user)
        if user.status != ACTIVE:
            words = STATUS_WORDS.get(user.status, user.status.lower())
            return _result(
                False,
                f"Okta suspends only active users, and {user.login} is {words} "
                f"({user.status}); a person must decide what to do with this account",
                user,
            )
        try:
            await self.client.suspend(user.id)
        except RequestRejected as rejected:
            # The status changed between the read and the call: read it again.
            now = await self.client.find_user(user.id)
            if now is not None and now.status == SUSPENDED:
                return _result(True, f"{now.login} is already suspended", now)
            return _result(False, rejected.reason, now or user)
        return _result(True, f"suspended {user.login}", user, now=SUSPENDED)


def _result(ok: bool, detail: str, user: OktaUser, *, now: str | None = None) -> ActuatorResult:
    """A result carrying Okta's reference for the user, its status, and whether this
    call changed it (`now`: the status it moved the user to). A user found already
    suspended was suspended by someone else: `changed` is false."""
    return ActuatorResult(
        ok=ok,
        detail=detail,
        data={
            "user_id": user.id,
            "login": user.login,
            "status": now or user.status,
            "changed": now is not None,
        },
    )
