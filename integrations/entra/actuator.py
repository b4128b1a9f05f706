"""Disabling Microsoft Entra ID accounts and revoking their sign-in sessions, through
Microsoft Graph.

`disable` sets the user's `accountEnabled` to false: the account can no longer sign
in, and setting it back to true gives it back as it was. The user is read first, so a
disabled account is done without a call. `revoke` invalidates every refresh token and
session cookie issued to the user (`revokeSignInSessions`); access tokens already
issued last until they expire (about an hour). Nothing can give sessions back, so its
revert does nothing and says so.

The account is named by its user principal name or its object id. Graph keeps no note
on either change, so the case id is not written in the directory; it is in the
timeline.
"""

from __future__ import annotations

from integrations.entra.client import EntraUser, GraphClient
from integrations.entra.options import EntraOptions
from soar.containment.actuators import ActuatorResult
from soar.containment.models import ContainmentCommand, ContainmentVerb, TargetType
from soar.integrations.errors import TargetNotFound

HANDLED = frozenset({ContainmentVerb.DISABLE, ContainmentVerb.REVOKE})


class EntraActuator:
    """`disable` and `revoke` of `account` targets in one Entra tenant."""

    def __init__(self, name: str, options: EntraOptions) -> None:
        self.name = name
        self.client = GraphClient(name, options)

    async def aclose(self) -> None:
        await self.client.aclose()

    def handles(self, command: ContainmentCommand) -> bool:
        return command.action in HANDLED and command.target.type is TargetType.ACCOUNT

    async def apply(self, command: ContainmentCommand) -> ActuatorResult:
        """Block the user's sign-in, or revoke its sessions; a user the directory does
        not hold is a :class:`TargetNotFound`."""
        account = command.target.value
        user = await self.client.find_user(account)
        if user is None:
            raise TargetNotFound(self.name, f"Entra ID has no user {account}", status=404)
        upn = user.user_principal_name
        if command.action is ContainmentVerb.REVOKE:
            if not await self.client.revoke_sign_in_sessions(user.id):
                return _result(False, f"Microsoft Graph did not confirm revoking {upn}", user)
            return _result(
                True,
                f"revoked every refresh token and session of {upn}; access tokens already "
                "issued last until they expire (about an hour)",
                user,
            )
        if not user.account_enabled:
            return _result(True, f"{upn} is already disabled", user)
        await self.client.set_enabled(user.id, False)
        return _result(True, f"disabled sign-in for {upn}", user, now=False)

    async def verify(self, command: ContainmentCommand) -> bool:
        """`disable`: whether the directory holds the account disabled now (Graph
        replicates: a read right after the change may still show it enabled).
        `revoke`: Graph lists no sessions of a user to read back, so its `{"value":
        true}` to the revoke is the confirmation; this only checks the user still
        exists."""
        user = await self.client.find_user(command.target.value)
        if user is None:
            return False
        if command.action is ContainmentVerb.REVOKE:
            return True
        return not user.account_enabled

    async def revert(self, command: ContainmentCommand) -> ActuatorResult:
        """Enable a disabled account; revoked sessions cannot be given back."""
        if command.action is ContainmentVerb.REVOKE:
            return ActuatorResult(
                ok=True,
                detail="revoked sessions cannot be given back; the user signs in again",
            )
        account = command.target.value
        user = await self.client.find_user(account)
        if user is None:
            return ActuatorResult(
                ok=True, detail=f"Entra ID has no user {account}; nothing to undo"
            )
        upn = user.user_principal_name
        if user.account_enabled:
            return _result(True, f"{upn} is not disabled", user)
        await self.client.set_enabled(user.id, True)
        return _result(True, f"enabled sign-in for {upn}", user, now=True)


def _result(ok: bool, detail: str, user: EntraUser, *, now: bool | None = None) -> ActuatorResult:
    """A result carrying the user's object id, whether it is enabled, and whether this
    call changed it (`now`: the `accountEnabled` it set). An account found disabled
    already was disabled by someone else: `changed` is false."""
    return ActuatorResult(
        ok=ok,
        detail=detail,
        data={
            "user_id": user.id,
            "user_principal_name": user.user_principal_name,
            "account_enabled": user.account_enabled if now is None else now,
            "changed": now is not None,
        },
    )
